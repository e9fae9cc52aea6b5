/// Recursive-descent parser for the jinja2 subset chat templates use. Operator precedence,
/// from loosest: `a if c else b`, `or`, `and`, `not`, comparisons and `in`, `+ -`, `~`,
/// `* / // %`, `**`, unary `- +`, then postfix (`.x`, `[i]`, `(...)`) and `|filter` / `is test`.
struct TemplateParser {
    private let tokens: [Token]
    private var i = 0
    private var depth = 0
    private var loopDepth = 0
    private let maxDepth: Int

    init(tokens: [Token], maxDepth: Int) {
        self.tokens = tokens
        self.maxDepth = maxDepth
    }

    mutating func parseTemplate() throws -> [Stmt] {
        let (body, _) = try parseBody(until: [], opener: nil)
        return body
    }

    // MARK: token helpers

    private var current: Token { tokens[i] }
    private var pos: SourcePos { tokens[i].pos }
    private func peek(_ k: Int = 1) -> Token { tokens[min(i + k, tokens.count - 1)] }
    private mutating func next() -> Token { let t = tokens[i]; if i < tokens.count - 1 { i += 1 }; return t }

    private func isOp(_ op: String, _ t: Token? = nil) -> Bool {
        if case .op(let o) = (t ?? current).kind { return o == op }
        return false
    }
    private func isName(_ n: String, _ t: Token? = nil) -> Bool {
        if case .name(let x) = (t ?? current).kind { return x == n }
        return false
    }

    private func unexpected(_ expected: String) -> TemplateError {
        TemplateError(.syntax, "unexpected \(current.describe), expected \(expected)", at: pos)
    }

    private mutating func expectOp(_ op: String) throws {
        guard isOp(op) else { throw unexpected("'\(op)'") }
        _ = next()
    }

    private mutating func expectName(_ n: String) throws {
        guard isName(n) else { throw unexpected("'\(n)'") }
        _ = next()
    }

    private mutating func expectBlockEnd() throws {
        guard case .blockEnd = current.kind else { throw unexpected("end of tag '%}'") }
        _ = next()
    }

    private mutating func identifier() throws -> String {
        guard case .name(let n) = current.kind else { throw unexpected("a name") }
        _ = next()
        return n
    }

    private mutating func enter(_ at: SourcePos) throws {
        depth += 1
        if depth > maxDepth {
            throw TemplateError(.limit, "template nests deeper than \(maxDepth) levels", at: at)
        }
    }
    private mutating func leave() { depth -= 1 }

    // MARK: statements

    /// Parses statements until a block tag named in `until`; returns the body and that tag's
    /// name, with the cursor just after the name.
    private mutating func parseBody(until: Set<String>, opener: (String, SourcePos)?) throws -> ([Stmt], String) {
        var body: [Stmt] = []
        while true {
            let t = current
            switch t.kind {
            case .eof:
                if let (tag, at) = opener {
                    let want = until.sorted().map { "'\($0)'" }.joined(separator: " or ")
                    throw TemplateError(.syntax, "unclosed '\(tag)' block: reached the end of the template looking for \(want)", at: at)
                }
                return (body, "")
            case .text(let s):
                _ = next()
                body.append(.text(s, t.pos))
            case .variableBegin:
                _ = next()
                let p = pos
                let e = try parseTuple()
                guard case .variableEnd = current.kind else { throw unexpected("end of print statement '}}'") }
                _ = next()
                body.append(.output(e, p))
            case .blockBegin:
                _ = next()
                guard case .name(let tag) = current.kind else { throw unexpected("a tag name") }
                if until.contains(tag) {
                    _ = next()
                    return (body, tag)
                }
                body.append(try parseStatement(tag: tag, at: t.pos))
            default:
                throw unexpected("template text or a tag")
            }
        }
    }

