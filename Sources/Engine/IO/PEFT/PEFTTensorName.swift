/// The tensor names PEFT's `get_peft_model_state_dict` saves for a causal LM
/// (`base_model.model.` + the HF module path + what the tensor is).
enum PEFTTensorName {
    static let prefix = "base_model.model."

    enum Kind: Equatable {
        case a, b, magnitude, bias
        /// A whole tensor of the base model (`modules_to_save`, or a bias with `bias` "all").
        case whole
    }

    static func a(_ module: String) -> String { "\(prefix)\(module).lora_A.weight" }
    static func b(_ module: String) -> String { "\(prefix)\(module).lora_B.weight" }
    static func magnitude(_ module: String) -> String { "\(prefix)\(module).lora_magnitude_vector" }
    /// The base layer's bias, trained with `bias` "all" or "lora_only".
    static func bias(_ module: String) -> String { "\(prefix)\(module).base_layer.bias" }
    static func whole(_ tensor: String) -> String { prefix + tensor }

    enum Parsed: Equatable {
        /// The HF module (or, for `.whole`, the HF tensor name) and what the tensor is.
        case tensor(path: String, kind: Kind)
        /// A LoRA tensor kind this engine does not read (embedding LoRA, a lora_B bias, ...).
        case unsupportedLoRA
        /// Not under `base_model.model.`.
        case notPEFT
    }

    static func parse(_ name: String) -> Parsed {
        guard name.hasPrefix(prefix) else { return .notPEFT }
        let rest = String(name.dropFirst(prefix.count))
        let suffixes: [(String, Kind)] = [
            (".lora_A.weight", .a), (".lora_B.weight", .b),
            (".lora_magnitude_vector", .magnitude), (".lora_magnitude_vector.weight", .magnitude),
            (".base_layer.bias", .bias),
        ]
        for (suffix, kind) in suffixes where rest.hasSuffix(suffix) {
            return .tensor(path: String(rest.dropLast(suffix.count)), kind: kind)
        }
        if rest.contains(".lora_") || rest.hasPrefix("lora_") { return .unsupportedLoRA }
        return .tensor(path: rest, kind: .whole)
    }
}
