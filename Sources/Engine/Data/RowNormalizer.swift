/// Turns the rows of one file into conversations, choosing the shape per file as ms-swift's
/// `AutoPreprocessor` does: a `messages`/`conversation`/`conversations` column means messages
/// (role/content, ShareGPT from/value, or human/assistant pairs); `instruction` with `input`
/// means Alpaca; anything else is query/response/history with the automatic column aliases.
struct RowNormalizer {
    enum Shape: Equatable { case messages, alpaca, queryResponse }

    var columns: [String: String] = [:]
    var autoColumnMapping = true

    /// Renames the table's columns and picks its shape.
    func prepare(_ table: inout RawTable) throws -> Shape {
        try ColumnMapping.apply(ColumnMapping.renames(columns.sorted { $0.key < $1.key }, columns: table.columns), to: &table)
        // ms-swift tests the exact names here (the renames after it ignore case).
        let present = Set(table.columns)
        let shape: Shape
        if ColumnMapping.messagesAliases.contains(where: { present.contains($0) }) { shape = .messages }
        else if present.contains("instruction") && present.contains("input") { shape = .alpaca }
        else { shape = .queryResponse }
        guard autoColumnMapping else { return shape }
        var mapping = ColumnMapping.aliases(ColumnMapping.systemAliases, to: "system")
        switch shape {
        case .messages:
            mapping += ColumnMapping.aliases(ColumnMapping.messagesAliases, to: "messages")
        case .alpaca, .queryResponse:
            // Alpaca reads instruction, input and output by name, so only the other shape can be ambiguous.
            if shape == .queryResponse {
                try ColumnMapping.checkAmbiguity(ColumnMapping.queryAliases, target: "query", columns: table.columns, file: table.file)
                try ColumnMapping.checkAmbiguity(ColumnMapping.responseAliases, target: "response", columns: table.columns, file: table.file)
            }
            mapping += ColumnMapping.aliases(ColumnMapping.queryAliases, to: "query")
            mapping += ColumnMapping.aliases(ColumnMapping.responseAliases, to: "response")
        }
        try ColumnMapping.checkAmbiguity(ColumnMapping.systemAliases, target: "system", columns: table.columns, file: table.file)
        try ColumnMapping.apply(ColumnMapping.renames(mapping, columns: table.columns), to: &table)
        return shape
    }

    /// One row's conversation, or the problem with it.
    func conversation(_ row: RawRow, shape: Shape) throws -> Conversation {
        var row = row
        func fail(_ problem: String) -> DatasetError { DatasetError(file: row.file, line: row.line, problem: problem) }
        let system = try optionalString(row.take("system"), "system", fail)
        var messages: [ChatMessage]
        var lossOverrides: [Int: Bool] = [:]
        switch shape {
        case .messages:
            guard let raw = row.take("messages") else { throw fail("the messages column is empty") }
            (messages, lossOverrides) = try Self.messages(raw, system: system, fail)
        case .alpaca:
            let instruction = try optionalString(row.take("instruction"), "instruction", fail)
            let input = try optionalString(row.take("input"), "input", fail)
            let query: String?
            if let i = instruction, !i.isEmpty, let x = input, !x.isEmpty { query = i + "\n" + x }
            else if let i = instruction, !i.isEmpty { query = i }
            else { query = input ?? instruction }
            if let o = row.take("output") { row.fields.append(("response", o)) }
            messages = try Self.queryResponse(system: system, query: query, response: row.take("response"),
                                              history: row.take("history"), fail)
        case .queryResponse:
            let query = try optionalString(row.take("query"), "query", fail)
            messages = try Self.queryResponse(system: system, query: query, response: row.take("response"),
                                              history: row.take("history"), fail)
        }
        try ConversationRules.check(messages).map { throw fail($0) }
        if let i = lossOverrides.keys.sorted().first(where: { messages[$0].role != "assistant" }) {
            throw fail("message \(i + 1): 'loss' applies only to assistant messages")
        }
        var c = Conversation(messages: messages, file: row.file, line: row.line)
        c.lossOverrides = lossOverrides
        return c
    }

