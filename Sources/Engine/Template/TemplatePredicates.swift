/// jinja2's tests, used as `x is name` / `x is not name` and by select/selectattr.
extension TemplateInterpreter {
    func applyTest(_ name: String, _ v: Value, _ args: CallArgs, _ pos: SourcePos) throws -> Bool {
        let (p, k) = try evalArgs(args)
        return try test(name, v, Arguments(positional: p, keyword: k), pos)
    }

    func test(_ name: String, _ v: Value, _ a: Arguments, _ pos: SourcePos) throws -> Bool {
        func other() throws -> Value {
            guard let o = a.get(0, "other") ?? a.get(0, "value") else {
                throw TemplateError(.type, "test '\(name)' needs an argument", at: pos)
            }
            return o
        }
        switch name {
        case "defined": return !v.isUndefined
        case "undefined": return v.isUndefined
        case "none": return v.isNone
        case "string": return v.isString
        case "number":
            switch v { case .int, .double, .bool: return true; default: return false }
        case "integer":
            if case .int = v { return true }; return false
        case "float":
            if case .double = v { return true }; return false
        case "boolean":
            if case .bool = v { return true }; return false
        case "true":
            if case .bool(true) = v { return true }; return false
        case "false":
            if case .bool(false) = v { return true }; return false
        case "mapping":
            if case .dict = v { return true }; return false
        case "iterable":
            switch v { case .list, .tuple, .dict, .string, .undefined, .namespace: return true; default: return false }
        case "sequence":
            switch v { case .list, .tuple, .dict, .string, .undefined: return true; default: return false }
        case "callable":
            switch v { case .callable, .undefined: return v.isUndefined ? false : true; default: return false }
        case "even", "odd":
            guard case .int(let i) = (v.isBoolean ? .int(v.truthy ? 1 : 0) : v) else {
                throw TemplateError(.type, "test '\(name)' needs an integer, not \(v.typeName)", at: pos)
            }
            return (i % 2 == 0) == (name == "even")
        case "divisibleby":
            let n = try other()
            guard case .int(let i) = v, case .int(let d) = n else {
                throw TemplateError(.type, "divisibleby needs integers", at: pos)
            }
            guard d != 0 else { throw TemplateError(.type, "integer division or modulo by zero", at: pos) }
            return i % d == 0
        case "equalto", "eq", "==": return valuesEqual(v, try other())
        case "ne", "!=": return !valuesEqual(v, try other())
        case "lt", "lessthan", "<": return try order(v, try other(), pos) < 0
        case "le", "<=": return try order(v, try other(), pos) <= 0
        case "gt", "greaterthan", ">": return try order(v, try other(), pos) > 0
        case "ge", ">=": return try order(v, try other(), pos) >= 0
        case "in": return try contains(try other(), v, pos)
        case "sameas":
            let o = try other()
            switch (v, o) {
            case (.none, .none): return true
            case (.bool(let x), .bool(let y)): return x == y
            case (.namespace(let x), .namespace(let y)): return x === y
            default: return false
            }
        case "lower": return v.isString && v.str == v.str.lowercased()
        case "upper": return v.isString && v.str == v.str.uppercased()
        case "escaped": return false
        default:
            throw TemplateError(.unknownTest, "no test named '\(name)'", at: pos)
        }
    }
}

extension Value {
    var isBoolean: Bool { if case .bool = self { return true } else { return false } }
}
