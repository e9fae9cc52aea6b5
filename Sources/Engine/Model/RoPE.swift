import Foundation

/// Which pairs of a head's dimensions RoPE rotates together.
public enum RopeStyle: Sendable, Equatable {
    /// (x[2i], x[2i+1]): the layout of llama-architecture GGUF files, whose converter permutes
    /// the q and k rows of HF checkpoints into it.
    case interleaved
    /// (x[i], x[i + d/2]): HF checkpoints, and Qwen2/Qwen3 GGUF files (NEOX style).
    case halves
}

/// Rotary position embedding for one model: the inverse frequencies (after `rope_scaling`) and
/// the rotation itself.
struct RotaryEmbedding {
    let headDim: Int
    let style: RopeStyle
    let baseInverseFrequencies: [Float]
    let config: ModelConfig
    /// Scale applied to cos and sin (YaRN's attention factor; 1 otherwise).
    let magnitude: Float

    init(config: ModelConfig, style: RopeStyle) {
        self.config = config
        self.style = style
        headDim = config.headDim
        let d = Double(config.headDim)
        var freqs = (0..<(config.headDim / 2)).map { i in 1 / pow(config.ropeTheta, Double(2 * i) / d) }
        var mag = 1.0
        if let s = config.ropeScaling {
            let original = Double(s.originalMaxPositions ?? config.maxPositions)
            switch s.kind {
            case .linear:
                freqs = freqs.map { $0 / s.factor }
            case .dynamic:
                break  // depends on the sequence length; see frequencies(forLength:)
            case .llama3:
                let lowWavelength = original / s.lowFrequencyFactor
                let highWavelength = original / s.highFrequencyFactor
                freqs = freqs.map { f in
                    let wavelength = 2 * Double.pi / f
                    if wavelength < highWavelength { return f }
                    if wavelength > lowWavelength { return f / s.factor }
                    let smooth = (original / wavelength - s.lowFrequencyFactor) / (s.highFrequencyFactor - s.lowFrequencyFactor)
                    return (1 - smooth) * f / s.factor + smooth * f
                }
            case .yarn:
                // Dimensions that turn fewer than betaSlow times over the original context are
                // interpolated, more than betaFast times extrapolated, with a linear ramp between.
                func correctionDim(_ rotations: Double) -> Double {
                    d * log(original / (rotations * 2 * Double.pi)) / (2 * log(config.ropeTheta))
                }
                let low = max(floor(correctionDim(s.betaFast)), 0)
                let high = min(ceil(correctionDim(s.betaSlow)), d - 1)
                freqs = freqs.enumerated().map { i, f in
                    let ramp = min(max((Double(i) - low) / max(high - low, 0.001), 0), 1)
                    let extrapolationWeight = 1 - ramp
                    return f / s.factor * (1 - extrapolationWeight) + f * extrapolationWeight
                }
                mag = s.attentionFactor ?? (s.factor <= 1 ? 1 : 0.1 * log(s.factor) + 1)
            }
        }
        baseInverseFrequencies = freqs.map(Float.init)
        magnitude = Float(mag)
    }

    /// Inverse frequencies for a sequence of `length` positions (dynamic NTK scaling changes
    /// the base once the sequence outgrows the original context).
    func frequencies(forLength length: Int) -> [Float] {
        guard let s = config.ropeScaling, s.kind == .dynamic else { return baseInverseFrequencies }
        let original = Double(s.originalMaxPositions ?? config.maxPositions)
        guard Double(length) > original else { return baseInverseFrequencies }
        let d = Double(headDim)
        let base = config.ropeTheta * pow(s.factor * Double(length) / original - (s.factor - 1), d / (d - 2))
        return (0..<(headDim / 2)).map { i in Float(1 / pow(base, Double(2 * i) / d)) }
    }

    /// cos and sin tables for positions [start, start+count): `count × headDim/2` each.
    func tables(start: Int, count: Int, totalLength: Int) -> (cos: [Float], sin: [Float]) {
        let freqs = frequencies(forLength: totalLength)
        let half = headDim / 2
        var c = [Float](repeating: 0, count: count * half), s = c
        for t in 0..<count {
            let pos = Double(start + t)
            for i in 0..<half {
                let angle = pos * Double(freqs[i])
                c[t * half + i] = Float(cos(angle)) * magnitude
                s[t * half + i] = Float(sin(angle)) * magnitude
            }
        }
        return (c, s)
    }

    /// Rotates `heads` heads of one token in place.
    func rotate(_ x: UnsafeMutablePointer<Float>, heads: Int, cos c: UnsafePointer<Float>, sin s: UnsafePointer<Float>) {
        let half = headDim / 2
        for h in 0..<heads {
            let v = x + h * headDim
            switch style {
            case .interleaved:
                for i in 0..<half {
                    let a = v[2 * i], b = v[2 * i + 1]
                    v[2 * i] = a * c[i] - b * s[i]
                    v[2 * i + 1] = a * s[i] + b * c[i]
                }
            case .halves:
                for i in 0..<half {
                    let a = v[i], b = v[i + half]
                    v[i] = a * c[i] - b * s[i]
                    v[i + half] = a * s[i] + b * c[i]
                }
            }
        }
    }
}
