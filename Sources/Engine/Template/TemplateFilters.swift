import Foundation

/// Evaluated filter/test/method arguments, read by position or keyword like Python.
struct Arguments {
    let positional: [Value]
    let keyword: [(String, Value)]

    func get(_ index: Int, _ name: String) -> Value? {
        if index < positional.count { return positional[index] }
        return keyword.first { $0.0 == name }?.1
    }
}

/// jinja2's built-in filters (the ones chat templates use), plus HF's `tojson`.
extension TemplateInterpreter {
    func filterDefault(_ v: Value, _ args: CallArgs, _ pos: SourcePos) throws -> Value {
        let (p, k) = try evalArgs(args)
        let a = Arguments(positional: p, keyword: k)
        let fallback = a.get(0, "default_value") ?? .string("")
        let boolean = a.get(1, "boolean")?.truthy ?? false
        if v.isUndefined || (boolean && !v.truthy) { return fallback }
        return v
    }

    func applyFilter(_ name: String, _ v: Value, _ args: CallArgs, _ pos: SourcePos) throws -> Value {
        let (p, k) = try evalArgs(args)
        return try filter(name, v, Arguments(positional: p, keyword: k), pos)
    }

    private func requireString(_ v: Value, _ what: String, _ pos: SourcePos) throws -> String {
        guard case .string(let s) = v else { throw TemplateError(.type, "\(what) must be a string, not \(v.typeName)", at: pos) }
        return s
    }

