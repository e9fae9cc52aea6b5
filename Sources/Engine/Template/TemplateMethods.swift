/// Methods callable on values (`s.strip()`, `d.items()`, ...). The sandbox is immutable:
/// methods that would change a list or dict raise a security error.
extension TemplateInterpreter {
    private func method(_ name: String, _ body: @escaping (Arguments, SourcePos) throws -> Value) -> Value {
        .callable(Callable(name) { p, k, pos in try body(Arguments(positional: p, keyword: k), pos) })
    }

    private func unsafe(_ type: String, _ name: String) -> Value {
        .callable(Callable(name) { _, _, pos in
            throw TemplateError(.security, "'\(type).\(name)()' would modify a value; templates cannot change their inputs", at: pos)
        })
    }

    func dictMethod(_ d: ValueDict, _ name: String, _ pos: SourcePos) -> Value? {
        switch name {
        case "items": return method(name) { _, _ in .list(d.pairs.map { .tuple([.string($0.0), $0.1]) }) }
        case "keys": return method(name) { _, _ in .list(d.keys.map { .string($0) }) }
        case "values": return method(name) { _, _ in .list(d.values) }
        case "get":
            return method(name) { a, pos in
                guard let key = a.get(0, "key") else { throw TemplateError(.type, "get() needs a key", at: pos) }
                if case .string(let k) = key, let v = d[k] { return v }
                return a.get(1, "default") ?? .none
            }
        case "copy": return method(name) { _, _ in .dict(d) }
        case "pop", "popitem", "update", "setdefault", "clear":
            return unsafe("dict", name)
        default: return nil
        }
    }

    func listMethod(_ items: [Value], _ name: String, _ pos: SourcePos) -> Value? {
        switch name {
        case "index":
            return method(name) { a, pos in
                guard let x = a.get(0, "value") else { throw TemplateError(.type, "index() needs a value", at: pos) }
                guard let i = items.firstIndex(where: { self.valuesEqual($0, x) }) else {
                    throw TemplateError(.type, "\(x.repr) is not in list", at: pos)
                }
                return .int(i)
            }
        case "count":
            return method(name) { a, _ in
                let x = a.get(0, "value") ?? .none
                return .int(items.filter { self.valuesEqual($0, x) }.count)
            }
        case "append", "extend", "insert", "pop", "remove", "sort", "reverse", "clear":
            return unsafe("list", name)
        default: return nil
        }
    }

    func stringMethod(_ s: String, _ name: String, _ pos: SourcePos) -> Value? {
        func chars(_ a: Arguments) -> String? {
            guard let c = a.get(0, "chars"), !c.isNone else { return nil }
            return c.str
        }
        switch name {
        case "strip": return method(name) { a, _ in .string(PyString.strip(s, chars: chars(a), left: true, right: true)) }
        case "lstrip": return method(name) { a, _ in .string(PyString.strip(s, chars: chars(a), left: true, right: false)) }
        case "rstrip": return method(name) { a, _ in .string(PyString.strip(s, chars: chars(a), left: false, right: true)) }
        case "upper": return method(name) { _, _ in .string(s.uppercased()) }
        case "lower": return method(name) { _, _ in .string(s.lowercased()) }
        case "title": return method(name) { _, _ in .string(PyString.title(s)) }
        case "capitalize": return method(name) { _, _ in .string(PyString.capitalize(s)) }
        case "split", "rsplit":
            return method(name) { a, pos in
                let sep = a.get(0, "sep").flatMap { $0.isNone ? nil : $0.str }
                var maxsplit = -1
                if case .int(let m)? = a.get(1, "maxsplit") { maxsplit = m }
                if let sep = sep, sep.isEmpty { throw TemplateError(.type, "empty separator", at: pos) }
                try self.chargeSearch(s, sep ?? " ", pos)
                let parts = name == "split" ? PyString.split(s, sep: sep, maxsplit: maxsplit)
                                            : PyString.rsplit(s, sep: sep, maxsplit: maxsplit)
                try self.checkCount(parts.count, pos)
                return .list(parts.map { .string($0) })
            }
        case "splitlines":
            return method(name) { _, _ in .list(PyString.splitlines(s).map { .string($0) }) }
        case "startswith", "endswith":
            return method(name) { a, pos in
                guard let x = a.get(0, "prefix") ?? a.get(0, "suffix") else {
                    throw TemplateError(.type, "\(name)() needs an argument", at: pos)
                }
                let options: [Value]
                if case .tuple(let t) = x { options = t } else { options = [x] }
                let u = Array(s.unicodeScalars)
                for o in options {
                    guard case .string(let p) = o else {
                        throw TemplateError(.type, "\(name) first arg must be str or a tuple of str, not \(o.typeName)", at: pos)
                    }
                    let q = Array(p.unicodeScalars)
                    if q.count <= u.count && (name == "startswith" ? Array(u[..<q.count]) == q : Array(u[(u.count - q.count)...]) == q) {
                        return .bool(true)
                    }
                }
                return .bool(false)
            }
        case "replace":
            return method(name) { a, pos in
                guard let old = a.get(0, "old"), let new = a.get(1, "new") else {
                    throw TemplateError(.type, "replace() needs old and new", at: pos)
                }
                var count = -1
                if case .int(let c)? = a.get(2, "count") { count = c }
                try self.chargeSearch(s, old.str, pos)
                return try self.checkSize(PyString.replace(s, old.str, new.str, count: count), pos)
            }
        case "find", "rfind", "index", "rindex":
            return method(name) { a, pos in
                let sub = a.get(0, "sub")?.str ?? ""
                try self.chargeSearch(s, sub, pos)
                let r = name.hasPrefix("r") ? PyString.rfind(s, sub) : PyString.find(s, sub)
                if r < 0 && name.hasSuffix("index") { throw TemplateError(.type, "substring not found", at: pos) }
                return .int(r)
            }
        case "count":
            return method(name) { a, pos in
                let sub = a.get(0, "sub")?.str ?? ""
                try self.chargeSearch(s, sub, pos)
                return .int(PyString.count(s, sub))
            }
        case "join":
            return method(name) { a, pos in
                let items = try self.iterate(a.get(0, "iterable") ?? .list([]), pos)
                var parts: [String] = []
                for x in items {
                    guard case .string(let t) = x else {
                        throw TemplateError(.type, "sequence item: expected str instance, \(x.typeName) found", at: pos)
                    }
                    parts.append(t)
                }
                return try self.checkSize(parts.joined(separator: s), pos)
            }
        case "format":
            return method(name) { a, pos in try self.checkSize(try PyString.format(s, a, pos), pos) }
        case "isdigit": return method(name) { _, _ in .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.numericType == .decimal || $0.properties.numericType == .digit }) }
        case "isalpha": return method(name) { _, _ in .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic }) }
        case "isspace": return method(name) { _, _ in .bool(!s.isEmpty && s.unicodeScalars.allSatisfy(TemplateLexer.isSpace)) }
        case "isupper": return method(name) { _, _ in .bool(s != s.lowercased() && s == s.uppercased()) }
        case "islower": return method(name) { _, _ in .bool(s != s.uppercased() && s == s.lowercased()) }
        default: return nil
        }
    }
}
