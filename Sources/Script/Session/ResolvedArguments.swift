/// The arguments one call runs with: explicit values (session settings the command takes,
/// overridden by the call's own flags); everything else falls back to the registry's
/// documented and derived defaults.
public struct ResolvedArguments: Sendable {
    public var command: Command
    public var explicit: [String: ArgumentValue]
    public var interactive: Bool

    public init(command: Command, explicit: [String: ArgumentValue], interactive: Bool) {
        self.command = command
        self.explicit = explicit
        self.interactive = interactive
    }

    /// The value in force: explicit, else per-command, derived or documented default.
    public func value(_ name: String) -> ArgumentValue? {
        ArgumentRegistry.shared.resolvedValue(name, command: command, explicit: explicit, interactive: interactive)
    }

    public func int(_ name: String) -> Int? { value(name)?.intValue }
    public func double(_ name: String) -> Double? { value(name)?.doubleValue }
    public func bool(_ name: String) -> Bool? { value(name)?.boolValue }
    public func string(_ name: String) -> String? { value(name)?.stringValue }
    public func strings(_ name: String) -> [String]? {
        guard let v = value(name) else { return nil }
        if case .list(let items) = v { return items.compactMap { $0.stringValue ?? $0.render } }
        return v.stringValue.map { [$0] }
    }

    /// Every argument of the command resolved, in ms-swift's key names (the args.json body).
    public var argsJSON: JSONValue {
        ArgumentRegistry.shared.argsJSON(command: command, explicit: explicit, interactive: interactive)
    }
}