    func filter(_ name: String, _ v: Value, _ a: Arguments, _ pos: SourcePos) throws -> Value {
        switch name {
        case "default", "d":
            let fallback = a.get(0, "default_value") ?? .string("")
            let boolean = a.get(1, "boolean")?.truthy ?? false
            return (v.isUndefined || (boolean && !v.truthy)) ? fallback : v
        case "trim":
            let chars = a.get(0, "chars").flatMap { $0.isNone ? nil : $0 }
            return .string(PyString.strip(v.str, chars: chars.map(\.str), left: true, right: true))
        case "tojson":
            return try toJSON(v, a, pos)
        case "length", "count":
            return .int(try length(v, pos))
        case "upper": return .string(v.str.uppercased())
        case "lower": return .string(v.str.lowercased())
        case "capitalize": return .string(PyString.capitalize(v.str))
        case "title": return .string(PyString.jinjaTitle(v.str))
        case "replace":
            guard let old = a.get(0, "old"), let new = a.get(1, "new") else {
                throw TemplateError(.type, "replace needs the old and new strings", at: pos)
            }
            let count: Int
            if case .int(let c)? = a.get(2, "count") { count = c } else { count = -1 }
            try chargeSearch(v.str, old.str, pos)
            return try checkSize(PyString.replace(v.str, old.str, new.str, count: count), pos)
        case "join":
            let sep = a.get(0, "d")?.str ?? ""
            var items = try iterate(v, pos)
            if let attr = a.get(1, "attribute") { items = try items.map { try getAttributePath($0, attr, pos) } }
            return try checkSize(items.map(\.str).joined(separator: sep), pos)
        case "first":
            let items = try iterate(v, pos)
            return items.first ?? .undefined("no first item of an empty sequence")
        case "last":
            let items = try iterate(v, pos)
            return items.last ?? .undefined("no last item of an empty sequence")
        case "list":
            return .list(try iterate(v, pos))
        case "string":
            return .string(v.str)
        case "int":
            let fallback = a.get(0, "default") ?? .int(0)
            switch v {
            case .int: return v
            case .bool(let b): return .int(b ? 1 : 0)
            case .double(let d): return d.isFinite && abs(d) < 9.2e18 ? .int(Int(d.rounded(.towardZero))) : fallback
            case .string(let s):
                let t = PyString.strip(s, chars: nil, left: true, right: true)
                if let i = Int(t) { return .int(i) }
                if let d = Double(t), d.isFinite, abs(d) < 9.2e18 { return .int(Int(d.rounded(.towardZero))) }
                return fallback
            default: return fallback
            }
        case "float":
            let fallback = a.get(0, "default") ?? .double(0)
            switch v {
            case .int(let i): return .double(Double(i))
            case .bool(let b): return .double(b ? 1 : 0)
            case .double: return v
            case .string(let s): return Double(PyString.strip(s, chars: nil, left: true, right: true)).map { .double($0) } ?? fallback
            default: return fallback
            }
        case "abs":
            switch v {
            case .int(let i):
                guard i != Int.min else { throw TemplateError(.limit, "integer overflow", at: pos) }
                return .int(abs(i))
            case .bool(let b): return .int(b ? 1 : 0)
            case .double(let d): return .double(abs(d))
            default: throw TemplateError(.type, "bad operand type for abs(): '\(v.typeName)'", at: pos)
            }
        case "round":
            let precision: Int
            if case .int(let p)? = a.get(0, "precision") { precision = p } else { precision = 0 }
            let method = a.get(1, "method")?.str ?? "common"
            let d: Double
            switch v {
            case .int(let i): if method == "common" { return v }; d = Double(i)
            case .bool(let b): if method == "common" { return .int(b ? 1 : 0) }; d = b ? 1 : 0
            case .double(let x): d = x
            default: throw TemplateError(.type, "round needs a number, not \(v.typeName)", at: pos)
            }
            let scale = pow(10.0, Double(precision))
            let rule: FloatingPointRoundingRule
            switch method {
            case "common": rule = .toNearestOrEven
            case "ceil": rule = .up
            case "floor": rule = .down
            default: throw TemplateError(.type, "round method must be 'common', 'ceil' or 'floor'", at: pos)
            }
            return .double((d * scale).rounded(rule) / scale)
        case "items":
            switch v {
            case .dict(let d): return .list(d.pairs.map { .tuple([.string($0.0), $0.1]) })
            case .undefined: return .list([])
            default: throw TemplateError(.type, "items filter needs a mapping, not \(v.typeName)", at: pos)
            }
        case "dictsort":
            guard case .dict(let d) = v else { throw TemplateError(.type, "dictsort needs a mapping, not \(v.typeName)", at: pos) }
            let byValue = a.get(1, "by")?.str == "value"
            let caseSensitive = a.get(0, "case_sensitive")?.truthy ?? false
            let reverse = a.get(2, "reverse")?.truthy ?? false
            var pairs = d.pairs.map { Value.tuple([.string($0.0), $0.1]) }
            try sortValues(&pairs, key: { item in
                guard case .tuple(let kv) = item else { return item }
                let key = byValue ? kv[1] : kv[0]
                return caseSensitive ? key : self.foldCase(key)
            }, reverse: reverse, pos)
            return .list(pairs)
        case "selectattr", "rejectattr":
            guard let attr = a.get(0, "attr") else { throw TemplateError(.type, "\(name) needs an attribute name", at: pos) }
            let items = try iterate(v, pos)
            let rest = Array(a.positional.dropFirst(2))
            let testName = a.positional.count > 1 ? a.positional[1].str : nil
            let keep = name == "selectattr"
            return .list(try items.filter { item in
                let x = try getAttributePath(item, attr, pos)
                let r = try testName.map { try test($0, x, Arguments(positional: rest, keyword: []), pos) } ?? x.truthy
                return r == keep
            })
        case "select", "reject":
            let items = try iterate(v, pos)
            let testName = a.positional.first?.str
            let rest = Array(a.positional.dropFirst(1))
            let keep = name == "select"
            return .list(try items.filter { item in
                let r = try testName.map { try test($0, item, Arguments(positional: rest, keyword: []), pos) } ?? item.truthy
                return r == keep
            })
        case "map":
            let items = try iterate(v, pos)
            if let attr = a.keyword.first(where: { $0.0 == "attribute" })?.1 {
                let fallback = a.keyword.first(where: { $0.0 == "default" })?.1
                return .list(try items.map { item in
                    let x = try getAttributePath(item, attr, pos)
                    if x.isUndefined, let f = fallback { return f }
                    return x
                })
            }
            guard let filterName = a.positional.first?.str else {
                throw TemplateError(.type, "map needs a filter name or attribute=", at: pos)
            }
            let rest = Arguments(positional: Array(a.positional.dropFirst()), keyword: a.keyword)
            return .list(try items.map { try filter(filterName, $0, rest, pos) })
        case "unique":
            let caseSensitive = a.get(0, "case_sensitive")?.truthy ?? false
            let attr = a.get(1, "attribute")
            var seen: [Value] = []
            var out: [Value] = []
            for item in try iterate(v, pos) {
                var key = try attr.map { try getAttributePath(item, $0, pos) } ?? item
                if !caseSensitive { key = foldCase(key) }
                if !seen.contains(where: { valuesEqual($0, key) }) { seen.append(key); out.append(item) }
            }
            return .list(out)
        case "sort":
            let reverse = a.get(0, "reverse")?.truthy ?? false
            let caseSensitive = a.get(1, "case_sensitive")?.truthy ?? false
            let attr = a.get(2, "attribute")
            var items = try iterate(v, pos)
            try sortValues(&items, key: { item in
                let key = try attr.map { try self.getAttributePath(item, $0, pos) } ?? item
                return caseSensitive ? key : self.foldCase(key)
            }, reverse: reverse, pos)
            return .list(items)
        case "reverse":
            if case .string(let s) = v { return .string(String(String.UnicodeScalarView(s.unicodeScalars.reversed()))) }
            return .list(try iterate(v, pos).reversed())
        case "sum":
            var total = a.get(1, "start") ?? .int(0)
            let attr = a.get(0, "attribute")
            for item in try iterate(v, pos) {
                total = try binary(.add, total, try attr.map { try getAttributePath(item, $0, pos) } ?? item, pos)
            }
            return total
        case "min", "max":
            let items = try iterate(v, pos)
            guard var best = items.first else { return .undefined("\(name) of an empty sequence") }
            for x in items.dropFirst() {
                let c = try order(foldCase(x), foldCase(best), pos)
                if (name == "min" && c < 0) || (name == "max" && c > 0) { best = x }
            }
            return best
        case "safe":
            return v
        case "escape", "e", "forceescape":
            return .string(PyString.htmlEscape(v.str))
        case "indent":
            return try checkSize(indent(v.str, a), pos)
        case "wordcount":
            return .int(PyString.wordCount(v.str))
        case "format":
            return try binary(.mod, .string(v.str), .tuple(a.positional), pos)
        case "center":
            let width: Int
            if case .int(let w)? = a.get(0, "width") { width = w } else { width = 80 }
            return .string(PyString.center(v.str, width))
        case "batch", "slice", "groupby", "random", "shuffle", "pprint", "urlize", "xmlattr", "filesizeformat",
             "striptags", "truncate", "wordwrap", "urlencode", "attr", "tojson_safe":
            throw TemplateError(.unknownFilter, "filter '\(name)' is not supported in chat templates", at: pos)
        default:
            throw TemplateError(.unknownFilter, "no filter named '\(name)'", at: pos)
        }
    }

