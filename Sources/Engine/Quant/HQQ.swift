import Foundation

/// Half-Quadratic Quantization (Badri & Shaji, 2023), as the `hqq` package (0.2.8) runs it for
/// transformers' `HqqConfig` with axis 1: weights in groups of 64 consecutive values of a row,
/// codes q = clamp(round(w·s + z), 0, 2^bits − 1) on an asymmetric grid, and the zero point z
/// tuned by a half-quadratic solver that minimises the l_p error (p = 0.7) of the dequantized
/// weights: each step shrinks the residual w − w_r with the generalised soft-threshold
/// sign(e)·max(|e| − |e|^(p−1)/β, 0) (β = 10) and moves every group's zero to the mean of
/// q − (w − shrunk)·s. It stops at the first step whose mean |w − w_r| over the whole tensor is
/// not lower than the best so far, keeping that step's zero (the package's default,
/// `optimize_weights_proximal_legacy`: 20 steps at most; β stays 10, κ = 1.01 is unused there).
/// The scale stays at its min/max value; 4-bit zeros start rounded (`round_zero`).
public enum HQQ {
    public static let groupSize = 64
    static let lpNorm: Float = 0.7
    static let beta: Float = 10
    static let iterations = 20
    static let shrinkCutoff: Float = 0.16

    public struct Result {
        public let bits: Int
        /// One code per value, 0…2^bits − 1.
        public var codes: [UInt8]
        /// Per group: the dequantization scale (HQQ's `meta["scale"]`, the inverse of s) and zero.
        public var scales: [Float]
        public var zeros: [Float]

        public var type: GGMLType { bits == 4 ? .hqq4 : .hqq8 }

        /// The groups as hqq4 / hqq8 blocks, in order.
        func pack(into dst: UnsafeMutableRawPointer) {
            let blockBytes = type.bytesPerBlock
            for g in 0..<scales.count {
                let out = dst + g &* blockBytes, c = g &* 64
                out.storeBytes(of: scales[g], as: Float.self)
                out.storeBytes(of: zeros[g], toByteOffset: 4, as: Float.self)
                if bits == 4 {
                    for j in 0..<32 { out.storeBytes(of: codes[c &+ j] | (codes[c &+ j &+ 32] << 4), toByteOffset: 8 &+ j, as: UInt8.self) }
                } else {
                    for j in 0..<64 { out.storeBytes(of: codes[c &+ j], toByteOffset: 8 &+ j, as: UInt8.self) }
                }
            }
        }

        /// The [rows, columns] tensor of these groups (columns a multiple of 64).
        public func tensor(name: String, rows: Int, columns: Int) -> RawTensor {
            let buffer = OwnedBuffer(byteCount: type.byteCount(elements: rows * columns)!)
            pack(into: buffer.pointer)
            return RawTensor(name: name, type: type, shape: [rows, columns], bytes: buffer.bytes, owner: buffer)
        }
    }

    /// `count` values (a multiple of 64) quantized as one HQQ tensor with axis 1.
    public static func quantize(_ w: UnsafePointer<Float>, count: Int, bits: Int, pool: ThreadPool = .shared) -> Result {
        precondition(bits == 4 || bits == 8, "HQQ: \(bits) bits is not stored by this engine")
        precondition(count % groupSize == 0, "HQQ: \(count) values are not whole groups of \(groupSize)")
        let groups = count / groupSize
        let maxCode = Float((1 << bits) - 1)
        var s = [Float](repeating: 1, count: groups), z = [Float](repeating: 0, count: groups)
        var groupError = [Double](repeating: 0, count: groups)
        s.withUnsafeMutableBufferPointer { sp in
            z.withUnsafeMutableBufferPointer { zp in
                groupError.withUnsafeMutableBufferPointer { ep in
                    let sp = sp.baseAddress!, zp = zp.baseAddress!, ep = ep.baseAddress!
                    pool.parallelRanges(groups, minimum: 64) { range in
                        for g in range {
                            let x = w + g &* groupSize
                            var lo = x[0], hi = x[0]
                            for j in 1..<groupSize { lo = Swift.min(lo, x[j]); hi = Swift.max(hi, x[j]) }
                            let denom = hi - lo
                            // torch evaluates `max_v / denom` (a Python number over a tensor) as reciprocal · max_v.
                            var scale = (1 / denom) * maxCode
                            if abs(denom) <= 1e-4 { scale = 1 }
                            scale = Swift.min(scale, 2e4)
                            var zero = -lo * scale
                            if bits == 4 { zero = zero.rounded(.toNearestOrEven) }
                            sp[g] = scale
                            zp[g] = zero
                        }
                    }
                    var best = Float.infinity
                    for _ in 0..<iterations {
                        pool.parallelRanges(groups, minimum: 64) { range in
                            for g in range { ep[g] = solverStep(w + g &* groupSize, scale: sp[g], zero: &zp[g], maxCode: maxCode) }
                        }
                        var total = 0.0
                        for g in 0..<groups { total += ep[g] }
                        let error = Float(total / Double(count))
                        if error < best { best = error } else { break }
                    }
                }
            }
        }
        var codes = [UInt8](repeating: 0, count: count)
        codes.withUnsafeMutableBufferPointer { cp in
            let cp = cp.baseAddress!
            pool.parallelRanges(groups, minimum: 64) { range in
                for g in range {
                    for j in 0..<groupSize {
                        let i = g &* groupSize &+ j
                        cp[i] = UInt8(code(w[i], s[g], z[g], maxCode))
                    }
                }
            }
        }
        return Result(bits: bits, codes: codes, scales: s.map { 1 / $0 }, zeros: z)
    }

    @inline(__always) static func code(_ x: Float, _ scale: Float, _ zero: Float, _ maxCode: Float) -> Float {
        Swift.min(Swift.max((x * scale + zero).rounded(.toNearestOrEven), 0), maxCode)
    }

    /// One solver step on a group: returns Σ|w − w_r| at the current zero and moves the zero.
    @inline(__always) static func solverStep(_ x: UnsafePointer<Float>, scale: Float, zero: inout Float, maxCode: Float) -> Double {
        var error = 0.0
        var sum: Float = 0
        let inverseBeta: Float = 1 / beta
        for j in 0..<groupSize {
            let q = code(x[j], scale, zero, maxCode)
            let r = (q - zero) / scale
            let e = x[j] - r
            error += Double(abs(e))
            let magnitude = abs(e)
            // |e| − |e|^(p−1)/β ≤ 0 for every |e| ≤ 0.1^(1/1.3) ≈ 0.17 (β = 10, p = 0.7); below
            // 0.16 the float formula is negative by a wide margin, so skip the pow there.
            let shrunk = magnitude < shrinkCutoff ? 0 : Swift.max(magnitude - inverseBeta * powf(magnitude, lpNorm - 1), 0)
            let signed = e > 0 ? shrunk : (e < 0 ? -shrunk : 0)
            sum += q - (x[j] - signed) * scale
        }
        zero = sum / Float(groupSize)
        return error
    }
}
