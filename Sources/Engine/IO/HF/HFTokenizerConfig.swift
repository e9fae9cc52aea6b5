import Foundation

/// The parts of `tokenizer_config.json` the engine uses.
public struct HFTokenizerConfig: Sendable, Equatable {
    /// The Jinja chat template. A list of named templates resolves to the one named "default".
    public var chatTemplate: String?
    /// Other named templates from a list-form `chat_template` (for example "tool_use").
    public var namedChatTemplates: [String: String]
    public var addBosToken: Bool?
    public var addEosToken: Bool?
    public var bosToken: String?
    public var eosToken: String?
    public var padToken: String?
    public var unkToken: String?
    /// nil when absent or when it is the "no limit" sentinel (transformers writes about 1e30).
    public var modelMaxLength: Int?

    public init(json data: Data, source: String = "tokenizer_config.json") throws {
        let json = try JSONValues.object(from: data, path: source, what: "the tokenizer config")
        let r = HFJSONReader(json, source: source)
        namedChatTemplates = [:]
        chatTemplate = nil
        if let t = json["chat_template"], !JSONValues.isNull(t) {
            if let s = t as? String {
                chatTemplate = s
            } else if let list = t as? [Any] {
                for item in list {
                    guard let entry = item as? [String: Any], let name = entry["name"] as? String,
                          let template = entry["template"] as? String else {
                        throw FileError(path: source, problem: "chat_template list entries must be {\"name\": ..., \"template\": ...}")
                    }
                    namedChatTemplates[name] = template
                }
                chatTemplate = namedChatTemplates["default"]
            } else {
                throw FileError(path: source, problem: "chat_template must be a string or a list of {name, template}")
            }
        }
        addBosToken = try r.bool("add_bos_token")
        addEosToken = try r.bool("add_eos_token")
        bosToken = try Self.token(json, "bos_token", source)
        eosToken = try Self.token(json, "eos_token", source)
        padToken = try Self.token(json, "pad_token", source)
        unkToken = try Self.token(json, "unk_token", source)
        if let v = json["model_max_length"], let d = JSONValues.double(v), d.isFinite, d > 0, d < 1e18 {
            modelMaxLength = Int(d)
        } else {
            modelMaxLength = nil
        }
    }

    /// A special token written as a string or as an AddedToken object (`{"content": ...}`).
    private static func token(_ json: [String: Any], _ key: String, _ source: String) throws -> String? {
        guard let v = json[key], !JSONValues.isNull(v) else { return nil }
        if let s = v as? String { return s }
        if let d = v as? [String: Any], let content = d["content"] as? String { return content }
        throw FileError(path: source, problem: "\(key) must be a string or an object with \"content\"")
    }
}
