import Foundation

/// The training loop: micro-batches summed over `gradient_accumulation_steps`, gradient
/// clipping, AdamW under the learning-rate schedule, logging, evaluation, checkpoints and
/// resume — the HF Trainer's flow as ms-swift runs it (which also evaluates and saves at the
/// last step).
final class Trainer {
    /// Writes the weights of a checkpoint (PEFT adapter files, or the full model) into a directory.
    typealias WeightsWriter = (_ directory: String) throws -> Void

    let model: TrainableLlama
    let train: SampleSource
    let eval: SampleSource
    let options: TrainingOptions
    let plan: TrainingPlan
    let schedule: LearningRateSchedule
    let optimizer: AdamW
    let parameterNames: [String]
    let writeWeights: WeightsWriter
    let sinks: [TrainingRecordSink]
    let checkpoints: CheckpointDirectory

    private(set) var state: TrainerState
    private var clock = ContinuousClock.now
    private let elapsedBefore: Double = 0

    convenience init(model: TrainableLlama, parameters: [(name: String, parameter: AdamW.Parameter)],
                     train: [TokenizedSample], eval: [TokenizedSample], options: TrainingOptions,
                     writeWeights: @escaping WeightsWriter, sinks: [TrainingRecordSink]) throws {
        try self.init(model: model, parameters: parameters, train: SampleSource(tokenized: train),
                      eval: SampleSource(tokenized: eval), options: options, writeWeights: writeWeights, sinks: sinks)
    }

    init(model: TrainableLlama, parameters: [(name: String, parameter: AdamW.Parameter)],
         train: SampleSource, eval: SampleSource, options: TrainingOptions,
         writeWeights: @escaping WeightsWriter, sinks: [TrainingRecordSink]) throws {
        guard !parameters.isEmpty else { throw TrainingError("nothing is trainable: every parameter is frozen") }
        self.model = model
        self.train = train
        self.eval = eval
        self.options = options
        plan = try TrainingPlan(sampleCount: train.count, options: options)
        schedule = try LearningRateSchedule(kind: options.scheduler, baseLearningRate: options.learningRate,
                                            totalSteps: plan.maxSteps, warmupSteps: options.warmupSteps,
                                            warmupRatio: options.warmupRatio, parameters: options.schedulerParameters)
        optimizer = AdamW(parameters: parameters.map(\.parameter), beta1: Float(options.adamBeta1),
                          beta2: Float(options.adamBeta2), eps: Float(options.adamEpsilon), weightDecay: Float(options.weightDecay))
        parameterNames = parameters.map(\.name)
        self.writeWeights = writeWeights
        self.sinks = sinks
        checkpoints = CheckpointDirectory(runDirectory: options.outputDirectory)
        state = TrainerState(globalStep: 0, epoch: 0, maxSteps: plan.maxSteps, history: [])
    }

    /// How a run ended.
    enum Ending: Equatable { case finished, cancelled }

    struct Outcome {
        var ending: Ending
        var globalStep: Int
        var lastCheckpoint: String?
        var bestCheckpoint: String?
        var trainLoss: Double?
        var lastEvalLoss: Double?
        var history: [TrainingRecord]
    }

    /// Restores what a checkpoint holds beside the weights (the caller has loaded the weights):
    /// everything for a full resume; only the position with `resume_only_model` (unless
    /// `ignore_data_skip`).
    func resume(from checkpoint: String, onlyModel: Bool, ignoreDataSkip: Bool) throws {
        let saved = try TrainerState.read(from: checkpoint)
        if onlyModel {
            if !ignoreDataSkip { state.globalStep = min(saved.globalStep, plan.maxSteps) }
            return
        }
        try OptimizerStateFile.read(into: optimizer, names: parameterNames, from: checkpoint)
        let rng = try RandomState.read(from: checkpoint)
        if let s = rng.streams["model"] { model.randomState = s }
        state.globalStep = min(saved.globalStep, plan.maxSteps)
        state.history = saved.history
        state.bestMetric = saved.bestMetric
        state.bestCheckpoint = saved.bestCheckpoint
        state.bestStep = saved.bestStep
    }

