/// The `chat` sub-mode: reads turns, streams answers, keeps the conversation in the session.
struct ChatMode {
    static let prompt = "chat> "
    static let continuationPrompt = "...> "
    static let banner = "chat with the live model: /exit leaves, /clear forgets the conversation, "
        + "/system TEXT sets the system prompt, /reset forgets both; end a line with \\ to go on"

    let call: VerbCall
    let model: ModelHandle
    let input: LineReader
    /// The generation settings (the session's, or an `infer` call's with its flags).
    var arguments: ResolvedArguments?

    func run() throws {
        let session = call.session
        let args = arguments ?? call.interpreter.resolved(for: .infer, flags: [:])
        if session.conversation.isEmpty { session.conversation = systemMessages(args) }
        if call.output.isTerminal { call.output.line(Self.banner) }
        while true {
            guard let text = readTurn() else { return }
            let trimmed = text.trimmingSpaces
            if trimmed.isEmpty { continue }
            if trimmed.hasPrefix("/") {
                if try command(trimmed, defaults: args) { return }
                continue
            }
            session.conversation.append(ChatMessage(role: "user", content: text))
            call.interpreter.cancel.reset()
            do {
                let answer = try generateAnswer(call, model: model, messages: session.conversation, arguments: args)
                session.conversation.append(ChatMessage(role: "assistant", content: answer.text))
            } catch {
                session.conversation.removeLast()
                call.output.diagnostic(Diagnostic("\(error)", at: nil))
            }
        }
    }

    /// One turn; a trailing `\` continues it on the next line. Nil at Ctrl-D / end of input.
    private func readTurn() -> String? {
        var lines: [String] = []
        while true {
            switch input.read(prompt: lines.isEmpty ? Self.prompt : Self.continuationPrompt) {
            case .end:
                return lines.isEmpty ? nil : lines.joined(separator: "\n")
            case .interrupted:
                lines = []
            case .line(let l):
                if l.hasSuffix("\\") {
                    lines.append(String(l.dropLast()))
                } else {
                    lines.append(l)
                    let turn = lines.joined(separator: "\n")
                    if !turn.trimmingSpaces.isEmpty { input.remember(turn) }
                    return turn
                }
            }
        }
    }

    /// Handles a `/command`; returns true to leave the chat.
    private func command(_ line: String, defaults: ResolvedArguments) throws -> Bool {
        let session = call.session
        let name = String(line.prefix { !$0.isWhitespace })
        let rest = String(line.dropFirst(name.count)).trimmingSpaces
        switch name {
        case "/exit", "/quit":
            return true
        case "/clear":
            session.conversation = session.conversation.filter { $0.role == "system" }
            call.output.line("(conversation cleared)")
        case "/system":
            session.conversation = rest.isEmpty ? [] : [ChatMessage(role: "system", content: rest)]
            call.output.line(rest.isEmpty ? "(system prompt removed, conversation cleared)"
                : "(system prompt set, conversation cleared)")
        case "/reset":
            session.conversation = systemMessages(defaults)
            call.output.line("(conversation and system prompt reset)")
        default:
            let near = NameSuggester.suggestions(for: name, among: ["/exit", "/clear", "/system", "/reset"])
            call.output.diagnostic(Diagnostic("unknown chat command '\(name)'"
                + (near.first.map { "; did you mean '\($0)'?" } ?? "; chat knows /exit /clear /system /reset"),
                at: nil))
        }
        return false
    }
}
