/// Reads JSON, and also the Python-literal dicts that ms-swift users write on command lines
/// (`{'max_tokens': 512}`, `{0: "20GB"}`, `True`/`False`/`None`, trailing commas).
struct JSONReader {
    struct Failure: Error, Equatable {
        let offset: Int
        let problem: String
    }

    private let chars: [Character]
    private var pos = 0
    private var depth = 0
    private static let maxDepth = 64

    static func read(_ text: String) throws -> JSONValue {
        var reader = JSONReader(chars: Array(text))
        reader.skipSpace()
        let value = try reader.value()
        reader.skipSpace()
        if reader.pos < reader.chars.count { throw reader.fail("unexpected text after the value") }
        return value
    }

    private init(chars: [Character]) { self.chars = chars }

    private func fail(_ problem: String) -> Failure { Failure(offset: pos, problem: problem) }

    private var peek: Character? { pos < chars.count ? chars[pos] : nil }

    private mutating func skipSpace() {
        while let c = peek, c.isWhitespace { pos += 1 }
    }

    private mutating func expect(_ c: Character) throws {
        skipSpace()
        guard peek == c else { throw fail("expected '\(c)'") }
        pos += 1
    }

    private mutating func value() throws -> JSONValue {
        skipSpace()
        guard let c = peek else { throw fail("unexpected end of text") }
        switch c {
        case "{": return try nested { try $0.object() }
        case "[": return try nested { try $0.array() }
        case "\"", "'": return .string(try string())
        default: return try bareWord()
        }
    }

    private mutating func nested(_ body: (inout JSONReader) throws -> JSONValue) throws -> JSONValue {
        depth += 1
        defer { depth -= 1 }
        if depth > JSONReader.maxDepth { throw fail("nested too deeply") }
        return try body(&self)
    }

    private mutating func object() throws -> JSONValue {
        pos += 1
        var members: [String: JSONValue] = [:]
        while true {
            skipSpace()
            if peek == "}" { pos += 1; return .object(members) }
            let key: String
            if peek == "\"" || peek == "'" {
                key = try string()
            } else {
                key = word()
                if key.isEmpty { throw fail("expected a key") }
            }
            try expect(":")
            members[key] = try value()
            skipSpace()
            if peek == "," { pos += 1; continue }
            if peek == "}" { pos += 1; return .object(members) }
            throw fail("expected ',' or '}'")
        }
    }

    private mutating func array() throws -> JSONValue {
        pos += 1
        var items: [JSONValue] = []
        while true {
            skipSpace()
            if peek == "]" { pos += 1; return .array(items) }
            items.append(try value())
            skipSpace()
            if peek == "," { pos += 1; continue }
            if peek == "]" { pos += 1; return .array(items) }
            throw fail("expected ',' or ']'")
        }
    }

    private mutating func string() throws -> String {
        let quote = chars[pos]
        pos += 1
        var out = ""
        while let c = peek {
            pos += 1
            if c == quote { return out }
            if c != "\\" { out.append(c); continue }
            guard let e = peek else { break }
            pos += 1
            switch e {
            case "n": out.append("\n")
            case "t": out.append("\t")
            case "r": out.append("\r")
            case "b": out.append("\u{8}")
            case "f": out.append("\u{c}")
            case "u":
                guard pos + 4 <= chars.count, let code = UInt32(String(chars[pos..<pos + 4]), radix: 16)
                else { throw fail("bad \\u escape") }
                pos += 4
                out.unicodeScalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
            default: out.append(e)
            }
        }
        throw fail("unterminated string")
    }

    private mutating func word() -> String {
        var out = ""
        while let c = peek, c.isLetter || c.isNumber || "+-._".contains(c) {
            out.append(c)
            pos += 1
        }
        return out
    }

    private mutating func bareWord() throws -> JSONValue {
        let start = pos
        let w = word()
        switch w {
        case "true", "True": return .bool(true)
        case "false", "False": return .bool(false)
        case "null", "None": return .null
        default: break
        }
        if let i = Int(w) { return .int(i) }
        if let d = Double(w), d.isFinite, w.first.map({ $0.isNumber || "+-.".contains($0) }) == true {
            return .double(d)
        }
        pos = start
        throw fail(w.isEmpty ? "unexpected character '\(peek.map(String.init) ?? "")'" : "unexpected word '\(w)'")
    }
}
