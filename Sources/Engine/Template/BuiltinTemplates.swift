/// A chat template that ships with the engine, for models whose files carry none. Named
/// and laid out like ms-swift's `--template` choices (prefix, prompt, chat_sep, suffix,
/// system_prefix as ms-swift's template registry defines them).
public struct BuiltinTemplate: Equatable {
    public let name: String
    /// Jinja source; render it with `ChatTemplate(source:)`.
    public let source: String
    /// The system prompt used when neither the conversation nor `--system` gives one.
    public let defaultSystem: String?
    /// Text that ends a reply, besides the tokenizer's EOS token.
    public let stopWords: [String]
    /// Whether ms-swift puts the tokenizer's BOS token in front (`auto_add_bos`); the
    /// template text itself never contains it.
    public let autoAddBOS: Bool
}

public enum BuiltinTemplates {
    /// Names accepted by `named(_:)`.
    public static let names = ["default", "chatml", "qwen", "qwen2_5", "llama3"]

    public static func named(_ name: String) -> BuiltinTemplate? {
        switch name {
        case "default":
            return make(name, layout: Layout(
                prefix: [], systemPrefix: [.text("{{SYSTEM}}\n\n")],
                prompt: [.text("### Human:\n{{QUERY}}\n\n### Assistant:\n")],
                chatSep: [.text("\n\n")], suffix: [.eos]),
                defaultSystem: "You are a helpful assistant.", stopWords: [], autoAddBOS: true)
        case "chatml":
            return make(name, layout: .chatml, defaultSystem: nil, stopWords: ["<|im_end|>"], autoAddBOS: true)
        case "qwen":
            return make(name, layout: .chatml, defaultSystem: "You are a helpful assistant.",
                        stopWords: ["<|endoftext|>", "<|im_end|>"], autoAddBOS: false)
        case "qwen2_5":
            return make(name, layout: .chatml, defaultSystem: "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.",
                        stopWords: ["<|endoftext|>", "<|im_end|>"], autoAddBOS: false)
        case "llama3":
            let assistantHeader = "<|start_header_id|>assistant<|end_header_id|>\n\n"
            return make(name, layout: Layout(
                prefix: [.text("<|begin_of_text|>")],
                systemPrefix: [.text("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n{{SYSTEM}}<|eot_id|>")],
                prompt: [.text("<|start_header_id|>user<|end_header_id|>\n\n{{QUERY}}<|eot_id|>" + assistantHeader)],
                chatSep: [.text("<|eot_id|>")], suffix: [.text("<|eot_id|>")],
                toolPrompt: [.text("<|start_header_id|>tool<|end_header_id|>\n\n{{QUERY}}<|eot_id|>" + assistantHeader)]),
                defaultSystem: nil, stopWords: ["<|eot_id|>"], autoAddBOS: false)
        default:
            return nil
        }
    }

    /// A piece of an ms-swift prompt: literal text (with `{{SYSTEM}}` / `{{QUERY}}` slots)
    /// or the tokenizer's EOS token.
    enum Part: Equatable { case text(String), eos }

    struct Layout {
        var prefix: [Part]
        var systemPrefix: [Part]
        var prompt: [Part]
        var chatSep: [Part]
        var suffix: [Part]
        var toolPrompt: [Part]? = nil

        static let chatml = Layout(
            prefix: [], systemPrefix: [.text("<|im_start|>system\n{{SYSTEM}}<|im_end|>\n")],
            prompt: [.text("<|im_start|>user\n{{QUERY}}<|im_end|>\n<|im_start|>assistant\n")],
            chatSep: [.text("<|im_end|>\n")], suffix: [.text("<|im_end|>\n")])
    }

    private static func make(_ name: String, layout: Layout, defaultSystem: String?, stopWords: [String], autoAddBOS: Bool) -> BuiltinTemplate {
        BuiltinTemplate(name: name, source: jinjaSource(layout, defaultSystem: defaultSystem),
                        defaultSystem: defaultSystem, stopWords: stopWords, autoAddBOS: autoAddBOS)
    }

