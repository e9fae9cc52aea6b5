/// Splits template source into tokens the way jinja2 does with HF's settings
/// (`trim_blocks=True`, `lstrip_blocks=True`, `keep_trailing_newline=False`).
struct TemplateLexer {
    private let s: [Unicode.Scalar]
    private var pos = 0
    private var line = 1
    private var column = 1
    private var tokens: [Token] = []
    private let trimBlocks: Bool
    private let lstripBlocks: Bool

    init(source: String, trimBlocks: Bool = true, lstripBlocks: Bool = true) {
        s = Array(TemplateLexer.normalizeNewlines(source).unicodeScalars)
        self.trimBlocks = trimBlocks
        self.lstripBlocks = lstripBlocks
    }

    /// Python's `"\n".join(source.splitlines())`: every line break becomes "\n" and one
    /// trailing line break is dropped.
    static func normalizeNewlines(_ source: String) -> String {
        var out = String.UnicodeScalarView()
        let scalars = Array(source.unicodeScalars)
        var i = 0
        while i < scalars.count {
            let c = scalars[i]
            if c == "\r" {
                if i + 1 < scalars.count, scalars[i + 1] == "\n" { i += 1 }
                out.append("\n")
            } else if isLineBreak(c) {
                out.append("\n")
            } else {
                out.append(c)
            }
            i += 1
        }
        if out.last == "\n" { out.removeLast() }
        return String(out)
    }