    private func optionalString(_ v: JSONValue?, _ name: String, _ fail: (String) -> DatasetError) throws -> String? {
        guard let v = v else { return nil }
        guard let s = v.string else { throw fail("'\(name)' must be a string, found \(v.kindName)") }
        return s
    }

    static func queryResponse(system: String?, query: String?, response: JSONValue?, history: JSONValue?,
                              _ fail: (String) -> DatasetError) throws -> [ChatMessage] {
        var out: [ChatMessage] = []
        if let s = system { out.append(ChatMessage(role: "system", content: s)) }
        if var h = history {
            if case .string(let text) = h {   // a list written as text, e.g. in a CSV cell
                guard let parsed = try? JSONParser.parse(Array(text.utf8), source: "history") else {
                    throw fail("'history' is a string that is not a JSON list of [query, response] pairs")
                }
                h = parsed
            }
            guard let pairs = h.array else { throw fail("'history' must be a list of [query, response] pairs, found \(h.kindName)") }
            for (i, p) in pairs.enumerated() {
                guard let pair = p.array, pair.count == 2, let q = pair[0].string, let r = pair[1].string else {
                    throw fail("history item \(i + 1) must be a pair of strings [query, response]")
                }
                out.append(ChatMessage(role: "user", content: q))
                out.append(ChatMessage(role: "assistant", content: r))
            }
        }
        if let q = query { out.append(ChatMessage(role: "user", content: q)) }
        if var r = response {
            if case .array(let options) = r {   // several answers: ms-swift takes the first
                guard let first = options.first else { throw fail("'response' is an empty list") }
                r = first
            }
            guard let s = r.string else { throw fail("'response' must be a string, found \(r.kindName)") }
            out.append(ChatMessage(role: "assistant", content: s))
        }
        return out
    }

    static let userRoles: Set<String> = ["user", "human"]
    static let assistantRoles: Set<String> = ["assistant", "gpt", "bot"]
    static let toolCallRoles: Set<String> = ["tool_call", "function_call"]
    static let toolRoles: Set<String> = ["tool", "tool_response", "function_response", "observation", "observations"]

