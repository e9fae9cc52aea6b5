/// Round-to-nearest quantizers (f32 → blocks) with the arithmetic of ggml's reference
/// quantizers (quantize_row_*_ref), so the bytes match files made by llama.cpp's tools.
/// Supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q8_K, and the K-quants Q2_K,
/// Q3_K, Q4_K, Q5_K, Q6_K (QuantizeKQuants.swift; without an importance matrix).

/// Quantizes `count` floats (a multiple of the type's block size) into `type` blocks at `dst`,
/// which must have room for `type.byteCount(elements: count)` bytes.
public func quantize(_ type: GGMLType, from src: UnsafePointer<Float>, to dst: UnsafeMutableRawPointer, count: Int) {
    precondition(count >= 0 && count % type.blockSize == 0, "quantize: \(count) is not a whole number of \(type) blocks")
    let blocks = count / type.blockSize
    switch type {
    case .f32: dst.copyMemory(from: src, byteCount: count &* 4)
    case .f16:
        for i in 0 ..< count { dst.storeBytes(of: Float16(src[i]).bitPattern, toByteOffset: i &* 2, as: UInt16.self) }
    case .bf16:
        for i in 0 ..< count { dst.storeBytes(of: bfloat16Bits(src[i]), toByteOffset: i &* 2, as: UInt16.self) }
    case .q4_0: quantizeQ4_0(src, dst, blocks)
    case .q4_1: quantizeQ4_1(src, dst, blocks)
    case .q5_0: quantizeQ5_0(src, dst, blocks)
    case .q5_1: quantizeQ5_1(src, dst, blocks)
    case .q8_0: quantizeQ8_0(src, dst, blocks)
    case .q8_1: quantizeQ8_1(src, dst, blocks)
    case .q8_K: quantizeQ8_K(src, dst, blocks)
    case .q2_K: quantizeQ2_K(src, dst, blocks)
    case .q3_K: quantizeQ3_K(src, dst, blocks)
    case .q4_K: quantizeQ4_K(src, dst, blocks)
    case .q5_K: quantizeQ5_K(src, dst, blocks)
    case .q6_K: quantizeQ6_K(src, dst, blocks)
    case .fp8_e4m3, .hqq4, .hqq8: quantizeFP8HQQ(type, src, dst, count)
    case .bnb_nf4, .bnb_nf4_f16, .bnb_nf4_bf16, .bnb_fp4, .bnb_fp4_f16, .bnb_fp4_bf16: quantizeBNB(type, src, dst, count)
    }
}

/// Float → bfloat16 with round-to-nearest-even; NaNs stay NaN (quieted).
@inline(__always) func bfloat16Bits(_ x: Float) -> UInt16 {
    let u = x.bitPattern
    if (u & 0x7fff_ffff) > 0x7f80_0000 { return UInt16(truncatingIfNeeded: (u >> 16) | 64) }
    return UInt16(truncatingIfNeeded: (UInt64(u) + UInt64(0x7fff + ((u >> 16) & 1))) >> 16)
}

@inline(__always) private func storeHalf(_ x: Float, _ p: UnsafeMutableRawPointer, _ offset: Int) {
    p.storeBytes(of: Float16(x).bitPattern, toByteOffset: offset, as: UInt16.self)
}

/// C's `(int)v` for v already known to lie in [0, hi+1): truncation toward zero, capped at hi.
/// NaN (from NaN input) maps to 0 instead of trapping.
@inline(__always) private func truncatedCode(_ v: Float, max hi: UInt8) -> UInt8 {
    guard v > 0 else { return 0 }
    return v >= Float(hi) ? hi : UInt8(v)
}

/// Absolute maximum of a block and the signed value that has it (first one on ties).
@inline(__always) private func signedAbsMax(_ x: UnsafePointer<Float>, _ n: Int) -> (amax: Float, max: Float) {
    var amax: Float = 0, max: Float = 0
    for j in 0 ..< n where amax < abs(x[j]) {
        amax = abs(x[j])
        max = x[j]
    }
    return (amax, max)
}

@inline(__always) private func minMax(_ x: UnsafePointer<Float>, _ n: Int) -> (min: Float, max: Float) {
    var lo = Float.greatestFiniteMagnitude, hi = -Float.greatestFiniteMagnitude
    for j in 0 ..< n {
        if x[j] < lo { lo = x[j] }
        if x[j] > hi { hi = x[j] }
    }
    return (lo, hi)
}

private func quantizeQ4_0(_ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ blocks: Int) {
    for b in 0 ..< blocks {
        let x = src + b &* 32, p = dst + b &* 18
        let d = signedAbsMax(x, 32).max / -8
        let id: Float = d != 0 ? 1 / d : 0
        storeHalf(d, p, 0)
        for j in 0 ..< 16 {
            let lo = truncatedCode(x[j] * id + 8.5, max: 15)
            let hi = truncatedCode(x[j &+ 16] * id + 8.5, max: 15)
            p.storeBytes(of: lo | (hi << 4), toByteOffset: 2 &+ j, as: UInt8.self)
        }
    }
}

