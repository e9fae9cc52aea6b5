import Engine
import Foundation

/// `sft` and `pt` over the session's live model and datasets: the reference arguments turned
/// into the engine's training request, the run, and the adapter (or model) it leaves live.
extension EngineSessionBackend {
    func trainLive(_ request: CommandRequest, command: Command, cancel: CancellationFlag,
                   progress: (ProgressEvent) -> Void) throws -> CommandOutcome {
        guard let handle = request.model else {
            throw BackendError.failed("\(command.rawValue) needs a model: load model PATH first, or give --model")
        }
        let model = try loaded(handle)
        let a = request.arguments
        if a.bool("streaming") == true, (a.int("max_steps") ?? -1) <= 0 {
            throw BackendError.failed("streaming needs --max_steps: a streamed dataset has no length to count epochs by")
        }
        let (train, validation) = try trainingData(request)
        var fine = FineTuningRequest(method: try Self.tuner(a), options: try Self.trainingOptions(a))
        fine.pretraining = command == .pt || a.bool("use_chat_template") == false
        fine.maxLength = a.int("max_length")
        if let t = a.string("truncation_strategy") { fine.truncation = TruncationStrategy(rawValue: t) ?? .delete }
        let scaleName = a.string("loss_scale") ?? "default"
        fine.lossScale = LossScale(rawValue: scaleName.split(separator: "+").first.map(String.init) ?? "default") ?? .default
        fine.system = a.string("system").flatMap { $0.isEmpty ? nil : $0 }
        fine.packing = a.bool("packing") == true
        fine.strict = a.bool("strict") == true
        fine.lazyTokenize = a.bool("lazy_tokenize") == true
        if fine.packing, fine.maxLength == nil { fine.maxLength = model.model.config.maxPositions }
        if let live = request.adapter, case .lora = fine.method, a.string("resume_from_checkpoint") == nil,
           let adapter = adapters[live.id]?.adapter {
            fine.continueFrom = adapter
        }

        let root = a.string("output_dir") ?? "output"
        let run = try RunDirectory.make(in: root, addVersion: a.bool("add_version") ?? true)
        fine.options.outputDirectory = run
        if let explicit = a.explicit["logging_dir"], case .string(let dir) = explicit { fine.options.loggingDirectory = dir }
        else { fine.options.loggingDirectory = run + "/runs" }
        fine.options.argumentsJSON = a.argsJSON.prettyText + "\n"
        let reports = try TrainingReportFiles(options: fine.options, runDirectory: run)

        let started = Date()
        let result = try FineTuning.run(model: model, train: train, validation: validation, request: fine, sinks: [reports],
                                        cancel: cancel.token) { p in
            var metrics: [String: Double] = ["epoch": p.epoch]
            if let l = p.loss { metrics["loss"] = l }
            if let lr = p.learningRate { metrics["lr"] = lr }
            if let t = p.tokensPerSecond { metrics["tokens/s"] = t }
            let task: String
            switch p.phase {
            case .training: task = command.rawValue
            case .evaluating: task = "evaluating"
            case .saving: task = "saving checkpoint"
            }
            progress(ProgressEvent(task: task, completed: p.step, total: p.maxSteps, metrics: metrics,
                                   elapsedSeconds: p.elapsedSeconds, remainingSeconds: p.remainingSeconds))
        }
        var report: [String] = []
        let verb = result.cancelled ? "stopped" : "trained"
        var line = "\(verb) \(result.globalStep)/\(result.maxSteps) steps on \(result.trainSamples) samples in \(Self.duration(Date().timeIntervalSince(started)))"
        if let l = result.trainLoss { line += String(format: ", mean loss %.4f", l) }
        if let last = result.history.last(where: { $0.kind == TrainingRecord.Kind.train }), let l = last.loss {
            line += String(format: ", last logged loss %.4f", l)
        }
        report.append(line)
        if let e = result.lastEvalLoss { report.append(String(format: "eval loss %.4f on %d samples", e, result.evalSamples)) }
        if let first = result.droppedRows.first {
            let malformed = result.droppedRows.count - result.deletedRows.count
            let lazily = fine.lazyTokenize ? ", of the rows this run tokenized (lazy_tokenize)" : ""
            report.append("\(result.droppedRows.count) rows were left out (strict false)\(lazily): \(malformed) malformed, "
                + "\(result.deletedRows.count) longer than max_length or not tokenizable; the first: \(first)")
        }
        if let c = result.lastCheckpoint { report.append("checkpoint: \(c)") }
        if let b = result.bestCheckpoint, b != result.lastCheckpoint { report.append("best checkpoint: \(b)") }
        report.append("logs: \(run)/logging.jsonl")
        if result.cancelled { report.append("stopped at the step boundary; type continue to go on from the checkpoint (in a new session: \(command.rawValue) ... --resume_from_checkpoint last)") }
        let state = TrainingRunState(globalStep: result.globalStep, maxSteps: result.maxSteps, stopped: result.cancelled,
                                     lastCheckpoint: result.lastCheckpoint)

        if let adapter = result.adapter {
            let name = result.lastCheckpoint ?? run
            let h = registerAdapter(adapter, modelId: handle.id, path: name)
            return CommandOutcome(report: report, adapter: h, outputDir: run, training: state)
        }
        if let trained = result.model {
            let live = Engine.LoadedModel(replacingModelOf: model, with: trained)
            let id = nextHandleId()
            register(live, id: id)
            let name = ((handle.path as NSString).lastPathComponent as NSString).deletingPathExtension + "-sft"
            return CommandOutcome(report: report, model: ModelHandle(id: id, path: name, summary: Self.summary(live)), outputDir: run,
                                  training: state)
        }
        return CommandOutcome(report: report, outputDir: run, training: state)
    }

