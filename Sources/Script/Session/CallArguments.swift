import Foundation

extension Interpreter {
    /// The arguments a call runs with: the session settings the command takes, then the
    /// call's own flags; the live model's path stands in for `model` when none is given.
    /// With `load_args` in force, a checkpoint's args.json fills in what ms-swift would take from it.
    func resolved(for command: Command, flags: [String: ArgumentValue]) -> ResolvedArguments {
        let registry = ArgumentRegistry.shared
        var explicit: [String: ArgumentValue] = [:]
        for (name, setting) in session.settings {
            if let spec = registry.spec(name), spec.kind == .argument, spec.commands.contains(command) {
                explicit[name] = setting.value
            }
        }
        for (name, value) in flags { explicit[name] = value }
        if explicit["model"] == nil || explicit["model"] == ArgumentValue.none, let m = session.model {
            explicit["model"] = .string(m.handle.path)
        }
        var args = ResolvedArguments(command: command, explicit: explicit, interactive: interactive)
        if args.bool("load_args") == true, let path = ArgsJSONFile.locate(for: args),
           let saved = try? ArgsJSONFile.read(path: path)
        {
            args.explicit = ArgsJSONFile.merge(saved: saved.values, into: args.explicit,
                                               includeData: args.bool("load_data_args") == true)
        }
        return args
    }
}
