/// `tojson` as Hugging Face transformers defines it for chat templates:
/// `json.dumps(x, ensure_ascii=False, indent=indent, separators=separators, sort_keys=sort_keys)`.
struct TemplateJSONWriter {
    var indent: String?            // nil: one line
    var sortKeys = false
    var ensureASCII = false        // escape non-ASCII as \uXXXX (UTF-16 units), like Python
    var itemSeparator: String
    var keySeparator: String

    init(indent: String?, sortKeys: Bool, separators: (String, String)?) {
        self.indent = indent
        self.sortKeys = sortKeys
        let defaults = indent == nil ? (", ", ": ") : (",", ": ")
        (itemSeparator, keySeparator) = separators ?? defaults
    }

    struct NotSerializable: Error { let typeName: String }

    func write(_ v: Value) throws -> String {
        var out = ""
        try write(v, level: 0, into: &out)
        return out
    }

    private func newline(_ level: Int, into out: inout String) {
        guard let indent = indent else { return }
        out += "\n"
        for _ in 0..<level { out += indent }
    }

    private func write(_ v: Value, level: Int, into out: inout String) throws {
        switch v {
        case .none: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d):
            if d.isNaN { out += "NaN" } else if d.isInfinite { out += d < 0 ? "-Infinity" : "Infinity" } else { out += Value.formatDouble(d) }
        case .string(let s): TemplateJSONWriter.writeString(s, ensureASCII: ensureASCII, into: &out)
        case .list(let a), .tuple(let a):
            if a.isEmpty { out += "[]"; return }
            out += "["
            for (k, x) in a.enumerated() {
                if k > 0 { out += itemSeparator }
                newline(level + 1, into: &out)
                try write(x, level: level + 1, into: &out)
            }
            newline(level, into: &out)
            out += "]"
        case .dict(let d):
            try writeObject(d, level: level, into: &out)
        case .namespace: throw NotSerializable(typeName: "Namespace")
        case .undefined: throw NotSerializable(typeName: "Undefined")
        case .callable: throw NotSerializable(typeName: "function")
        case .loop: throw NotSerializable(typeName: "LoopContext")
        }
    }

    private func writeObject(_ d: ValueDict, level: Int, into out: inout String) throws {
        if d.count == 0 { out += "{}"; return }
        var pairs = d.pairs
        if sortKeys {
            pairs.sort { Array($0.0.unicodeScalars.map(\.value)).lexicographicallyPrecedes(Array($1.0.unicodeScalars.map(\.value))) }
        }
        out += "{"
        for (k, (key, x)) in pairs.enumerated() {
            if k > 0 { out += itemSeparator }
            newline(level + 1, into: &out)
            TemplateJSONWriter.writeString(key, ensureASCII: ensureASCII, into: &out)
            out += keySeparator
            try write(x, level: level + 1, into: &out)
        }
        newline(level, into: &out)
        out += "}"
    }

    static func writeString(_ s: String, ensureASCII: Bool = false, into out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if u.value < 0x20 || (ensureASCII && u.value > 0x7E) {
                    for unit in String(u).utf16 {
                        let h = String(unit, radix: 16)
                        out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                    }
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out += "\""
    }
}
