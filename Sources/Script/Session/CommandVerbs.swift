/// The ms-swift commands, `merge` and `quantize`: long verbs that the backend runs.
let commandVerbs: [Verb] = Command.allCases.map { command in
    Verb(name: command.rawValue, group: .commands, usage: "\(command.rawValue) [--NAME VALUE...]",
         summary: commandSummaries[command] ?? "",
         changesSession: true, handler: { try runCommand($0, kind: .swift(command), command: command) })
} + [
    Verb(name: "merge", group: .commands, usage: "merge [--NAME VALUE...]   (merge-lora's arguments)",
         summary: "Fold the live adapter into the live model; the merged model becomes live.",
         changesSession: true, handler: { try runCommand($0, kind: .merge, command: .mergeLora) }),
    Verb(name: "quantize", group: .commands, usage: "quantize --quant_method METHOD [--NAME VALUE...]   (export's arguments)",
         summary: "Quantize the live model in memory (e.g. --quant_method q4_k); the result becomes live.",
         changesSession: true, handler: { try runCommand($0, kind: .quantize, command: .export) }),
    // Not recorded for `save`: the replayed sft is not stopped, so it already runs every step.
    Verb(name: "continue", group: .commands, usage: "continue",
         summary: "Go on with the session's last sft/pt run from its last checkpoint (after Ctrl-C stopped it).",
         handler: runContinue),
]

private let commandSummaries: [Command: String] = [
    .pt: "Continue pre-training the live model on the datasets.",
    .sft: "Supervised fine-tuning (LoRA or full) of the live model on the datasets.",
    .rlhf: "Preference or reward training (DPO, KTO, GRPO, ...).",
    .infer: "Answer a dataset (--val_dataset) or run ms-swift's interactive inference.",
    .deploy: "Serve the live model over an OpenAI-compatible HTTP API.",
    .app: "A web chat page over the model.",
    .eval: "Evaluate the model on benchmark datasets.",
    .export: "Write the model: merged, quantized, GGUF or safetensors, Ollama Modelfile.",
    .sample: "Sample many answers per prompt (for rejection sampling and distillation).",
    .mergeLora: "Merge LoRA adapters into the base model and write it out.",
    .webUI: "ms-swift's web interface.",
    .rollout: "A rollout server for GRPO training.",
]

private func runCommand(_ call: VerbCall, kind: CommandKind, command: Command) throws {
    var words = call.words
    var fileValues: [String: ArgumentValue] = [:]
    // ms-swift also accepts a JSON file of arguments as the first word.
    if let first = words.first, !first.isFlag, first.text.hasSuffix(".json") {
        do {
            let saved = try ArgsJSONFile.read(path: first.text)
            for (name, value) in saved.values {
                if let spec = call.registry.spec(name), spec.commands.contains(command) { fileValues[name] = value }
            }
        } catch {
            throw call.error("\(error)", at: first.location)
        }
        words.removeFirst()
    } else if let first = words.first, !first.isFlag,
              first.text.hasSuffix(".yaml") || first.text.hasSuffix(".yml") {
        throw call.error("argument files in YAML are not read by tune; write them as JSON (args.json style)",
                         at: first.location)
    }
    let parsed = FlagWords.parse(words, command: command)
    try call.report(argumentErrors: parsed.errors)
    var flags = fileValues
    for (name, value) in parsed.values { flags[name] = value }
    let args = call.interpreter.resolved(for: command, flags: flags)
    try runResolved(call, kind: kind, command: command, arguments: args, modelGiven: flags["model"] != nil)
}

/// `continue`: the last training run again, with the same arguments, from its last checkpoint.
private func runContinue(_ call: VerbCall) throws {
    try call.requireNoWords()
    guard let last = call.session.lastTraining else {
        throw call.error("there is nothing to continue: no sft or pt has run in this session yet")
    }
    var args = last.arguments
    if let state = last.state {
        let verb = last.command.rawValue
        guard state.stopped, state.globalStep < state.maxSteps else {
            throw call.error("there is nothing to continue: the last \(verb) run already finished all its \(state.maxSteps) steps"
                + (state.lastCheckpoint.map { " (checkpoint \($0))" } ?? "")
                + "; to train further, run \(verb) again (with --resume_from_checkpoint and a larger --max_steps to go on from it)")
        }
        guard let checkpoint = state.lastCheckpoint else {
            throw call.error("the last \(verb) run stopped at step \(state.globalStep) of \(state.maxSteps) but wrote no checkpoint to go on from")
        }
        call.print("continuing \(verb) from \(checkpoint) (step \(state.globalStep) of \(state.maxSteps))")
        args.explicit["resume_from_checkpoint"] = .string(checkpoint)
    }
    try runResolved(call, kind: .swift(last.command), command: last.command, arguments: args, modelGiven: false, continuing: last)
}

