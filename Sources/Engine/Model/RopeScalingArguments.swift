import Foundation

extension ModelConfig {
    /// Applies the `rope_scaling` / `max_model_len` arguments as the reference describes them:
    /// a bare kind (linear, dynamic, yarn) takes its factor from max_model_len divided by the
    /// trained context, and the context becomes max_model_len; a JSON dict (`{"type": "yarn",
    /// "factor": 2.0}`, or `rope_type`) is used as given and max_model_len then has no effect
    /// on the factor.
    public func applyingRopeScaling(_ argument: String, maxModelLength: Int?) throws -> ModelConfig {
        var c = self
        let trimmed = argument.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("{") {
            guard let dict = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any],
                  let kindName = (dict["rope_type"] ?? dict["type"]) as? String,
                  let kind = RopeScaling.Kind(rawValue: kindName),
                  let factor = (dict["factor"] as? NSNumber)?.doubleValue, factor > 0 else {
                throw ModelError("rope_scaling '\(argument)' is not a JSON object with a known type (linear, dynamic, yarn, llama3) and a positive factor")
            }
            var s = RopeScaling(kind: kind, factor: factor,
                                originalMaxPositions: (dict["original_max_position_embeddings"] as? NSNumber)?.intValue ?? maxPositions)
            if let v = (dict["beta_fast"] as? NSNumber)?.doubleValue { s.betaFast = v }
            if let v = (dict["beta_slow"] as? NSNumber)?.doubleValue { s.betaSlow = v }
            if let v = (dict["attention_factor"] as? NSNumber)?.doubleValue { s.attentionFactor = v }
            if let v = (dict["low_freq_factor"] as? NSNumber)?.doubleValue { s.lowFrequencyFactor = v }
            if let v = (dict["high_freq_factor"] as? NSNumber)?.doubleValue { s.highFrequencyFactor = v }
            c.ropeScaling = s
            c.maxPositions = Int((Double(s.originalMaxPositions ?? maxPositions) * factor).rounded())
            return c
        }
        guard let kind = RopeScaling.Kind(rawValue: trimmed), kind != .llama3 else {
            throw ModelError("rope_scaling expects linear, dynamic, yarn or a JSON object, got '\(argument)'")
        }
        guard let target = maxModelLength else {
            throw ModelError("rope_scaling \(trimmed) needs max_model_len to set its factor")
        }
        let original = ropeScaling?.originalMaxPositions ?? maxPositions
        let factor = Double(target) / Double(original)
        guard factor > 1 else {
            throw ModelError("max_model_len \(target) is not longer than the model's context (\(original)); no RoPE scaling is needed")
        }
        c.ropeScaling = RopeScaling(kind: kind, factor: factor, originalMaxPositions: original)
        c.maxPositions = target
        return c
    }
}
