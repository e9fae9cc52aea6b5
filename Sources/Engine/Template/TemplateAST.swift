/// Syntax tree of a parsed template.
indirect enum Expr {
    case literal(Value)
    case name(String, SourcePos)
    case list([Expr], SourcePos)
    case tuple([Expr])
    case dict([(Expr, Expr)], SourcePos)
    case attribute(Expr, String, SourcePos)
    case index(Expr, Expr, SourcePos)
    case slice(Expr?, Expr?, Expr?, SourcePos)
    case call(Expr, CallArgs, SourcePos)
    case filter(Expr, String, CallArgs, SourcePos)
    case test(Expr, String, CallArgs, negated: Bool, SourcePos)
    case not(Expr)
    case negate(Expr, SourcePos)
    case plus(Expr, SourcePos)
    case binary(BinaryOp, Expr, Expr, SourcePos)
    case compare(Expr, [(CompareOp, Expr)], SourcePos)
    case and(Expr, Expr)
    case or(Expr, Expr)
    case concat([Expr], SourcePos)
    case conditional(test: Expr, then: Expr, otherwise: Expr?)
}

struct CallArgs {
    var pos = SourcePos.unknown    // the opening parenthesis
    var positional: [Expr] = []
    var keyword: [(String, Expr)] = []
    var star: Expr? = nil          // f(*xs)
    var doubleStar: Expr? = nil    // f(**d)
}

enum BinaryOp: String {
    case add = "+", sub = "-", mul = "*", div = "/", floorDiv = "//", mod = "%", pow = "**"
}

enum CompareOp: String {
    case eq = "==", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">=", isIn = "in", notIn = "not in"
}

/// Left side of `set` and `for`.
indirect enum AssignTarget {
    case name(String)
    case attribute(String, String)   // ns.attr
    case tuple([AssignTarget])
}

struct ForNode {
    var target: AssignTarget
    var iterable: Expr
    var condition: Expr?
    var body: [Stmt]
    var elseBody: [Stmt]
    var pos: SourcePos
}

struct MacroNode {
    var name: String
    var params: [(String, Expr?)]
    var body: [Stmt]
    var pos: SourcePos
}

indirect enum Stmt {
    case text(String, SourcePos)
    case output(Expr, SourcePos)
    case ifChain([(Expr, [Stmt])], otherwise: [Stmt])
    case forLoop(ForNode)
    case set(AssignTarget, Expr, SourcePos)
    case setBlock(AssignTarget, [Stmt], filters: [(String, CallArgs, SourcePos)], SourcePos)
    case macro(MacroNode)
    case callBlock(call: Expr, callerParams: [(String, Expr?)], body: [Stmt], SourcePos)
    case filterBlock(filters: [(String, CallArgs, SourcePos)], body: [Stmt], SourcePos)
    case generation([Stmt], SourcePos)   // HF's {% generation %}: marks assistant text for loss masks
    case breakLoop(SourcePos)
    case continueLoop(SourcePos)
}
