/// Builds the specs of one reference section: its title and the commands that take it are
/// given once, so each table row only says what is particular to the argument.
struct RegistrySection {
    let title: String
    let commands: Set<Command>
    let kind: ArgumentKind

    init(_ title: String, _ commands: Set<Command>, kind: ArgumentKind = .argument) {
        self.title = title
        self.commands = commands
        self.kind = kind
    }

    /// A row with a documented default (`.none` is Python's None).
    func arg(
        _ name: String, _ type: ArgumentType, _ defaultValue: ArgumentValue, _ help: String,
        aliases: [String] = [], range: ValueRange? = nil, support: EngineSupport = .supported,
        derived: DerivedDefault? = nil, perCommand: [Command: ArgumentValue] = [:],
        choicesPerCommand: [Command: [String]] = [:], extraCommands: Set<Command> = []
    ) -> ArgumentSpec {
        make(name, type, defaultValue, help, aliases: aliases, range: range, support: support,
             derived: derived, perCommand: perCommand, choicesPerCommand: choicesPerCommand,
             extraCommands: extraCommands)
    }

    /// A row for which the reference states no default.
    func noDefault(
        _ name: String, _ type: ArgumentType, _ help: String, range: ValueRange? = nil,
        support: EngineSupport = .supported, derived: DerivedDefault? = nil,
        extraCommands: Set<Command> = []
    ) -> ArgumentSpec {
        make(name, type, nil, help, range: range, support: support, derived: derived,
             extraCommands: extraCommands)
    }

    private func make(
        _ name: String, _ type: ArgumentType, _ defaultValue: ArgumentValue?, _ help: String,
        aliases: [String] = [], range: ValueRange? = nil, support: EngineSupport = .supported,
        derived: DerivedDefault? = nil, perCommand: [Command: ArgumentValue] = [:],
        choicesPerCommand: [Command: [String]] = [:], extraCommands: Set<Command> = []
    ) -> ArgumentSpec {
        ArgumentSpec(
            name: name, aliases: aliases, type: type, defaultValue: defaultValue,
            commandDefaults: perCommand, derivedDefault: derived, commandChoices: choicesPerCommand,
            commands: commands.union(extraCommands), section: title, range: range,
            engineSupport: support, kind: kind, help: help)
    }
}

/// Reasons shared by many rows, so the wording stays the same everywhere.
enum Unsupported {
    static let gpu = EngineSupport.unsupported(
        reason: "it runs on the CPU of one machine, without GPUs",
        instead: "leave it unset; tune uses all CPU cores of this machine")
    static let distributed = EngineSupport.unsupported(
        reason: "no multi-process or multi-node training",
        instead: "leave it unset; tune trains in one process on the CPU")
    static let deepspeed = EngineSupport.unsupported(
        reason: "no DeepSpeed or other sharded training",
        instead: "leave it unset; tune trains in one process on the CPU")
    static let vllm = EngineSupport.unsupported(
        reason: "no vLLM",
        instead: "use infer_backend 'pt' (tune's own engine)")
    static let sglang = EngineSupport.unsupported(
        reason: "no SGLang",
        instead: "use infer_backend 'pt' (tune's own engine)")
    static let lmdeploy = EngineSupport.unsupported(
        reason: "no LMDeploy",
        instead: "use infer_backend 'pt' (tune's own engine)")
    static let hub = EngineSupport.unsupported(
        reason: "no model hub connection",
        instead: "write to a local output_dir and upload it yourself")
    static let multimodal = EngineSupport.unsupported(
        reason: "text-only models; no vision or audio towers",
        instead: "use a text model; these options have no effect on one")
    static let megatron = EngineSupport.unsupported(
        reason: "no Megatron-Core format",
        instead: "export to a safetensors directory or a GGUF file")
    static let plugins = EngineSupport.unsupported(
        reason: "no Python plugins",
        instead: "use the built-in choices")
    static let remoteLogging = EngineSupport.unsupported(
        reason: "no network experiment trackers",
        instead: "use report_to 'tensorboard' or read logging.jsonl")
    /// Something this engine does not have, and what to use instead.
    static func absent(_ what: String, instead: String) -> EngineSupport {
        .unsupported(reason: what, instead: instead)
    }
}
