/// The ms-swift commands (`swift <command> ...`); each is also a `tune` verb.
public enum Command: String, CaseIterable, Sendable, Hashable, Comparable {
    case pt, sft, rlhf, infer, deploy, app, eval, export, sample
    case mergeLora = "merge-lora"
    case webUI = "web-ui"
    case rollout

    public static func < (a: Command, b: Command) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

extension Set where Element == Command {
    /// Every command (the reference's Base Arguments).
    static let every = Set(Command.allCases)
    /// Commands built on ms-swift's BaseArguments (model, data, template, generation, quantization).
    static let base = Set(Command.allCases).subtracting([.webUI])
    /// The training commands (Seq2SeqTrainer, tuner and training arguments).
    static let training: Set<Command> = [.pt, .sft, .rlhf]
    /// Inference and everything that inherits from it (deploy, rollout, app, eval).
    static let inference: Set<Command> = [.infer, .deploy, .rollout, .app, .eval]
    /// Deployment and what inherits from it.
    static let deployment: Set<Command> = [.deploy, .rollout, .app, .eval]
    /// Export (merge-lora is export with `merge_lora true`).
    static let export: Set<Command> = [.export, .mergeLora]
}

/// The shape of value an argument takes.
public indirect enum ArgumentType: Equatable, Sendable {
    case bool
    case int
    case float
    case string
    /// A JSON object (ms-swift's dict arguments), e.g. `'{"k": 1}'`.
    case json
    /// Exactly one of these strings.
    case choice([String])
    /// Any string; these are the documented or common values (for completion and help).
    case openChoice([String])
    /// Space-separated words, each of the element type.
    case list(of: ArgumentType)
    /// The first type that accepts the value (e.g. a bool or a named init method).
    case either(ArgumentType, ArgumentType)

    public static let intOrString = ArgumentType.either(.int, .string)

    /// The documented choices, if any (for completion and error messages).
    public var choices: [String] {
        switch self {
        case .choice(let c), .openChoice(let c): return c
        case .list(let e): return e.choices
        case .either(let a, let b): return a.choices + b.choices
        default: return []
        }
    }

    /// Human wording of what is expected, used in help and errors ("an integer", ...).
    public var expectation: String {
        switch self {
        case .bool: return "a boolean (true/false)"
        case .int: return "an integer"
        case .float: return "a number"
        case .string: return "a string"
        case .json: return "a JSON object"
        case .choice(let c): return "one of " + c.map { "'\($0)'" }.joined(separator: ", ")
        case .openChoice: return "a string"
        case .list(let e): return "a list of " + e.pluralNoun
        case .either(let a, let b): return a.expectation + " or " + b.expectation
        }
    }

    var pluralNoun: String {
        switch self {
        case .bool: return "booleans"
        case .int: return "integers"
        case .float: return "numbers"
        case .json: return "JSON objects"
        case .choice(let c): return "values from " + c.map { "'\($0)'" }.joined(separator: ", ")
        default: return "strings"
        }
    }

    public var isList: Bool { if case .list = self { return true } else { return false } }
}

/// An inclusive numeric range a value must lie in (`minExclusive` makes the lower end open).
public struct ValueRange: Equatable, Sendable {
    public var min: Double?
    public var max: Double?
    public var minExclusive = false

    public static let unit = ValueRange(min: 0, max: 1)
    public static let nonNegative = ValueRange(min: 0, max: nil)
    public static let positive = ValueRange(min: 0, max: nil, minExclusive: true)
    /// Counts where -1 means "no limit".
    public static let minusOneOrMore = ValueRange(min: -1, max: nil)

    public func contains(_ x: Double) -> Bool {
        if let lo = min, minExclusive ? !(x > lo) : !(x >= lo) { return false }
        if let hi = max, !(x <= hi) { return false }
        return true
    }

