import Foundation

/// A JSON value as written in args.json or given for a dict argument.
public indirect enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Compact JSON text with sorted keys (stable output for args.json and command lines).
    public var text: String { render(pretty: false, indent: "") }

    /// Indented JSON text.
    public var prettyText: String { render(pretty: true, indent: "") }

    func render(pretty: Bool, indent: String) -> String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return JSONValue.number(d)
        case .string(let s): return JSONValue.quote(s)
        case .array(let items):
            if items.isEmpty { return "[]" }
            if !pretty { return "[" + items.map { $0.text }.joined(separator: ", ") + "]" }
            let inner = indent + "  "
            return "[\n" + items.map { inner + $0.render(pretty: true, indent: inner) }
                .joined(separator: ",\n") + "\n" + indent + "]"
        case .object(let members):
            if members.isEmpty { return "{}" }
            let keys = members.keys.sorted()
            if !pretty {
                return "{" + keys.map { JSONValue.quote($0) + ": " + members[$0]!.text }
                    .joined(separator: ", ") + "}"
            }
            let inner = indent + "  "
            return "{\n" + keys.map {
                inner + JSONValue.quote($0) + ": " + members[$0]!.render(pretty: true, indent: inner)
            }.joined(separator: ",\n") + "\n" + indent + "}"
        }
    }

    /// Python-like shortest form; JSON has no NaN or infinity, so those become null.
    static func number(_ d: Double) -> String {
        guard d.isFinite else { return "null" }
        return "\(d)"
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}

/// A parsed argument value.
public indirect enum ArgumentValue: Equatable, Sendable {
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([ArgumentValue])
    case json(JSONValue)
    /// Python's None: "not set, let the program decide".
    case none

    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    public var intValue: Int? { if case .int(let i) = self { return i } else { return nil } }
    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var listValue: [ArgumentValue]? { if case .list(let l) = self { return l } else { return nil } }
    public var isNone: Bool { self == .none }
    /// Ints widen to doubles.
    public var doubleValue: Double? {
        switch self {
        case .double(let d): return d
        case .int(let i): return Double(i)
        default: return nil
        }
    }

    /// The value as unquoted command-line words (what a shell hands over after `--name`);
    /// `parse` of these gives the value back.
    public var words: [String] {
        switch self {
        case .list(let items): return items.flatMap { $0.words }
        case .string(let s): return [s]
        case .json(let j): return [j.text]
        default: return [render]
        }
    }

    /// The command-line text form, quoted for a shell or a `.tune` line where needed:
    /// `true`, `8`, `1e-05`, `a.jsonl b.jsonl#100`, `'{"k": 1}'`, `None`.
    public var render: String {
        switch self {
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return "\(d)"
        case .string(let s): return ArgumentValue.shellQuoted(s)
        case .list(let items): return items.map { $0.render }.joined(separator: " ")
        case .json(let j): return ArgumentValue.shellQuoted(j.text)
        case .none: return "None"
        }
    }

    /// The form used in args.json (ms-swift writes None as null, lists as arrays).
    public var json: JSONValue {
        switch self {
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .list(let items): return .array(items.map { $0.json })
        case .json(let j): return j
        case .none: return .null
        }
    }

    /// Reads a value back from args.json.
    public init(json: JSONValue) {
        switch json {
        case .null: self = .none
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .string(let s): self = .string(s)
        case .array(let items): self = .list(items.map { ArgumentValue(json: $0) })
        case .object: self = .json(json)
        }
    }

    static func shellQuoted(_ s: String) -> String {
        if s.isEmpty { return "''" }
        // `#` is fine inside a word such as `data.jsonl#100`; only a leading one starts a comment.
        let special = "'\"\\$`;&|<>(){}[]*?!~".unicodeScalars
        let plain = !s.hasPrefix("#") && s.unicodeScalars.allSatisfy { u in
            !(u.properties.isWhitespace || special.contains(u))
        }
        if plain { return s }
        return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

extension ArgumentValue: CustomStringConvertible {
    public var description: String { render }
}

extension ArgumentValue: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral
{
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: ArgumentValue...) { self = .list(elements) }
}
