import Foundation

/// `adapter_config.json` as PEFT's `LoraConfig.save_pretrained` writes it (PEFT 0.21.2: every
/// field of the dataclass, keys sorted, two-space indent), and the parse of one PEFT wrote.
enum PEFTAdapterConfigJSON {
    /// The PEFT release whose file layout this follows (written as `peft_version`).
    static let peftVersion = "0.21.2"

    static func encode(_ config: LoRAConfig) -> String {
        let targets: String
        if let regex = config.targetRegex {
            targets = asciiJSONString(regex)
        } else {
            targets = list(config.targetModules)
        }
        let initWeights: String
        switch config.initWeights.lowercased() {
        case "true": initWeights = "true"
        case "false": initWeights = "false"
        default: initWeights = asciiJSONString(config.initWeights)
        }
        let fields: [(String, String)] = [
            ("alora_invocation_tokens", "null"),
            ("alpha_pattern", "{}"),
            ("arrow_config", "null"),
            ("auto_mapping", "null"),
            ("base_model_name_or_path", config.baseModel.map(asciiJSONString) ?? "null"),
            ("bias", asciiJSONString(config.bias)),
            ("corda_config", "null"),
            ("ensure_weight_tying", "false"),
            ("eva_config", "null"),
            ("exclude_modules", "null"),
            ("fan_in_fan_out", "false"),
            ("inference_mode", "true"),
            ("init_lora_weights", initWeights),
            ("kasa_config", "null"),
            ("layer_replication", "null"),
            ("layers_pattern", "null"),
            ("layers_to_transform", "null"),
            ("loftq_config", "{}"),
            ("lora_alpha", number(config.alpha)),
            ("lora_bias", "false"),
            ("lora_dropout", pythonFloat(config.dropout)),
            ("lora_ga_config", "null"),
            ("megatron_config", "null"),
            ("megatron_core", "\"megatron.core\""),
            ("modules_to_save", config.modulesToSave.isEmpty ? "null" : list(config.modulesToSave)),
            ("monteclora_config", "null"),
            ("peft_type", "\"LORA\""),
            ("peft_version", asciiJSONString(peftVersion)),
            ("qalora_group_size", "16"),
            ("r", String(config.rank)),
            ("rank_pattern", "{}"),
            ("revision", "null"),
            ("target_modules", targets),
            ("target_parameters", "null"),
            ("task_type", "\"CAUSAL_LM\""),
            ("trainable_token_indices", "null"),
            ("use_bdlora", "null"),
            ("use_dora", config.useDoRA ? "true" : "false"),
            ("use_qalora", "false"),
            ("use_rslora", config.useRSLoRA ? "true" : "false"),
            ("velora_config", "null"),
        ]
        return "{\n" + fields.map { "  \"\($0.0)\": \($0.1)" }.joined(separator: ",\n") + "\n}"
    }

    /// Python's `json.dumps` of a list of strings with indent 2, one level deep.
    private static func list(_ items: [String]) -> String {
        items.isEmpty ? "[]" : "[\n" + items.map { "    " + asciiJSONString($0) }.joined(separator: ",\n") + "\n  ]"
    }

    /// `lora_alpha` is an int in PEFT; a fractional alpha is written as a float.
    private static func number(_ value: Double) -> String {
        if value.rounded() == value, let i = Int(exactly: value) { return String(i) }
        return pythonFloat(value)
    }

