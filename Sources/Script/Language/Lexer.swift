/// Splits script text into logical lines of words, shell-like:
/// - `#` at the start of a word comments out the rest of the line (`data.jsonl#100` is one word);
/// - a `\` before a newline joins the next line; before any other character it takes that
///   character literally;
/// - `'...'` is literal text, newlines included; `"..."` allows `\"`, `\\`, `\$`, `\n`, `\t`,
///   `\r` and `${NAME}`;
/// - `${NAME}` and `$NAME` are filled in when the statement runs.
struct Lexer {
    /// Why the text cannot end where it does (the REPL then asks for another line).
    enum Incomplete: Equatable {
        case openQuote(Character, SourceLocation)
        case trailingBackslash
    }

    struct Line {
        var words: [Word]
        var text: String
    }

    struct Output {
        var lines: [Line] = []
        var diagnostics: [Diagnostic] = []
        var incomplete: Incomplete?
    }

    private let chars: [Character]
    private let file: String
    private var pos = 0
    private var line = 1
    private var column = 1
    private var output = Output()

    private init(_ text: String, file: String, firstLine: Int) {
        self.chars = Array(text)
        self.file = file
        self.line = firstLine
    }

    static func lex(_ text: String, file: String, firstLine: Int = 1) -> Output {
        var lexer = Lexer(text, file: file, firstLine: firstLine)
        lexer.run()
        return lexer.output
    }

    private var location: SourceLocation { SourceLocation(file: file, line: line, column: column) }
    private var peek: Character? { pos < chars.count ? chars[pos] : nil }
    private func peek(_ offset: Int) -> Character? { pos + offset < chars.count ? chars[pos + offset] : nil }

    @discardableResult
    private mutating func advance() -> Character {
        let c = chars[pos]
        pos += 1
        if c.isNewline { line += 1; column = 1 } else { column += 1 }
        return c
    }

    private static func isBlank(_ c: Character) -> Bool { c == " " || c == "\t" }

    private mutating func run() {
        var words: [Word] = []
        var lineStart: Int?
        var lineEnd = 0
        func finish(_ lexer: inout Lexer) {
            if !words.isEmpty, let start = lineStart {
                lexer.output.lines.append(Line(words: words, text: String(lexer.chars[start..<lineEnd])))
            }
            words = []
            lineStart = nil
        }
        while let c = peek {
            if Self.isBlank(c) {
                advance()
            } else if c.isNewline {
                advance()
                finish(&self)
            } else if c == "#" {
                while let n = peek, !n.isNewline { advance() }
            } else if c == "\\", peek(1)?.isNewline == true {
                advance()
                advance()
            } else if c == "\\", peek(1) == nil {
                advance()
                output.incomplete = .trailingBackslash
            } else {
                if lineStart == nil { lineStart = pos }
                words.append(readWord())
                lineEnd = pos
            }
        }
        finish(&self)
    }

    private mutating func readWord() -> Word {
        let start = location
        let startIndex = pos
        var parts: [Word.Part] = []
        var text = ""
        var quoted = false
        func flush() {
            if !text.isEmpty { parts.append(.text(text)); text = "" }
        }
        while let c = peek, !Self.isBlank(c), !c.isNewline {
            switch c {
            case "'":
                quoted = true
                let open = location
                advance()
                var closed = false
                while let n = peek {
                    advance()
                    if n == "'" { closed = true; break }
                    text.append(n)
                }
                if !closed { unterminated("'", at: open) }
            case "\"":
                quoted = true
                let open = location
                advance()
                var closed = false
                while let n = peek {
                    if n == "\"" { advance(); closed = true; break }
                    if n == "\\" {
                        advance()
                        guard let e = peek else { break }
                        advance()
                        switch e {
                        case "n": text.append("\n")
                        case "t": text.append("\t")
                        case "r": text.append("\r")
                        case "\"", "\\", "$": text.append(e)
                        default:
                            if !e.isNewline { text.append("\\"); text.append(e) }
                        }
                    } else if n == "$", let v = readVariable() {
                        flush()
                        parts.append(v)
                    } else {
                        text.append(advance())
                    }
                }
                if !closed { unterminated("\"", at: open) }
            case "\\":
                quoted = true
                advance()
                guard let e = peek else {
                    output.incomplete = .trailingBackslash
                    break
                }
                advance()
                if !e.isNewline { text.append(e) }
            case "$":
                if let v = readVariable() {
                    flush()
                    parts.append(v)
                } else {
                    text.append(advance())
                }
            default:
                text.append(advance())
            }
        }
        flush()
        if parts.isEmpty { parts = [.text("")] }
        return Word(parts: parts, location: start, source: String(chars[startIndex..<pos]), isQuoted: quoted)
    }

    private mutating func unterminated(_ quote: Character, at open: SourceLocation) {
        output.incomplete = .openQuote(quote, open)
        output.diagnostics.append(Diagnostic("unterminated \(quote) quote (it opens here)", at: open))
    }

    static func isNameStart(_ c: Character) -> Bool { c == "_" || (c.isASCII && c.isLetter) }
    static func isNameChar(_ c: Character) -> Bool { isNameStart(c) || (c.isASCII && c.isNumber) }

    /// At a `$`: reads `${NAME}` or `$NAME`; nil (nothing consumed) when `$` is just a character.
    private mutating func readVariable() -> Word.Part? {
        let start = location
        if peek(1) == "{" {
            advance()
            advance()
            var name = ""
            while let c = peek, c != "}", !c.isNewline {
                name.append(advance())
            }
            guard peek == "}" else {
                output.diagnostics.append(Diagnostic("'${' is not closed by '}'", at: start))
                return .text("${" + name)
            }
            advance()
            if name.isEmpty || !Self.isNameStart(name.first!) || !name.allSatisfy(Self.isNameChar) {
                output.diagnostics.append(Diagnostic(
                    "'${\(name)}' is not a variable name (letters, digits and _, not starting with a digit)",
                    at: start))
            }
            return .variable(name: name, location: start)
        }
        guard let first = peek(1), Self.isNameStart(first) else { return nil }
        advance()
        var name = ""
        while let c = peek, Self.isNameChar(c) { name.append(advance()) }
        return .variable(name: name, location: start)
    }
}