private func quantizeQ4_1(_ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ blocks: Int) {
    for b in 0 ..< blocks {
        let x = src + b &* 32, p = dst + b &* 20
        let (lo, hi) = minMax(x, 32)
        let d = (hi - lo) / 15
        let id: Float = d != 0 ? 1 / d : 0
        storeHalf(d, p, 0)
        storeHalf(lo, p, 2)
        for j in 0 ..< 16 {
            let q0 = truncatedCode((x[j] - lo) * id + 0.5, max: 15)
            let q1 = truncatedCode((x[j &+ 16] - lo) * id + 0.5, max: 15)
            p.storeBytes(of: q0 | (q1 << 4), toByteOffset: 4 &+ j, as: UInt8.self)
        }
    }
}

private func quantizeQ5_0(_ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ blocks: Int) {
    for b in 0 ..< blocks {
        let x = src + b &* 32, p = dst + b &* 22
        let d = signedAbsMax(x, 32).max / -16
        let id: Float = d != 0 ? 1 / d : 0
        storeHalf(d, p, 0)
        var qh: UInt32 = 0
        for j in 0 ..< 16 {
            let q0 = truncatedCode(x[j] * id + 16.5, max: 31)
            let q1 = truncatedCode(x[j &+ 16] * id + 16.5, max: 31)
            p.storeBytes(of: (q0 & 0xF) | ((q1 & 0xF) << 4), toByteOffset: 6 &+ j, as: UInt8.self)
            qh |= UInt32(q0 >> 4) << UInt32(j)
            qh |= UInt32(q1 >> 4) << UInt32(j &+ 16)
        }
        p.storeBytes(of: qh.littleEndian, toByteOffset: 2, as: UInt32.self)
    }
}

private func quantizeQ5_1(_ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ blocks: Int) {
    for b in 0 ..< blocks {
        let x = src + b &* 32, p = dst + b &* 24
        let (lo, hi) = minMax(x, 32)
        let d = (hi - lo) / 31
        let id: Float = d != 0 ? 1 / d : 0
        storeHalf(d, p, 0)
        storeHalf(lo, p, 2)
        var qh: UInt32 = 0
        for j in 0 ..< 16 {
            let q0 = truncatedCode((x[j] - lo) * id + 0.5, max: 31)
            let q1 = truncatedCode((x[j &+ 16] - lo) * id + 0.5, max: 31)
            p.storeBytes(of: (q0 & 0xF) | ((q1 & 0xF) << 4), toByteOffset: 8 &+ j, as: UInt8.self)
            qh |= UInt32(q0 >> 4) << UInt32(j)
            qh |= UInt32(q1 >> 4) << UInt32(j &+ 16)
        }
        p.storeBytes(of: qh.littleEndian, toByteOffset: 4, as: UInt32.self)
    }
}

/// C's roundf (half away from zero) into an int8; inputs lie in [-127, 127] by construction.
@inline(__always) private func roundedInt8(_ v: Float) -> Int8 {
    guard v.isFinite else { return 0 }
    return Int8(clamping: Int(v.rounded(.toNearestOrAwayFromZero)))
}

private func quantizeQ8_0(_ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ blocks: Int) {
    for b in 0 ..< blocks {
        let x = src + b &* 32, p = dst + b &* 34
        let d = signedAbsMax(x, 32).amax / 127
        let id: Float = d != 0 ? 1 / d : 0
        storeHalf(d, p, 0)
        for j in 0 ..< 32 {
            p.storeBytes(of: roundedInt8(x[j] * id), toByteOffset: 2 &+ j, as: Int8.self)
        }
    }
}

/// Q8_1: as Q8_0, plus s = d * (sum of the codes) as an f16.
private func quantizeQ8_1(_ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ blocks: Int) {
    for b in 0 ..< blocks {
        let x = src + b &* 32, p = dst + b &* 36
        let d = signedAbsMax(x, 32).amax / 127
        let id: Float = d != 0 ? 1 / d : 0
        storeHalf(d, p, 0)
        var sum: Int32 = 0
        for j in 0 ..< 32 {
            let q = roundedInt8(x[j] * id)
            p.storeBytes(of: q, toByteOffset: 4 &+ j, as: Int8.self)
            sum &+= Int32(q)
        }
        storeHalf(Float(sum) * d, p, 2)
    }
}

/// Q8_K (the activation format of the K-quant dot products): scale = -127 / (signed value
/// of largest magnitude), codes rounded to nearest even and capped at 127, d = 1/scale as a
/// float, plus the sum of each 16 codes.
private func quantizeQ8_K(_ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ blocks: Int) {
    for b in 0 ..< blocks {
        let x = src + b &* 256, p = dst + b &* 292
        let (amax, max) = signedAbsMax(x, 256)
        if !(amax > 0) {
            (p).initializeMemory(as: UInt8.self, repeating: 0, count: 292)
            continue
        }
        let iscale = -127 / max
        for g in 0 ..< 16 {
            var sum: Int16 = 0
            for l in 0 ..< 16 {
                let v = iscale * x[g &* 16 &+ l]
                let q = v.isFinite ? Int8(clamping: Int(v.rounded(.toNearestOrEven))) : 0
                let code = Swift.min(q, 127)
                p.storeBytes(of: code, toByteOffset: 4 &+ g &* 16 &+ l, as: Int8.self)
                sum &+= Int16(code)
            }
            p.storeBytes(of: sum.littleEndian, toByteOffset: 260 &+ g &* 2, as: Int16.self)
        }
        p.storeBytes(of: (1 / iscale).bitPattern.littleEndian, toByteOffset: 0, as: UInt32.self)
    }
}
