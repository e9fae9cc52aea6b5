/// Block layouts and formulas follow ggml (ggml-common.h block structs, ggml-quants.c
/// dequantize_row_*). All multi-byte fields are little-endian; `d`/`dmin`/`m` are IEEE half
/// floats except Q8_K's `d`, which is a float.

/// Converts `count` values of `type` at `src` to Float. `count` must be a multiple of the
/// type's block size (a precondition: callers hold a tensor whose size was checked on load).
public func dequantize(_ type: GGMLType, from src: UnsafeRawPointer, to dst: UnsafeMutablePointer<Float>, count: Int) {
    precondition(count >= 0 && count % type.blockSize == 0, "dequantize: \(count) is not a whole number of \(type) blocks")
    let blocks = count / type.blockSize
    switch type {
    case .f32: UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: count &* 4)
    case .f16: dequantizeF16(src, dst, count)
    case .bf16: dequantizeBF16(src, dst, count)
    case .q4_0: dequantizeQ4_0(src, dst, blocks)
    case .q4_1: dequantizeQ4_1(src, dst, blocks)
    case .q5_0: dequantizeQ5_0(src, dst, blocks)
    case .q5_1: dequantizeQ5_1(src, dst, blocks)
    case .q8_0: dequantizeQ8_0(src, dst, blocks)
    case .q8_1: dequantizeQ8_1(src, dst, blocks)
    case .q2_K: dequantizeQ2_K(src, dst, blocks)
    case .q3_K: dequantizeQ3_K(src, dst, blocks)
    case .q4_K: dequantizeQ4_K(src, dst, blocks)
    case .q5_K: dequantizeQ5_K(src, dst, blocks)
    case .q6_K: dequantizeQ6_K(src, dst, blocks)
    case .q8_K: dequantizeQ8_K(src, dst, blocks)
    case .fp8_e4m3, .hqq4, .hqq8: dequantizeFP8HQQ(type, src, dst, blocks)
    case .bnb_nf4, .bnb_nf4_f16, .bnb_nf4_bf16, .bnb_fp4, .bnb_fp4_f16, .bnb_fp4_bf16: dequantizeBNB(type, src, dst, blocks)
    }
}

extension RawTensor {
    /// All values as Float, in row-major order.
    public func toFloat32() -> [Float] {
        let n = elementCount
        return [Float](unsafeUninitializedCapacity: n) { buf, initialized in
            if n > 0 { dequantize(type, from: bytes.baseAddress!, to: buf.baseAddress!, count: n) }
            initialized = n
        }
    }

    /// Dequantizes row `row` (of `rowCount`) into `dst`, which must hold `rowLength` floats.
    public func dequantizeRow(_ row: Int, into dst: UnsafeMutablePointer<Float>) {
        precondition(row >= 0 && row < rowCount, "row \(row) out of range 0..<\(rowCount)")
        dequantize(type, from: bytes.baseAddress! + row &* bytesPerRow, to: dst, count: rowLength)
    }
}

// MARK: - Field access