    /// The messages, and the `loss` flags some carry (by message index).
    static func messages(_ raw: JSONValue, system: String?, _ fail: (String) -> DatasetError) throws -> ([ChatMessage], [Int: Bool]) {
        var value = raw
        if case .string(let text) = raw {   // a list written as text
            guard let parsed = try? JSONParser.parse(Array(text.utf8), source: "messages") else {
                throw fail("'messages' is a string that is not a JSON list of messages")
            }
            value = parsed
        }
        guard let items = value.array else { throw fail("'messages' must be a list, found \(value.kindName)") }
        guard !items.isEmpty else { throw fail("the conversation is empty") }
        var objects: [[(key: String, value: JSONValue)]] = []
        for (i, item) in items.enumerated() {
            guard case .object(let members) = item else { throw fail("message \(i + 1) is \(item.kindName), not an object") }
            objects.append(members)
        }
        func field(_ m: [(key: String, value: JSONValue)], _ names: [String]) -> JSONValue? {
            for n in names { if let v = m.first(where: { $0.key == n })?.value { return v } }
            return nil
        }
        let roleKeys = ["role", "from"], contentKeys = ["content", "value"]
        var out: [ChatMessage] = []
        var overrides: [Int: Bool] = [:]
        if field(objects[0], roleKeys) == nil && field(objects[0], contentKeys) == nil {
            // Pairs: [{"human": "...", "assistant": "..."}, ...]
            if let s = system { out.append(ChatMessage(role: "system", content: s)) }
            for (i, m) in objects.enumerated() {
                guard let u = field(m, ["user", "human"]) else { throw fail("turn \(i + 1) has no 'human' (or 'user') text") }
                guard let a = field(m, ["assistant", "gpt", "bot"]) else { throw fail("turn \(i + 1) has no 'assistant' (or 'gpt', 'bot') text") }
                guard let us = u.string, let as_ = a.string else { throw fail("turn \(i + 1): the texts must be strings") }
                out.append(ChatMessage(role: "user", content: us))
                out.append(ChatMessage(role: "assistant", content: as_))
            }
            return (out, [:])
        }
        for (i, m) in objects.enumerated() {
            guard let r = field(m, roleKeys) else { throw fail("message \(i + 1) has no 'role' (or 'from')") }
            guard let roleText = r.string else { throw fail("message \(i + 1): the role must be a string, found \(r.kindName)") }
            guard let c = field(m, contentKeys), !c.isNull else { throw fail("message \(i + 1) has no content") }
            guard let content = c.string else { throw fail("message \(i + 1): the content must be a string, found \(c.kindName)") }
            let key = roleText.replacingOccurrences(of: "-", with: "_")
            let role: String
            if roleText == "system" { role = "system" }
            else if userRoles.contains(key) { role = "user" }
            else if assistantRoles.contains(key) { role = "assistant" }
            else if toolCallRoles.contains(key) { role = "tool_call" }
            else if toolRoles.contains(key) { role = "tool" }
            else { throw fail("message \(i + 1) has an unknown role '\(roleText)'") }
            if let flag = field(m, ["loss"]), !flag.isNull {
                guard let b = flag.bool else { throw fail("message \(i + 1): 'loss' must be true or false, found \(flag.kindName)") }
                overrides[out.count] = b
            }
            out.append(ChatMessage(role: role, content: content))
        }
        if out[0].role != "system", let s = system {
            out.insert(ChatMessage(role: "system", content: s), at: 0)
            overrides = Dictionary(uniqueKeysWithValues: overrides.map { ($0.key + 1, $0.value) })
        }
        return (out, overrides)
    }
}

/// What a conversation must look like to train on.
enum ConversationRules {
    /// The problem with `messages`, or nil. A pretraining row — one assistant message, perhaps
    /// after a system message — is fine; otherwise turns start with the user, a user turn is
    /// followed by the assistant, tool results follow an assistant or tool turn, and the
    /// conversation ends with the assistant's reply.
    static func check(_ messages: [ChatMessage]) -> String? {
        let turns = messages.first?.role == "system" ? Array(messages.dropFirst()) : messages
        guard !turns.isEmpty else { return messages.isEmpty ? "the conversation is empty" : "the conversation has only a system message" }
        if let i = messages.indices.dropFirst().first(where: { messages[$0].role == "system" }) {
            return "message \(i + 1) is a system message; only the first message may be"
        }
        if turns.count == 1, turns[0].role == "assistant" { return nil }
        let offset = messages.count - turns.count
        guard turns[0].role == "user" else { return "the conversation starts with '\(turns[0].role)'; the first turn must be the user's" }
        for i in 1..<turns.count {
            let (prev, cur) = (turns[i - 1].role, turns[i].role)
            let ok: Bool
            switch cur {
            case "user": ok = prev == "assistant" || prev == "tool"
            case "assistant": ok = prev == "user" || prev == "tool"
            case "tool_call": ok = prev == "user" || prev == "assistant" || prev == "tool"
            case "tool": ok = prev == "assistant" || prev == "tool_call" || prev == "tool"
            default: ok = false
            }
            if !ok {
                let what = prev == cur ? "two '\(cur)' turns in a row" : "a '\(cur)' turn after a '\(prev)' turn"
                return "roles out of order at message \(i + offset + 1): \(what)"
            }
        }
        guard turns.last?.role == "assistant" else { return "the conversation does not end with an assistant reply (missing response)" }
        return nil
    }
}