    private mutating func parseStatement(tag: String, at: SourcePos) throws -> Stmt {
        try enter(at)
        defer { leave() }
        _ = next()
        switch tag {
        case "for": return try parseFor(at: at)
        case "if": return try parseIf(at: at)
        case "set": return try parseSet(at: at)
        case "macro": return try parseMacro(at: at)
        case "call": return try parseCallBlock(at: at)
        case "filter":
            let filters = try parseFilterChain(requireOne: true)
            try expectBlockEnd()
            let (body, _) = try parseBody(until: ["endfilter"], opener: ("filter", at))
            try expectBlockEnd()
            return .filterBlock(filters: filters, body: body, at)
        case "generation":
            try expectBlockEnd()
            let (body, _) = try parseBody(until: ["endgeneration"], opener: ("generation", at))
            try expectBlockEnd()
            return .generation(body, at)
        case "break", "continue":
            guard loopDepth > 0 else {
                throw TemplateError(.syntax, "'\(tag)' outside of a for loop", at: at)
            }
            try expectBlockEnd()
            return tag == "break" ? .breakLoop(at) : .continueLoop(at)
        case "extends", "include", "import", "from", "block", "with", "autoescape", "do", "endraw":
            throw TemplateError(.syntax, "tag '\(tag)' is not supported in chat templates", at: at)
        default:
            if tag.hasPrefix("end") || tag == "else" || tag == "elif" {
                throw TemplateError(.syntax, "unexpected '\(tag)': no open block it could close", at: at)
            }
            throw TemplateError(.syntax, "unknown tag '\(tag)'", at: at)
        }
    }

    private mutating func parseFor(at: SourcePos) throws -> Stmt {
        let target = try parseAssignTarget(allowNamespace: false)
        try expectName("in")
        let iterable = try parseTuple(withCondexpr: false, extraEnd: ["recursive", "if"])
        var condition: Expr? = nil
        if isName("if") {
            _ = next()
            condition = try parseExpression()
        }
        if isName("recursive") {
            throw TemplateError(.syntax, "recursive for loops are not supported", at: pos)
        }
        try expectBlockEnd()
        loopDepth += 1
        let (body, end) = try parseBody(until: ["endfor", "else"], opener: ("for", at))
        loopDepth -= 1
        var elseBody: [Stmt] = []
        if end == "else" {
            try expectBlockEnd()
            (elseBody, _) = try parseBody(until: ["endfor"], opener: ("for", at))
        }
        try expectBlockEnd()
        return .forLoop(ForNode(target: target, iterable: iterable, condition: condition, body: body, elseBody: elseBody, pos: at))
    }

    private mutating func parseIf(at: SourcePos) throws -> Stmt {
        var branches: [(Expr, [Stmt])] = []
        var cond = try parseTuple(withCondexpr: false)
        while true {
            try expectBlockEnd()
            let (body, end) = try parseBody(until: ["elif", "else", "endif"], opener: ("if", at))
            branches.append((cond, body))
            switch end {
            case "elif":
                cond = try parseTuple(withCondexpr: false)
            case "else":
                try expectBlockEnd()
                let (otherwise, _) = try parseBody(until: ["endif"], opener: ("if", at))
                try expectBlockEnd()
                return .ifChain(branches, otherwise: otherwise)
            default:
                try expectBlockEnd()
                return .ifChain(branches, otherwise: [])
            }
        }
    }

    private mutating func parseSet(at: SourcePos) throws -> Stmt {
        let target = try parseAssignTarget(allowNamespace: true)
        if isOp("=") {
            _ = next()
            let value = try parseTuple()
            try expectBlockEnd()
            return .set(target, value, at)
        }
        let filters = try parseFilterChain(requireOne: false)
        try expectBlockEnd()
        let (body, _) = try parseBody(until: ["endset"], opener: ("set", at))
        try expectBlockEnd()
        return .setBlock(target, body, filters: filters, at)
    }

    private mutating func parseMacro(at: SourcePos) throws -> Stmt {
        let name = try identifier()
        let params = try parseParams()
        try expectBlockEnd()
        let savedLoop = loopDepth
        loopDepth = 0
        let (body, _) = try parseBody(until: ["endmacro"], opener: ("macro", at))
        loopDepth = savedLoop
        if case .name = current.kind { _ = next() }
        try expectBlockEnd()
        return .macro(MacroNode(name: name, params: params, body: body, pos: at))
    }

