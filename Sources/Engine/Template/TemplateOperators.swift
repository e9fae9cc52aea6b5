import Foundation

/// Arithmetic, comparison and equality with Python's semantics (bool counts as int,
/// `/` always gives a float, `//` and `%` round toward negative infinity).
extension TemplateInterpreter {
    private enum Num { case int(Int), double(Double) }

    private func number(_ v: Value) -> Num? {
        switch v {
        case .int(let i): return .int(i)
        case .bool(let b): return .int(b ? 1 : 0)
        case .double(let d): return .double(d)
        default: return nil
        }
    }

    private func asDouble(_ n: Num) -> Double {
        switch n { case .int(let i): return Double(i); case .double(let d): return d }
    }

    private func overflow(_ pos: SourcePos) -> TemplateError {
        TemplateError(.limit, "integer overflow (values beyond 64 bits are not supported)", at: pos)
    }

    private func typeError(_ op: BinaryOp, _ a: Value, _ b: Value, _ pos: SourcePos) -> TemplateError {
        if case .undefined(let why) = a { return TemplateError(.undefined, "\(why); cannot use it with '\(op.rawValue)'", at: pos) }
        if case .undefined(let why) = b { return TemplateError(.undefined, "\(why); cannot use it with '\(op.rawValue)'", at: pos) }
        return TemplateError(.type, "unsupported operand types for \(op.rawValue): '\(a.typeName)' and '\(b.typeName)'", at: pos)
    }

    func binary(_ op: BinaryOp, _ a: Value, _ b: Value, _ pos: SourcePos) throws -> Value {
        if let x = number(a), let y = number(b) {
            return try arithmetic(op, x, y, pos)
        }
        switch (op, a, b) {
        case (.add, .string(let x), .string(let y)):
            try charge((x.utf8.count + y.utf8.count) / 256, pos)
            return try checkSize(x + y, pos)
        case (.add, .list(let x), .list(let y)):
            try checkCount(x.count + y.count, pos)
            try charge((x.count + y.count) / 4, pos)
            return .list(x + y)
        case (.add, .tuple(let x), .tuple(let y)):
            try charge((x.count + y.count) / 4, pos)
            return .tuple(x + y)
        case (.mul, .string(let s), _), (.mul, _, .string(let s)):
            guard case .int(let n)? = number(a.isString ? b : a) else { throw typeError(op, a, b, pos) }
            let total = s.utf8.count.multipliedReportingOverflow(by: max(n, 0))
            guard !total.overflow, total.partialValue <= limits.maxOutputBytes else {
                throw TemplateError(.limit, "string repetition would exceed \(limits.maxOutputBytes) bytes", at: pos)
            }
            try charge(total.partialValue / 256, pos)
            return .string(String(repeating: s, count: max(n, 0)))
        case (.mul, .list(let x), _), (.mul, _, .list(let x)):
            guard case .int(let n)? = number(a.isList ? b : a) else { throw typeError(op, a, b, pos) }
            let total = x.count.multipliedReportingOverflow(by: max(n, 0))
            guard !total.overflow else { throw TemplateError(.limit, "list repetition is too large", at: pos) }
            try checkCount(total.partialValue, pos)
            try charge(total.partialValue / 8, pos)
            return .list(Array([[Value]](repeating: x, count: max(n, 0)).joined()))
        case (.mod, .string(let fmt), _):
            return try checkSize(try percentFormat(fmt, b, pos), pos)
        default:
            throw typeError(op, a, b, pos)
        }
    }

