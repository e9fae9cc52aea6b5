/// The tokenizer part of a GGUF file's metadata, as plain values.
///
/// The GGUF reader fills this from the `tokenizer.ggml.*` keys; `Tokenizer(gguf:)` builds from it.
/// `tokens` are in GGUF's stored form: normal tokens in the GPT-2 byte-to-unicode mapping,
/// control and user-defined tokens as their literal text. `merges` are "left right" strings.
/// `tokenTypes` uses GGUF numbering: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte.
public struct GGUFTokenizerData {
    public var model: String
    public var pre: String?
    public var tokens: [String]
    public var tokenTypes: [Int]?
    public var merges: [String]
    public var bosId: Int?
    public var eosId: Int?
    public var padId: Int?
    public var unkId: Int?
    public var addBOS: Bool?
    public var addEOS: Bool?
    public var chatTemplate: String?

    public init(
        model: String, pre: String? = nil, tokens: [String], tokenTypes: [Int]? = nil,
        merges: [String], bosId: Int? = nil, eosId: Int? = nil, padId: Int? = nil,
        unkId: Int? = nil, addBOS: Bool? = nil, addEOS: Bool? = nil, chatTemplate: String? = nil
    ) {
        self.model = model
        self.pre = pre
        self.tokens = tokens
        self.tokenTypes = tokenTypes
        self.merges = merges
        self.bosId = bosId
        self.eosId = eosId
        self.padId = padId
        self.unkId = unkId
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.chatTemplate = chatTemplate
    }
}
