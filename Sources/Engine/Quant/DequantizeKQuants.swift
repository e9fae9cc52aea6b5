/// K-quants: super-blocks of 256 values split into sub-blocks that each have their own
/// quantized scale (and min). Layouts per ggml's block_q2_K ... block_q8_K.

/// The 6-bit scale and min of sub-block `j` (0..<8) from the 12 packed bytes Q4_K and Q5_K
/// use (ggml's get_scale_min_k4): sub-blocks 0-3 keep their low 6 bits in bytes j / j+4; for
/// 4-7 the low 4 bits sit in byte j+4 and the top 2 bits in the spare top bits of bytes j-4 / j.
@inline(__always) func scaleMinK4(_ j: Int, _ q: UnsafeRawPointer) -> (scale: UInt8, min: UInt8) {
    if j < 4 {
        return (loadByte(q, j) & 63, loadByte(q, j &+ 4) & 63)
    }
    let scale = (loadByte(q, j &+ 4) & 0xF) | ((loadByte(q, j &- 4) >> 6) << 4)
    let min = (loadByte(q, j &+ 4) >> 4) | ((loadByte(q, j) >> 6) << 4)
    return (scale, min)
}

// block_q2_K (84 bytes): scales[16] (low nibble scale, high nibble min, per 16 values),
// qs[64] (2-bit values), d, dmin (f16). Value idx = 128n + 32j + l is bits 2j..2j+1 of
// qs[32n + l]; its sub-block is idx / 16. y = d*scale*q - dmin*min.
func dequantizeQ2_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
    for b in 0 ..< blocks {
        let p = src + b &* 84, y = dst + b &* 256
        let d = loadHalf(p, 80), dmin = loadHalf(p, 82)
        for n in 0 ..< 2 {
            for j in 0 ..< 4 {
                let shift = UInt8(2 &* j)
                for half in 0 ..< 2 {
                    let out = n &* 128 &+ j &* 32 &+ half &* 16
                    let sc = loadByte(p, out / 16)
                    let dl = d * Float(sc & 0xF), ml = dmin * Float(sc >> 4)
                    for l in 0 ..< 16 {
                        let q = (loadByte(p, 16 &+ n &* 32 &+ half &* 16 &+ l) >> shift) & 3
                        y[out &+ l] = dl * Float(q) - ml
                    }
                }
            }
        }
    }
}

// block_q3_K (110 bytes): hmask[32], qs[64], scales[12], d (f16). Value idx = 128n + 32j + l:
// low 2 bits are bits 2j.. of qs[32n + l]; bit (4n + j) of hmask[l] set means +0, clear
// means -4. Sixteen 6-bit scales (offset by 32): low 4 bits from bytes 0-7 (low nibbles for
// 0-7, high nibbles for 8-15), high 2 bits from bytes 8-11 (bits 2(i/4).. of byte 8 + i%4).
func dequantizeQ3_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { buf in
        let sc = buf.baseAddress!
        for b in 0 ..< blocks {
            let p = src + b &* 110, y = dst + b &* 256
            let hmask = p.assumingMemoryBound(to: UInt8.self)
            let qs = (p + 32).assumingMemoryBound(to: UInt8.self)
            let packed = (p + 96).assumingMemoryBound(to: UInt8.self)
            let d = loadHalf(p, 108)
            for i in 0 ..< 16 {
                let low = i < 8 ? packed[i] & 0xF : packed[i &- 8] >> 4
                let high = (packed[8 &+ (i & 3)] >> UInt8(2 &* (i >> 2))) & 3
                sc[i] = d * Float(Int32(low | (high << 4)) &- 32)
            }
            for n in 0 ..< 2 {
                let q = qs + n &* 32
                for j in 0 ..< 4 {
                    let shift = UInt8(2 &* j), hbit = UInt8(4 &* n &+ j)
                    let out = y + (n &* 128 &+ j &* 32)
                    let s0 = sc[n &* 8 &+ j &* 2], s1 = sc[n &* 8 &+ j &* 2 &+ 1]
                    for l in 0 ..< 32 {
                        let low = Int32((q[l] >> shift) & 3)
                        let minus = Int32(((hmask[l] >> hbit) & 1) ^ 1) << 2
                        out[l] = (l < 16 ? s0 : s1) * Float(low &- minus)
                    }
                }
            }
        }
    }
}