    private func arithmetic(_ op: BinaryOp, _ x: Num, _ y: Num, _ pos: SourcePos) throws -> Value {
        if case .int(let a) = x, case .int(let b) = y {
            switch op {
            case .add:
                let r = a.addingReportingOverflow(b); if r.overflow { throw overflow(pos) }; return .int(r.partialValue)
            case .sub:
                let r = a.subtractingReportingOverflow(b); if r.overflow { throw overflow(pos) }; return .int(r.partialValue)
            case .mul:
                let r = a.multipliedReportingOverflow(by: b); if r.overflow { throw overflow(pos) }; return .int(r.partialValue)
            case .div:
                guard b != 0 else { throw TemplateError(.type, "division by zero", at: pos) }
                return .double(Double(a) / Double(b))
            case .floorDiv:
                guard b != 0 else { throw TemplateError(.type, "integer division or modulo by zero", at: pos) }
                let q = a.dividedReportingOverflow(by: b)
                if q.overflow { throw overflow(pos) }
                let r = a % b
                return .int((r != 0 && ((r < 0) != (b < 0))) ? q.partialValue - 1 : q.partialValue)
            case .mod:
                guard b != 0 else { throw TemplateError(.type, "integer division or modulo by zero", at: pos) }
                if b == -1 { return .int(0) }
                let r = a % b
                return .int((r != 0 && ((r < 0) != (b < 0))) ? r + b : r)
            case .pow:
                if b < 0 { return .double(pow(Double(a), Double(b))) }
                var result = 1, base = a, e = b
                while e > 0 {
                    if e & 1 == 1 {
                        let r = result.multipliedReportingOverflow(by: base); if r.overflow { throw overflow(pos) }
                        result = r.partialValue
                    }
                    e >>= 1
                    if e > 0 {
                        let r = base.multipliedReportingOverflow(by: base); if r.overflow { throw overflow(pos) }
                        base = r.partialValue
                    }
                }
                return .int(result)
            }
        }
        let a = asDouble(x), b = asDouble(y)
        switch op {
        case .add: return .double(a + b)
        case .sub: return .double(a - b)
        case .mul: return .double(a * b)
        case .div:
            guard b != 0 else { throw TemplateError(.type, "float division by zero", at: pos) }
            return .double(a / b)
        case .floorDiv:
            guard b != 0 else { throw TemplateError(.type, "float floor division by zero", at: pos) }
            return .double((a / b).rounded(.down))
        case .mod:
            guard b != 0 else { throw TemplateError(.type, "float modulo", at: pos) }
            let r = fmod(a, b)
            return .double((r != 0 && ((r < 0) != (b < 0))) ? r + b : r)
        case .pow: return .double(pow(a, b))
        }
    }

    /// printf-style `"%s" % value` for the conversions templates use: %s %r %d %i %f %%.
    private func percentFormat(_ fmt: String, _ arg: Value, _ pos: SourcePos) throws -> String {
        var args: [Value]
        if case .tuple(let t) = arg { args = t } else { args = [arg] }
        var out = ""
        var it = Array(fmt.unicodeScalars)[...]
        while let c = it.popFirst() {
            guard c == "%" else { out.unicodeScalars.append(c); continue }
            var precision: Int? = nil
            if it.first == "." {
                it.removeFirst()
                var digits = ""
                while let d = it.first, ("0"..."9").contains(d) { digits.unicodeScalars.append(d); it.removeFirst() }
                precision = Int(digits)
            }
            guard let conv = it.popFirst() else { throw TemplateError(.type, "incomplete format", at: pos) }
            if conv == "%" { out += "%"; continue }
            guard !args.isEmpty else { throw TemplateError(.type, "not enough arguments for format string", at: pos) }
            let v = args.removeFirst()
            switch conv {
            case "s": out += v.str
            case "r": out += v.repr
            case "d", "i":
                guard let n = number(v) else { throw TemplateError(.type, "%d format: a number is required, not \(v.typeName)", at: pos) }
                switch n { case .int(let i): out += String(i); case .double(let d): out += String(Int(d.rounded(.towardZero))) }
            case "f":
                guard let n = number(v) else { throw TemplateError(.type, "%f format: a number is required, not \(v.typeName)", at: pos) }
                out += String(format: "%.\(precision ?? 6)f", asDouble(n))
            default:
                throw TemplateError(.type, "unsupported format character '\(conv)'", at: pos)
            }
        }
        if !args.isEmpty, case .tuple = arg { throw TemplateError(.type, "not all arguments converted during string formatting", at: pos) }
        return out
    }