    private mutating func parseCallBlock(at: SourcePos) throws -> Stmt {
        var params: [(String, Expr?)] = []
        if isOp("(") { params = try parseParams() }
        let call = try parseExpression()
        guard case .call = call else {
            throw TemplateError(.syntax, "'call' needs a macro call, like {% call m() %}", at: at)
        }
        try expectBlockEnd()
        let (body, _) = try parseBody(until: ["endcall"], opener: ("call", at))
        try expectBlockEnd()
        return .callBlock(call: call, callerParams: params, body: body, at)
    }

    private mutating func parseParams() throws -> [(String, Expr?)] {
        try expectOp("(")
        var params: [(String, Expr?)] = []
        while !isOp(")") {
            if !params.isEmpty { try expectOp(",") }
            if isOp(")") { break }
            let n = try identifier()
            var def: Expr? = nil
            if isOp("=") { _ = next(); def = try parseExpression() }
            params.append((n, def))
        }
        _ = next()
        return params
    }

    private mutating func parseAssignTarget(allowNamespace: Bool) throws -> AssignTarget {
        var targets: [AssignTarget] = []
        let parenthesized = isOp("(")
        if parenthesized { _ = next() }
        repeat {
            if !targets.isEmpty { _ = next() }     // the comma
            if parenthesized && isOp(")") { break }
            let n = try identifier()
            if allowNamespace && isOp(".") {
                _ = next()
                targets.append(.attribute(n, try identifier()))
            } else {
                targets.append(.name(n))
            }
        } while isOp(",")
        if parenthesized { try expectOp(")") }
        return targets.count == 1 && !parenthesized ? targets[0] : .tuple(targets)
    }

    private mutating func parseFilterChain(requireOne: Bool) throws -> [(String, CallArgs, SourcePos)] {
        var out: [(String, CallArgs, SourcePos)] = []
        if requireOne {
            let p = pos
            let n = try dottedName()
            out.append((n, isOp("(") ? try parseCallArgs() : CallArgs(), p))
        }
        while isOp("|") {
            _ = next()
            let p = pos
            let n = try dottedName()
            out.append((n, isOp("(") ? try parseCallArgs() : CallArgs(), p))
        }
        return out
    }

    // MARK: expressions

    private func isTupleEnd(_ extraEnd: Set<String>) -> Bool {
        switch current.kind {
        case .variableEnd, .blockEnd, .eof: return true
        case .op(let o): return o == ")"
        case .name(let n): return extraEnd.contains(n)
        default: return false
        }
    }

    private mutating func parseTuple(withCondexpr: Bool = true, extraEnd: Set<String> = [], explicitParens: Bool = false) throws -> Expr {
        let p = pos
        var items: [Expr] = []
        var sawComma = false
        while true {
            if !items.isEmpty {
                guard isOp(",") else { break }
                _ = next()
                sawComma = true
            }
            if isTupleEnd(extraEnd) { break }
            items.append(withCondexpr ? try parseExpression() : try parseOr())
            if !isOp(",") { break }
        }
        if !sawComma {
            if let only = items.first { return only }
            if !explicitParens { throw TemplateError(.syntax, "expected an expression, got \(current.describe)", at: p) }
        }
        return .tuple(items)
    }

    mutating func parseExpression() throws -> Expr {
        try enter(pos)
        defer { leave() }
        let e = try parseOr()
        if isName("if") {
            _ = next()
            let test = try parseOr()
            var otherwise: Expr? = nil
            if isName("else") {
                _ = next()
                otherwise = try parseExpression()
            }
            return .conditional(test: test, then: e, otherwise: otherwise)
        }
        return e
    }

    private mutating func parseOr() throws -> Expr {
        var wrapped = 0
        defer { depth -= wrapped }
        var left = try parseAnd()
        while isName("or") { try enter(pos); wrapped += 1; _ = next(); left = .or(left, try parseAnd()) }
        return left
    }

    private mutating func parseAnd() throws -> Expr {
        var wrapped = 0
        defer { depth -= wrapped }
        var left = try parseNot()
        while isName("and") { try enter(pos); wrapped += 1; _ = next(); left = .and(left, try parseNot()) }
        return left
    }

    private mutating func parseNot() throws -> Expr {
        if isName("not") {
            let p = pos
            _ = next()
            try enter(p)
            defer { leave() }
            return .not(try parseNot())
        }
        return try parseCompare()
    }

