/// The trainer's settings, named after the reference arguments they come from.
public struct TrainingOptions: Sendable {
    public enum Strategy: String, Sendable { case no, steps, epoch }
    public enum AccuracyStrategy: String, Sendable { case token, seq }

    /// `learning_rate` (the session fills the per-train-type default).
    public var learningRate: Double = 1e-4
    public var scheduler: LearningRateSchedule.Kind = .cosine
    public var schedulerParameters: [String: Double] = [:]
    public var warmupRatio: Double = 0
    public var warmupSteps: Int = 0
    public var numTrainEpochs: Double = 3
    /// `max_steps`; -1 derives it from the epochs.
    public var maxSteps: Int = -1
    /// `max_epochs`: stop after this many whole epochs even if steps remain.
    public var maxEpochs: Int?
    public var perDeviceTrainBatchSize = 1
    public var perDeviceEvalBatchSize = 1
    public var gradientAccumulationSteps = 16
    public var maxGradNorm: Double = 1
    public var weightDecay: Double = 0.1
    public var adamBeta1: Double = 0.9
    public var adamBeta2: Double = 0.95
    public var adamEpsilon: Double = 1e-8
    public var seed: UInt64 = 42
    /// `train_dataloader_shuffle`: a fresh order of the training samples each epoch.
    public var shuffle = true
    public var loggingSteps = 5
    public var loggingFirstStep = true
    public var evalStrategy: Strategy = .no
    public var evalSteps = 500
    public var saveStrategy: Strategy = .steps
    public var saveSteps = 500
    public var saveTotalLimit: Int?
    public var saveOnlyModel = false
    public var accuracyStrategy: AccuracyStrategy = .token
    /// `metric_for_best_model` without the `eval_` prefix: "loss", "token_acc", ...
    public var metricForBestModel = "loss"
    public var greaterIsBetter = false
    public var gradientCheckpointing = true
    public var createCheckpointSymlink = false
    /// `report_to` includes tensorboard.
    public var tensorBoard = true
    /// Where TensorBoard events go (`logging_dir`); nil means `<output_dir>/runs`.
    public var loggingDirectory: String?
    /// The run's directory (already versioned, see `RunDirectory`).
    public var outputDirectory: String = "output"
    /// `resume_from_checkpoint`: a checkpoint directory.
    public var resumeFrom: String?
    public var resumeOnlyModel = false
    public var ignoreDataSkip = false
    /// `neftune_noise_alpha`; 0 is off.
    public var neftuneNoiseAlpha: Double = 0
    /// args.json text copied into every checkpoint (ms-swift does), when given.
    public var argumentsJSON: String?
    /// `lorap_lr_ratio` (LoRA+), set by the LoRA tuner.
    public var loraPlusRatio: Double?

    public init() {}
}