@inline(__always) func loadHalf(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
    halfToFloat(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
}

/// IEEE half → float, exactly (same result as `Float(Float16(bitPattern:))`, which on x86 is
/// a slow library call). Moving the exponent/mantissa bits up by 13 gives a float 2^-112 times
/// the value for normal and subnormal halves alike; multiplying by 2^112 is exact. Infinities
/// and NaNs get the float exponent instead.
@inline(__always) func halfToFloat(_ h: UInt16) -> Float {
    let bits = UInt32(h)
    let sign = (bits & 0x8000) << 16
    let magnitude = (bits & 0x7fff) << 13
    if bits & 0x7c00 == 0x7c00 { return Float(bitPattern: sign | 0x7f80_0000 | magnitude) }
    return Float(bitPattern: sign | (Float(bitPattern: magnitude) * 0x1p112).bitPattern)
}

@inline(__always) func loadByte(_ p: UnsafeRawPointer, _ offset: Int) -> UInt8 {
    p.load(fromByteOffset: offset, as: UInt8.self)
}

// MARK: - Plain types

private func dequantizeF16(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
    for i in 0 ..< count { dst[i] = loadHalf(src, i &* 2) }
}

private func dequantizeBF16(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
    let out = UnsafeMutableRawPointer(dst)
    var i = 0
    while i &+ 8 <= count {
        let h = SIMD8<UInt32>(truncatingIfNeeded: src.loadUnaligned(fromByteOffset: i &* 2, as: SIMD8<UInt16>.self))
        out.storeBytes(of: unsafeBitCast(h &<< 16, to: SIMD8<Float>.self), toByteOffset: i &* 4, as: SIMD8<Float>.self)
        i &+= 8
    }
    while i < count {
        dst[i] = Float(bitPattern: UInt32(src.loadUnaligned(fromByteOffset: i &* 2, as: UInt16.self)) << 16)
        i &+= 1
    }
}

// MARK: - 32-value blocks

// block_q4_0: d (f16), qs[16]; value j = low nibble of qs[j], value j+16 = high nibble; (q-8)*d.
private func dequantizeQ4_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
    for b in 0 ..< blocks {
        let p = src + b &* 18, y = dst + b &* 32
        let d = loadHalf(p, 0)
        for j in 0 ..< 16 {
            let q = loadByte(p, 2 &+ j)
            y[j] = Float(Int32(q & 0xF) &- 8) * d
            y[j &+ 16] = Float(Int32(q >> 4) &- 8) * d
        }
    }
}

// block_q4_1: d, m (f16), qs[16]; q*d + m.
private func dequantizeQ4_1(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
    for b in 0 ..< blocks {
        let p = src + b &* 20, y = dst + b &* 32
        let d = loadHalf(p, 0), m = loadHalf(p, 2)
        for j in 0 ..< 16 {
            let q = loadByte(p, 4 &+ j)
            y[j] = Float(q & 0xF) * d + m
            y[j &+ 16] = Float(q >> 4) * d + m
        }
    }
}

// block_q5_0: d (f16), qh (u32: bit j is the 5th bit of value j), qs[16]; (q-16)*d.
private func dequantizeQ5_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
    for b in 0 ..< blocks {
        let p = src + b &* 22, y = dst + b &* 32
        let d = loadHalf(p, 0)
        let qh = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
        for j in 0 ..< 16 {
            let q = loadByte(p, 6 &+ j)
            let h0 = UInt8(truncatingIfNeeded: (qh >> UInt32(j)) & 1) << 4
            let h1 = UInt8(truncatingIfNeeded: (qh >> UInt32(j &+ 16)) & 1) << 4
            y[j] = Float(Int32((q & 0xF) | h0) &- 16) * d
            y[j &+ 16] = Float(Int32((q >> 4) | h1) &- 16) * d
        }
    }
}

// block_q5_1: d, m (f16), qh (u32), qs[16]; q*d + m.
private func dequantizeQ5_1(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
    for b in 0 ..< blocks {
        let p = src + b &* 24, y = dst + b &* 32
        let d = loadHalf(p, 0), m = loadHalf(p, 2)
        let qh = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        for j in 0 ..< 16 {
            let q = loadByte(p, 8 &+ j)
            let h0 = UInt8(truncatingIfNeeded: (qh >> UInt32(j)) & 1) << 4
            let h1 = UInt8(truncatingIfNeeded: (qh >> UInt32(j &+ 16)) & 1) << 4
            y[j] = Float((q & 0xF) | h0) * d + m
            y[j &+ 16] = Float((q >> 4) | h1) * d + m
        }
    }
}

// block_q8_0: d (f16), qs[32] int8; q*d.
private func dequantizeQ8_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
    for b in 0 ..< blocks {
        let p = src + b &* 34, y = dst + b &* 32
        let d = loadHalf(p, 0)
        let qs = (p + 2).assumingMemoryBound(to: Int8.self)
        for j in 0 ..< 32 { y[j] = Float(qs[j]) * d }
    }
}

// block_q8_1: d, s (f16; s = d * sum of qs), qs[32] int8; q*d.
private func dequantizeQ8_1(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
    for b in 0 ..< blocks {
        let p = src + b &* 36, y = dst + b &* 32
        let d = loadHalf(p, 0)
        let qs = (p + 4).assumingMemoryBound(to: Int8.self)
        for j in 0 ..< 32 { y[j] = Float(qs[j]) * d }
    }
}