    static func duration(_ s: Double) -> String {
        s < 60 ? String(format: "%.1fs", s) : String(format: "%dm %02ds", Int(s) / 60, Int(s) % 60)
    }

    /// The training and validation data: `--dataset` / `--val_dataset` given with the command
    /// are loaded as ms-swift loads them (split_dataset_ratio included); otherwise the session's
    /// live datasets, reloaded from their specs only when a split is asked for.
    func trainingData(_ request: CommandRequest) throws -> (Engine.Dataset, Engine.Dataset?) {
        let a = request.arguments
        var options = Self.datasetOptions(a)
        options.splitRatio = a.double("split_dataset_ratio") ?? 0
        let given = a.explicit["dataset"].flatMap { $0 == ArgumentValue.none ? nil : a.strings("dataset") } ?? []
        let validation = a.strings("val_dataset") ?? []
        if !given.isEmpty {
            return try Engine.Dataset.load(given, validation: validation, options: options)
        }
        guard !request.datasets.isEmpty else {
            throw BackendError.failed("\(a.command.rawValue) needs data: load dataset PATH first, or give --dataset")
        }
        if options.splitRatio > 0 {
            return try Engine.Dataset.load(request.datasets.map(\.spec), validation: validation, options: options)
        }
        let live = try request.datasets.map { h -> Engine.Dataset in
            guard let d = dataset(h) else { throw BackendError.failed("dataset \(h.spec) is no longer loaded") }
            return d
        }
        let train = Engine.Dataset(name: live.map(\.name).joined(separator: " "), rows: live.flatMap(\.rows),
                                   droppedRows: live.flatMap(\.droppedRows), isStreaming: false)
        var val: Engine.Dataset?
        if !validation.isEmpty {
            val = try Engine.Dataset.load(validation, validation: validation, options: options).validation
        }
        return (train, val)
    }

    /// `train_type` and the LoRA arguments.
    static func tuner(_ a: ResolvedArguments) throws -> FineTuningRequest.Method {
        let type = a.string("train_type") ?? "lora"
        switch type {
        case "full":
            return .full(FreezeRules(freezeParameters: a.strings("freeze_parameters") ?? [],
                                     freezeParametersRegex: a.string("freeze_parameters_regex").flatMap { $0.isEmpty ? nil : $0 },
                                     freezeParametersRatio: a.double("freeze_parameters_ratio") ?? 0,
                                     trainableParameters: a.strings("trainable_parameters") ?? [],
                                     trainableParametersRegex: a.string("trainable_parameters_regex").flatMap { $0.isEmpty ? nil : $0 }))
        case "lora":
            var c = LoRAConfig()
            if let r = a.int("lora_rank") { c.rank = r }
            if let alpha = a.double("lora_alpha") { c.alpha = alpha }
            if let d = a.double("lora_dropout") { c.dropout = d }
            if let t = a.strings("target_modules"), !t.isEmpty {
                c.targetModules = t.flatMap { $0 == "all-linear" ? LoRAConfig.allLinear : [$0] }
            }
            if let r = a.string("target_regex"), !r.isEmpty { c.targetRegex = r }
            c.useRSLoRA = a.bool("use_rslora") ?? false
            c.useDoRA = a.bool("use_dora") ?? false
            c.bias = a.string("lora_bias") ?? "none"
            if let v = a.value("init_weights") {
                switch v {
                case .bool(let b): c.initWeights = b ? "true" : "false"
                default: c.initWeights = v.stringValue ?? "true"
                }
            }
            c.modulesToSave = a.strings("modules_to_save") ?? []
            c.baseModel = a.string("model")
            return .lora(c)
        default:
            throw BackendError.failed("train_type \(type) is not available in this engine; use lora or full")
        }
    }