    func compare(_ op: CompareOp, _ a: Value, _ b: Value, _ pos: SourcePos) throws -> Bool {
        switch op {
        case .eq: return valuesEqual(a, b)
        case .ne: return !valuesEqual(a, b)
        case .isIn: return try contains(b, a, pos)
        case .notIn: return !(try contains(b, a, pos))
        case .lt: return try order(a, b, pos) < 0
        case .le: return try order(a, b, pos) <= 0
        case .gt: return try order(a, b, pos) > 0
        case .ge: return try order(a, b, pos) >= 0
        }
    }

    func contains(_ container: Value, _ item: Value, _ pos: SourcePos) throws -> Bool {
        switch container {
        case .string(let s):
            guard case .string(let sub) = item else {
                throw TemplateError(.type, "'in <string>' requires string as left operand, not \(item.typeName)", at: pos)
            }
            try chargeSearch(s, sub, pos)
            return PyString.find(s, sub) >= 0
        case .list(let a), .tuple(let a): return a.contains { valuesEqual($0, item) }
        case .dict(let d):
            if case .string(let k) = item { return d[k] != nil }
            return false
        case .namespace(let ns):
            if case .string(let k) = item { return ns.attrs[k] != nil }
            return false
        case .undefined: return false
        default:
            throw TemplateError(.type, "argument of type '\(container.typeName)' is not iterable", at: pos)
        }
    }

    func valuesEqual(_ a: Value, _ b: Value) -> Bool {
        if let x = number(a), let y = number(b) {
            if case .int(let i) = x, case .int(let j) = y { return i == j }
            return asDouble(x) == asDouble(y)
        }
        switch (a, b) {
        case (.undefined, .undefined), (.none, .none): return true
        case (.string(let x), .string(let y)): return x.unicodeScalars.elementsEqual(y.unicodeScalars)
        case (.list(let x), .list(let y)), (.tuple(let x), .tuple(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { valuesEqual($0, $1) }
        case (.dict(let x), .dict(let y)):
            return x.count == y.count && x.pairs.allSatisfy { k, v in y[k].map { valuesEqual(v, $0) } ?? false }
        case (.namespace(let x), .namespace(let y)): return x === y
        case (.callable(let x), .callable(let y)): return x === y
        default: return false
        }
    }

    /// -1, 0, 1 like Python's rich comparison; throws when the types do not order.
    func order(_ a: Value, _ b: Value, _ pos: SourcePos) throws -> Int {
        if let x = number(a), let y = number(b) {
            if case .int(let i) = x, case .int(let j) = y { return i < j ? -1 : (i == j ? 0 : 1) }
            let p = asDouble(x), q = asDouble(y)
            return p < q ? -1 : (p == q ? 0 : 1)
        }
        switch (a, b) {
        case (.string(let x), .string(let y)):
            let u = Array(x.unicodeScalars.map(\.value)), v = Array(y.unicodeScalars.map(\.value))
            if u == v { return 0 }
            return u.lexicographicallyPrecedes(v) ? -1 : 1
        case (.list(let x), .list(let y)), (.tuple(let x), .tuple(let y)):
            for (p, q) in zip(x, y) where !valuesEqual(p, q) { return try order(p, q, pos) }
            return x.count < y.count ? -1 : (x.count == y.count ? 0 : 1)
        default:
            if case .undefined(let why) = a { throw TemplateError(.undefined, "\(why); cannot compare it", at: pos) }
            if case .undefined(let why) = b { throw TemplateError(.undefined, "\(why); cannot compare it", at: pos) }
            throw TemplateError(.type, "'<' not supported between instances of '\(a.typeName)' and '\(b.typeName)'", at: pos)
        }
    }
}

extension Value {
    var isString: Bool { if case .string = self { return true } else { return false } }
    var isList: Bool { if case .list = self { return true } else { return false } }
}
