import Foundation

/// A value passed into a chat template: the JSON data model plus jinja2's `undefined`.
/// Dictionaries keep their key order (it shows in `tojson` and `items()` output).
public indirect enum TemplateValue: Equatable, CustomStringConvertible {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case none
    case array([TemplateValue])
    case dict(TemplateDict)
    case undefined

    /// Builds a value from Swift JSON-like data: String, Int, Double, Bool, NSNull/nil,
    /// arrays, `[String: Any]` (keys sorted, since Swift dictionaries have no order),
    /// `KeyValuePairs<String, Any>` and `[(String, Any)]` (order kept), `TemplateValue`,
    /// and what `JSONSerialization` returns. Anything else becomes `.undefined`.
    public init(json: Any?) {
        guard let json = json else { self = .none; return }
        if type(of: json) == Bool.self, let v = json as? Bool { self = .bool(v); return }
        if type(of: json) == Int.self, let v = json as? Int { self = .int(v); return }
        if type(of: json) == Double.self, let v = json as? Double { self = .double(v); return }
        switch json {
        case let v as TemplateValue: self = v
        case let v as String: self = .string(v)
        case is NSNull: self = .none
        case let v as NSNumber:
            let code = String(cString: v.objCType)
            if code == "c" || code == "B" { self = .bool(v.boolValue) }
            else if code == "d" || code == "f" { self = .double(v.doubleValue) }
            else { self = .int(v.intValue) }
        case let v as Float: self = .double(Double(v))
        case let v as [(String, Any)]:
            var d = TemplateDict()
            for (k, x) in v { d[k] = TemplateValue(json: x) }
            self = .dict(d)
        case let v as KeyValuePairs<String, Any>:
            var d = TemplateDict()
            for (k, x) in v { d[k] = TemplateValue(json: x) }
            self = .dict(d)
        case let v as [String: Any]:
            var d = TemplateDict()
            for k in v.keys.sorted() { d[k] = TemplateValue(json: v[k]) }
            self = .dict(d)
        case let v as [Any]: self = .array(v.map { TemplateValue(json: $0) })
        default: self = .undefined
        }
    }

    /// Parses JSON text, keeping object key order and telling integers from floats
    /// the way Python's `json` module does.
    public init(jsonText: String) throws {
        var parser = OrderedJSONParser(Array(jsonText.utf8))
        self = try parser.parseDocument()
    }

    public var description: String {
        switch self {
        case .string(let s): return s.debugDescription
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .bool(let b): return String(b)
        case .none: return "none"
        case .undefined: return "undefined"
        case .array(let a): return "[" + a.map(\.description).joined(separator: ", ") + "]"
        case .dict(let d): return "{" + d.keys.map { "\($0.debugDescription): \(d[$0]!.description)" }.joined(separator: ", ") + "}"
        }
    }
}

/// A string-keyed dictionary that remembers insertion order.
public struct TemplateDict: Equatable {
    public private(set) var keys: [String] = []
    private var storage: [String: TemplateValue] = [:]

    public init() {}
    public init(_ pairs: [(String, TemplateValue)]) {
        for (k, v) in pairs { self[k] = v }
    }

