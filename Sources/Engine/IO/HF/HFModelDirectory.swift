import Foundation

/// A model saved the HF way: `config.json`, weights in `model.safetensors` (or shards listed
/// by `model.safetensors.index.json`), `tokenizer.json`, `tokenizer_config.json`, and
/// optionally `generation_config.json` and `chat_template.jinja`.
public struct HFModelDirectory: @unchecked Sendable {
    public let path: String
    public let config: ModelConfig
    /// The weights, looked up by HF tensor name.
    public let tensors: SafetensorsShards
    public let tokenizerJSON: Data?
    public let tokenizerConfig: HFTokenizerConfig?
    public let generationConfig: GenerationDefaults?

    /// Reads the directory. Missing `config.json` or weights is an error; so is a missing
    /// `tokenizer.json` unless `requireTokenizer` is false.
    public init(path: String, requireTokenizer: Bool = true) throws {
        let dir = path.hasSuffix("/") && path.count > 1 ? String(path.dropLast()) : path
        self.path = dir
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) else {
            throw FileError(path: dir, problem: "no such directory")
        }
        guard isDir.boolValue else { throw FileError(path: dir, problem: "is a file, not a model directory") }
        func file(_ name: String) -> String { "\(dir)/\(name)" }
        func read(_ name: String) -> Data? { FileManager.default.contents(atPath: file(name)) }

        guard let configData = read("config.json") else {
            throw FileError(path: dir, problem: "no config.json in the model directory")
        }
        config = try ModelConfig(hfConfigJSON: configData, source: file("config.json"))

        if FileManager.default.fileExists(atPath: file("model.safetensors.index.json")) {
            tensors = try SafetensorsShards(index: file("model.safetensors.index.json"))
        } else if FileManager.default.fileExists(atPath: file("model.safetensors")) {
            tensors = try SafetensorsShards(file: file("model.safetensors"))
        } else {
            let present = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
            let others = present.filter { $0.hasSuffix(".bin") || $0.hasSuffix(".pt") || $0.hasSuffix(".gguf") }.sorted()
            let hint = others.isEmpty ? "" : " (found \(others.joined(separator: ", ")); only safetensors weights are read from an HF directory)"
            throw FileError(path: dir, problem: "no model.safetensors or model.safetensors.index.json\(hint)")
        }

        tokenizerJSON = read("tokenizer.json")
        if requireTokenizer && tokenizerJSON == nil {
            throw FileError(path: dir, problem: "no tokenizer.json in the model directory")
        }
        var tokenizerConfig = try read("tokenizer_config.json").map {
            try HFTokenizerConfig(json: $0, source: file("tokenizer_config.json"))
        }
        // Newer transformers save the template beside the config instead of inside it.
        if tokenizerConfig != nil, tokenizerConfig?.chatTemplate == nil {
            if let jinja = read("chat_template.jinja"), let text = String(data: jinja, encoding: .utf8) {
                tokenizerConfig?.chatTemplate = text
            } else if let data = read("chat_template.json"),
                      let obj = try? JSONValues.object(from: data, path: file("chat_template.json"), what: "the chat template"),
                      let text = obj["chat_template"] as? String {
                tokenizerConfig?.chatTemplate = text
            }
        }
        self.tokenizerConfig = tokenizerConfig
        generationConfig = try read("generation_config.json").map {
            try GenerationDefaults(json: $0, source: file("generation_config.json"))
        }
    }

    /// A weight by HF name (`model.layers.0.self_attn.q_proj.weight`).
    public func tensor(_ name: String) throws -> RawTensor { try tensors.tensor(name) }
}