    func run(cancel: CancellationToken, progress: (TrainingProgress) -> Void) throws -> Outcome {
        clock = .now
        defer { LargeBlockCache.release() }
        var lastCheckpoint: String?
        var intervalLoss = 0.0, intervalSteps = 0
        var intervalCorrect = PassFigures()
        var totalLoss = 0.0, totalSteps = 0
        var lastEvalLoss: Double?
        var order = plan.order(epoch: plan.epoch(ofStep: state.globalStep))
        var orderEpoch = plan.epoch(ofStep: state.globalStep)
        let startStep = state.globalStep
        var tokensSeen = 0
        var ending = Ending.finished

        while state.globalStep < plan.maxSteps {
            let step = state.globalStep
            let epoch = plan.epoch(ofStep: step)
            if epoch != orderEpoch { order = plan.order(epoch: epoch); orderEpoch = epoch }
            let batches = try plan.microBatches(step: step, order: order).map { PackedBatch(try train.samples(at: $0)) }
            if train.isLazy, batches.allSatisfy({ $0.tokens.isEmpty }) {
                throw TrainingError("every sample of step \(step + 1) was left out while tokenizing (\(train.droppedRows.count) rows so far; the last: \(train.droppedRows.last.map { "\($0)" } ?? "none")); check max_length and the dataset")
            }
            let counted = batches.reduce(0) { $0 + $1.countedTokens }
            var figures = PassFigures()
            model.isTraining = true
            for b in batches {
                let weight = counted == 0 ? 0 : Float(b.countedTokens) / Float(counted)
                figures += model.trainingPass(b, lossWeight: weight, checkpointing: options.gradientCheckpointing)
                tokensSeen += b.tokens.count
            }
            model.isTraining = false
            let loss = figures.meanLoss
            let gradNorm = Double(options.maxGradNorm > 0 ? optimizer.clipGradients(maxNorm: Float(options.maxGradNorm))
                                                          : optimizer.clipGradients(maxNorm: .infinity))
            guard loss.isFinite, gradNorm.isFinite else {
                optimizer.zeroGradients()
                let kept = checkpoints.steps().last.map { " The last good checkpoint is \(checkpoints.path(step: $0))." } ?? ""
                throw TrainingError("training diverged at step \(step + 1): the loss is \(loss) and the gradient norm \(gradNorm); no update was made from this step and nothing was saved from it.\(kept) Try a lower learning_rate or a max_grad_norm.")
            }
            let lr = schedule.learningRate(afterSteps: step)
            optimizer.step(learningRate: Float(lr))
            optimizer.zeroGradients()
            state.globalStep += 1
            state.epoch = plan.epochProgress(completedSteps: state.globalStep)
            intervalLoss += loss; intervalSteps += 1
            intervalCorrect += figures
            totalLoss += loss; totalSteps += 1

            let elapsed = elapsedBefore + seconds(since: clock)
            let done = state.globalStep - startStep
            let remaining = elapsed / Double(done) * Double(plan.maxSteps - state.globalStep)
            let last = state.globalStep == plan.maxSteps
            progress(TrainingProgress(phase: .training, step: state.globalStep, maxSteps: plan.maxSteps, epoch: state.epoch,
                                      loss: loss, learningRate: lr, tokensPerSecond: Double(tokensSeen) / max(elapsed - elapsedBefore, 1e-9),
                                      remainingSeconds: remaining, elapsedSeconds: elapsed))

            if state.globalStep % options.loggingSteps == 0 || (options.loggingFirstStep && state.globalStep == 1) || last {
                var r = TrainingRecord(kind: .train, step: state.globalStep, maxSteps: plan.maxSteps, epoch: state.epoch,
                                       elapsedSeconds: elapsed)
                r.loss = intervalLoss / Double(intervalSteps)
                r.gradNorm = gradNorm
                r.learningRate = lr
                if options.accuracyStrategy == .token { r.tokenAccuracy = intervalCorrect.tokenAccuracy }
                else { r.sequenceAccuracy = intervalCorrect.sequenceAccuracy }
                r.remainingSeconds = remaining
                r.memoryGiB = peakMemoryGiB()
                r.stepsPerSecond = Double(done) / max(elapsed - elapsedBefore, 1e-9)
                r.tokensPerSecond = Double(tokensSeen) / max(elapsed - elapsedBefore, 1e-9)
                try emit(r)
                intervalLoss = 0; intervalSteps = 0; intervalCorrect = PassFigures()
            }

            let endOfEpoch = state.globalStep % plan.stepsPerEpoch == 0
            let stopping = cancel.isCancelled
            var metrics: [String: Double]?
            if !eval.isEmpty, options.evalStrategy != .no,
               (options.evalStrategy == .steps && state.globalStep % options.evalSteps == 0)
                || (options.evalStrategy == .epoch && endOfEpoch) || last {
                progress(TrainingProgress(phase: .evaluating, step: state.globalStep, maxSteps: plan.maxSteps, epoch: state.epoch))
                metrics = try evaluate()
                lastEvalLoss = metrics?["loss"]
            }
            let shouldSave = options.saveStrategy != .no
                && ((options.saveStrategy == .steps && state.globalStep % options.saveSteps == 0)
                    || (options.saveStrategy == .epoch && endOfEpoch) || last)
            if shouldSave || stopping {
                progress(TrainingProgress(phase: .saving, step: state.globalStep, maxSteps: plan.maxSteps, epoch: state.epoch))
                lastCheckpoint = try saveCheckpoint(metrics: metrics)
            }
            if stopping { ending = .cancelled; break }
        }
        let total = elapsedBefore + seconds(since: clock)
        var summary = TrainingRecord(kind: .summary, step: state.globalStep, maxSteps: plan.maxSteps, epoch: state.epoch,
                                     elapsedSeconds: total)
        summary.trainRuntime = total
        summary.trainLoss = totalSteps == 0 ? nil : totalLoss / Double(totalSteps)
        summary.trainStepsPerSecond = Double(totalSteps) / max(total, 1e-9)
        summary.trainSamplesPerSecond = Double(totalSteps * options.perDeviceTrainBatchSize * options.gradientAccumulationSteps) / max(total, 1e-9)
        summary.droppedRows = train.droppedRows.count + eval.droppedRows.count
        summary.lastCheckpoint = lastCheckpoint
        summary.bestCheckpoint = state.bestCheckpoint
        summary.bestMetric = state.bestMetric
        try emit(summary)
        if options.createCheckpointSymlink {
            if let last = lastCheckpoint { try checkpoints.link("last", to: last) }
            if let best = state.bestCheckpoint { try checkpoints.link("best", to: best) }
        }
        for s in sinks { try s.finish(history: state.history) }
        return Outcome(ending: ending, globalStep: state.globalStep, lastCheckpoint: lastCheckpoint,
                       bestCheckpoint: state.bestCheckpoint, trainLoss: summary.trainLoss, lastEvalLoss: lastEvalLoss,
                       history: state.history)
    }

