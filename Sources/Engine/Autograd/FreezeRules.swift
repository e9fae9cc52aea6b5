import Foundation

/// Which parameters full fine-tuning trains, by ms-swift 4.6's rules (`freeze_parameters` then
/// `activate_parameters` in `swift/utils/transformers_utils.py`, called from
/// `swift/pipelines/train/tuner.py` for `tuner_type full`). Starting from everything trainable:
/// 1. `freeze_parameters_ratio` r > 0: with n = Σ elements and c_i the running sum in
///    `named_parameters` order, the first `bisect_right(c, int(n·r))` parameters are frozen
///    (the bottom of the model: embeddings first);
/// 2. every name starting with a `freeze_parameters` prefix is frozen;
/// 3. every name where `freeze_parameters_regex` is found (`re.search`) is frozen;
/// 4. then every name starting with a `trainable_parameters` prefix, and every name where
///    `trainable_parameters_regex` is found, is trainable again.
///
/// ms-swift logs a warning and skips an invalid regex; here it is an error.
public struct FreezeRules: Sendable, Equatable {
    public var freezeParameters: [String]
    public var freezeParametersRegex: String?
    public var freezeParametersRatio: Double
    public var trainableParameters: [String]
    public var trainableParametersRegex: String?

    public init(freezeParameters: [String] = [], freezeParametersRegex: String? = nil, freezeParametersRatio: Double = 0,
                trainableParameters: [String] = [], trainableParametersRegex: String? = nil) {
        self.freezeParameters = freezeParameters
        self.freezeParametersRegex = freezeParametersRegex
        self.freezeParametersRatio = freezeParametersRatio
        self.trainableParameters = trainableParameters
        self.trainableParametersRegex = trainableParametersRegex
    }

    /// The names left trainable, given every parameter's name and element count in
    /// `named_parameters` order.
    public func trainableNames(_ parametersInOrder: [(name: String, elementCount: Int)]) throws -> Set<String> {
        guard freezeParametersRatio >= 0 && freezeParametersRatio <= 1 else {
            throw TunerError("freeze_parameters_ratio must be in [0, 1], got \(freezeParametersRatio)")
        }
        var trainable = parametersInOrder.map { _ in true }
        if freezeParametersRatio > 0 {
            let total = parametersInOrder.reduce(0) { $0 + $1.elementCount }
            // numpy: int(np.sum(n) * ratio) truncates the float product.
            let limit = Int(Double(total) * freezeParametersRatio)
            var running = 0
            for i in parametersInOrder.indices {
                running += parametersInOrder[i].elementCount
                // bisect_right(cumsum, limit) = the number of running sums ≤ limit.
                if running > limit { break }
                trainable[i] = false
            }
        }
        let freezeRegex = try freezeParametersRegex.map { try FreezeRules.regex($0, "freeze_parameters_regex") }
        let trainRegex = try trainableParametersRegex.map { try FreezeRules.regex($0, "trainable_parameters_regex") }
        for (i, p) in parametersInOrder.enumerated() {
            if freezeParameters.contains(where: { p.name.hasPrefix($0) }) { trainable[i] = false }
            if let freezeRegex, FreezeRules.found(freezeRegex, in: p.name) { trainable[i] = false }
        }
        for (i, p) in parametersInOrder.enumerated() {
            if trainableParameters.contains(where: { p.name.hasPrefix($0) }) { trainable[i] = true }
            if let trainRegex, FreezeRules.found(trainRegex, in: p.name) { trainable[i] = true }
        }
        return Set(parametersInOrder.indices.filter { trainable[$0] }.map { parametersInOrder[$0].name })
    }

    private static func regex(_ pattern: String, _ argument: String) throws -> NSRegularExpression {
        do { return try NSRegularExpression(pattern: pattern) } catch {
            throw TunerError("\(argument) '\(pattern)' is not a valid regular expression")
        }
    }

    private static func found(_ regex: NSRegularExpression, in name: String) -> Bool {
        regex.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) != nil
    }
}

extension TrainableLlama {
    /// Full fine-tuning with ms-swift's freeze rules.
    convenience init(fullFineTuning model: LlamaModel, freezeRules: FreezeRules) throws {
        let names = try freezeRules.trainableNames(TrainableLlama.parameterList(of: model))
        self.init(fullFineTuning: model, isTrainable: { names.contains($0) })
    }

    /// The optimizer's parameters: every trainable one, with weight decay as HF's Trainer
    /// decides from the name (`AdamW.decays(parameterNamed:)`). With LoRA+
    /// (`lorapLearningRateRatio` set on a LoRA graph) ms-swift's `create_optimizer_param_groups`
    /// gives every `lora_B` matrix and every 1-D parameter (DoRA magnitudes, biases) ratio × lr
    /// and the rest (lora_A, `modules_to_save` copies) lr; the weight decay stays HF's per name
    /// (ms-swift gives its group A decay unconditionally, but only 2-D weights land there, which
    /// HF decays anyway). Its separate `lorap_emb_lr` group holds LoRA *embedding* layers, which
    /// this engine does not make (a saved `embed_tokens` is an ordinary module copy: group A).
    var trainableParameters: [AdamW.Parameter] {
        namedParameters.map { name, v in
            var scale: Float = 1
            if loraConfig != nil, let ratio = lorapLearningRateRatio, name.contains("lora_B") || v.shape.count == 1 {
                scale = ratio
            }
            return AdamW.Parameter(v, decays: AdamW.decays(parameterNamed: name), learningRateScale: scale)
        }
    }
}
