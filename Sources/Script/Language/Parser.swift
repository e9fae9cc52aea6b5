/// Turns script text into statements. The verbs' own words are checked by the verbs.
public enum Parser {
    public struct Result: Sendable {
        public var statements: [Statement]
        public var diagnostics: [Diagnostic]
        /// True when the text stops inside a quote or after a trailing `\` (the REPL reads on).
        public var isIncomplete: Bool
    }

    public static func parse(_ text: String, file: String, firstLine: Int = 1) -> Result {
        let lexed = Lexer.lex(text, file: file, firstLine: firstLine)
        var statements: [Statement] = []
        var diagnostics = lexed.diagnostics
        for line in lexed.lines {
            guard let head = line.words.first else { continue }
            guard var verb = head.literal, !head.isQuoted else {
                diagnostics.append(Diagnostic(
                    "a statement starts with a command name, not '\(head.source)'", at: head.location))
                continue
            }
            var arguments = Array(line.words.dropFirst())
            // `?NAME` is `help NAME`.
            if verb.hasPrefix("?") {
                let rest = String(verb.dropFirst())
                if !rest.isEmpty {
                    var loc = head.location
                    loc.column += 1
                    arguments.insert(Word(parts: [.text(rest)], location: loc, source: rest, isQuoted: false), at: 0)
                }
                verb = "help"
            }
            statements.append(Statement(verb: verb, verbLocation: head.location, arguments: arguments, text: line.text))
        }
        return Result(statements: statements, diagnostics: diagnostics, isIncomplete: lexed.incomplete != nil)
    }

    /// Whether the REPL should read another line before running this text.
    public static func needsMoreInput(_ text: String) -> Bool {
        Lexer.lex(text, file: "<repl>").incomplete != nil
    }
}
