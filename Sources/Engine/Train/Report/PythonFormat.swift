import Foundation

/// Python's own text for numbers and strings, so that files tune writes read exactly as the
/// ones ms-swift (Python) writes: `repr(float)`, `round(x, n)`, `json.dumps(..., ensure_ascii=False)`.
enum PythonFormat {
    /// `repr(x)` of a Python float: the shortest digits that read back as `x`, in fixed notation
    /// when the decimal exponent is in -4 ..< 16, else `d.ddde±XX`; "nan", "inf", "-inf".
    static func repr(_ x: Double) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x < 0 ? "-inf" : "inf" }
        let sign = x.sign == .minus ? "-" : ""
        if x == 0 { return sign + "0.0" }
        let (digits, point) = shortestDigits(abs(x))
        if point <= -4 || point > 16 {
            let exponent = point - 1
            var s = sign + String(digits.first!)
            if digits.count > 1 { s += "." + digits.dropFirst() }
            let e = String(abs(exponent))
            return s + "e" + (exponent < 0 ? "-" : "+") + (e.count < 2 ? "0" + e : e)
        }
        if point <= 0 {
            return sign + "0." + String(repeating: "0", count: -point) + digits
        }
        if point >= digits.count {
            return sign + digits + String(repeating: "0", count: point - digits.count) + ".0"
        }
        let i = digits.index(digits.startIndex, offsetBy: point)
        return sign + digits[..<i] + "." + digits[i...]
    }

    /// The shortest round-trip decimal digits of a finite positive `x` (no leading or trailing
    /// zeros) and the position of the decimal point: x = 0.d₁d₂… × 10^point.
    /// Swift's `description` prints the same shortest digits Python's repr chooses.
    private static func shortestDigits(_ x: Double) -> (String, Int) {
        let text = x.description
        let parts = text.split(separator: "e", maxSplits: 1)
        let mantissa = parts[0]
        let exponent = parts.count > 1 ? Int(parts[1])! : 0
        var digits = ""
        var point = 0
        var seenPoint = false
        for c in mantissa {
            if c == "." { seenPoint = true; continue }
            digits.append(c)
            if !seenPoint { point += 1 }
        }
        while digits.first == "0" { digits.removeFirst(); point -= 1 }
        while digits.last == "0" { digits.removeLast() }
        return (digits, point + exponent)
    }

    /// Python's `round(x, n)`: the double nearest to x correctly rounded (half to even on the
    /// exact binary value) at n decimals. glibc's printf rounds exactly that way.
    static func round(_ x: Double, _ decimals: Int) -> Double {
        guard x.isFinite else { return x }
        let rounded = Double(String(format: "%.\(decimals)f", x)) ?? x
        return rounded == 0 ? (x.sign == .minus ? -0.0 : 0.0) : rounded
    }

    /// Python's `round(x)` to an integer: half to even.
    static func roundToInt(_ x: Double) -> Int {
        guard x.isFinite, abs(x) < 9e18 else { return 0 }
        return Int(x.rounded(.toNearestOrEven))
    }

    /// `f"{x:.Nf}"`.
    static func fixed(_ x: Double, _ decimals: Int) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x < 0 ? "-inf" : "inf" }
        return String(format: "%.\(decimals)f", x)
    }

    /// `f"{x:.4g}"`: four significant digits, trailing zeros dropped.
    static func general4(_ x: Double) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x < 0 ? "-inf" : "inf" }
        return String(format: "%.4g", x)
    }

    /// A string as `json.dumps(s, ensure_ascii=False)` writes it.
    static func jsonString(_ s: String) -> String {
        var out = ""
        TemplateJSONWriter.writeString(s, into: &out)
        return out
    }

    /// A string as `repr(s)` writes it, for the printable text ms-swift's logs hold.
    static func reprString(_ s: String) -> String {
        let quote: Character = s.contains("'") && !s.contains("\"") ? "\"" : "'"
        var out = String(quote)
        for u in s.unicodeScalars {
            switch u {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if Character(u) == quote {
                    out += "\\" + String(quote)
                } else if u.value < 0x20 || u.value == 0x7F {
                    let hex = String(u.value, radix: 16)
                    out += "\\x" + (hex.count < 2 ? "0" + hex : hex)
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out.append(quote)
        return out
    }
}

/// A JSON value with its key order kept, written as Python's `json.dumps` writes it
/// (", " and ": " separators, floats as `repr`, NaN/Infinity as Python spells them).
enum PythonJSON {
    case float(Double)
    case int(Int)
    case string(String)
    case null
    case array([PythonJSON])
    case object([(String, PythonJSON)])

    var text: String {
        switch self {
        case .float(let x):
            if x.isNaN { return "NaN" }
            if x.isInfinite { return x < 0 ? "-Infinity" : "Infinity" }
            return PythonFormat.repr(x)
        case .int(let n): return String(n)
        case .string(let s): return PythonFormat.jsonString(s)
        case .null: return "null"
        case .array(let items): return "[" + items.map(\.text).joined(separator: ", ") + "]"
        case .object(let pairs):
            return "{" + pairs.map { PythonFormat.jsonString($0.0) + ": " + $0.1.text }.joined(separator: ", ") + "}"
        }
    }

    /// `repr()` of the same value as a Python dict/list/float/str, as `print(logs)` shows it.
    var pythonRepr: String {
        switch self {
        case .float(let x): return PythonFormat.repr(x)
        case .int(let n): return String(n)
        case .string(let s): return PythonFormat.reprString(s)
        case .null: return "None"
        case .array(let items): return "[" + items.map(\.pythonRepr).joined(separator: ", ") + "]"
        case .object(let pairs):
            return "{" + pairs.map { PythonFormat.reprString($0.0) + ": " + $0.1.pythonRepr }.joined(separator: ", ") + "}"
        }
    }
}
