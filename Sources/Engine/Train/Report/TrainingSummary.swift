/// The last line ms-swift appends to `logging.jsonl` when training ends (its `train_msg`):
/// dataset statistics, the model's parameter counts, the last and best checkpoints, the best
/// metric, the global step, the whole log history and the peak memory.
public struct TrainingSummary: Sendable, Equatable {
    /// `stat_array` of the training set's token lengths (see `TrainingSummary.lengthStatistics`);
    /// the key is left out when nil (ms-swift omits it for lazy or streamed datasets).
    public var trainDataset: String?
    public var valDataset: String?
    /// See `TrainingSummary.parameterInfo`; left out when nil.
    public var modelParameterInfo: String?
    public var lastModelCheckpoint: String?
    public var bestModelCheckpoint: String?
    /// The `metric_for_best_model` value of the best checkpoint (eval loss by default).
    public var bestMetric: Double?
    public var globalStep: Int
    /// Peak memory in GiB, unrounded (ms-swift's `state.max_memory`).
    public var memoryGiB: Double?
    /// tune's own key `dropped_rows`: rows of the training and validation data left out
    /// (malformed with strict false, longer than max_length under `delete`, not tokenizable;
    /// with lazy_tokenize, of the rows reached). Left out when nil.
    public var droppedRows: Int?

    public init(globalStep: Int, trainDataset: String? = nil, valDataset: String? = nil, modelParameterInfo: String? = nil,
                lastModelCheckpoint: String? = nil, bestModelCheckpoint: String? = nil, bestMetric: Double? = nil,
                memoryGiB: Double? = nil) {
        self.globalStep = globalStep
        self.trainDataset = trainDataset
        self.valDataset = valDataset
        self.modelParameterInfo = modelParameterInfo
        self.lastModelCheckpoint = lastModelCheckpoint
        self.bestModelCheckpoint = bestModelCheckpoint
        self.bestMetric = bestMetric
        self.memoryGiB = memoryGiB
    }

    /// ms-swift's `get_model_parameter_info`:
    /// "PeftModelForCausalLM: 134.5152M Params (0.9216M Trainable [0.6851%]), 0.0000M Buffers."
    public static func parameterInfo(modelName: String, parameters: Int, trainable: Int, buffers: Int) -> String {
        let p = Double(parameters) / 1e6, t = Double(trainable) / 1e6, b = Double(buffers) / 1e6
        let percent = p == 0 ? Double.nan : 100 * t / p
        return "\(modelName): \(PythonFormat.fixed(p, 4))M Params (\(PythonFormat.fixed(t, 4))M Trainable "
            + "[\(PythonFormat.fixed(percent, 4))%]), \(PythonFormat.fixed(b, 4))M Buffers."
    }

    /// ms-swift's `stat_array` text of token lengths: "mean±std, min=…, max=…, size=N"
    /// (population standard deviation, six decimals).
    public static func lengthStatistics(_ lengths: [Int]) -> String {
        guard !lengths.isEmpty else { return "nan±nan, min=nan, max=nan, size=0" }
        let n = Double(lengths.count)
        let mean = lengths.reduce(0.0) { $0 + Double($1) } / n
        let variance = lengths.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
        let f = { (x: Double) in PythonFormat.fixed(x, 6) }
        return "\(f(mean))±\(f(variance.squareRoot())), min=\(f(Double(lengths.min()!))), "
            + "max=\(f(Double(lengths.max()!))), size=\(lengths.count)"
    }

    func fields(logHistory: [PythonJSON]) -> [(String, PythonJSON)] {
        var out: [(String, PythonJSON)] = []
        if let trainDataset { out.append(("train_dataset", .string(trainDataset))) }
        if let valDataset { out.append(("val_dataset", .string(valDataset))) }
        if let modelParameterInfo { out.append(("model_parameter_info", .string(modelParameterInfo))) }
        func optional(_ s: String?) -> PythonJSON { s.map { .string($0) } ?? .null }
        out.append(("last_model_checkpoint", optional(lastModelCheckpoint)))
        out.append(("best_model_checkpoint", optional(bestModelCheckpoint)))
        out.append(("best_metric", bestMetric.map { .float($0) } ?? .null))
        out.append(("global_step", .int(globalStep)))
        if let droppedRows { out.append(("dropped_rows", .int(droppedRows))) }
        out.append(("log_history", .array(logHistory)))
        out.append(("memory", memoryGiB.map { .float($0) } ?? .null))
        return out
    }
}