// block_q4_K (144 bytes): d, dmin (f16), scales[12] (packed 6-bit, see scaleMinK4), qs[128].
// Value idx = 64c + 32s + l is nibble s of qs[32c + l]; sub-block (of 32) is 2c + s.
func dequantizeQ4_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
    for b in 0 ..< blocks {
        let p = src + b &* 144, y = dst + b &* 256
        let d = loadHalf(p, 0), dmin = loadHalf(p, 2)
        for c in 0 ..< 4 {
            for s in 0 ..< 2 {
                let (sc, m) = scaleMinK4(2 &* c &+ s, p + 4)
                let dl = d * Float(sc), ml = dmin * Float(m)
                let shift = UInt8(4 &* s)
                let out = y + (c &* 64 &+ s &* 32)
                for l in 0 ..< 32 {
                    out[l] = dl * Float((loadByte(p, 16 &+ c &* 32 &+ l) >> shift) & 0xF) - ml
                }
            }
        }
    }
}

// block_q5_K (176 bytes): d, dmin (f16), scales[12], qh[32], qs[128]. As Q4_K, plus bit
// `sub-block` of qh[l] as the fifth bit.
func dequantizeQ5_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
    for b in 0 ..< blocks {
        let p = src + b &* 176, y = dst + b &* 256
        let d = loadHalf(p, 0), dmin = loadHalf(p, 2)
        for c in 0 ..< 4 {
            for s in 0 ..< 2 {
                let sub = 2 &* c &+ s
                let (sc, m) = scaleMinK4(sub, p + 4)
                let dl = d * Float(sc), ml = dmin * Float(m)
                let shift = UInt8(4 &* s)
                let out = y + (sub &* 32)
                for l in 0 ..< 32 {
                    let low = (loadByte(p, 48 &+ c &* 32 &+ l) >> shift) & 0xF
                    let high = ((loadByte(p, 16 &+ l) >> UInt8(sub)) & 1) << 4
                    out[l] = dl * Float(low | high) - ml
                }
            }
        }
    }
}

// block_q6_K (210 bytes): ql[128] (low 4 bits), qh[64] (high 2 bits), scales[16] int8, d (f16).
// In each half n of 128 values, value k: low nibble (k / 64) of ql[64n + k % 64], high bits
// 2(k / 32).. of qh[32n + k % 32]; q - 32, times d * scales[idx / 16].
func dequantizeQ6_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { buf in
        let ds = buf.baseAddress!
        for b in 0 ..< blocks {
            let p = src + b &* 210
            let d = loadHalf(p, 208)
            let scales = (p + 192).assumingMemoryBound(to: Int8.self)
            for i in 0 ..< 16 { ds[i] = d * Float(scales[i]) }
            for n in 0 ..< 2 {
                let ql = (p + n &* 64).assumingMemoryBound(to: UInt8.self)
                let qh = (p + (128 &+ n &* 32)).assumingMemoryBound(to: UInt8.self)
                let y = dst + (b &* 256 &+ n &* 128)
                let s = ds + n &* 8
                for l in 0 ..< 32 {
                    let k = l >> 4
                    let a = ql[l], c = ql[l &+ 32], h = qh[l]
                    y[l] = s[k] * Float(Int32((a & 0xF) | ((h & 3) << 4)) &- 32)
                    y[l &+ 32] = s[k &+ 2] * Float(Int32((c & 0xF) | (((h >> 2) & 3) << 4)) &- 32)
                    y[l &+ 64] = s[k &+ 4] * Float(Int32((a >> 4) | (((h >> 4) & 3) << 4)) &- 32)
                    y[l &+ 96] = s[k &+ 6] * Float(Int32((c >> 4) | ((h >> 6) << 4)) &- 32)
                }
            }
        }
    }
}

// block_q8_K (292 bytes): d (float), qs[256] int8, bsums[16] int16 (sums of 16 qs, unused here).
func dequantizeQ8_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
    for b in 0 ..< blocks {
        let p = src + b &* 292, y = dst + b &* 256
        let d = Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 0, as: UInt32.self)))
        let qs = (p + 4).assumingMemoryBound(to: Int8.self)
        for j in 0 ..< 256 { y[j] = Float(qs[j]) * d }
    }
}
