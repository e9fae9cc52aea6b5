import Foundation

/// Python `str` operations, on Unicode scalars (Python's code points) so results match
/// byte for byte.
enum PyString {
    typealias Scalars = [Unicode.Scalar]

    static func make(_ u: ArraySlice<Unicode.Scalar>) -> String {
        var v = String.UnicodeScalarView()
        v.append(contentsOf: u)
        return String(v)
    }

    static func strip(_ s: String, chars: String?, left: Bool, right: Bool) -> String {
        let u = Array(s.unicodeScalars)
        let set = chars.map { Set($0.unicodeScalars) }
        func drop(_ c: Unicode.Scalar) -> Bool { set.map { $0.contains(c) } ?? TemplateLexer.isSpace(c) }
        var lo = 0, hi = u.count
        if left { while lo < hi, drop(u[lo]) { lo += 1 } }
        if right { while hi > lo, drop(u[hi - 1]) { hi -= 1 } }
        return make(u[lo..<hi])
    }

    static func capitalize(_ s: String) -> String {
        guard let first = s.unicodeScalars.first else { return s }
        return String(first).uppercased() + String(s.unicodeScalars.dropFirst()).lowercased()
    }

    /// Python's `str.title()`: a letter after a cased letter is lowered, others raised.
    static func title(_ s: String) -> String {
        var out = ""
        var prevCased = false
        for c in s.unicodeScalars {
            let cased = c.properties.isCased
            if cased {
                out += prevCased ? String(c).lowercased() : String(c).uppercased()
            } else {
                out.unicodeScalars.append(c)
            }
            prevCased = cased
        }
        return out
    }

    /// jinja2's `title` filter: words start after whitespace or one of `-({[<`.
    static func jinjaTitle(_ s: String) -> String {
        var out = ""
        var atStart = true
        for c in s.unicodeScalars {
            let boundary = TemplateLexer.isSpace(c) || "-({[<".unicodeScalars.contains(c)
            if boundary { out.unicodeScalars.append(c); atStart = true; continue }
            out += atStart ? String(c).uppercased() : String(c).lowercased()
            atStart = false
        }
        return out
    }

    static func find(_ s: String, _ sub: String) -> Int {
        let u = Array(s.unicodeScalars), q = Array(sub.unicodeScalars)
        if q.isEmpty { return 0 }
        guard q.count <= u.count else { return -1 }
        for i in 0...(u.count - q.count) where u[i] == q[0] && u[i..<(i + q.count)].elementsEqual(q) { return i }
        return -1
    }

    static func rfind(_ s: String, _ sub: String) -> Int {
        let u = Array(s.unicodeScalars), q = Array(sub.unicodeScalars)
        if q.isEmpty { return u.count }
        guard q.count <= u.count else { return -1 }
        for i in stride(from: u.count - q.count, through: 0, by: -1) where u[i..<(i + q.count)].elementsEqual(q) { return i }
        return -1
    }

    /// Occurrences of `sub` that do not overlap, left to right.
    private static func occurrences(_ u: Scalars, _ q: Scalars, limit: Int) -> [Int] {
        var out: [Int] = []
        guard !q.isEmpty, q.count <= u.count else { return out }
        var i = 0
        while i <= u.count - q.count, limit < 0 || out.count < limit {
            if u[i] == q[0] && u[i..<(i + q.count)].elementsEqual(q) { out.append(i); i += q.count } else { i += 1 }
        }
        return out
    }

    static func count(_ s: String, _ sub: String) -> Int {
        let u = Array(s.unicodeScalars)
        if sub.isEmpty { return u.count + 1 }
        return occurrences(u, Array(sub.unicodeScalars), limit: -1).count
    }

    static func replace(_ s: String, _ old: String, _ new: String, count: Int) -> String {
        let u = Array(s.unicodeScalars), q = Array(old.unicodeScalars), n = Array(new.unicodeScalars)
        var out = Scalars()
        if q.isEmpty {
            // Python inserts `new` between every character (and at both ends).
            var inserted = 0
            for c in u {
                if count < 0 || inserted < count { out += n; inserted += 1 }
                out.append(c)
            }
            if count < 0 || inserted < count { out += n }
            return make(out[...])
        }
        var last = 0
        for i in occurrences(u, q, limit: count) {
            out += u[last..<i]
            out += n
            last = i + q.count
        }
        out += u[last...]
        return make(out[...])
    }