    private func toJSON(_ v: Value, _ a: Arguments, _ pos: SourcePos) throws -> Value {
        var indent: String? = nil
        switch a.keyword.first(where: { $0.0 == "indent" })?.1 ?? a.positional.first {
        case .int(let n)?: indent = String(repeating: " ", count: max(0, min(n, 64)))
        case .string(let s)?: indent = s
        default: break
        }
        let sortKeys = a.keyword.first(where: { $0.0 == "sort_keys" })?.1.truthy ?? false
        var separators: (String, String)? = nil
        if case .tuple(let seps)? = a.keyword.first(where: { $0.0 == "separators" })?.1, seps.count == 2 {
            separators = (seps[0].str, seps[1].str)
        } else if case .list(let seps)? = a.keyword.first(where: { $0.0 == "separators" })?.1, seps.count == 2 {
            separators = (seps[0].str, seps[1].str)
        }
        var writer = TemplateJSONWriter(indent: indent, sortKeys: sortKeys, separators: separators)
        writer.ensureASCII = a.keyword.first(where: { $0.0 == "ensure_ascii" })?.1.truthy ?? false
        do {
            return try checkSize(try writer.write(v), pos)
        } catch let e as TemplateJSONWriter.NotSerializable {
            throw TemplateError(.type, "Object of type \(e.typeName) is not JSON serializable", at: pos)
        }
    }

