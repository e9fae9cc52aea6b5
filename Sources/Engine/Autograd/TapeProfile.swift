import Foundation

/// Wall time per op kind, forward and backward, summed over every tape of the process while
/// enabled (TUNE_TAPE_PROFILE=1, or `enabled = true`); `tune-bench --train` prints it.
/// Single-threaded bookkeeping: ops are only ever started from one thread.
public enum TapeProfile {
    nonisolated(unsafe) public static var enabled = getenv("TUNE_TAPE_PROFILE").map { String(cString: $0) == "1" } ?? false
    nonisolated(unsafe) static var opStart: UInt64 = 0
    nonisolated(unsafe) private static var totals: [String: (seconds: Double, calls: Int)] = [:]

    nonisolated(unsafe) private static var liveBytes = 0
    /// Largest total of tensor, gradient and saved-buffer bytes alive at once since the last report.
    nonisolated(unsafe) public private(set) static var peakBytes = 0

    static func allocated(_ bytes: Int) {
        liveBytes &+= bytes
        if liveBytes > peakBytes { peakBytes = liveBytes }
    }

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    static func add(_ name: String, since start: UInt64) {
        let t = Double(now() &- start) / 1e9
        let old = totals[name] ?? (0, 0)
        totals[name] = (old.seconds + t, old.calls + 1)
    }

    /// Times `body` under `name` when enabled (for work outside the tape, such as the optimizer).
    public static func measure<T>(_ name: String, _ body: () -> T) -> T {
        guard enabled else { return body() }
        let t0 = now()
        defer { add(name, since: t0) }
        return body()
    }

    /// One line per op kind, slowest first, and clears the totals.
    public static func report() -> String {
        let sum = totals.values.reduce(0) { $0 + $1.seconds }
        let lines = totals.sorted { $0.value.seconds > $1.value.seconds }.map {
            String(format: "  %@ %8.3f s %5.1f%% %7d calls", $0.key.padding(toLength: 26, withPad: " ", startingAt: 0), $0.value.seconds,
                   sum > 0 ? 100 * $0.value.seconds / sum : 0, $0.value.calls)
        }
        totals = [:]
        let peak = String(format: "  peak tensor memory %.0f MB (now %.0f MB)", Double(peakBytes) / 1e6, Double(liveBytes) / 1e6)
        peakBytes = liveBytes
        return (lines + [String(format: "  %@ %8.3f s", "total".padding(toLength: 26, withPad: " ", startingAt: 0), sum), peak]).joined(separator: "\n")
    }
}

extension Operation {
    var name: String {
        switch self {
        case .linear: return "linear"
        case .frozenLinear: return "frozenLinear"
        case .loraLinear: return "loraLinear"
        case .embedding: return "embedding"
        case .rmsNorm: return "rmsNorm"
        case .rope: return "rope"
        case .attention: return "attention"
        case .swiglu: return "swiglu"
        case .add: return "add"
        case .scale: return "scale"
        case .crossEntropy: return "crossEntropy"
        case .linearCrossEntropy: return "linearCrossEntropy"
        case .dropout: return "dropout"
        case .custom: return "custom"
        }
    }
}