    static func split(_ s: String, sep: String?, maxsplit: Int) -> [String] {
        let u = Array(s.unicodeScalars)
        guard let sep = sep else {
            var out: [String] = []
            var i = 0
            while i < u.count {
                while i < u.count, TemplateLexer.isSpace(u[i]) { i += 1 }
                if i >= u.count { break }
                if maxsplit >= 0 && out.count == maxsplit {
                    var end = u.count
                    while end > i, TemplateLexer.isSpace(u[end - 1]) { end -= 1 }
                    out.append(make(u[i..<end]))
                    return out
                }
                let start = i
                while i < u.count, !TemplateLexer.isSpace(u[i]) { i += 1 }
                out.append(make(u[start..<i]))
            }
            return out
        }
        let q = Array(sep.unicodeScalars)
        var out: [String] = []
        var last = 0
        for i in occurrences(u, q, limit: maxsplit) {
            out.append(make(u[last..<i]))
            last = i + q.count
        }
        out.append(make(u[last...]))
        return out
    }

    static func rsplit(_ s: String, sep: String?, maxsplit: Int) -> [String] {
        if maxsplit < 0 { return split(s, sep: sep, maxsplit: -1) }
        // Split the reversed string with the reversed separator, then undo the reversal.
        let rev = make(ArraySlice(s.unicodeScalars.reversed()))
        let rsep = sep.map { make(ArraySlice($0.unicodeScalars.reversed())) }
        return split(rev, sep: rsep, maxsplit: maxsplit).reversed().map { make(ArraySlice($0.unicodeScalars.reversed())) }
    }

    /// Python's `str.splitlines()` (no line ends kept).
    static func splitlines(_ s: String) -> [String] {
        let u = Array(s.unicodeScalars)
        var out: [String] = []
        var start = 0, i = 0
        while i < u.count {
            if TemplateLexer.isLineBreak(u[i]) {
                out.append(make(u[start..<i]))
                if u[i] == "\r", i + 1 < u.count, u[i + 1] == "\n" { i += 1 }
                start = i + 1
            }
            i += 1
        }
        if start < u.count { out.append(make(u[start...])) }
        return out
    }

    static func htmlEscape(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&#34;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    static func wordCount(_ s: String) -> Int {
        var n = 0
        var inWord = false
        for c in s.unicodeScalars {
            let w = c.properties.isAlphabetic || c.properties.numericType != nil || c == "_"
            if w && !inWord { n += 1 }
            inWord = w
        }
        return n
    }

    static func center(_ s: String, _ width: Int) -> String {
        let n = s.unicodeScalars.count
        guard width > n else { return s }
        let total = width - n
        let left = total / 2 + (total & width & 1)
        return String(repeating: " ", count: left) + s + String(repeating: " ", count: total - left)
    }

    /// `str.format` with `{}`, `{0}`, `{name}` and `{{`/`}}`; format specs are not supported.
    static func format(_ s: String, _ a: Arguments, _ pos: SourcePos) throws -> String {
        var out = ""
        let u = Array(s.unicodeScalars)
        var i = 0
        var auto = 0
        while i < u.count {
            let c = u[i]
            if c == "{" {
                if i + 1 < u.count, u[i + 1] == "{" { out += "{"; i += 2; continue }
                guard let close = u[(i + 1)...].firstIndex(of: "}") else {
                    throw TemplateError(.type, "single '{' encountered in format string", at: pos)
                }
                let field = make(u[(i + 1)..<close])
                let v: Value?
                if field.isEmpty { v = auto < a.positional.count ? a.positional[auto] : nil; auto += 1 }
                else if let k = Int(field) { v = k < a.positional.count ? a.positional[k] : nil }
                else { v = a.keyword.first { $0.0 == field }?.1 }
                guard let value = v else { throw TemplateError(.type, "format(): no argument for '{\(field)}'", at: pos) }
                out += value.str
                i = close + 1
            } else if c == "}" {
                guard i + 1 < u.count, u[i + 1] == "}" else {
                    throw TemplateError(.type, "single '}' encountered in format string", at: pos)
                }
                out += "}"; i += 2
            } else {
                out.unicodeScalars.append(c); i += 1
            }
        }
        return out
    }
}