    /// A float as Python's `repr` writes it (shortest round trip, always with a point or exponent).
    private static func pythonFloat(_ value: Double) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value > 0 ? "Infinity" : "-Infinity") }
        return "\(value)"
    }

    /// Parses the file; `present` lists the module names that have tensors (for a regex or
    /// missing `target_modules`).
    static func decode(_ data: Data, path: String, modulesWithTensors present: [String]) throws -> LoRAConfig {
        let json = try JSONValues.object(from: data, path: path, what: "the adapter config")
        func fail(_ why: String) -> FileError { FileError(path: path, problem: why) }
        func value(_ key: String) -> Any? {
            guard let v = json[key], !JSONValues.isNull(v) else { return nil }
            return v
        }
        func bool(_ key: String, default d: Bool) throws -> Bool {
            guard let v = value(key) else { return d }
            guard let b = JSONValues.bool(v) else { throw fail("\"\(key)\" must be true or false") }
            return b
        }
        func strings(_ key: String) throws -> [String]? {
            guard let v = value(key) else { return nil }
            guard let list = v as? [Any], let names = list as? [String] else { throw fail("\"\(key)\" must be a list of module names") }
            return names
        }
        func isEmptyOrAbsent(_ key: String) -> Bool {
            guard let v = value(key) else { return true }
            if let d = v as? [String: Any] { return d.isEmpty }
            if let l = v as? [Any] { return l.isEmpty }
            if let b = JSONValues.bool(v) { return !b }
            return false
        }

        guard let peftType = value("peft_type") else { throw fail("no \"peft_type\": not a PEFT adapter config") }
        guard let type = peftType as? String else { throw fail("\"peft_type\" must be a string") }
        guard type == "LORA" else {
            throw fail("peft_type \"\(type)\" is not supported (only LORA adapters are read)")
        }
        if let task = value("task_type") {
            guard let t = task as? String, t == "CAUSAL_LM" else {
                throw fail("task_type \(task) is not supported (only CAUSAL_LM adapters are read)")
            }
        }
        var config = LoRAConfig(rank: 8, alpha: 8, dropout: 0, targetModules: [])
        if let r = value("r") {
            guard let rank = JSONValues.int(r), rank > 0 else { throw fail("\"r\" must be a positive integer, not \(r)") }
            config.rank = rank
        }
        if let a = value("lora_alpha") {
            guard let alpha = JSONValues.double(a), alpha.isFinite else { throw fail("\"lora_alpha\" must be a number, not \(a)") }
            config.alpha = alpha
        }
        if let d = value("lora_dropout") {
            guard let dropout = JSONValues.double(d), dropout >= 0, dropout < 1 else {
                throw fail("\"lora_dropout\" must be a number in [0, 1), not \(d)")
            }
            config.dropout = dropout
        }
        config.useRSLoRA = try bool("use_rslora", default: false)
        config.useDoRA = try bool("use_dora", default: false)
        if let b = value("bias") {
            guard let bias = b as? String, ["none", "all", "lora_only"].contains(bias) else {
                throw fail("\"bias\" must be \"none\", \"all\" or \"lora_only\", not \(b)")
            }
            config.bias = bias
        }
        if let i = value("init_lora_weights") {
            if let b = JSONValues.bool(i) { config.initWeights = b ? "true" : "false" }
            else if let s = i as? String { config.initWeights = s }
            else { throw fail("\"init_lora_weights\" must be true, false or a method name") }
        }
        config.modulesToSave = try strings("modules_to_save") ?? []
        if let base = value("base_model_name_or_path") {
            guard let s = base as? String else { throw fail("\"base_model_name_or_path\" must be a string") }
            config.baseModel = s
        }
        let shortNames = shortModuleNames(present)
        if let t = value("target_modules") {
            if let s = t as? String {
                if s == "all-linear" { config.targetModules = LoRAConfig.allLinear }
                else { config.targetRegex = s; config.targetModules = shortNames }
            } else if let names = try strings("target_modules") {
                // PEFT resolves `all-linear` to full module paths; keep the short names.
                config.targetModules = shortModuleNames(names)
            }
        } else {
            config.targetModules = shortNames
        }

        // Fields that change what the tensors mean in ways this engine does not compute.
        let unsupported: [(String, String)] = [
            ("rank_pattern", "per-module ranks"), ("alpha_pattern", "per-module alphas"),
            ("lora_bias", "a bias on lora_B"), ("fan_in_fan_out", "Conv1D (fan_in_fan_out) weights"),
            ("use_qalora", "QALoRA"), ("layer_replication", "layer replication"),
            ("trainable_token_indices", "trainable token indices"), ("target_parameters", "target_parameters"),
            ("alora_invocation_tokens", "activated LoRA (alora_invocation_tokens)"), ("use_bdlora", "BD-LoRA"),
        ]
        for (key, what) in unsupported where !isEmptyOrAbsent(key) {
            throw fail("\"\(key)\" is set: \(what) is not supported")
        }
        return config
    }

    /// `model.layers.0.self_attn.q_proj` → `q_proj`, in the order of first appearance.
    static func shortModuleNames(_ modules: [String]) -> [String] {
        var seen: [String] = []
        for m in modules {
            let short = String(m.split(separator: ".").last ?? Substring(m))
            if !seen.contains(short) { seen.append(short) }
        }
        let known = LoRAConfig.allLinear + ["lm_head"]
        return seen.sorted { (known.firstIndex(of: $0) ?? known.count, $0) < (known.firstIndex(of: $1) ?? known.count, $1) }
    }
}
