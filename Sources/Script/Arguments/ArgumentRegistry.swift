import Foundation

/// Every argument and environment variable the ms-swift reference documents, with its type,
/// defaults, the commands that take it and what this engine does with it.
public struct ArgumentRegistry: Sendable {
    /// Arguments tune adds to ms-swift's vocabulary (each says so in its help).
    public static let extensions: Set<String> = ["to_gguf"]

    public static let shared = ArgumentRegistry(specs: ArgumentRegistry.table)

    /// Arguments then environment variables, in the reference's section order.
    public let all: [ArgumentSpec]
    private let index: [String: Int]

    public init(specs: [ArgumentSpec]) {
        var index: [String: Int] = [:]
        for (i, spec) in specs.enumerated() {
            for name in [spec.name] + spec.aliases where index[name] == nil { index[name] = i }
        }
        self.all = specs
        self.index = index
    }

    static var table: [ArgumentSpec] {
        baseArguments + modelArguments + dataArguments + templateArguments + generationArguments
            + quantizationArguments + trainerArguments + tunerArguments + loraArguments + otherTunerArguments
            + backendArguments + mergeArguments + trainingArguments + rlhfArguments + grpoArguments
            + inferenceArguments + deploymentArguments + evaluationArguments + exportArguments
            + samplingArguments + environmentVariables
    }

    /// The spec for a name, an alias, or either written with leading dashes. Like HF's
    /// argument parser, `--lora-rank` is accepted for `--lora_rank`.
    public func spec(_ name: String) -> ArgumentSpec? {
        let bare = Self.bare(name)
        if let i = index[bare] { return all[i] }
        guard bare.contains("-") else { return nil }
        return index[bare.replacingOccurrences(of: "-", with: "_")].map { all[$0] }
    }

    /// Like `spec`, but an unknown name is an error carrying suggestions.
    public func lookup(_ name: String) throws -> ArgumentSpec {
        guard let spec = spec(name) else {
            throw ArgumentError.unknown(name: Self.bare(name), suggestions: suggestions(for: name))
        }
        return spec
    }

    /// Like `lookup`, and the command must take the argument.
    public func lookup(_ name: String, for command: Command) throws -> ArgumentSpec {
        let spec = try lookup(name)
        guard spec.kind == .argument, spec.commands.contains(command) else {
            throw ArgumentError.notForCommand(
                name: spec.name, command: command, takenBy: Array(spec.commands))
        }
        return spec
    }

    /// The nearest known names (arguments, aliases; environment variables when typed in capitals).
    public func suggestions(for unknown: String) -> [String] {
        let typed = Self.bare(unknown)
        let wantsEnvironment = typed.contains { $0.isUppercase }
        var names: [String] = []
        for spec in all where spec.kind == .argument || wantsEnvironment {
            names.append(spec.name)
            names.append(contentsOf: spec.aliases)
        }
        return NameSuggester.suggestions(for: typed, among: names)
    }

    /// The arguments a command takes, in reference order.
    public func specs(for command: Command) -> [ArgumentSpec] {
        all.filter { $0.kind == .argument && $0.commands.contains(command) }
    }

    public var environmentVariables: [ArgumentSpec] { all.filter { $0.kind == .environment } }

    /// Arguments whose name or alias contains `partial` (case-insensitive), prefix matches first.
    public func search(_ partial: String) -> [ArgumentSpec] {
        let needle = Self.bare(partial).lowercased()
        if needle.isEmpty { return all }
        var prefix: [ArgumentSpec] = []
        var inside: [ArgumentSpec] = []
        for spec in all {
            let names = ([spec.name] + spec.aliases).map { $0.lowercased() }
            if names.contains(where: { $0.hasPrefix(needle) }) {
                prefix.append(spec)
            } else if names.contains(where: { $0.contains(needle) }) {
                inside.append(spec)
            }
        }
        return prefix.sorted { $0.name < $1.name } + inside.sorted { $0.name < $1.name }
    }

    /// Parses the words given after `--name`. With a command, per-command choices apply;
    /// with `checkSupport`, values this engine cannot honour are errors.
    public func parse(
        _ words: [String], for spec: ArgumentSpec, command: Command? = nil, checkSupport: Bool = true
    ) throws -> ArgumentValue {
        try ArgumentParser.parse(words, for: spec, command: command, checkSupport: checkSupport)
    }

    /// Looks the name up and parses its words.
    public func parse(
        name: String, words: [String], command: Command? = nil, checkSupport: Bool = true
    ) throws -> (spec: ArgumentSpec, value: ArgumentValue) {
        let spec = try command.map { try lookup(name, for: $0) } ?? lookup(name)
        return (spec, try parse(words, for: spec, command: command, checkSupport: checkSupport))
    }

    /// The value an argument has for a run: the explicit value, else the command's default,
    /// else the derived default, else the documented default (`.none` for None: the engine
    /// decides, e.g. from the model's files). Nil for unknown names and undocumented defaults.
    public func resolvedValue(
        _ name: String, command: Command, explicit: [String: ArgumentValue],
        interactive: Bool = false, worldSize: Int = 1
    ) -> ArgumentValue? {
        resolve(name, command: command, explicit: explicit, interactive: interactive,
                worldSize: worldSize, depth: 0)
    }

    private func resolve(
        _ name: String, command: Command, explicit: [String: ArgumentValue],
        interactive: Bool, worldSize: Int, depth: Int
    ) -> ArgumentValue? {
        guard let spec = spec(name) else { return nil }
        if let v = explicit[spec.name] ?? spec.aliases.lazy.compactMap({ explicit[$0] }).first,
            v != .none || spec.derivedDefault == nil
        {
            return v
        }
        if let perCommand = spec.commandDefaults[command], perCommand != .none { return perCommand }
        if let derived = spec.derivedDefault, depth < 8 {
            let context = DefaultContext(command: command, interactive: interactive, worldSize: worldSize) {
                self.resolve($0, command: command, explicit: explicit, interactive: interactive,
                             worldSize: worldSize, depth: depth + 1)
            }
            if let v = derived.resolve(context) { return v }
        }
        return spec.staticDefault(for: command)
    }

    static func bare(_ name: String) -> String {
        var s = Substring(name)
        while s.first == "-" { s = s.dropFirst() }
        return String(s)
    }
}
