/// The integer grid calibration-based methods quantize onto, laid out so the result runs on
/// the engine's existing block kernels: a group of `groupSize` weights (a multiple of 32) is
/// a run of GGUF blocks that all repeat the group's scale (and minimum).
///
/// - 4-bit symmetric: value = d·(q − 8), q ∈ 0…15 — exactly a Q4_0 block.
/// - 4-bit asymmetric: value = d·q + m, m = −d·zero — a Q4_1 block.
/// - 8-bit symmetric: value = d·(q − 128), q ∈ 0…255 — a Q8_0 block (int8 = q − 128).
///
/// d and m are rounded to f16 when the group's parameters are found, so everything that uses
/// them afterwards (GPTQ's error feedback, AWQ's search) sees the values the file stores.
public struct GroupGrid: Sendable, Equatable {
    /// How a group's scale and zero point are chosen from its weights.
    public enum Style: Sendable, Equatable {
        /// AutoGPTQ's quantizer: the range always includes 0; symmetric zero = 2^(bits−1).
        case gptq
        /// AutoAWQ's `pseudo_quantize_tensor`: the plain min/max (asymmetric) or the largest
        /// magnitude over 2^(bits−1) − 1 (symmetric).
        case awq
    }

    public let bits: Int
    /// Weights per group along a row; a multiple of 32. A row's last group may be shorter
    /// (576 = 4·128 + 64), as AutoGPTQ's groups are.
    public let groupSize: Int
    public let symmetric: Bool
    public let style: Style

    public init(bits: Int, groupSize: Int, symmetric: Bool, style: Style) throws {
        guard bits == 4 || bits == 8 else {
            throw CalibrationError("quant_bits \(bits) is not supported: use 4 (Q4_0/Q4_1 blocks) or 8 (Q8_0 blocks)")
        }
        guard bits == 4 || symmetric else {
            throw CalibrationError("8-bit quantization is symmetric only here (it is stored as Q8_0, which has no zero point)")
        }
        guard groupSize > 0, groupSize % 32 == 0 else {
            throw CalibrationError("group_size \(groupSize) must be a positive multiple of 32 (the GGUF block length)")
        }
        self.bits = bits
        self.groupSize = groupSize
        self.symmetric = symmetric
        self.style = style
    }

    /// The GGUF type whose blocks hold the result.
    public var type: GGMLType { bits == 8 ? .q8_0 : (symmetric ? .q4_0 : .q4_1) }

    var maxCode: Int { (1 << bits) - 1 }

    /// A group's stored parameters: value = scale·code + offset.
    struct Parameters {
        var scale: Float
        var offset: Float

        /// The nearest code (ties to even, as torch.round) and the value it stands for.
        @inline(__always) func code(_ x: Float, maxCode: Int) -> UInt8 {
            guard scale != 0 else { return 0 }  // every code stands for `offset`
            let v = ((x - offset) / scale).rounded(.toNearestOrEven)
            return UInt8(truncatingIfNeeded: Int(clampCode(v, maxCode)))
        }

        @inline(__always) func value(_ q: UInt8) -> Float { scale * Float(q) + offset }
    }

    /// The parameters for the `n` weights at `x`, f16-rounded as stored.
    func parameters(_ x: UnsafePointer<Float>, _ n: Int) -> Parameters {
        var lo = Float.greatestFiniteMagnitude, hi = -Float.greatestFiniteMagnitude, amax: Float = 0
        for j in 0..<n {
            let v = x[j]
            if v < lo { lo = v }
            if v > hi { hi = v }
            if abs(v) > amax { amax = abs(v) }
        }
        let maxq = Float(maxCode)
        let half = Float(1 << (bits - 1))
        var scale: Float, zero: Float
        switch style {
        case .gptq:
            var xmin = min(lo, 0), xmax = max(hi, 0)
            if symmetric {
                xmax = max(-xmin, xmax)
                if xmin < 0 { xmin = -xmax }
            }
            if xmin == 0 && xmax == 0 { xmin = -1; xmax = 1 }
            scale = (xmax - xmin) / maxq
            zero = symmetric ? (maxq + 1) / 2 : (-xmin / scale).rounded(.toNearestOrEven)
        case .awq:
            if symmetric {
                scale = max(amax, 1e-5) / (half - 1)
                zero = half
            } else {
                scale = max(hi - lo, 1e-5) / maxq
                zero = min(max(-(lo / scale).rounded(.toNearestOrEven), 0), maxq)
            }
        }
        let d = Self.half(scale)
        return Parameters(scale: d, offset: Self.half(-zero * d))
    }

    /// `x` rounded to the nearest f16, as the block stores it (finite: clamped to ±65504).
    @inline(__always) static func half(_ x: Float) -> Float {
        Float(Float16(min(max(x, -65504), 65504)))
    }

    /// Packs the codes of one row (`rowLength` of them, 0…maxCode) and the parameters of its
    /// groups into the row's GGUF blocks at `dst`.
    func packRow(codes: UnsafePointer<UInt8>, parameters: UnsafePointer<Parameters>, rowLength: Int,
                 into dst: UnsafeMutableRawPointer) {
        let blocks = rowLength / 32
        for b in 0..<blocks {
            let p = parameters[(b &* 32) / groupSize]
            let c = codes + b &* 32
            switch type {
            case .q4_0:
                let out = dst + b &* 18
                out.storeBytes(of: Float16(p.scale).bitPattern, toByteOffset: 0, as: UInt16.self)
                for j in 0..<16 { out.storeBytes(of: c[j] | (c[j &+ 16] << 4), toByteOffset: 2 &+ j, as: UInt8.self) }
            case .q4_1:
                let out = dst + b &* 20
                out.storeBytes(of: Float16(p.scale).bitPattern, toByteOffset: 0, as: UInt16.self)
                out.storeBytes(of: Float16(p.offset).bitPattern, toByteOffset: 2, as: UInt16.self)
                for j in 0..<16 { out.storeBytes(of: c[j] | (c[j &+ 16] << 4), toByteOffset: 4 &+ j, as: UInt8.self) }
            default:
                let out = dst + b &* 34
                out.storeBytes(of: Float16(p.scale).bitPattern, toByteOffset: 0, as: UInt16.self)
                for j in 0..<32 { out.storeBytes(of: Int8(truncatingIfNeeded: Int(c[j]) &- 128), toByteOffset: 2 &+ j, as: Int8.self) }
            }
        }
    }

    /// Groups in a row of `rowLength`.
    func groupCount(rowLength: Int) -> Int { (rowLength + groupSize - 1) / groupSize }
}

@inline(__always) private func clampCode(_ v: Float, _ maxCode: Int) -> Float {
    guard v.isFinite else { return 0 }
    return min(max(v, 0), Float(maxCode))
}

/// Why a calibration-based quantization could not run.
public struct CalibrationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
