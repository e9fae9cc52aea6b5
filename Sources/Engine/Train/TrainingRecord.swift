import Foundation

/// One line of a run's log: training figures at a logging step, evaluation figures, or the
/// summary at the end. Optional figures are absent from the line.
public struct TrainingRecord: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case train, eval, summary }
    public var kind: Kind
    public var step: Int
    public var maxSteps: Int
    public var epoch: Double
    public var loss: Double?
    public var gradNorm: Double?
    public var learningRate: Double?
    public var tokenAccuracy: Double?
    /// seq accuracy when acc_strategy is seq.
    public var sequenceAccuracy: Double?
    public var elapsedSeconds: Double
    public var remainingSeconds: Double?
    public var memoryGiB: Double?
    public var stepsPerSecond: Double?
    public var tokensPerSecond: Double?
    /// Evaluation: runtime and throughput.
    public var evalRuntime: Double?
    public var evalSamplesPerSecond: Double?
    public var evalStepsPerSecond: Double?
    /// Summary: total training time and the mean training loss of the whole run.
    public var trainRuntime: Double?
    public var trainSamplesPerSecond: Double?
    public var trainStepsPerSecond: Double?
    public var trainLoss: Double?
    /// Summary: rows left out of the training and validation data (malformed with strict
    /// false, longer than max_length under `delete`, not tokenizable).
    public var droppedRows: Int?
    /// Summary: the checkpoints `last` and `best` point at, and the best checkpoint's metric
    /// (logging.jsonl's last_model_checkpoint, best_model_checkpoint, best_metric).
    public var lastCheckpoint: String?
    public var bestCheckpoint: String?
    public var bestMetric: Double?

    public init(kind: Kind, step: Int, maxSteps: Int, epoch: Double, elapsedSeconds: Double) {
        self.kind = kind
        self.step = step
        self.maxSteps = maxSteps
        self.epoch = epoch
        self.elapsedSeconds = elapsedSeconds
    }

    /// The figures under the HF Trainer's `log_history` keys (as trainer_state.json holds them).
    public var historyEntry: [String: Any] {
        var d: [String: Any] = ["step": step, "epoch": epoch]
        func put(_ key: String, _ v: Double?) { if let v { d[key] = v } }
        switch kind {
        case .train:
            put("loss", loss); put("grad_norm", gradNorm); put("learning_rate", learningRate)
            put("token_acc", tokenAccuracy); put("seq_acc", sequenceAccuracy)
        case .eval:
            put("eval_loss", loss); put("eval_token_acc", tokenAccuracy); put("eval_seq_acc", sequenceAccuracy)
            put("eval_runtime", evalRuntime); put("eval_samples_per_second", evalSamplesPerSecond)
            put("eval_steps_per_second", evalStepsPerSecond)
        case .summary:
            put("train_runtime", trainRuntime); put("train_samples_per_second", trainSamplesPerSecond)
            put("train_steps_per_second", trainStepsPerSecond); put("train_loss", trainLoss)
            d["total_flos"] = 0.0
        }
        return d
    }

    init?(historyEntry d: [String: Any], maxSteps: Int) {
        guard let step = d["step"] as? Int else { return nil }
        let epoch = (d["epoch"] as? Double) ?? 0
        func get(_ k: String) -> Double? { (d[k] as? Double) ?? (d[k] as? Int).map(Double.init) }
        if d["eval_loss"] != nil {
            self.init(kind: .eval, step: step, maxSteps: maxSteps, epoch: epoch, elapsedSeconds: 0)
            loss = get("eval_loss"); tokenAccuracy = get("eval_token_acc"); sequenceAccuracy = get("eval_seq_acc")
            evalRuntime = get("eval_runtime")
        } else if d["train_runtime"] != nil {
            self.init(kind: .summary, step: step, maxSteps: maxSteps, epoch: epoch, elapsedSeconds: 0)
            trainRuntime = get("train_runtime"); trainLoss = get("train_loss")
        } else {
            self.init(kind: .train, step: step, maxSteps: maxSteps, epoch: epoch, elapsedSeconds: 0)
            loss = get("loss"); gradNorm = get("grad_norm"); learningRate = get("learning_rate")
            tokenAccuracy = get("token_acc"); sequenceAccuracy = get("seq_acc")
        }
    }
}

/// What the trainer reports while it runs (for a progress bar).
public struct TrainingProgress: Sendable {
    public enum Phase: Sendable { case training, evaluating, saving }
    public var phase: Phase
    public var step: Int
    public var maxSteps: Int
    public var epoch: Double
    public var loss: Double?
    public var learningRate: Double?
    public var tokensPerSecond: Double?
    public var remainingSeconds: Double?
    /// Seconds since the run (or the resumed run) began.
    public var elapsedSeconds: Double?
}

/// Receives the run's records as they are made: the log files (logging.jsonl, TensorBoard,
/// curves) implement it.
public protocol TrainingRecordSink: AnyObject {
    func record(_ record: TrainingRecord) throws
    /// Training ended (normally, stopped or failed): flush, draw the curves.
    func finish(history: [TrainingRecord]) throws
}

/// Peak resident memory of this process (VmHWM), in GiB; nil where /proc is missing.
func peakMemoryGiB() -> Double? {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kb = line.split(separator: " ").compactMap { Double($0) }.first
        return kb.map { $0 / 1_048_576 }
    }
    return nil
}