/// A command with its arguments resolved. `continuing` is the training run `continue` goes on
/// with: its model and datasets, not what is live now.
private func runResolved(_ call: VerbCall, kind: CommandKind, command: Command, arguments args: ResolvedArguments,
                         modelGiven: Bool, continuing: Session.TrainingRun? = nil) throws {
    let isTraining = kind == .swift(.sft) || kind == .swift(.pt)
    if kind == .merge {
        _ = try call.requireModel()
        guard call.session.adapter != nil else {
            throw call.error("merge needs a live adapter; load adapter PATH or use adapter NAME first")
        }
    }
    if kind == .quantize, args.value("quant_method") == nil || args.value("quant_method") == ArgumentValue.none {
        throw call.error("quantize needs --quant_method (e.g. q4_k, q8_0)", at: call.endLocation)
    }
    let session = call.session
    if kind == .swift(.infer), args.strings("val_dataset")?.isEmpty != false, args.bool("load_data_args") != true {
        try interactiveInfer(call, arguments: args, modelGiven: modelGiven)
        return
    }
    if call.checkOnly {
        // Stand-ins for what the command would make, so the statements after it check out.
        if case .swift(let c) = kind, Set<Command>.training.contains(c) {
            let name = session.defaultName(for: "trained")
            session.adapters.append(.init(name: name, handle: AdapterHandle(id: -1, path: name, summary: "")))
            session.liveAdapter = name
            if isTraining {
                session.lastTraining = Session.TrainingRun(command: command, arguments: args, model: session.model?.handle,
                                                           datasets: session.datasets.map(\.handle), state: nil)
            }
        } else if kind == .merge || kind == .quantize {
            // Named as the engine backend names the model it makes, so `use model` lines check out.
            let stem = session.model.map { EngineSessionBackend.modelStem($0.handle.path) } ?? kind.name + "d"
            let method = args.string("quant_method")?.lowercased() ?? "quantized"
            let name = session.defaultName(for: stem + "-" + (kind == .merge ? "merged" : method))
            session.models.append(.init(name: name, handle: ModelHandle(id: -1, path: name, summary: "")))
            session.liveModel = name
            session.liveAdapter = nil
        }
        return
    }
    if case .swift(let c) = kind, Set<Command>.training.contains(c), continuing == nil {
        try loadNamedModel(call, arguments: args, modelGiven: modelGiven)
        if session.model == nil { throw call.error("\(c.rawValue) needs a model: load model PATH first, or give --model") }
    }
    // `tune export --model M [--adapters DIR]` and `tune merge-lora ...` load what they name.
    if case .swift(let c) = kind, Set<Command>.export.contains(c) {
        try loadNamedModel(call, arguments: args, modelGiven: modelGiven)
        if session.model == nil { throw call.error("\(c.rawValue) needs a model: load model PATH first, or give --model") }
        try loadNamedAdapters(call, arguments: args)
        if c == .mergeLora && session.adapter == nil {
            throw call.error("merge-lora needs an adapter: give --adapters DIR, or load adapter PATH first")
        }
    }
    let model = continuing != nil ? continuing?.model : session.model?.handle
    let datasets = continuing?.datasets ?? session.datasets.map(\.handle)
    let request = CommandRequest(kind: kind, arguments: args, model: model,
                                 adapter: session.adapter?.handle, datasets: datasets)
    let outcome: CommandOutcome
    do {
        outcome = try call.backend.run(request, cancel: call.interpreter.cancel, progress: call.output.progress)
    } catch let e as BackendError {
        if case .unavailable = e { throw call.error(e.description + "; tune --check still validates its arguments") }
        throw call.error(e.description)
    }
    outcome.report.forEach(call.print)
    if isTraining, let state = outcome.training {
        session.lastTraining = Session.TrainingRun(command: command, arguments: args, model: model, datasets: datasets, state: state)
    }
    if let dir = outcome.outputDir {
        do {
            let path = try ArgsJSONFile.write(args, toDirectory: dir)
            call.print("arguments written to \(path)")
        } catch {
            throw call.error("could not write args.json into \(dir): \(error)")
        }
    }
    if let model = outcome.model {
        let name = session.defaultName(for: model.path)
        session.models.append(.init(name: name, handle: model))
        session.liveModel = name
        session.liveAdapter = nil
        call.print("model \(name) is now live")
    }
    if let adapter = outcome.adapter {
        let name = session.defaultName(for: adapter.path)
        session.adapters.append(.init(name: name, handle: adapter))
        session.liveAdapter = name
        call.print("adapter \(name) is now live")
    }
}

/// `infer` without a dataset is a conversation, as in ms-swift: the model (and adapters) named
/// by the call are loaded unless already live, then `chat` runs with the call's settings.
private func interactiveInfer(_ call: VerbCall, arguments args: ResolvedArguments, modelGiven: Bool) throws {
    let session = call.session
    let wanted = args.string("model")
    if wanted == nil && session.model == nil {
        throw call.error("infer needs --model (or a loaded model), or --val_dataset to answer a dataset")
    }
    if call.checkOnly { return }
    guard let input = call.interpreter.input else {
        throw call.error("infer without --val_dataset is a conversation: it needs a terminal or standard input")
    }
    try loadNamedModel(call, arguments: args, modelGiven: modelGiven)
    let model = try call.requireModel()
    try loadNamedAdapters(call, arguments: args)
    try ChatMode(call: call, model: model.handle, input: input, arguments: args).run()
}

/// The adapters a command's `--adapters` names, loaded for the live model unless already live;
/// the last one becomes live.
private func loadNamedAdapters(_ call: VerbCall, arguments args: ResolvedArguments) throws {
    let session = call.session
    let model = try call.requireModel()
    for path in args.strings("adapters") ?? [] where session.adapter?.handle.path != path {
        let handle = try call.backend.loadAdapter(path: path, model: model.handle, arguments: args)
        let name = session.defaultName(for: path)
        session.adapters.append(.init(name: name, handle: handle))
        session.liveAdapter = name
    }
}

/// A command's `--model` names a model the session does not have live: load it and make it
/// live first (ms-swift loads the model every command names).
private func loadNamedModel(_ call: VerbCall, arguments args: ResolvedArguments, modelGiven: Bool) throws {
    let session = call.session
    guard let path = args.string("model"), modelGiven || session.model == nil, session.model?.handle.path != path else { return }
    let handle = try call.backend.loadModel(path: path, arguments: args, progress: call.output.progress)
    let name = session.defaultName(for: path)
    session.models.append(.init(name: name, handle: handle))
    session.liveModel = name
    session.liveAdapter = nil
}
