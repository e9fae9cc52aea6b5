/// The resolved arguments of a run as ms-swift's `args.json` holds them, and back.
extension ArgumentRegistry {
    /// Every argument the command takes, resolved (explicit, per-command, derived, documented
    /// default), keyed by ms-swift's names; None and undocumented defaults become null.
    public func argsJSON(
        command: Command, explicit: [String: ArgumentValue], interactive: Bool = false, worldSize: Int = 1
    ) -> JSONValue {
        var object: [String: JSONValue] = [:]
        for spec in specs(for: command) {
            let value = resolvedValue(spec.name, command: command, explicit: explicit,
                                      interactive: interactive, worldSize: worldSize)
            object[spec.name] = value?.json ?? .null
        }
        return .object(object)
    }

    /// Reads an args.json object: known names and aliases become typed values under their
    /// canonical names; keys this registry does not know are returned separately.
    public func arguments(fromArgsJSON json: JSONValue) -> (values: [String: ArgumentValue], unknownKeys: [String]) {
        guard case .object(let members) = json else { return ([:], []) }
        var values: [String: ArgumentValue] = [:]
        var unknown: [String] = []
        for (key, member) in members.sorted(by: { $0.key < $1.key }) {
            guard let spec = spec(key), spec.kind == .argument else {
                unknown.append(key)
                continue
            }
            values[spec.name] = Self.value(member, as: spec.type)
        }
        return (values, unknown)
    }

    /// JSON has one number type; the argument's type says whether 5 means 5 or 5.0.
    static func value(_ json: JSONValue, as type: ArgumentType) -> ArgumentValue {
        switch (json, type) {
        case (.null, _): return .none
        case (.int(let i), .float): return .double(Double(i))
        case (.object, .json), (.object, .either(.json, _)), (.object, .either(_, .json)): return .json(json)
        case (.array(let items), .list(let element)): return .list(items.map { value($0, as: element) })
        default: return ArgumentValue(json: json)
        }
    }
}