    public subscript(key: String) -> TemplateValue? {
        get { storage[key] }
        set {
            if let v = newValue {
                if storage.updateValue(v, forKey: key) == nil { keys.append(key) }
            } else if storage.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    public var count: Int { keys.count }
    public var pairs: [(String, TemplateValue)] { keys.map { ($0, storage[$0]!) } }

    public static func == (a: TemplateDict, b: TemplateDict) -> Bool {
        a.keys == b.keys && a.storage == b.storage
    }
}

/// A small JSON reader for template contexts: ordered objects, depth-limited, checked.
struct OrderedJSONParser {
    private let b: [UInt8]
    private var i = 0
    private var depth = 0
    static let maxDepth = 256

    init(_ bytes: [UInt8]) { b = bytes }

    struct Failure: Error, CustomStringConvertible {
        let offset: Int
        let problem: String
        var description: String { "JSON at byte \(offset): \(problem)" }
    }

    mutating func parseDocument() throws -> TemplateValue {
        let v = try parseValue()
        skipSpace()
        guard i == b.count else { throw Failure(offset: i, problem: "unexpected trailing data") }
        return v
    }

    private mutating func skipSpace() {
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
    }

    private mutating func expect(_ word: String) throws {
        let w = Array(word.utf8)
        guard i + w.count <= b.count, Array(b[i..<(i + w.count)]) == w else {
            throw Failure(offset: i, problem: "expected \(word)")
        }
        i += w.count
    }

    private mutating func parseValue() throws -> TemplateValue {
        skipSpace()
        guard i < b.count else { throw Failure(offset: i, problem: "unexpected end of input") }
        switch b[i] {
        case UInt8(ascii: "{"):
            depth += 1
            defer { depth -= 1 }
            guard depth <= Self.maxDepth else { throw Failure(offset: i, problem: "nesting deeper than \(Self.maxDepth)") }
            i += 1
            var d = TemplateDict()
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; return .dict(d) }
            while true {
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw Failure(offset: i, problem: "expected object key") }
                let k = try parseString()
                skipSpace()
                try expect(":")
                d[k] = try parseValue()
                skipSpace()
                guard i < b.count else { throw Failure(offset: i, problem: "unterminated object") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "}") { i += 1; return .dict(d) }
                throw Failure(offset: i, problem: "expected ',' or '}'")
            }
        case UInt8(ascii: "["):
            depth += 1
            defer { depth -= 1 }
            guard depth <= Self.maxDepth else { throw Failure(offset: i, problem: "nesting deeper than \(Self.maxDepth)") }
            i += 1
            var a: [TemplateValue] = []
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
            while true {
                a.append(try parseValue())
                skipSpace()
                guard i < b.count else { throw Failure(offset: i, problem: "unterminated array") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
                throw Failure(offset: i, problem: "expected ',' or ']'")
            }
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expect("true"); return .bool(true)
        case UInt8(ascii: "f"): try expect("false"); return .bool(false)
        case UInt8(ascii: "n"): try expect("null"); return .none
        default: return try parseNumber()
        }
    }

    private mutating func parseNumber() throws -> TemplateValue {
        let start = i
        var isFloat = false
        while i < b.count {
            let c = b[i]
            if (c >= 0x30 && c <= 0x39) || c == UInt8(ascii: "-") || c == UInt8(ascii: "+") { i += 1 }
            else if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { isFloat = true; i += 1 }
            else { break }
        }
        guard i > start, let text = String(bytes: b[start..<i], encoding: .utf8) else {
            throw Failure(offset: start, problem: "unexpected character")
        }
        if !isFloat, let v = Int(text) { return .int(v) }
        guard let d = Double(text) else { throw Failure(offset: start, problem: "bad number '\(text)'") }
        return .double(d)
    }

    private mutating func parseString() throws -> String {
        i += 1
        var out = [UInt8]()
        func hex4() throws -> UInt32 {
            guard i + 4 <= b.count, let s = String(bytes: b[i..<(i + 4)], encoding: .ascii), let v = UInt32(s, radix: 16) else {
                throw Failure(offset: i, problem: "bad \\u escape")
            }
            i += 4
            return v
        }
        while true {
            guard i < b.count else { throw Failure(offset: i, problem: "unterminated string") }
            let c = b[i]
            if c == UInt8(ascii: "\"") { i += 1; break }
            if c != UInt8(ascii: "\\") { out.append(c); i += 1; continue }
            i += 1
            guard i < b.count else { throw Failure(offset: i, problem: "unterminated escape") }
            let e = b[i]; i += 1
            switch e {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "/"), UInt8(ascii: "\\"), UInt8(ascii: "\""): out.append(e)
            case UInt8(ascii: "u"):
                var v = try hex4()
                if (0xD800..<0xDC00).contains(v), i + 6 <= b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") {
                    i += 2
                    let lo = try hex4()
                    if (0xDC00..<0xE000).contains(lo) { v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00) } else { i -= 6 }
                }
                let scalar = Unicode.Scalar(v) ?? "\u{FFFD}"
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
            default: throw Failure(offset: i - 1, problem: "bad escape")
            }
        }
        guard let s = String(bytes: out, encoding: .utf8) else { throw Failure(offset: i, problem: "invalid UTF-8 in string") }
        return s
    }
}
