/// The interpreter's value: the public `TemplateValue` cases plus what only exists while a
/// template runs (tuples, namespaces, callables, the `loop` object).
enum Value {
    case undefined(String)        // the name that was looked up, for error messages
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([Value])
    case tuple([Value])
    case dict(ValueDict)
    case namespace(Namespace)
    case callable(Callable)
    case loop(LoopState)

    init(_ v: TemplateValue) {
        switch v {
        case .string(let s): self = .string(s)
        case .int(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .bool(let b): self = .bool(b)
        case .none: self = .none
        case .undefined: self = .undefined("")
        case .array(let a): self = .list(a.map(Value.init))
        case .dict(let d):
            var out = ValueDict()
            for (k, x) in d.pairs { out[k] = Value(x) }
            self = .dict(out)
        }
    }

    var isUndefined: Bool { if case .undefined = self { return true } else { return false } }
    var isNone: Bool { if case .none = self { return true } else { return false } }

    var truthy: Bool {
        switch self {
        case .undefined, .none: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .double(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .list(let a), .tuple(let a): return !a.isEmpty
        case .dict(let d): return d.count > 0
        case .namespace, .callable, .loop: return true
        }
    }

    var typeName: String {
        switch self {
        case .undefined: return "undefined"
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "str"
        case .list: return "list"
        case .tuple: return "tuple"
        case .dict: return "dict"
        case .namespace: return "Namespace"
        case .callable: return "function"
        case .loop: return "LoopContext"
        }
    }

    /// Python's `str()`.
    var str: String {
        switch self {
        case .undefined: return ""
        case .string(let s): return s
        default: return repr
        }
    }

    /// Python's `repr()`.
    var repr: String {
        switch self {
        case .undefined: return ""
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .double(let d): return Value.formatDouble(d)
        case .string(let s): return Value.reprString(s)
        case .list(let a): return "[" + a.map(\.repr).joined(separator: ", ") + "]"
        case .tuple(let a): return a.count == 1 ? "(" + a[0].repr + ",)" : "(" + a.map(\.repr).joined(separator: ", ") + ")"
        case .dict(let d): return "{" + d.pairs.map { Value.reprString($0.0) + ": " + $0.1.repr }.joined(separator: ", ") + "}"
        case .namespace(let n): return "<Namespace " + Value.dict(n.attrs).repr + ">"
        case .callable(let c): return "<function \(c.name)>"
        case .loop: return "<LoopContext>"
        }
    }

    static func formatDouble(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        return String(d)   // Swift's shortest round-trip form matches Python's repr
    }

    static func reprString(_ s: String) -> String {
        let quote: Character = (s.contains("'") && !s.contains("\"")) ? "\"" : "'"
        var out = String(quote)
        for u in s.unicodeScalars {
            switch u {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if Character(u) == quote { out += "\\" + String(quote) }
                else if u.value < 0x20 || u.value == 0x7F { out += "\\x" + hex2(u.value) }
                else { out.unicodeScalars.append(u) }
            }
        }
        out.append(quote)
        return out
    }

    private static func hex2(_ v: UInt32) -> String {
        let h = String(v, radix: 16)
        return h.count < 2 ? "0" + h : h
    }

    func toTemplateValue() -> TemplateValue {
        switch self {
        case .undefined: return .undefined
        case .none: return .none
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .list(let a), .tuple(let a): return .array(a.map { $0.toTemplateValue() })
        case .dict(let d): return .dict(TemplateDict(d.pairs.map { ($0.0, $0.1.toTemplateValue()) }))
        case .namespace(let n): return .dict(TemplateDict(n.attrs.pairs.map { ($0.0, $0.1.toTemplateValue()) }))
        case .callable, .loop: return .undefined
        }
    }
}

/// Insertion-ordered string-keyed dictionary of interpreter values.
struct ValueDict {
    private(set) var keys: [String] = []
    private var storage: [String: Value] = [:]

    subscript(key: String) -> Value? {
        get { storage[key] }
        set {
            if let v = newValue {
                if storage.updateValue(v, forKey: key) == nil { keys.append(key) }
            } else if storage.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    var count: Int { keys.count }
    var pairs: [(String, Value)] { keys.map { ($0, storage[$0]!) } }
    var values: [Value] { keys.map { storage[$0]! } }

    mutating func removeAll() {
        keys.removeAll(keepingCapacity: true)
        storage.removeAll(keepingCapacity: true)
    }
}

/// `namespace(...)`: the one mutable object templates get, so `set ns.x = ...` inside a
/// loop is visible after it.
final class Namespace {
    var attrs: ValueDict
    init(_ attrs: ValueDict) { self.attrs = attrs }
}

/// A built-in function, a bound method, or a macro.
final class Callable {
    typealias Body = (_ args: [Value], _ kwargs: [(String, Value)], _ pos: SourcePos) throws -> Value
    let name: String
    let body: Body
    init(_ name: String, _ body: @escaping Body) { self.name = name; self.body = body }
}

/// The `loop` variable inside a for loop.
final class LoopState {
    let items: [Value]
    var index0 = 0
    private var lastChanged: [Value]? = nil
    let depth0: Int
    init(items: [Value], depth0: Int) { self.items = items; self.depth0 = depth0 }

    func attribute(_ name: String) -> Value {
        let n = items.count
        switch name {
        case "index": return .int(index0 + 1)
        case "index0": return .int(index0)
        case "revindex": return .int(n - index0)
        case "revindex0": return .int(n - index0 - 1)
        case "first": return .bool(index0 == 0)
        case "last": return .bool(index0 == n - 1)
        case "length": return .int(n)
        case "depth": return .int(depth0 + 1)
        case "depth0": return .int(depth0)
        case "previtem": return index0 > 0 ? items[index0 - 1] : .undefined("previtem")
        case "nextitem": return index0 + 1 < n ? items[index0 + 1] : .undefined("nextitem")
        case "cycle":
            let i = index0
            return .callable(Callable("loop.cycle") { args, _, pos in
                guard !args.isEmpty else { throw TemplateError(.type, "loop.cycle() needs at least one argument", at: pos) }
                return args[i % args.count]
            })
        case "changed":
            return .callable(Callable("loop.changed") { [unowned self] args, _, _ in
                defer { self.lastChanged = args }
                guard let last = self.lastChanged, last.count == args.count else { return .bool(true) }
                return .bool(!zip(last, args).allSatisfy { Value.sameValue($0, $1) })
            })
        default: return .undefined(name)
        }
    }
}

extension Value {
    /// Equality for `loop.changed`, without needing an interpreter.
    static func sameValue(_ a: Value, _ b: Value) -> Bool { a.repr == b.repr && a.typeName == b.typeName }
}
