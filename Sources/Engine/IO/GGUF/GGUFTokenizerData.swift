/// The tokenizer a GGUF file carries (`tokenizer.ggml.*`, `tokenizer.chat_template`), as plain
/// values for the tokenizer layer to build from.
public struct GGUFTokenizerData: Sendable, Equatable {
    /// `gpt2` (byte-level BPE), `llama` (SentencePiece), ...
    public var model: String
    /// Pre-tokenizer name (`smollm`, `qwen2`, `llama-bpe`, ...).
    public var pre: String?
    public var tokens: [String]
    public var tokenTypes: [Int]?
    public var scores: [Float]?
    public var merges: [String]
    public var bosId: Int?
    public var eosId: Int?
    public var eotId: Int?
    public var padId: Int?
    public var unkId: Int?
    public var addBOS: Bool?
    public var addEOS: Bool?
    public var chatTemplate: String?
}

extension GGUFTokenizerData {
    public init(gguf file: GGUFFile) throws {
        guard let model = try file.metadataString("tokenizer.ggml.model") else {
            throw file.metadataError("missing metadata 'tokenizer.ggml.model'")
        }
        guard let tokens = try file.metadataStringArray("tokenizer.ggml.tokens") else {
            throw file.metadataError("missing metadata 'tokenizer.ggml.tokens'")
        }
        var types: [Int]?
        if let v = file.metadata["tokenizer.ggml.token_type"] {
            guard let t = v.intArray else { throw file.metadataError("'tokenizer.ggml.token_type' should be an array of integers") }
            guard t.count == tokens.count else {
                throw file.metadataError("'tokenizer.ggml.token_type' has \(t.count) entries for \(tokens.count) tokens")
            }
            types = t
        }
        var scores: [Float]?
        if let v = file.metadata["tokenizer.ggml.scores"] {
            guard let s = v.floatArray else { throw file.metadataError("'tokenizer.ggml.scores' should be an array of floats") }
            guard s.count == tokens.count else {
                throw file.metadataError("'tokenizer.ggml.scores' has \(s.count) entries for \(tokens.count) tokens")
            }
            scores = s.map { Float($0) }
        }
        func tokenId(_ key: String) throws -> Int? {
            guard let id = try file.metadataInt(key) else { return nil }
            guard id >= 0, id < tokens.count else {
                throw file.metadataError("'\(key)' = \(id) is outside the vocabulary (0..<\(tokens.count))")
            }
            return id
        }
        self.init(model: model,
                  pre: try file.metadataString("tokenizer.ggml.pre"),
                  tokens: tokens, tokenTypes: types, scores: scores,
                  merges: try file.metadataStringArray("tokenizer.ggml.merges") ?? [],
                  bosId: try tokenId("tokenizer.ggml.bos_token_id"),
                  eosId: try tokenId("tokenizer.ggml.eos_token_id"),
                  eotId: try tokenId("tokenizer.ggml.eot_token_id"),
                  padId: try tokenId("tokenizer.ggml.padding_token_id"),
                  unkId: try tokenId("tokenizer.ggml.unknown_token_id"),
                  addBOS: try file.metadataBool("tokenizer.ggml.add_bos_token"),
                  addEOS: try file.metadataBool("tokenizer.ggml.add_eos_token"),
                  chatTemplate: try file.metadataString("tokenizer.chat_template"))
    }
}
