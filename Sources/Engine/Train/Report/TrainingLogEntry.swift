/// The figures of one line of a training log, as the trainer fills them. Which optional
/// figures are set decides the line: a logging step (`loss`, `gradNorm`, `learningRate`,
/// `tokenAccuracy`), an evaluation (`evalLoss`, `evalRuntime`, ...), or the end of training
/// (`trainRuntime`, ..., `trainLoss`). Values are the raw figures; the file rounds them as
/// ms-swift does.
public struct TrainingLogEntry: Sendable, Equatable {
    public var loss: Double?
    public var gradNorm: Double?
    public var learningRate: Double?
    /// ms-swift's `token_acc` (written `eval_token_acc` in an evaluation line).
    public var tokenAccuracy: Double?

    public var evalLoss: Double?
    /// Seconds, and samples and steps per second of those unrounded seconds, as transformers'
    /// `speed_metrics` computes them (left out by it when the runtime is 0); rounded here.
    public var evalRuntime: Double?
    public var evalSamplesPerSecond: Double?
    public var evalStepsPerSecond: Double?

    /// Same as the eval figures; samples count the share of the schedule this run took.
    public var trainRuntime: Double?
    public var trainSamplesPerSecond: Double?
    public var trainStepsPerSecond: Double?
    public var totalFlos: Double?
    public var trainLoss: Double?

    /// Further metrics under their full key (e.g. "aux_loss", "eval_acc"); written with the
    /// token accuracy, sorted by key, before `epoch`, as ms-swift's custom metrics are.
    public var otherMetrics: [String: Double] = [:]

    /// Fractional epoch (`TrainerState.epoch`).
    public var epoch: Double?

    public var globalStep: Int
    public var maxSteps: Int
    /// Seconds since this run (or resumed run) began.
    public var elapsedSeconds: Double
    /// The global step this run started from (nonzero after resuming); the speed counts only
    /// the steps this run took.
    public var startStep: Int
    /// Peak memory so far in GiB; omitted from the line when nil or zero, as ms-swift does.
    public var maxMemoryGiB: Double?

    public init(globalStep: Int, maxSteps: Int, elapsedSeconds: Double, startStep: Int = 0, maxMemoryGiB: Double? = nil) {
        self.globalStep = globalStep
        self.maxSteps = maxSteps
        self.elapsedSeconds = elapsedSeconds
        self.startStep = startStep
        self.maxMemoryGiB = maxMemoryGiB
    }

    /// An evaluation line carries its custom metrics with the `eval_` prefix.
    public var isEvaluation: Bool {
        evalLoss != nil || evalRuntime != nil || evalSamplesPerSecond != nil || evalStepsPerSecond != nil
    }

    /// The metrics in transformers' order, unrounded: what `Trainer.log` hands its callbacks
    /// (and TensorBoard), and what `log_history` keeps.
    public var metrics: [(key: String, value: Double)] {
        var out: [(key: String, value: Double)] = []
        func add(_ key: String, _ v: Double?) { if let v { out.append((key, v)) } }
        add("loss", loss)
        add("grad_norm", gradNorm)
        add("learning_rate", learningRate)
        // transformers' speed_metrics rounds runtimes to 4 decimals and rates to 3.
        func runtime(_ v: Double?) -> Double? { v.map { PythonFormat.round($0, 4) } }
        func rate(_ v: Double?) -> Double? { v.map { PythonFormat.round($0, 3) } }
        add("eval_loss", evalLoss)
        add("eval_runtime", runtime(evalRuntime))
        add("eval_samples_per_second", rate(evalSamplesPerSecond))
        add("eval_steps_per_second", rate(evalStepsPerSecond))
        add("train_runtime", runtime(trainRuntime))
        add("train_samples_per_second", rate(trainSamplesPerSecond))
        add("train_steps_per_second", rate(trainStepsPerSecond))
        add("total_flos", totalFlos)
        add("train_loss", trainLoss)
        var custom = otherMetrics
        if let tokenAccuracy { custom[isEvaluation ? "eval_token_acc" : "token_acc"] = tokenAccuracy }
        for key in custom.keys.sorted() { out.append((key, custom[key]!)) }
        add("epoch", epoch)
        return out
    }

    /// Seconds per step of this run so far (ms-swift's `train_speed(s/it)`).
    var secondsPerStep: Double {
        let steps = globalStep - startStep
        return steps > 0 ? elapsedSeconds / Double(steps) : 0
    }

    /// The line ms-swift's `add_train_message` makes of these metrics: progress, times, every
    /// float rounded to 8 decimals, then memory and speed.
    var loggedFields: [(String, PythonJSON)] {
        var fields: [(String, PythonJSON)] = metrics.map { ($0.key, .float(PythonFormat.round($0.value, 8))) }
        fields.append(("global_step/max_steps", .string("\(globalStep)/\(maxSteps)")))
        fields.append(("elapsed_time", .string(TrainingTimeFormat.string(seconds: elapsedSeconds))))
        let remaining = Double(maxSteps - globalStep) * secondsPerStep
        fields.append(("remaining_time", .string(TrainingTimeFormat.string(seconds: remaining))))
        if let m = maxMemoryGiB, m != 0 { fields.append(("memory(GiB)", .float(PythonFormat.round(m, 2)))) }
        fields.append(("train_speed(s/it)", .float(PythonFormat.round(secondsPerStep, 6))))
        return fields
    }
}

/// ms-swift's `format_time`: whole seconds (rounded half to even) as "42s", "3m 5s",
/// "1h 0m 7s", "2d 3h 0m 1s".
public enum TrainingTimeFormat {
    public static func string(seconds: Double) -> String {
        let total = PythonFormat.roundToInt(seconds)
        // Python's // and % floor toward minus infinity.
        func floorDiv(_ a: Int, _ b: Int) -> Int { let q = a / b; return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q }
        func floorMod(_ a: Int, _ b: Int) -> Int { a - floorDiv(a, b) * b }
        let days = floorDiv(total, 86400)
        let hours = floorDiv(floorMod(total, 86400), 3600)
        let minutes = floorDiv(floorMod(total, 3600), 60)
        let secs = floorMod(total, 60)
        if days > 0 { return "\(days)d \(hours)h \(minutes)m \(secs)s" }
        if hours > 0 { return "\(hours)h \(minutes)m \(secs)s" }
        if minutes > 0 { return "\(minutes)m \(secs)s" }
        return "\(secs)s"
    }
}