    /// Writes the layout as a jinja template: the system block (or the plain prefix), then each
    /// user/tool turn through its prompt, each assistant reply followed by `chat_sep`, or by
    /// `suffix` when it is the last message. Each reply with its separator sits in a
    /// `{% generation %}` block, so `ChatTemplate.renderTracked` reports the spans a loss mask
    /// trains on (the reply and the end-of-turn text the model must learn to produce).
    static func jinjaSource(_ layout: Layout, defaultSystem: String?) -> String {
        func expr(_ parts: [Part], slot: String?, value: String) -> String {
            var pieces: [String] = []
            for part in parts {
                switch part {
                case .eos: pieces.append("eos_token")
                case .text(let t):
                    var rest = Substring(t)
                    if let slot = slot {
                        while let r = rest.range(of: slot) {
                            if !rest[..<r.lowerBound].isEmpty { pieces.append(literal(String(rest[..<r.lowerBound]))) }
                            pieces.append(value)
                            rest = rest[r.upperBound...]
                        }
                    }
                    if !rest.isEmpty { pieces.append(literal(String(rest))) }
                }
            }
            return pieces.isEmpty ? "''" : pieces.joined(separator: " + ")
        }
        let fallback = defaultSystem.map(literal) ?? "''"
        var s = ""
        s += "{%- if messages and messages[0].role == 'system' %}\n"
        s += "    {%- set system = messages[0].content %}\n"
        s += "    {%- set loop_messages = messages[1:] %}\n"
        s += "{%- else %}\n"
        s += "    {%- set system = \(fallback) %}\n"
        s += "    {%- set loop_messages = messages %}\n"
        s += "{%- endif %}\n"
        s += "{%- if system %}\n"
        s += "    {{- \(expr(layout.systemPrefix, slot: "{{SYSTEM}}", value: "system")) }}\n"
        s += "{%- else %}\n"
        s += "    {{- \(expr(layout.prefix, slot: nil, value: "")) }}\n"
        s += "{%- endif %}\n"
        s += "{%- for message in loop_messages %}\n"
        s += "    {%- if message.role == 'user' %}\n"
        s += "        {{- \(expr(layout.prompt, slot: "{{QUERY}}", value: "message.content")) }}\n"
        s += "    {%- elif message.role == 'tool' %}\n"
        s += "        {{- \(expr(layout.toolPrompt ?? layout.prompt, slot: "{{QUERY}}", value: "message.content")) }}\n"
        s += "    {%- elif message.role == 'assistant' %}\n"
        s += "        {%- generation %}\n"
        s += "        {{- message.content }}\n"
        s += "        {%- if loop.last %}\n"
        s += "            {{- \(expr(layout.suffix, slot: nil, value: "")) }}\n"
        s += "        {%- else %}\n"
        s += "            {{- \(expr(layout.chatSep, slot: nil, value: "")) }}\n"
        s += "        {%- endif %}\n"
        s += "        {%- endgeneration %}\n"
        s += "    {%- endif %}\n"
        s += "{%- endfor %}\n"
        return s
    }

    /// A jinja string literal.
    static func literal(_ text: String) -> String {
        var out = "'"
        for c in text.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "'": out += "\\'"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "'"
    }
}

/// System prompt precedence as ms-swift documents it: a system message already in the
/// conversation (from the dataset) wins, then the `--system` argument, then the template's
/// default system. Returns the messages with the chosen system message first (unchanged
/// when there is none to add).
public func applySystemPrecedence(messages: [ChatMessage], systemArgument: String?, defaultSystem: String?) -> [ChatMessage] {
    if messages.first?.role == "system" { return messages }
    guard let system = systemArgument ?? defaultSystem else { return messages }
    return [ChatMessage(role: "system", content: system)] + messages
}