    func length(_ v: Value, _ pos: SourcePos) throws -> Int {
        switch v {
        case .string(let s): return s.unicodeScalars.count
        case .list(let a), .tuple(let a): return a.count
        case .dict(let d): return d.count
        case .undefined: return 0
        case .namespace(let ns): return ns.attrs.count
        default: throw TemplateError(.type, "object of type '\(v.typeName)' has no len()", at: pos)
        }
    }

    /// `attribute="a.b"` paths in selectattr/map/sort; integer parts index lists.
    func getAttributePath(_ item: Value, _ path: Value, _ pos: SourcePos) throws -> Value {
        if case .int(let i) = path { return try getItem(item, .int(i), pos) }
        var cur = item
        for part in path.str.split(separator: ".", omittingEmptySubsequences: false) {
            let key = String(part)
            if let i = Int(key) { cur = try getItem(cur, .int(i), pos) } else { cur = try getItem(cur, .string(key), pos) }
            if cur.isUndefined { return cur }
        }
        return cur
    }

    func foldCase(_ v: Value) -> Value {
        if case .string(let s) = v { return .string(s.lowercased()) }
        return v
    }

    private func sortValues(_ items: inout [Value], key: (Value) throws -> Value, reverse: Bool, _ pos: SourcePos) throws {
        let keyed = try items.map { (try key($0), $0) }
        var failure: Error? = nil
        // Stable merge of indices so equal keys keep their order (Python's sort is stable).
        let order = Array(keyed.indices).stableSorted { i, j in
            if failure != nil { return false }
            do {
                let c = try self.order(keyed[i].0, keyed[j].0, pos)
                return reverse ? c > 0 : c < 0
            } catch { failure = error; return false }
        }
        if let f = failure { throw f }
        items = order.map { keyed[$0].1 }
    }

    private func indent(_ s: String, _ a: Arguments) -> String {
        let width = a.get(0, "width") ?? .int(4)
        let indention: String
        if case .string(let w) = width { indention = w } else if case .int(let n) = width { indention = String(repeating: " ", count: max(0, min(n, 1024))) } else { indention = "    " }
        let first = a.get(1, "first")?.truthy ?? false
        let blank = a.get(2, "blank")?.truthy ?? false
        let lines = PyString.splitlines(s + "\n")
        var rv: String
        if blank {
            rv = lines.joined(separator: "\n" + indention)
        } else {
            rv = lines.first ?? ""
            let rest = lines.dropFirst()
            if !rest.isEmpty {
                rv += "\n" + rest.map { $0.isEmpty ? $0 : indention + $0 }.joined(separator: "\n")
            }
        }
        if first { rv = indention + rv }
        return rv
    }
}

extension Array {
    /// Merge sort: stable, unlike the standard library's `sort`.
    func stableSorted(by less: (Element, Element) -> Bool) -> [Element] {
        if count <= 1 { return self }
        let mid = count / 2
        let l = Array(self[..<mid]).stableSorted(by: less)
        let r = Array(self[mid...]).stableSorted(by: less)
        var out: [Element] = []
        out.reserveCapacity(count)
        var i = 0, j = 0
        while i < l.count && j < r.count {
            if less(r[j], l[i]) { out.append(r[j]); j += 1 } else { out.append(l[i]); i += 1 }
        }
        out.append(contentsOf: l[i...])
        out.append(contentsOf: r[j...])
        return out
    }
}
