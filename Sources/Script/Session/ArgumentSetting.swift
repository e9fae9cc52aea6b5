/// Where a session argument's value came from (shown by `show args`).
public enum ArgumentOrigin: Equatable, Sendable, CustomStringConvertible {
    /// Typed with `set` at the prompt.
    case set
    /// A `set` in a script.
    case script(SourceLocation)
    /// A flag on tune's own command line (`tune train.tune --lora_rank 8`).
    case commandLine
    /// Read from an args.json file.
    case argsJSON(path: String)

    public var description: String {
        switch self {
        case .set: return "set"
        case .script(let loc): return "script \(loc)"
        case .commandLine: return "command line"
        case .argsJSON(let path): return "args.json \(path)"
        }
    }
}

public struct ArgumentSetting: Equatable, Sendable {
    public var value: ArgumentValue
    public var origin: ArgumentOrigin
    public init(value: ArgumentValue, origin: ArgumentOrigin) {
        self.value = value
        self.origin = origin
    }
}
