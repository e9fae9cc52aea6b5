import Foundation

/// One training configuration of `tune-bench --train`: a model made trainable (LoRA on every
/// linear layer but the head over the frozen base in its file type, or full fine-tuning in f32),
/// AdamW over its parameters, and a step that runs forward, backward, gradient clipping and the
/// update on a batch of equal-length windows packed into one sequence list.
public final class TrainingBenchmark {
    public enum Method: String, Sendable { case lora, full }

    let model: TrainableLlama
    let optimizer: AdamW
    public let checkpointing: Bool
    let pool: ThreadPool

    public init(model base: LlamaModel, method: Method, rank: Int = 8, alpha: Float = 32,
                checkpointing: Bool, seed: UInt64 = 1, pool: ThreadPool = .shared) {
        switch method {
        case .lora: model = try! TrainableLlama(lora: base, config: LoRAConfig(rank: rank, alpha: Double(alpha), dropout: 0), seed: seed)
        case .full: model = TrainableLlama(fullFineTuning: base)
        }
        optimizer = AdamW(parameters: model.namedParameters.map {
            AdamW.Parameter($0.variable, decays: AdamW.decays(parameterNamed: $0.name))
        })
        self.checkpointing = checkpointing
        self.pool = pool
    }

    /// Number of trainable values.
    public var trainableParameterCount: Int { model.namedParameters.reduce(0) { $0 + $1.variable.count } }

    /// One optimizer step on `sequences` (each trained as its own causal sequence, labels = its
    /// tokens); returns the mean next-token loss before the update.
    public func step(_ sequences: [[Int]], learningRate: Float, maxGradNorm: Float = 1) -> Float {
        let tokens = sequences.flatMap { $0 }, lengths = sequences.map(\.count)
        let targets = TrainableLlama.causalTargets(labels: tokens, sequenceLengths: lengths)
        let loss: Float
        if checkpointing {
            loss = model.checkpointedLossAndBackward(tokens: tokens, targets: targets, sequenceLengths: lengths, pool: pool)
        } else {
            let tape = Tape(pool: pool)
            let l = model.loss(tape, tokens: tokens, targets: targets, sequenceLengths: lengths)
            tape.backward(l)
            loss = l.values[0]
        }
        TapeProfile.measure("optimizer") {
            optimizer.clipGradients(maxNorm: maxGradNorm)
            optimizer.step(learningRate: learningRate)
            optimizer.zeroGradients()
        }
        return loss
    }

    /// The process's peak resident memory in MB (VmHWM of /proc/self/status), 0 if unknown.
    public static func peakResidentMB() -> Double { statusMB("VmHWM:") }

    /// The process's resident memory now in MB (VmRSS).
    public static func residentMB() -> Double { statusMB("VmRSS:") }

    private static func statusMB(_ field: String) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix(field) {
            let kB = line.split(separator: " ").dropFirst().first.flatMap { Double($0) } ?? 0
            return kB / 1024
        }
        return 0
    }

    /// Resets the peak that `peakResidentMB` reports to the current resident size (Linux's
    /// clear_refs 5), so that a peak measured afterwards excludes loading.
    public static func resetPeakResident() {
        guard let f = fopen("/proc/self/clear_refs", "w") else { return }
        fputs("5", f)
        fclose(f)
    }
}
