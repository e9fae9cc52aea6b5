extension TensorBoardEventWriter {
    /// transformers' `rewrite_logs`: `eval_x` becomes `eval/x`, `test_x` `test/x`, anything
    /// else `train/x` (so the end-of-training figures read `train/train_runtime`).
    public static func tag(forLogKey key: String) -> String {
        if key.hasPrefix("eval_") { return "eval/" + key.dropFirst(5) }
        if key.hasPrefix("test_") { return "test/" + key.dropFirst(5) }
        return "train/" + key
    }

    /// The entry's scalars as transformers' `TensorBoardCallback.on_log` writes them: every
    /// metric (unrounded, before ms-swift adds its progress fields) at the entry's global
    /// step, then a flush.
    public func add(_ entry: TrainingLogEntry, wallTime: Double) throws {
        for (key, value) in entry.metrics {
            addScalar(tag: Self.tag(forLogKey: key), value: Float(value), step: entry.globalStep, wallTime: wallTime)
        }
        try flush()
    }
}
