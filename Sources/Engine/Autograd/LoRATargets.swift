import Foundation

/// A tuner set-up that cannot be built: a target that matches nothing, an unknown option, an
/// adapter that does not fit the model.
public struct TunerError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Which modules of a Llama a `LoRAConfig` adapts, by PEFT's rules: a name in
/// `target_modules` matches a module whose full name equals it or ends with "." + it
/// (`all-linear`: every linear layer of the decoder blocks, never the output head); a
/// `target_modules` string (`targetRegex`) must match the whole module name
/// (`re.fullmatch`).
///
/// Stricter than PEFT, which only fails when nothing at all matches: every listed name must
/// match a linear layer, so a typo is an error instead of a silently smaller adapter.
struct LoRATargets {
    /// Linear layers in module order: `model.layers.N.self_attn.q_proj`, ..., `lm_head`.
    let linearNames: [String]
    /// The other modules that hold weights (`model.embed_tokens`, the norms).
    let otherNames: [String]

    init(layerCount: Int, qkNorm: Bool) {
        var linear: [String] = [], other = ["model.embed_tokens"]
        for i in 0..<layerCount {
            let p = "model.layers.\(i)."
            linear += ["q_proj", "k_proj", "v_proj", "o_proj"].map { p + "self_attn." + $0 }
            linear += ["gate_proj", "up_proj", "down_proj"].map { p + "mlp." + $0 }
            if qkNorm { other += [p + "self_attn.q_norm", p + "self_attn.k_norm"] }
            other += [p + "input_layernorm", p + "post_attention_layernorm"]
        }
        other.append("model.norm")
        linear.append("lm_head")
        linearNames = linear
        otherNames = other
    }

    static func matches(_ name: String, _ target: String) -> Bool {
        name == target || name.hasSuffix("." + target)
    }

    /// The full names of the adapted linear layers.
    func resolve(_ config: LoRAConfig) throws -> Set<String> {
        if let pattern = config.targetRegex {
            // Python's re.fullmatch: the pattern anchored at both ends of the whole name.
            let regex: NSRegularExpression
            do { regex = try NSRegularExpression(pattern: "\\A(?:" + pattern + ")\\z") } catch {
                throw TunerError("target_modules regex '\(pattern)' is not a valid regular expression")
            }
            func fullMatch(_ s: String) -> Bool {
                regex.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
            }
            if let other = otherNames.first(where: fullMatch) {
                throw TunerError("target_modules regex '\(pattern)' matches \(other), which is not a linear layer (LoRA adapts linear layers only)")
            }
            let found = linearNames.filter(fullMatch)
            if found.isEmpty {
                throw TunerError("target_modules regex '\(pattern)' matches no module (it must match a whole name such as \(linearNames[0]))")
            }
            return Set(found)
        }
        var targets: [String] = []
        for t in config.targetModules {
            if t.lowercased() == "all-linear" { targets += LoRAConfig.allLinear } else { targets.append(t) }
        }
        if targets.isEmpty { throw TunerError("target_modules is empty: name the linear layers to adapt (or all-linear)") }
        var found = Set<String>()
        for t in targets {
            let hits = linearNames.filter { LoRATargets.matches($0, t) }
            if hits.isEmpty {
                if let other = otherNames.first(where: { LoRATargets.matches($0, t) }) {
                    throw TunerError("target module '\(t)' is \(other), which is not a linear layer (LoRA adapts linear layers only)")
                }
                let short = Array(Set(linearNames.map { String($0.split(separator: ".").last!) })).sorted()
                throw TunerError("target module '\(t)' matches no module of this model; linear layers: \(short.joined(separator: ", "))")
            }
            found.formUnion(hits)
        }
        return found
    }

    /// Which of `embed_tokens` and `lm_head` `modules_to_save` names (the only modules this
    /// engine trains whole).
    func savedModules(_ config: LoRAConfig) throws -> (embedding: Bool, head: Bool) {
        var embedding = false, head = false
        for name in config.modulesToSave {
            if LoRATargets.matches("model.embed_tokens", name) { embedding = true }
            else if LoRATargets.matches("lm_head", name) { head = true }
            else {
                throw TunerError("modules_to_save '\(name)': only embed_tokens and lm_head can be trained whole")
            }
        }
        return (embedding, head)
    }
}