    private mutating func parseCompare() throws -> Expr {
        let p = pos
        let first = try parseMath1()
        var ops: [(CompareOp, Expr)] = []
        while true {
            if case .op(let o) = current.kind, let op = CompareOp(rawValue: o), op != .isIn, op != .notIn {
                _ = next()
                ops.append((op, try parseMath1()))
            } else if isName("in") {
                _ = next()
                ops.append((.isIn, try parseMath1()))
            } else if isName("not"), isName("in", peek()) {
                _ = next(); _ = next()
                ops.append((.notIn, try parseMath1()))
            } else {
                break
            }
        }
        return ops.isEmpty ? first : .compare(first, ops, p)
    }

    private mutating func parseMath1() throws -> Expr {
        var wrapped = 0
        defer { depth -= wrapped }
        var left = try parseConcat()
        while isOp("+") || isOp("-") {
            let p = pos
            try enter(p); wrapped += 1
            let op: BinaryOp = isOp("+") ? .add : .sub
            _ = next()
            left = .binary(op, left, try parseConcat(), p)
        }
        return left
    }

    private mutating func parseConcat() throws -> Expr {
        let p = pos
        var parts = [try parseMath2()]
        while isOp("~") { _ = next(); parts.append(try parseMath2()) }
        return parts.count == 1 ? parts[0] : .concat(parts, p)
    }

    private mutating func parseMath2() throws -> Expr {
        var wrapped = 0
        defer { depth -= wrapped }
        var left = try parsePow()
        while true {
            let p = pos
            let op: BinaryOp
            if isOp("*") { op = .mul } else if isOp("/") { op = .div } else if isOp("//") { op = .floorDiv } else if isOp("%") { op = .mod } else { break }
            try enter(p); wrapped += 1
            _ = next()
            left = .binary(op, left, try parsePow(), p)
        }
        return left
    }

    private mutating func parsePow() throws -> Expr {
        var wrapped = 0
        defer { depth -= wrapped }
        var left = try parseUnary(withFilter: true)
        while isOp("**") {
            let p = pos
            try enter(p); wrapped += 1
            _ = next()
            left = .binary(.pow, left, try parseUnary(withFilter: true), p)
        }
        return left
    }

    private mutating func parseUnary(withFilter: Bool) throws -> Expr {
        let p = pos
        var node: Expr
        if isOp("-") || isOp("+") {
            let minus = isOp("-")
            _ = next()
            try enter(p)
            let inner = try parseUnary(withFilter: false)
            leave()
            node = minus ? .negate(inner, p) : .plus(inner, p)
        } else {
            node = try parsePrimary()
        }
        node = try parsePostfix(node, startPos: p)
        if withFilter { node = try parseFilterExpr(node) }
        return node
    }

    private mutating func parsePrimary() throws -> Expr {
        let t = current
        switch t.kind {
        case .name(let n):
            _ = next()
            switch n {
            case "true", "True": return .literal(.bool(true))
            case "false", "False": return .literal(.bool(false))
            case "none", "None": return .literal(.none)
            default: return .name(n, t.pos)
            }
        case .string(var s):
            _ = next()
            while case .string(let more) = current.kind { s += more; _ = next() }
            return .literal(.string(s))
        case .integer(let v): _ = next(); return .literal(.int(v))
        case .float(let v): _ = next(); return .literal(.double(v))
        case .op("("):
            _ = next()
            try enter(t.pos)
            defer { leave() }
            let e = try parseTuple(explicitParens: true)
            try expectOp(")")
            return e
        case .op("["):
            _ = next()
            try enter(t.pos)
            defer { leave() }
            var items: [Expr] = []
            while !isOp("]") {
                if !items.isEmpty { try expectOp(",") }
                if isOp("]") { break }
                items.append(try parseExpression())
            }
            _ = next()
            return .list(items, t.pos)
        case .op("{"):
            _ = next()
            try enter(t.pos)
            defer { leave() }
            var items: [(Expr, Expr)] = []
            while !isOp("}") {
                if !items.isEmpty { try expectOp(",") }
                if isOp("}") { break }
                let k = try parseExpression()
                try expectOp(":")
                items.append((k, try parseExpression()))
            }
            _ = next()
            return .dict(items, t.pos)
        default:
            throw unexpected("an expression")
        }
    }

