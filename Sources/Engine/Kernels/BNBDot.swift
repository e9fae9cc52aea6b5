/// Dot product of one bitsandbytes 4-bit weight row (layout in Quant/BNBFormat.swift) with a
/// Float vector, reading the blocks in place for single-token decode.
///
/// Each 8 code bytes become 16 unscaled code values through a 256-entry byte → (high, low)
/// table (8 loads, no per-nibble branches). In f32 the block's absmax multiplies the block's
/// sum once; with a 16-bit compute dtype every weight is first rounded to it, as dequantize does.
func dotBNB(_ type: GGMLType, _ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ n: Int) -> Float {
    guard let format = BNBFormat(type), let dtype = BNBComputeDType(type) else { return 0 }
    let pairs = BNBPairTable.table(format)
    let blocks = n / BNBFormat.blockSize
    var acc0 = SIMD16<Float>()
    if dtype == .float32 {
        for b in 0..<blocks {
            let p = row + b &* BNBFormat.bytesPerBlock
            let a = Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)))
            let xb = x + b &* BNBFormat.blockSize
            var t = SIMD16<Float>()
            for part in 0..<4 {
                t.addProduct(pairs.values(p + (4 &+ 8 &* part)), loadVector(xb + 16 &* part))
            }
            acc0.addProduct(SIMD16(repeating: a), t)
        }
    } else if dtype == .bfloat16 {
        for b in 0..<blocks {
            let p = row + b &* BNBFormat.bytesPerBlock
            let a = SIMD16<Float>(repeating: Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(as: UInt32.self))))
            let xb = x + b &* BNBFormat.blockSize
            for part in 0..<4 {
                acc0.addProduct(roundedToBFloat16(pairs.values(p + (4 &+ 8 &* part)) * a), loadVector(xb + 16 &* part))
            }
        }
    } else {
        for b in 0..<blocks {
            let p = row + b &* BNBFormat.bytesPerBlock
            let a = SIMD16<Float>(repeating: Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(as: UInt32.self))))
            let xb = x + b &* BNBFormat.blockSize
            for part in 0..<4 {
                acc0.addProduct(roundedToHalf(pairs.values(p + (4 &+ 8 &* part)) * a), loadVector(xb + 16 &* part))
            }
        }
    }
    return acc0.sum()
}
