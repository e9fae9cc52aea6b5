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

    /// `tokens` are in GGUF's stored form: normal tokens in the GPT-2 byte-to-unicode mapping,
    /// control and user-defined tokens as their literal text; `merges` are "left right" strings;
    /// `tokenTypes` uses GGUF numbering (1 normal, 2 unknown, 3 control, 4 user-defined,
    /// 5 unused, 6 byte).
    public init(model: String, pre: String? = nil, tokens: [String], tokenTypes: [Int]? = nil,
                scores: [Float]? = nil, merges: [String], bosId: Int? = nil, eosId: Int? = nil,
                eotId: Int? = nil, padId: Int? = nil, unkId: Int? = nil, addBOS: Bool? = nil,
                addEOS: Bool? = nil, chatTemplate: String? = nil) {
        self.model = model
        self.pre = pre
        self.tokens = tokens
        self.tokenTypes = tokenTypes
        self.scores = scores
        self.merges = merges
        self.bosId = bosId
        self.eosId = eosId
        self.eotId = eotId
        self.padId = padId
        self.unkId = unkId
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.chatTemplate = chatTemplate
    }
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
