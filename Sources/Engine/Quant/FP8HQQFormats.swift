// Engine-only block layouts for FP8 and HQQ weights. Each row of a weight is a run of whole
// blocks, so kernels find row r at r·bytesPerRow; a scale shared by a larger tile (FP8's
// 128×128 blocks) is repeated in every block of the tile.
//
//   fp8_e4m3 (36 B / 32): scale:f32, q:E4M3[32]             value = e4m3(q)·scale
//   hqq4     (40 B / 64): scale:f32, zero:f32, qs[32]       value = (q − zero)·scale
//                         byte j: element j in the low nibble, element j+32 in the high one
//   hqq8     (72 B / 64): scale:f32, zero:f32, q:u8[64]      value = (q − zero)·scale
//
// `scale` is what the reference stores: transformers' `weight_scale_inv` for FP8, HQQ's
// `meta["scale"]` (already inverted) and `meta["zero"]` for HQQ, all float32.

func dequantizeFP8HQQ(_ type: GGMLType, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
    switch type {
    case .fp8_e4m3:
        FP8E4M3.values.withUnsafeBufferPointer { table in
            for b in 0..<blocks {
                let block = src + b &* 36, out = dst + b &* 32
                let scale = block.loadUnaligned(as: Float.self)
                for j in 0..<32 { out[j] = table[Int(block.load(fromByteOffset: 4 &+ j, as: UInt8.self))] * scale }
            }
        }
    case .hqq4:
        for b in 0..<blocks {
            let block = src + b &* 40, out = dst + b &* 64
            let scale = block.loadUnaligned(as: Float.self), zero = block.loadUnaligned(fromByteOffset: 4, as: Float.self)
            for j in 0..<32 {
                let q = block.load(fromByteOffset: 8 &+ j, as: UInt8.self)
                out[j] = (Float(q & 0x0F) - zero) * scale
                out[j &+ 32] = (Float(q >> 4) - zero) * scale
            }
        }
    case .hqq8:
        for b in 0..<blocks {
            let block = src + b &* 72, out = dst + b &* 64
            let scale = block.loadUnaligned(as: Float.self), zero = block.loadUnaligned(fromByteOffset: 4, as: Float.self)
            for j in 0..<64 { out[j] = (Float(block.load(fromByteOffset: 8 &+ j, as: UInt8.self)) - zero) * scale }
        }
    default:
        preconditionFailure("dequantizeFP8HQQ: \(type) is not an FP8/HQQ layout")
    }
}

/// Quantizes `count` values on their own: FP8 with one scale per 32 values (a 1×32 tile), HQQ
/// with its solver over these values as one tensor grouped along the row. Whole matrices go
/// through `FP8Quantization` / `HQQ` instead, which use the reference's tiles and groups.
func quantizeFP8HQQ(_ type: GGMLType, _ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ count: Int) {
    switch type {
    case .fp8_e4m3:
        for b in 0..<(count / 32) {
            let x = src + b &* 32
            var amax: Float = 0
            for j in 0..<32 { amax = Swift.max(amax, abs(x[j])) }
            FP8Quantization.writeBlock(x, scale: FP8Quantization.tileScale(amax: amax), into: dst + b &* 36)
        }
    case .hqq4, .hqq8:
        let q = HQQ.quantize(src, count: count, bits: type == .hqq4 ? 4 : 8)
        q.pack(into: dst)
    default:
        preconditionFailure("quantizeFP8HQQ: \(type) is not an FP8/HQQ layout")
    }
}

// MARK: - Fused dot products (decode)

/// 16 E4M3 codes as floats: the sign moved to bit 31 and exponent+mantissa to bits 20–26 give
/// a float 2^-120 times the code's value (subnormal codes included); the multiply is exact.
@inline(__always)
func e4m3Floats(_ v: SIMD16<UInt8>) -> SIMD16<Float> {
    var r = SIMD16<UInt32>()
    for i in 0..<16 {
        let b = UInt32(v[i])
        r[i] = ((b & 0x80) &<< 24) | ((b & 0x7F) &<< 20)
    }
    return unsafeBitCast(r, to: SIMD16<Float>.self) * SIMD16(repeating: 0x1p120)
}

/// Σ value·x over a row of fp8_e4m3 blocks. (Codes 0x7F/0xFF, NaN in E4M3, never occur in
/// blocks this engine writes; here they would read as ±480.)
func dotFP8E4M3(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD16<Float>()
    for b in 0..<(n / 32) {
        let block = row + b &* 36
        let scale = block.loadUnaligned(as: Float.self)
        let xb = x + b &* 32
        var t = e4m3Floats(loadBytes(block, 4)) * loadVector(xb)
        t.addProduct(e4m3Floats(loadBytes(block, 20)), loadVector(xb + 16))
        acc.addProduct(SIMD16(repeating: scale), t)
    }
    return acc.sum()
}

/// Σ (q − zero)·scale·x = Σ scale·(Σ q·x − zero·Σx) per 64-group; Σx from `sums` (per 32).
func dotHQQ4(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ sums: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD16<Float>()
    var offsetTerm: Float = 0
    let mask = SIMD16<UInt8>(repeating: 0x0F)
    for b in 0..<(n / 64) {
        let block = row + b &* 40
        let scale = block.loadUnaligned(as: Float.self), zero = block.loadUnaligned(fromByteOffset: 4, as: Float.self)
        let q0 = loadBytes(block, 8), q1 = loadBytes(block, 24)
        let xb = x + b &* 64
        var t = floats(q0 & mask) * loadVector(xb)
        t.addProduct(floats(q1 & mask), loadVector(xb + 16))
        t.addProduct(floats(q0 &>> 4), loadVector(xb + 32))
        t.addProduct(floats(q1 &>> 4), loadVector(xb + 48))
        acc.addProduct(SIMD16(repeating: scale), t)
        offsetTerm -= scale * zero * (sums[2 &* b] + sums[2 &* b &+ 1])
    }
    return acc.sum() + offsetTerm
}

func dotHQQ8(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ sums: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD16<Float>()
    var offsetTerm: Float = 0
    for b in 0..<(n / 64) {
        let block = row + b &* 72
        let scale = block.loadUnaligned(as: Float.self), zero = block.loadUnaligned(fromByteOffset: 4, as: Float.self)
        let xb = x + b &* 64
        var t = floats(loadBytes(block, 8)) * loadVector(xb)
        t.addProduct(floats(loadBytes(block, 24)), loadVector(xb + 16))
        t.addProduct(floats(loadBytes(block, 40)), loadVector(xb + 32))
        t.addProduct(floats(loadBytes(block, 56)), loadVector(xb + 48))
        acc.addProduct(SIMD16(repeating: scale), t)
        offsetTerm -= scale * zero * (sums[2 &* b] + sums[2 &* b &+ 1])
    }
    return acc.sum() + offsetTerm
}
