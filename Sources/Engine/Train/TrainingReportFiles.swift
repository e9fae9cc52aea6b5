import Foundation

/// The files a run writes for people: `logging.jsonl` (ms-swift's lines), TensorBoard events
/// under `logging_dir` (`report_to tensorboard`), and the loss / learning-rate curves as PNG
/// images under `images/` at the end.
public final class TrainingReportFiles: TrainingRecordSink {
    let log: TrainingLogFile
    let events: TensorBoardEventWriter?
    let runDirectory: String
    let startStep: Int
    /// Filled in by the caller before the run ends: dataset and parameter statistics for the
    /// summary line.
    public var summary = TrainingSummary(globalStep: 0)

    public init(options: TrainingOptions, runDirectory: String, startStep: Int = 0) throws {
        log = try TrainingLogFile(directory: runDirectory)
        events = options.tensorBoard ? try TensorBoardEventWriter(logDirectory: options.loggingDirectory ?? runDirectory + "/runs") : nil
        self.runDirectory = runDirectory
        self.startStep = startStep
    }

    public func record(_ r: TrainingRecord) throws {
        guard r.kind != .summary else {
            var e = TrainingLogEntry(globalStep: r.step, maxSteps: r.maxSteps, elapsedSeconds: r.elapsedSeconds,
                                     startStep: startStep, maxMemoryGiB: peakMemoryGiB())
            e.trainRuntime = r.trainRuntime
            e.trainSamplesPerSecond = r.trainSamplesPerSecond
            e.trainStepsPerSecond = r.trainStepsPerSecond
            e.totalFlos = 0
            e.trainLoss = r.trainLoss
            e.epoch = r.epoch
            if let d = r.droppedRows { summary.droppedRows = d }
            summary.lastModelCheckpoint = r.lastCheckpoint
            summary.bestModelCheckpoint = r.bestCheckpoint
            summary.bestMetric = r.bestMetric
            // The run's totals go to the log only: as curves of one point they say nothing.
            try log.append(e)
            return
        }
        var e = TrainingLogEntry(globalStep: r.step, maxSteps: r.maxSteps, elapsedSeconds: r.elapsedSeconds,
                                 startStep: startStep, maxMemoryGiB: r.memoryGiB ?? peakMemoryGiB())
        e.epoch = r.epoch
        switch r.kind {
        case .train:
            e.loss = r.loss
            e.gradNorm = r.gradNorm
            e.learningRate = r.learningRate
            e.tokenAccuracy = r.tokenAccuracy
            if let s = r.sequenceAccuracy { e.otherMetrics["seq_acc"] = s }
        case .eval:
            e.evalLoss = r.loss
            if let t = r.tokenAccuracy { e.otherMetrics["eval_token_acc"] = t }
            if let s = r.sequenceAccuracy { e.otherMetrics["eval_seq_acc"] = s }
            e.evalRuntime = r.evalRuntime
            e.evalSamplesPerSecond = r.evalSamplesPerSecond
            e.evalStepsPerSecond = r.evalStepsPerSecond
        case .summary: break
        }
        try log.append(e)
        addScalars(e, step: r.step)
    }

    /// transformers' TensorBoard callback: `eval_x` as `eval/x`, everything else as `train/x`.
    private func addScalars(_ e: TrainingLogEntry, step: Int) {
        guard let events else { return }
        for (key, value) in e.metrics where value.isFinite {
            let tag = key.hasPrefix("eval_") ? "eval/" + key.dropFirst(5) : "train/" + key
            events.addScalar(tag: tag, value: Float(value), step: step)
        }
    }

    public func finish(history: [TrainingRecord]) throws {
        summary.globalStep = history.last?.step ?? summary.globalStep
        summary.memoryGiB = peakMemoryGiB()
        try log.appendSummary(summary)
        log.close()
        if let events {
            try events.close()
            _ = try TrainingPlots.write(events.scalars, to: runDirectory + "/images")
        }
    }
}