    private func emit(_ r: TrainingRecord) throws {
        state.history.append(r)
        for s in sinks { try s.record(r) }
    }

    /// Loss and accuracy over the validation samples, in micro-batches of `per_device_eval_batch_size`.
    func evaluate() throws -> [String: Double] {
        let start = ContinuousClock.now
        var total = PassFigures()
        let size = max(1, options.perDeviceEvalBatchSize)
        var batches = 0
        var evaluated = 0
        for first in stride(from: 0, to: eval.count, by: size) {
            let samples = try eval.samples(at: Array(first..<min(first + size, eval.count)))
            guard !samples.isEmpty else { continue }
            total += model.evaluationPass(PackedBatch(samples))
            batches += 1
            evaluated += samples.count
        }
        let runtime = seconds(since: start)
        var r = TrainingRecord(kind: .eval, step: state.globalStep, maxSteps: plan.maxSteps, epoch: state.epoch,
                               elapsedSeconds: elapsedBefore + seconds(since: clock))
        r.loss = total.meanLoss
        if options.accuracyStrategy == .token { r.tokenAccuracy = total.tokenAccuracy } else { r.sequenceAccuracy = total.sequenceAccuracy }
        r.evalRuntime = runtime
        r.evalSamplesPerSecond = Double(evaluated) / max(runtime, 1e-9)
        r.evalStepsPerSecond = Double(batches) / max(runtime, 1e-9)
        try emit(r)
        return ["loss": total.meanLoss, "token_acc": total.tokenAccuracy, "seq_acc": total.sequenceAccuracy]
    }

    private func saveCheckpoint(metrics: [String: Double]?) throws -> String {
        let step = state.globalStep
        let target = checkpoints.path(step: step)
        if let metrics, let value = metrics[options.metricForBestModel.replacingOccurrences(of: "eval_", with: "")] {
            let better = state.bestMetric.map { options.greaterIsBetter ? value > $0 : value < $0 } ?? true
            if better {
                state.bestMetric = value
                state.bestCheckpoint = target
                state.bestStep = step
            }
        }
        let written = try checkpoints.write(step: step) { dir in
            try writeWeights(dir)
            if let json = options.argumentsJSON {
                try writeAtomically(to: dir + "/args.json") { try $0.write(json) }
            }
            try state.write(to: dir, options: options, stepsPerEpoch: plan.stepsPerEpoch)
            if !options.saveOnlyModel {
                try OptimizerStateFile.write(optimizer, names: parameterNames, to: dir)
                try writeJSON(["lr_scheduler_type": options.scheduler.rawValue, "last_epoch": step,
                               "base_lr": options.learningRate, "warmup_steps": schedule.warmupSteps,
                               "total_steps": plan.maxSteps] as [String: Any], to: dir + "/scheduler.json")
                try RandomState(streams: ["model": model.randomState]).write(to: dir)
            }
        }
        checkpoints.rotate(limit: options.saveTotalLimit, best: state.bestCheckpoint)
        return written
    }
}

func seconds(since start: ContinuousClock.Instant) -> Double {
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}
