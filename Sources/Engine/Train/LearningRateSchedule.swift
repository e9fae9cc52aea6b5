import Foundation

/// `lr_scheduler_type`: the factor on the base learning rate at each optimizer step, as the HF
/// Trainer's schedules compute it (warm-up first where the schedule has one).
public struct LearningRateSchedule: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case linear, cosine, cosineWithRestarts = "cosine_with_restarts", polynomial, constant
        case constantWithWarmup = "constant_with_warmup", inverseSqrt = "inverse_sqrt"
        case cosineWithMinLR = "cosine_with_min_lr", warmupStableDecay = "warmup_stable_decay"
    }

    public var kind: Kind
    public var totalSteps: Int
    public var warmupSteps: Int
    /// `lr_scheduler_kwargs`: num_cycles, power, lr_end, min_lr / min_lr_rate, num_decay_steps,
    /// num_stable_steps, timescale.
    public var parameters: [String: Double]
    public var baseLearningRate: Double

    /// `warmupSteps` is `warmup_steps` when positive, else ⌈warmup_ratio · total⌉ as HF rounds it.
    public init(kind: Kind, baseLearningRate: Double, totalSteps: Int, warmupSteps: Int = 0, warmupRatio: Double = 0,
                parameters: [String: Double] = [:]) throws {
        self.kind = kind
        self.baseLearningRate = baseLearningRate
        self.totalSteps = max(totalSteps, 1)
        self.warmupSteps = warmupSteps > 0 ? warmupSteps : Int((Double(max(totalSteps, 1)) * warmupRatio).rounded(.up))
        self.parameters = parameters
        if kind == .cosineWithMinLR, parameters["min_lr"] == nil, parameters["min_lr_rate"] == nil {
            throw TrainingError("lr_scheduler_type cosine_with_min_lr needs lr_scheduler_kwargs with min_lr or min_lr_rate, e.g. '{\"min_lr_rate\": 0.1}'")
        }
        if kind == .warmupStableDecay, parameters["num_decay_steps"] == nil {
            throw TrainingError("lr_scheduler_type warmup_stable_decay needs lr_scheduler_kwargs with num_decay_steps, e.g. '{\"num_decay_steps\": 100}'")
        }
    }

    /// The learning rate used by the optimizer step that follows `completedSteps` steps.
    public func learningRate(afterSteps completedSteps: Int) -> Double {
        baseLearningRate * factor(Double(completedSteps))
    }

    func factor(_ s: Double) -> Double {
        let w = Double(warmupSteps), total = Double(totalSteps)
        let warming = s < w && kind != .constant
        if warming { return s / max(1, w) }
        let progress = (s - w) / max(1, total - w)
        switch kind {
        case .constant, .constantWithWarmup:
            return 1
        case .linear:
            return max(0, (total - s) / max(1, total - w))
        case .cosine:
            let cycles = parameters["num_cycles"] ?? 0.5
            return max(0, 0.5 * (1 + cos(Double.pi * cycles * 2 * progress)))
        case .cosineWithRestarts:
            let cycles = parameters["num_cycles"] ?? 1
            if progress >= 1 { return 0 }
            return max(0, 0.5 * (1 + cos(Double.pi * (cycles * progress).truncatingRemainder(dividingBy: 1))))
        case .polynomial:
            let end = parameters["lr_end"] ?? 1e-7, power = parameters["power"] ?? 1
            if s > total { return end / baseLearningRate }
            let range = baseLearningRate - end
            return (range * pow(1 - progress, power) + end) / baseLearningRate
        case .inverseSqrt:
            let timescale = parameters["timescale"] ?? (w > 0 ? w : 10_000)
            let shift = timescale - w
            return 1 / ((s + shift) / timescale).squareRoot()
        case .cosineWithMinLR:
            let minRate = parameters["min_lr_rate"] ?? ((parameters["min_lr"] ?? 0) / baseLearningRate)
            let cycles = parameters["num_cycles"] ?? 0.5
            let c = 0.5 * (1 + cos(Double.pi * cycles * 2 * progress))
            return max(0, c * (1 - minRate) + minRate)
        case .warmupStableDecay:
            let decay = parameters["num_decay_steps"] ?? 0
            let stable = parameters["num_stable_steps"] ?? (total - w - decay)
            let minRate = parameters["min_lr_ratio"] ?? 0
            if s < w + stable { return 1 }
            let p = min(1, (s - w - stable) / max(1, decay))
            let c = 0.5 * (1 + cos(Double.pi * 0.5 * 2 * p))
            return (1 - minRate) * c + minRate
        }
    }
}

/// A training problem the user can fix (bad arguments, data, a diverging run).
public struct TrainingError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