    /// The trainer's settings from the resolved arguments (defaults as the reference documents).
    static func trainingOptions(_ a: ResolvedArguments) throws -> TrainingOptions {
        var o = TrainingOptions()
        let full = a.string("train_type") == "full"
        o.learningRate = a.double("learning_rate") ?? (full ? 1e-5 : 1e-4)
        if let name = a.string("lr_scheduler_type") {
            guard let kind = LearningRateSchedule.Kind(rawValue: name) else {
                throw BackendError.failed("lr_scheduler_type \(name) is not one this trainer has; use one of \(LearningRateSchedule.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            o.scheduler = kind
        }
        if case .json(.object(let map))? = a.value("lr_scheduler_kwargs") {
            for (k, v) in map {
                switch v {
                case .int(let i): o.schedulerParameters[k] = Double(i)
                case .double(let d): o.schedulerParameters[k] = d
                default: throw BackendError.failed("lr_scheduler_kwargs: \(k) must be a number")
                }
            }
        }
        o.warmupRatio = a.double("warmup_ratio") ?? 0
        o.numTrainEpochs = a.double("num_train_epochs") ?? 3
        o.maxSteps = a.int("max_steps") ?? -1
        o.maxEpochs = a.int("max_epochs")
        o.perDeviceTrainBatchSize = a.int("per_device_train_batch_size") ?? 1
        o.perDeviceEvalBatchSize = a.int("per_device_eval_batch_size") ?? 1
        // ms-swift: enough accumulation for a total batch of at least 16 (one process here).
        o.gradientAccumulationSteps = a.int("gradient_accumulation_steps")
            ?? max(1, Int((16.0 / Double(o.perDeviceTrainBatchSize)).rounded(.up)))
        o.maxGradNorm = a.double("max_grad_norm") ?? 1
        o.weightDecay = a.double("weight_decay") ?? 0.1
        o.adamBeta2 = a.double("adam_beta2") ?? 0.95
        o.seed = UInt64(truncatingIfNeeded: a.int("seed") ?? 42)
        o.shuffle = a.bool("train_dataloader_shuffle") ?? true
        o.loggingSteps = a.int("logging_steps") ?? 5
        o.loggingFirstStep = a.bool("logging_first_step") ?? true
        func strategy(_ name: String, _ fallback: TrainingOptions.Strategy) -> TrainingOptions.Strategy {
            a.string(name).flatMap(TrainingOptions.Strategy.init(rawValue:)) ?? fallback
        }
        o.saveStrategy = strategy("save_strategy", .steps)
        o.evalStrategy = strategy("eval_strategy", .no)
        o.saveSteps = a.int("save_steps") ?? 500
        o.evalSteps = a.int("eval_steps") ?? o.saveSteps
        o.saveTotalLimit = a.int("save_total_limit")
        o.saveOnlyModel = a.bool("save_only_model") ?? false
        o.accuracyStrategy = a.string("acc_strategy") == "seq" ? .seq : .token
        if let m = a.string("metric_for_best_model") { o.metricForBestModel = m }
        o.greaterIsBetter = a.bool("greater_is_better") ?? !o.metricForBestModel.contains("loss")
        o.gradientCheckpointing = a.bool("gradient_checkpointing") ?? true
        o.createCheckpointSymlink = a.bool("create_checkpoint_symlink") ?? false
        o.tensorBoard = (a.strings("report_to") ?? ["tensorboard"]).contains { $0 == "tensorboard" || $0 == "all" }
        o.resumeFrom = a.string("resume_from_checkpoint").flatMap { $0.isEmpty ? nil : $0 }
        o.resumeOnlyModel = a.bool("resume_only_model") ?? false
        o.ignoreDataSkip = a.bool("ignore_data_skip") ?? false
        o.neftuneNoiseAlpha = a.double("neftune_noise_alpha") ?? 0
        o.loraPlusRatio = a.double("lorap_lr_ratio")
        return o
    }
}
