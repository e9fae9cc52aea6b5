/// A JSON value written as Python's `json.dumps(value, indent=2)` writes it (the form
/// transformers' `save_pretrained` gives config files): two-space indent, `", "`-free item
/// separators with newlines, floats in Python's `repr` form (`1e-05`, `10000.0`), non-ASCII
/// escaped. Object members keep their order unless `sortKeys`.
indirect enum ExportJSON {
    case object([(String, ExportJSON)])
    case array([ExportJSON])
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case null

    func rendered(sortKeys: Bool = true, ensureASCII: Bool = true) -> String {
        var out = ""
        write(level: 0, sortKeys: sortKeys, ensureASCII: ensureASCII, into: &out)
        return out
    }

    private func write(level: Int, sortKeys: Bool, ensureASCII: Bool, into out: inout String) {
        let inner = String(repeating: "  ", count: level + 1)
        let outer = String(repeating: "  ", count: level)
        switch self {
        case .object(let members):
            if members.isEmpty { out += "{}"; return }
            let ordered = sortKeys ? members.sorted { $0.0 < $1.0 } : members
            out += "{\n"
            for (i, (k, v)) in ordered.enumerated() {
                out += inner
                TemplateJSONWriter.writeString(k, ensureASCII: ensureASCII, into: &out)
                out += ": "
                v.write(level: level + 1, sortKeys: sortKeys, ensureASCII: ensureASCII, into: &out)
                out += i + 1 < ordered.count ? ",\n" : "\n"
            }
            out += outer + "}"
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            out += "[\n"
            for (i, v) in items.enumerated() {
                out += inner
                v.write(level: level + 1, sortKeys: sortKeys, ensureASCII: ensureASCII, into: &out)
                out += i + 1 < items.count ? ",\n" : "\n"
            }
            out += outer + "]"
        case .string(let s): TemplateJSONWriter.writeString(s, ensureASCII: ensureASCII, into: &out)
        case .int(let i): out += String(i)
        case .double(let d): out += PythonFormat.repr(d)
        case .bool(let b): out += b ? "true" : "false"
        case .null: out += "null"
        }
    }
}