    /// `startPos` is where the whole expression began; calls report errors there.
    private mutating func parsePostfix(_ start: Expr, startPos: SourcePos) throws -> Expr {
        var wrapped = 0
        defer { depth -= wrapped }
        var node = start
        while true {
            let p = pos
            if isOp(".") || isOp("[") || isOp("(") { try enter(p); wrapped += 1 }
            if isOp(".") {
                _ = next()
                switch current.kind {
                case .name(let n): _ = next(); node = .attribute(node, n, p)
                case .integer(let k): _ = next(); node = .index(node, .literal(.int(k)), p)
                default: throw unexpected("an attribute name after '.'")
                }
            } else if isOp("[") {
                _ = next()
                try enter(p)
                let sub = try parseSubscript()
                leave()
                try expectOp("]")
                node = .index(node, sub, p)
            } else if isOp("(") {
                node = .call(node, try parseCallArgs(), startPos)
            } else {
                return node
            }
        }
    }

    private mutating func parseSubscript() throws -> Expr {
        let p = pos
        var parts: [Expr?] = []
        var current: Expr? = nil
        var sawColon = false
        while true {
            if isOp(":") {
                sawColon = true
                parts.append(current)
                current = nil
                _ = next()
                if parts.count > 2 { throw unexpected("']'") }
                continue
            }
            if isOp("]") { break }
            if current != nil { throw unexpected("':' or ']'") }
            current = try parseExpression()
        }
        if !sawColon {
            guard let only = current else { throw unexpected("an index") }
            return only
        }
        parts.append(current)
        while parts.count < 3 { parts.append(nil) }
        return .slice(parts[0], parts[1], parts[2], p)
    }

    private mutating func parseCallArgs() throws -> CallArgs {
        var args = CallArgs()
        args.pos = pos
        try expectOp("(")
        var first = true
        while !isOp(")") {
            if !first { try expectOp(",") }
            first = false
            if isOp(")") { break }
            if isOp("*") {
                _ = next()
                args.star = try parseExpression()
            } else if isOp("**") {
                _ = next()
                args.doubleStar = try parseExpression()
            } else if case .name(let n) = current.kind, isOp("=", peek()) {
                _ = next(); _ = next()
                args.keyword.append((n, try parseExpression()))
            } else {
                if !args.keyword.isEmpty || args.star != nil || args.doubleStar != nil {
                    throw TemplateError(.syntax, "positional argument after keyword or * arguments", at: pos)
                }
                args.positional.append(try parseExpression())
            }
        }
        _ = next()
        return args
    }

    private mutating func dottedName() throws -> String {
        var n = try identifier()
        while isOp("."), case .name(let more) = peek().kind {
            _ = next(); _ = next()
            n += "." + more
        }
        return n
    }

    private mutating func parseFilterExpr(_ start: Expr) throws -> Expr {
        var wrapped = 0
        defer { depth -= wrapped }
        var node = start
        while true {
            if isOp("|") || isName("is") || isOp("(") { try enter(pos); wrapped += 1 }
            if isOp("|") {
                _ = next()
                let p = pos
                let name = try dottedName()
                let args = isOp("(") ? try parseCallArgs() : CallArgs()
                node = .filter(node, name, args, p)
            } else if isName("is") {
                let p = pos
                _ = next()
                var negated = false
                if isName("not") { _ = next(); negated = true }
                let name = try dottedName()
                var args = CallArgs()
                if isOp("(") {
                    args = try parseCallArgs()
                } else if startsPrimaryArgument() {
                    let argPos = pos
                    var arg = try parsePrimary()
                    arg = try parsePostfix(arg, startPos: argPos)
                    args.positional = [arg]
                }
                node = .test(node, name, args, negated: negated, p)
            } else if isOp("(") {
                node = .call(node, try parseCallArgs(), pos)
            } else {
                return node
            }
        }
    }

    /// jinja2 lets a test take one argument without parentheses: `x is divisibleby 3`.
    private func startsPrimaryArgument() -> Bool {
        switch current.kind {
        case .string, .integer, .float: return true
        case .name(let n): return !["else", "or", "and", "if", "is", "in", "not"].contains(n)
        case .op(let o): return o == "[" || o == "{"
        default: return false
        }
    }
}