    public var description: String {
        func f(_ x: Double) -> String { x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : "\(x)" }
        switch (min, max) {
        case let (lo?, hi?): return "a value in \(minExclusive ? "(" : "[")\(f(lo)), \(f(hi))]"
        case let (lo?, nil): return minExclusive ? "a value > \(f(lo))" : "a value >= \(f(lo))"
        case let (nil, hi?): return "a value <= \(f(hi))"
        case (nil, nil): return "any value"
        }
    }
}

/// Whether this CPU-only engine does what an argument asks for.
public enum EngineSupport: Equatable, Sendable {
    case supported
    /// Any value other than "off" (None, false, the documented default, an empty list) is an error.
    case unsupported(reason: String, instead: String)
    /// Only these choices are available; the others are errors.
    case restricted(allowedChoices: [String], reason: String, instead: String)
}

/// An argument or a documented environment variable.
public enum ArgumentKind: Sendable, Equatable {
    case argument
    case environment
}

/// A default the reference computes from other resolved values (or from the run's situation).
public struct DerivedDefault: Sendable {
    /// One line for `help`, e.g. "1e-4 for LoRA and other tuners, 1e-5 for full".
    public let summary: String
    /// Returns nil when the value is left to the engine (read from the model's files, etc.).
    public let resolve: @Sendable (DefaultContext) -> ArgumentValue?

    public init(_ summary: String, _ resolve: @escaping @Sendable (DefaultContext) -> ArgumentValue?) {
        self.summary = summary
        self.resolve = resolve
    }
}

/// What a derived default can look at.
public struct DefaultContext {
    public let command: Command
    /// True at the REPL / in `chat`, false for batch runs over a dataset.
    public let interactive: Bool
    /// Number of training processes (always 1 on this engine).
    public let worldSize: Int
    let lookup: (String) -> ArgumentValue?

    /// The resolved value of another argument (explicit, else its own default).
    public func value(_ name: String) -> ArgumentValue? { lookup(name) }
    public func string(_ name: String) -> String? { value(name)?.stringValue }
    public func int(_ name: String) -> Int? { value(name)?.intValue }
    public func bool(_ name: String) -> Bool? { value(name)?.boolValue }
}

/// Everything the registry knows about one argument.
public struct ArgumentSpec: Sendable {
    public let name: String
    /// Other accepted spellings (later or earlier ms-swift names).
    public let aliases: [String]
    public let type: ArgumentType
    /// The documented default; `.none` for "None", nil when the reference gives none.
    public let defaultValue: ArgumentValue?
    /// Defaults that differ by command (e.g. `loss_scale` is 'last_round' for rlhf).
    public let commandDefaults: [Command: ArgumentValue]
    public let derivedDefault: DerivedDefault?
    /// Choices that differ by command (e.g. `quant_method` at load time vs. export).
    public let commandChoices: [Command: [String]]
    public let commands: Set<Command>
    public let section: String
    public let range: ValueRange?
    public let engineSupport: EngineSupport
    public let kind: ArgumentKind
    /// One or two sentences of our own saying what the argument means.
    public let help: String

    public init(
        name: String, aliases: [String] = [], type: ArgumentType, defaultValue: ArgumentValue?,
        commandDefaults: [Command: ArgumentValue] = [:], derivedDefault: DerivedDefault? = nil,
        commandChoices: [Command: [String]] = [:], commands: Set<Command>, section: String,
        range: ValueRange? = nil, engineSupport: EngineSupport = .supported,
        kind: ArgumentKind = .argument, help: String
    ) {
        self.name = name
        self.aliases = aliases
        self.type = type
        self.defaultValue = defaultValue
        self.commandDefaults = commandDefaults
        self.derivedDefault = derivedDefault
        self.commandChoices = commandChoices
        self.commands = commands
        self.section = section
        self.range = range
        self.engineSupport = engineSupport
        self.kind = kind
        self.help = help
    }

    /// Whether `None` is a meaningful value (the default is None or computed).
    public var acceptsNone: Bool {
        defaultValue == ArgumentValue.none || derivedDefault != nil
            || commandDefaults.values.contains(ArgumentValue.none)
    }

    /// The choices in force for a command.
    public func choices(for command: Command?) -> [String] {
        if let command, let c = commandChoices[command] { return c }
        return type.choices
    }

    /// The default for a command before derivation: per-command, else the documented one.
    public func staticDefault(for command: Command) -> ArgumentValue? {
        commandDefaults[command] ?? defaultValue
    }
}

extension ArgumentSpec {
    /// The default as `help` shows it: the per-command value, the derivation rule, or the
    /// documented value ("None" included); nil when the reference states none.
    public func defaultDescription(for command: Command? = nil) -> String? {
        if let command, let v = commandDefaults[command] { return v.render }
        if let derivedDefault {
            let base = defaultValue.map { $0 == .none ? "" : $0.render + "; " } ?? ""
            return base + derivedDefault.summary
        }
        if commandDefaults.isEmpty { return defaultValue?.render }
        let special = commandDefaults.sorted { $0.key < $1.key }
            .map { "\($0.value.render) for \($0.key.rawValue)" }.joined(separator: ", ")
        return (defaultValue?.render ?? "not documented") + " (" + special + ")"
    }
}
