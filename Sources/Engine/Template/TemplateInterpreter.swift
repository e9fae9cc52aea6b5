import Foundation

/// Walks the syntax tree and writes the output. One instance renders once.
final class TemplateInterpreter {
    let limits: TemplateLimits
    private var steps = 0
    private var loopIterations = 0
    private var callDepth = 0
    private var buffers: [String] = [""]
    private var scopes: [ValueDict]

    /// A scope index below which lookups are cut off: macro bodies see only the root scope.
    private var scopeFloors: [Int] = []

    enum Flow { case normal, breakLoop, continueLoop }

    init(context: ValueDict, limits: TemplateLimits) {
        self.limits = limits
        self.scopes = [context]
        installGlobals()
    }

    /// UTF-8 byte ranges of the output written inside `{% generation %}` blocks.
    private(set) var generationSpans: [Range<Int>] = []

    func render(_ body: [Stmt]) throws -> String {
        _ = try exec(body)
        return buffers[0]
    }

    // MARK: scopes

    private var builtins = ValueDict()

    private func installGlobals() {
        builtins["range"] = .callable(Callable("range") { [unowned self] args, _, pos in try self.range(args, pos) })
        builtins["namespace"] = .callable(Callable("namespace") { [unowned self] args, kwargs, pos in
            var attrs = ValueDict()
            for a in args {
                guard case .dict(let d) = a else { throw TemplateError(.type, "namespace() takes keyword arguments or a dict", at: pos) }
                for (k, v) in d.pairs { attrs[k] = v }
            }
            for (k, v) in kwargs { attrs[k] = v }
            let ns = Value.namespace(Namespace(attrs))
            try self.checkNesting(ns, pos)
            return ns
        })
        builtins["dict"] = .callable(Callable("dict") { args, kwargs, pos in
            var d = ValueDict()
            for a in args {
                guard case .dict(let src) = a else { throw TemplateError(.type, "dict() takes keyword arguments or a dict", at: pos) }
                for (k, v) in src.pairs { d[k] = v }
            }
            for (k, v) in kwargs { d[k] = v }
            return .dict(d)
        })
        builtins["raise_exception"] = .callable(Callable("raise_exception") { args, _, pos in
            throw TemplateError(.raised, args.first?.str ?? "raise_exception() called", at: pos)
        })
        builtins["strftime_now"] = .callable(Callable("strftime_now") { args, _, pos in
            guard case .string(let fmt)? = args.first else {
                throw TemplateError(.type, "strftime_now() needs a format string", at: pos)
            }
            return .string(TemplateInterpreter.strftimeNow(fmt))
        })
    }