    static func isLineBreak(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029: return true
        default: return false
        }
    }

    static func isSpace(_ c: Unicode.Scalar) -> Bool {
        // Python's str.isspace / regex \s for str patterns.
        switch c.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default: return false
        }
    }

    private func at(_ i: Int) -> Unicode.Scalar? { i < s.count ? s[i] : nil }
    private var here: SourcePos { SourcePos(line: line, column: column) }

    private mutating func advance(_ n: Int = 1) {
        for _ in 0..<n where pos < s.count {
            if s[pos] == "\n" { line += 1; column = 1 } else { column += 1 }
            pos += 1
        }
    }

    mutating func tokenize() throws -> [Token] {
        var lineStarting = true
        while pos < s.count {
            // Find the next tag opening.
            var i = pos
            var found = false
            while i + 1 < s.count {
                if s[i] == "{", let n = at(i + 1), n == "{" || n == "%" || n == "#" { found = true; break }
                i += 1
            }
            if !found { i = s.count }
            let textStart = here
            var text = Array(s[pos..<i])
            var tagKind: Unicode.Scalar = " "
            var sign: Unicode.Scalar = " "
            if found {
                tagKind = s[i + 1]
                if let c = at(i + 2), c == "-" || c == "+" { sign = c }
                if sign == "-" {
                    while let last = text.last, TemplateLexer.isSpace(last) { text.removeLast() }
                } else if sign != "+" && lstripBlocks && tagKind != "{" {
                    let lineStart = (text.lastIndex(of: "\n").map { $0 + 1 }) ?? 0
                    if lineStart > 0 || lineStarting {
                        if text[lineStart...].allSatisfy({ TemplateLexer.isSpace($0) }) {
                            text.removeSubrange(lineStart...)
                        }
                    }
                }
            }
            if !text.isEmpty {
                var view = String.UnicodeScalarView()
                view.append(contentsOf: text)
                tokens.append(Token(kind: .text(String(view)), pos: textStart))
            }
            advance(i - pos)
            guard found else { break }
            let tagPos = here
            advance(sign == " " ? 2 : 3)
            switch tagKind {
            case "#":
                lineStarting = try lexCommentEnd(openedAt: tagPos)
            case "{":
                tokens.append(Token(kind: .variableBegin, pos: tagPos))
                lineStarting = try lexTagBody(end: "}", openedAt: tagPos, isBlock: false)
            default:
                if let afterRaw = rawBlockStart() {
                    lineStarting = try lexRaw(contentStart: afterRaw, openedAt: tagPos)
                } else {
                    tokens.append(Token(kind: .blockBegin, pos: tagPos))
                    lineStarting = try lexTagBody(end: "%", openedAt: tagPos, isBlock: true)
                }
            }
        }
        tokens.append(Token(kind: .eof, pos: here))
        return tokens
    }

    /// After a tag closes: `-` strips all following whitespace; otherwise trim_blocks removes
    /// one newline after block and comment tags. Returns whether the consumed text ended a line.
    private mutating func afterTagClose(stripSign: Bool, isBlock: Bool) -> Bool {
        if stripSign {
            var last: Unicode.Scalar? = nil
            while let c = at(pos), TemplateLexer.isSpace(c) { last = c; advance() }
            return last == "\n"
        }
        if isBlock && trimBlocks, at(pos) == "\n" { advance(); return true }
        return false
    }

    /// If the block tag being opened is `raw %}` (or `raw -%}`), the index where its content starts.
    private func rawBlockStart() -> Int? {
        var k = pos
        while let c = at(k), TemplateLexer.isSpace(c) { k += 1 }
        guard at(k) == "r", at(k + 1) == "a", at(k + 2) == "w" else { return nil }
        k += 3
        if let c = at(k), c == "_" || c.properties.isAlphabetic || ("0"..."9").contains(c) { return nil }
        while let c = at(k), TemplateLexer.isSpace(c) { k += 1 }
        if at(k) == "-", at(k + 1) == "%", at(k + 2) == "}" {
            k += 3
            while let c = at(k), TemplateLexer.isSpace(c) { k += 1 }
            return k
        }
        if at(k) == "%", at(k + 1) == "}" { return k + 2 }
        return nil
    }

    /// `{% raw %}...{% endraw %}`: the content is text, tags inside are not interpreted.
    private mutating func lexRaw(contentStart: Int, openedAt: SourcePos) throws -> Bool {
        advance(contentStart - pos)
        let textPos = here
        var k = pos
        while k + 1 < s.count {
            if s[k] == "{", s[k + 1] == "%" {
                var j = k + 2
                let sign = at(j)
                if sign == "-" || sign == "+" { j += 1 }
                while let c = at(j), TemplateLexer.isSpace(c) { j += 1 }
                if at(j) == "e", String(String.UnicodeScalarView(s[j..<min(j + 6, s.count)])) == "endraw" {
                    j += 6
                    while let c = at(j), TemplateLexer.isSpace(c) { j += 1 }
                    var closeSign: Unicode.Scalar? = nil
                    if let c = at(j), c == "-" || c == "+" { closeSign = c; j += 1 }
                    if at(j) == "%", at(j + 1) == "}" {
                        var content = Array(s[pos..<k])
                        if sign == "-" { while let l = content.last, TemplateLexer.isSpace(l) { content.removeLast() } }
                        if !content.isEmpty {
                            tokens.append(Token(kind: .text(PyString.make(content[...])), pos: textPos))
                        }
                        advance(j + 2 - pos)
                        if closeSign == "+" { return false }
                        return afterTagClose(stripSign: closeSign == "-", isBlock: true)
                    }
                }
            }
            k += 1
        }
        throw TemplateError(.syntax, "unclosed 'raw' block: no '{% endraw %}'", at: openedAt)
    }

    private mutating func lexCommentEnd(openedAt: SourcePos) throws -> Bool {
        while pos + 1 < s.count {
            if s[pos] == "-", at(pos + 1) == "#", at(pos + 2) == "}" {
                advance(3)
                return afterTagClose(stripSign: true, isBlock: true)
            }
            if s[pos] == "#", s[pos + 1] == "}" {
                advance(2)
                return afterTagClose(stripSign: false, isBlock: true)
            }
            advance()
        }
        throw TemplateError(.syntax, "unclosed comment: '{#' has no matching '#}'", at: openedAt)
    }

    private mutating func lexTagBody(end: Unicode.Scalar, openedAt: SourcePos, isBlock: Bool) throws -> Bool {
        var balance: [Unicode.Scalar] = []
        while true {
            while let c = at(pos), TemplateLexer.isSpace(c) { advance() }
            guard let c = at(pos) else {
                let what = isBlock ? "'{%' has no matching '%}'" : "'{{' has no matching '}}'"
                throw TemplateError(.syntax, "unclosed tag: \(what)", at: openedAt)
            }
            let p = here
            if balance.isEmpty {
                if (c == "-" || (c == "+" && isBlock)), at(pos + 1) == end, at(pos + 2) == "}" {
                    advance(3)
                    tokens.append(Token(kind: isBlock ? .blockEnd : .variableEnd, pos: p))
                    // `-%}` strips what follows; `+%}` keeps the newline trim_blocks would remove.
                    return c == "-" ? afterTagClose(stripSign: true, isBlock: isBlock) : false
                }
                if c == end, at(pos + 1) == "}" {
                    advance(2)
                    tokens.append(Token(kind: isBlock ? .blockEnd : .variableEnd, pos: p))
                    return afterTagClose(stripSign: false, isBlock: isBlock)
                }
            }
            if c == "_" || c.properties.isAlphabetic {
                var name = String.UnicodeScalarView()
                while let d = at(pos), d == "_" || d.properties.isAlphabetic || ("0"..."9").contains(d) {
                    name.append(d); advance()
                }
                tokens.append(Token(kind: .name(String(name)), pos: p))
            } else if ("0"..."9").contains(c) {
                try lexNumber(at: p)
            } else if c == "'" || c == "\"" {
                try lexString(quote: c, at: p)
            } else {
                let two = at(pos + 1).map { String(c) + String($0) } ?? ""
                let op: String
                if ["//", "**", "==", "!=", "<=", ">="].contains(two) {
                    op = two
                } else if "+-*/%~<>=()[]{},.:|;!".unicodeScalars.contains(c) {
                    op = String(c)
                } else {
                    throw TemplateError(.syntax, "unexpected character '\(c)'", at: p)
                }
                switch op {
                case "(", "[", "{": balance.append(c)
                case ")", "]", "}":
                    let want: Unicode.Scalar = op == ")" ? "(" : op == "]" ? "[" : "{"
                    guard balance.last == want else {
                        throw TemplateError(.syntax, "unexpected '\(op)'", at: p)
                    }
                    balance.removeLast()
                default: break
                }
                advance(op.unicodeScalars.count)
                tokens.append(Token(kind: .op(op), pos: p))
            }
        }
    }

    private mutating func lexNumber(at p: SourcePos) throws {
        var digits = ""
        func readDigits() {
            while let d = at(pos), ("0"..."9").contains(d) || (d == "_" && at(pos + 1).map { ("0"..."9").contains($0) } == true) {
                if d != "_" { digits.unicodeScalars.append(d) }
                advance()
            }
        }
        readDigits()
        var isFloat = false
        if at(pos) == ".", let d = at(pos + 1), ("0"..."9").contains(d) {
            isFloat = true
            digits += "."; advance()
            readDigits()
        }
        if let e = at(pos), e == "e" || e == "E" {
            var k = pos + 1
            if let sgn = at(k), sgn == "+" || sgn == "-" { k += 1 }
            if let d = at(k), ("0"..."9").contains(d) {
                isFloat = true
                digits += "e"; advance()
                if let sgn = at(pos), sgn == "+" || sgn == "-" { digits.unicodeScalars.append(sgn); advance() }
                readDigits()
            }
        }
        if isFloat {
            guard let v = Double(digits) else { throw TemplateError(.syntax, "bad number '\(digits)'", at: p) }
            tokens.append(Token(kind: .float(v), pos: p))
        } else {
            guard let v = Int(digits) else { throw TemplateError(.limit, "integer literal too large: \(digits)", at: p) }
            tokens.append(Token(kind: .integer(v), pos: p))
        }
    }

    private mutating func lexString(quote: Unicode.Scalar, at p: SourcePos) throws {
        advance()
        var raw: [Unicode.Scalar] = []
        while true {
            guard let c = at(pos) else { throw TemplateError(.syntax, "unterminated string literal", at: p) }
            if c == quote { advance(); break }
            if c == "\\", let n = at(pos + 1) {
                raw.append(c); raw.append(n); advance(2); continue
            }
            raw.append(c); advance()
        }
        tokens.append(Token(kind: .string(TemplateLexer.unescape(raw)), pos: p))
    }

    /// Python's `unicode-escape` decoding as jinja2 applies it to string literals;
    /// unknown escapes keep their backslash.
    static func unescape(_ raw: [Unicode.Scalar]) -> String {
        var out = String.UnicodeScalarView()
        var i = 0
        func hex(_ start: Int, _ count: Int) -> Unicode.Scalar? {
            guard start + count <= raw.count else { return nil }
            var v: UInt32 = 0
            for k in start..<(start + count) {
                guard let d = UInt32(String(raw[k]), radix: 16) else { return nil }
                v = v &* 16 &+ d
            }
            return Unicode.Scalar(v)
        }
        while i < raw.count {
            let c = raw[i]
            guard c == "\\", i + 1 < raw.count else { out.append(c); i += 1; continue }
            let n = raw[i + 1]
            switch n {
            case "n": out.append("\n"); i += 2
            case "t": out.append("\t"); i += 2
            case "r": out.append("\r"); i += 2
            case "\\": out.append("\\"); i += 2
            case "'": out.append("'"); i += 2
            case "\"": out.append("\""); i += 2
            case "a": out.append("\u{07}"); i += 2
            case "b": out.append("\u{08}"); i += 2
            case "f": out.append("\u{0C}"); i += 2
            case "v": out.append("\u{0B}"); i += 2
            case "\n": i += 2
            case "x", "u", "U":
                let count = n == "x" ? 2 : n == "u" ? 4 : 8
                if let v = hex(i + 2, count) { out.append(v); i += 2 + count } else { out.append("\\"); out.append(n); i += 2 }
            case "0"..."7":
                var v: UInt32 = 0
                var k = i + 1
                while k < raw.count, k < i + 4, let d = UInt32(String(raw[k]), radix: 8) { v = v * 8 + d; k += 1 }
                out.append(Unicode.Scalar(v) ?? "\u{FFFD}")
                i = k
            default:
                out.append("\\"); out.append(n); i += 2
            }
        }
        return String(out)
    }
}