    static func strftimeNow(_ format: String) -> String {
        var t = time(nil)
        var parts = tm()
        localtime_r(&t, &parts)
        var buf = [Int8](repeating: 0, count: 256)
        let n = strftime(&buf, buf.count, format, &parts)
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func lookup(_ name: String, _ pos: SourcePos) -> Value {
        let floor = scopeFloors.last ?? 0
        var k = scopes.count - 1
        while k >= floor {
            if let v = scopes[k][name] { return v }
            k -= 1
        }
        if floor > 0 {   // inside a macro: the root scope (context and top-level sets) is visible
            if let v = scopes[0][name] { return v }
        }
        if let v = builtins[name] { return v }
        return .undefined("'\(name)' is undefined")
    }

    /// Everything a name lookup here would find above the root scope, innermost last.
    private func visibleVariables() -> ValueDict {
        var out = ValueDict()
        let floor = max(scopeFloors.last ?? 0, 1)
        guard floor < scopes.count else { return out }
        for k in floor..<scopes.count {
            for (name, v) in scopes[k].pairs { out[name] = v }
        }
        return out
    }

    private func assign(_ target: AssignTarget, _ value: Value, _ pos: SourcePos) throws {
        switch target {
        case .name(let n):
            scopes[scopes.count - 1][n] = value
        case .attribute(let n, let attr):
            guard case .namespace(let ns) = lookup(n, pos) else {
                throw TemplateError(.type, "cannot assign attribute '\(attr)' on '\(n)': it is not a namespace()", at: pos)
            }
            try checkNesting(value, into: ns, pos)
            ns.attrs[attr] = value
        case .tuple(let targets):
            let items = try iterate(value, pos)
            guard items.count == targets.count else {
                throw TemplateError(.type, "cannot unpack \(items.count) values into \(targets.count) names", at: pos)
            }
            for (t, v) in zip(targets, items) { try assign(t, v, pos) }
        }
    }

    // MARK: limits

    @inline(__always) private func step(_ pos: SourcePos) throws {
        steps += 1
        if steps > limits.maxSteps {
            throw TemplateError(.limit, "template ran more than \(limits.maxSteps) evaluation steps", at: pos)
        }
    }

    private func write(_ s: String, _ pos: SourcePos) throws {
        buffers[buffers.count - 1] += s
        if buffers[buffers.count - 1].utf8.count > limits.maxOutputBytes {
            throw TemplateError(.limit, "template output exceeds \(limits.maxOutputBytes) bytes", at: pos)
        }
    }

    /// Charges work that is not one evaluation step (copying a long list or string) to the
    /// step budget, so quadratic patterns stop too.
    func charge(_ work: Int, _ pos: SourcePos) throws {
        steps = steps.addingReportingOverflow(work).partialValue
        if steps > limits.maxSteps || work < 0 {
            throw TemplateError(.limit, "template ran more than \(limits.maxSteps) evaluation steps", at: pos)
        }
    }

    /// Substring search is charged by its worst case (text length times pattern length).
    func chargeSearch(_ s: String, _ sub: String, _ pos: SourcePos) throws {
        let cost = s.utf8.count.multipliedReportingOverflow(by: max(sub.utf8.count, 1))
        try charge(cost.overflow ? Int.max / 2 : cost.partialValue / 1024, pos)
    }

    /// Values stored in a namespace outlive a loop iteration, so a loop could wrap one value
    /// in itself again and again (or put a namespace inside itself); refuse nesting deeper
    /// than the depth limit, which also keeps printing and freeing such values shallow.
    func checkNesting(_ v: Value, into target: Namespace? = nil, _ pos: SourcePos) throws {
        var visited = 0
        func walk(_ v: Value, _ depth: Int) throws {
            if depth > limits.maxDepth {
                throw TemplateError(.limit, "value nests deeper than \(limits.maxDepth) levels", at: pos)
            }
            switch v {
            case .list(let a), .tuple(let a):
                visited += a.count
                for x in a { try walk(x, depth + 1) }
            case .dict(let d):
                visited += d.count
                for x in d.values { try walk(x, depth + 1) }
            case .namespace(let ns):
                if ns === target {
                    throw TemplateError(.limit, "a namespace cannot contain itself", at: pos)
                }
                visited += ns.attrs.count
                for x in ns.attrs.values { try walk(x, depth + 1) }
            default: break
            }
        }
        try walk(v, 0)
        try charge(visited, pos)
    }

    func checkSize(_ s: String, _ pos: SourcePos) throws -> Value {
        if s.utf8.count > limits.maxOutputBytes {
            throw TemplateError(.limit, "string longer than \(limits.maxOutputBytes) bytes", at: pos)
        }
        return .string(s)
    }

    func checkCount(_ n: Int, _ pos: SourcePos) throws {
        if n > limits.maxCollectionCount {
            throw TemplateError(.limit, "collection larger than \(limits.maxCollectionCount) items", at: pos)
        }
    }

    private func capture(_ body: () throws -> Void) rethrows -> String {
        buffers.append("")
        defer { buffers.removeLast() }
        try body()
        return buffers[buffers.count - 1]
    }

    // MARK: statements

    func exec(_ stmts: [Stmt]) throws -> Flow {
        for s in stmts {
            let flow = try exec(s)
            if flow != .normal { return flow }
        }
        return .normal
    }

    private func exec(_ s: Stmt) throws -> Flow {
        switch s {
        case .text(let t, let pos):
            try write(t, pos)
        case .output(let e, let pos):
            try step(pos)
            let v = try eval(e)
            if case .undefined = v {} else { try write(v.str, pos) }
        case .ifChain(let branches, let otherwise):
            for (cond, body) in branches where try eval(cond).truthy {
                return try exec(body)
            }
            return try exec(otherwise)
        case .forLoop(let node):
            return try execFor(node)
        case .set(let target, let e, let pos):
            try step(pos)
            try assign(target, try eval(e), pos)
        case .setBlock(let target, let body, let filters, let pos):
            var flow = Flow.normal
            let text = try capture { flow = try exec(body) }
            var v = Value.string(text)
            for (name, args, fpos) in filters { v = try applyFilter(name, v, args, fpos) }
            try assign(target, v, pos)
            return flow
        case .macro(let node):
            scopes[scopes.count - 1][node.name] = .callable(makeMacro(node))
        case .callBlock(let call, let params, let body, let pos):
            guard case .call(let callee, let args, let cpos) = call else { return .normal }
            let caller = makeMacro(MacroNode(name: "caller", params: params, body: body, pos: pos), closure: visibleVariables())
            let f = try eval(callee)
            var (positional, keyword) = try evalArgs(args)
            keyword.append(("caller", .callable(caller)))
            let v = try callValue(f, &positional, keyword, cpos)
            try write(v.str, pos)
        case .filterBlock(let filters, let body, let pos):
            var flow = Flow.normal
            let text = try capture { flow = try exec(body) }
            var v = Value.string(text)
            for (name, args, fpos) in filters { v = try applyFilter(name, v, args, fpos) }
            try write(v.str, pos)
            return flow
        case .generation(let body, _):
            // Like transformers' AssistantTracker: spans are recorded for output written
            // directly (not captured by a macro or a block set).
            let topLevel = buffers.count == 1
            let start = buffers[0].utf8.count
            let flow = try exec(body)
            if topLevel { generationSpans.append(start..<buffers[0].utf8.count) }
            return flow
        case .breakLoop:
            return .breakLoop
        case .continueLoop:
            return .continueLoop
        }
        return .normal
    }

    private func execFor(_ node: ForNode) throws -> Flow {
        try step(node.pos)
        var items = try iterate(try eval(node.iterable), node.pos)
        if let cond = node.condition {
            var kept: [Value] = []
            for item in items {
                try countIteration(node.pos)
                scopes.append(ValueDict())
                defer { scopes.removeLast() }
                try assign(node.target, item, node.pos)
                if try eval(cond).truthy { kept.append(item) }
            }
            items = kept
        }
        if items.isEmpty { return try exec(node.elseBody) }
        let depth0: Int
        if case .loop(let outer) = lookup("loop", node.pos) { depth0 = outer.depth0 + 1 } else { depth0 = 0 }
        let loop = LoopState(items: items, depth0: depth0)
        // One scope for the loop, emptied at each iteration: jinja2 gives every iteration
        // fresh locals, so a `set` in one iteration is not seen by the next.
        scopes.append(ValueDict())
        defer { scopes.removeLast() }
        let top = scopes.count - 1
        for (k, item) in items.enumerated() {
            try countIteration(node.pos)
            loop.index0 = k
            scopes[top].removeAll()
            scopes[top]["loop"] = .loop(loop)
            try assign(node.target, item, node.pos)
            if try exec(node.body) == .breakLoop { break }
        }
        return .normal
    }

    private func countIteration(_ pos: SourcePos) throws {
        loopIterations += 1
        if loopIterations > limits.maxLoopIterations {
            throw TemplateError(.limit, "template ran more than \(limits.maxLoopIterations) loop iterations", at: pos)
        }
    }

    /// `closure`: for a `call` block's `caller`, the variables visible where the block stands.
    private func makeMacro(_ node: MacroNode, closure: ValueDict? = nil) -> Callable {
        Callable(node.name) { [unowned self] args, kwargs, pos in
            self.callDepth += 1
            defer { self.callDepth -= 1 }
            if self.callDepth > self.limits.maxDepth {
                throw TemplateError(.limit, "macro calls nest deeper than \(self.limits.maxDepth) levels", at: pos)
            }
            var extraKw = ValueDict()
            for (k, v) in kwargs where !node.params.contains(where: { $0.0 == k }) && k != "caller" { extraKw[k] = v }
            let kw = Dictionary(kwargs, uniquingKeysWith: { a, _ in a })
            // Macro bodies see their parameters and the template's top level, not the caller's locals.
            self.scopeFloors.append(self.scopes.count)
            if let c = closure { self.scopes.append(c) }
            self.scopes.append(ValueDict())
            defer {
                self.scopes.removeLast()
                if closure != nil { self.scopes.removeLast() }
                self.scopeFloors.removeLast()
            }
            let top = self.scopes.count - 1
            for (k, (name, def)) in node.params.enumerated() {
                let v: Value
                if k < args.count { v = args[k] }
                else if let given = kw[name] { v = given }
                else if let def = def { v = try self.eval(def) }
                else { v = .undefined("parameter '\(name)' of macro '\(node.name)' was not given") }
                self.scopes[top][name] = v
            }
            self.scopes[top]["varargs"] = .tuple(args.count > node.params.count ? Array(args[node.params.count...]) : [])
            self.scopes[top]["kwargs"] = .dict(extraKw)
            if let c = kw["caller"] { self.scopes[top]["caller"] = c }
            let text = try self.capture { _ = try self.exec(node.body) }
            return .string(text)
        }
    }

    // MARK: expressions

    func eval(_ e: Expr) throws -> Value {
        switch e {
        case .literal(let v):
            return v
        case .name(let n, let pos):
            try step(pos)
            return lookup(n, pos)
        case .list(let items, let pos):
            try checkCount(items.count, pos)
            return .list(try items.map(eval))
        case .tuple(let items):
            return .tuple(try items.map(eval))
        case .dict(let pairs, let pos):
            var d = ValueDict()
            for (ke, ve) in pairs {
                let k = try eval(ke)
                guard case .string(let key) = k else {
                    throw TemplateError(.type, "dict keys must be strings, got \(k.typeName)", at: pos)
                }
                d[key] = try eval(ve)
            }
            return .dict(d)
        case .attribute(let obj, let name, let pos):
            try step(pos)
            return try getAttribute(try eval(obj), name, pos)
        case .index(let obj, let index, let pos):
            try step(pos)
            let o = try eval(obj)
            if case .slice(let a, let b, let c, _) = index {
                return try slice(o, a.map(eval), b.map(eval), c.map(eval), pos)
            }
            return try getItem(o, try eval(index), pos)
        case .slice(_, _, _, let pos):
            throw TemplateError(.syntax, "a slice can only appear inside []", at: pos)
        case .call(let callee, let args, let pos):
            try step(pos)
            let f = try eval(callee)
            var (positional, keyword) = try evalArgs(args)
            return try callValue(f, &positional, keyword, pos)
        case .filter(let value, let name, let args, let pos):
            try step(pos)
            if name == "default" || name == "d" {
                return try filterDefault(try eval(value), args, pos)
            }
            return try applyFilter(name, try eval(value), args, pos)
        case .test(let value, let name, let args, let negated, let pos):
            try step(pos)
            let r = try applyTest(name, try eval(value), args, pos)
            return .bool(negated ? !r : r)
        case .not(let inner):
            return .bool(!(try eval(inner).truthy))
        case .negate(let inner, let pos):
            let v = try eval(inner)
            switch v {
            case .int(let i):
                guard i != Int.min else { throw TemplateError(.limit, "integer overflow", at: pos) }
                return .int(-i)
            case .bool(let b): return .int(b ? -1 : 0)
            case .double(let d): return .double(-d)
            default: throw TemplateError(.type, "bad operand type for unary -: '\(v.typeName)'", at: pos)
            }
        case .plus(let inner, let pos):
            let v = try eval(inner)
            switch v {
            case .int, .double: return v
            case .bool(let b): return .int(b ? 1 : 0)
            default: throw TemplateError(.type, "bad operand type for unary +: '\(v.typeName)'", at: pos)
            }
        case .binary(let op, let l, let r, let pos):
            try step(pos)
            return try binary(op, try eval(l), try eval(r), pos)
        case .compare(let first, let ops, let pos):
            try step(pos)
            var left = try eval(first)
            for (op, re) in ops {
                let right = try eval(re)
                if !(try compare(op, left, right, pos)) { return .bool(false) }
                left = right
            }
            return .bool(true)
        case .and(let l, let r):
            let lv = try eval(l)
            return lv.truthy ? try eval(r) : lv
        case .or(let l, let r):
            let lv = try eval(l)
            return lv.truthy ? lv : try eval(r)
        case .concat(let parts, let pos):
            var s = ""
            for p in parts { s += try eval(p).str }
            try charge(s.utf8.count / 256, pos)
            return try checkSize(s, pos)
        case .conditional(let test, let then, let otherwise):
            if try eval(test).truthy { return try eval(then) }
            if let o = otherwise { return try eval(o) }
            return .undefined("the conditional expression has no else branch")
        }
    }

    func evalArgs(_ args: CallArgs) throws -> ([Value], [(String, Value)]) {
        var p = try args.positional.map(eval)
        var k = try args.keyword.map { ($0.0, try eval($0.1)) }
        if let star = args.star { p += try iterate(try eval(star), args.pos) }
        if let double = args.doubleStar {
            guard case .dict(let d) = try eval(double) else {
                throw TemplateError(.type, "argument after ** must be a mapping", at: args.pos)
            }
            k += d.pairs
        }
        return (p, k)
    }

    func callValue(_ f: Value, _ args: inout [Value], _ kwargs: [(String, Value)], _ pos: SourcePos) throws -> Value {
        switch f {
        case .callable(let c):
            return try c.body(args, kwargs, pos)
        case .undefined(let why):
            throw TemplateError(.undefined, "cannot call an undefined value: \(why)", at: pos)
        default:
            throw TemplateError(.type, "'\(f.typeName)' object is not callable", at: pos)
        }
    }

    // MARK: attribute and item access

    func getAttribute(_ obj: Value, _ name: String, _ pos: SourcePos) throws -> Value {
        switch obj {
        case .undefined(let why):
            throw TemplateError(.undefined, "\(why); cannot read its attribute '\(name)'", at: pos)
        case .dict(let d):
            if let m = dictMethod(d, name, pos) { return m }
            return d[name] ?? .undefined("'dict object' has no attribute '\(name)'")
        case .namespace(let ns):
            return ns.attrs[name] ?? .undefined("'Namespace' object has no attribute '\(name)'")
        case .loop(let l):
            return l.attribute(name)
        case .string(let s):
            return stringMethod(s, name, pos) ?? .undefined("'str object' has no attribute '\(name)'")
        case .list(let a), .tuple(let a):
            return listMethod(a, name, pos) ?? .undefined("'\(obj.typeName) object' has no attribute '\(name)'")
        default:
            return .undefined("'\(obj.typeName) object' has no attribute '\(name)'")
        }
    }

    func getItem(_ obj: Value, _ index: Value, _ pos: SourcePos) throws -> Value {
        switch (obj, index) {
        case (.undefined(let why), _):
            throw TemplateError(.undefined, "\(why); cannot index it", at: pos)
        case (.list(let a), _), (.tuple(let a), _):
            guard let i = asIndex(index) else {
                if case .string(let name) = index { return try getAttribute(obj, name, pos) }
                throw TemplateError(.type, "\(obj.typeName) indices must be integers, not \(index.typeName)", at: pos)
            }
            let k = i < 0 ? i + a.count : i
            return (0..<a.count).contains(k) ? a[k] : .undefined("\(obj.typeName) index \(i) out of range")
        case (.string(let s), _):
            guard let i = asIndex(index) else {
                if case .string(let name) = index { return try getAttribute(obj, name, pos) }
                throw TemplateError(.type, "string indices must be integers, not \(index.typeName)", at: pos)
            }
            let u = Array(s.unicodeScalars)
            let k = i < 0 ? i + u.count : i
            return (0..<u.count).contains(k) ? .string(String(Character(u[k]))) : .undefined("string index \(i) out of range")
        case (.dict(let d), .string(let key)):
            if let v = d[key] { return v }
            return dictMethod(d, key, pos) ?? .undefined("'dict object' has no attribute '\(key)'")
        case (.dict, _):
            return .undefined("'dict object' has no key \(index.repr)")
        case (.namespace, .string(let key)), (.loop, .string(let key)):
            return try getAttribute(obj, key, pos)
        default:
            return .undefined("'\(obj.typeName) object' has no item \(index.repr)")
        }
    }

    private func asIndex(_ v: Value) -> Int? {
        switch v {
        case .int(let i): return i
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    private func slice(_ obj: Value, _ a: Value?, _ b: Value?, _ c: Value?, _ pos: SourcePos) throws -> Value {
        func bound(_ v: Value?) throws -> Int? {
            guard let v = v, !v.isNone else { return nil }
            guard let i = asIndex(v) else { throw TemplateError(.type, "slice indices must be integers or None", at: pos) }
            return i
        }
        let start = try bound(a), stop = try bound(b), stepBy = try bound(c) ?? 1
        guard stepBy != 0 else { throw TemplateError(.type, "slice step cannot be zero", at: pos) }
        func indices(_ n: Int) -> [Int] {
            // Python's slice.indices()
            var lo: Int, hi: Int
            if stepBy > 0 {
                lo = start.map { $0 < 0 ? max($0 + n, 0) : min($0, n) } ?? 0
                hi = stop.map { $0 < 0 ? max($0 + n, 0) : min($0, n) } ?? n
                return lo < hi ? Array(stride(from: lo, to: hi, by: stepBy)) : []
            } else {
                lo = start.map { $0 < 0 ? max($0 + n, -1) : min($0, n - 1) } ?? (n - 1)
                hi = stop.map { $0 < 0 ? max($0 + n, -1) : min($0, n - 1) } ?? -1
                return lo > hi ? Array(stride(from: lo, to: hi, by: stepBy)) : []
            }
        }
        switch obj {
        case .list(let x): return .list(indices(x.count).map { x[$0] })
        case .tuple(let x): return .tuple(indices(x.count).map { x[$0] })
        case .string(let s):
            let u = Array(s.unicodeScalars)
            var view = String.UnicodeScalarView()
            for k in indices(u.count) { view.append(u[k]) }
            return .string(String(view))
        case .undefined(let why):
            throw TemplateError(.undefined, "\(why); cannot slice it", at: pos)
        default:
            throw TemplateError(.type, "'\(obj.typeName)' object is not subscriptable", at: pos)
        }
    }

    /// What `for x in value` walks over.
    func iterate(_ v: Value, _ pos: SourcePos) throws -> [Value] {
        switch v {
        case .list(let a), .tuple(let a): return a
        case .dict(let d): return d.keys.map { .string($0) }
        case .string(let s): return s.unicodeScalars.map { .string(String(Character($0))) }
        case .undefined: return []
        case .namespace(let ns): return ns.attrs.keys.map { .string($0) }
        default: throw TemplateError(.type, "'\(v.typeName)' object is not iterable", at: pos)
        }
    }

    // MARK: globals

    private func range(_ args: [Value], _ pos: SourcePos) throws -> Value {
        var ints: [Int] = []
        for a in args {
            guard let i = asIndex(a) else { throw TemplateError(.type, "range() arguments must be integers", at: pos) }
            ints.append(i)
        }
        let start: Int, stop: Int, by: Int
        switch ints.count {
        case 1: (start, stop, by) = (0, ints[0], 1)
        case 2: (start, stop, by) = (ints[0], ints[1], 1)
        case 3: (start, stop, by) = (ints[0], ints[1], ints[2])
        default: throw TemplateError(.type, "range() takes 1 to 3 arguments", at: pos)
        }
        guard by != 0 else { throw TemplateError(.type, "range() step must not be zero", at: pos) }
        let span = by > 0 ? stop.subtractingReportingOverflow(start) : start.subtractingReportingOverflow(stop)
        guard !span.overflow else { throw TemplateError(.limit, "range() is too large", at: pos) }
        let magnitude = by.magnitude
        let count = span.partialValue <= 0 ? 0 : Int((UInt(span.partialValue) + magnitude - 1) / magnitude)
        guard count <= limits.maxRangeLength else {
            throw TemplateError(.limit, "range() of \(count) items exceeds the limit of \(limits.maxRangeLength)", at: pos)
        }
        return .list((0..<count).map { .int(start &+ $0 &* by) })
    }
}
