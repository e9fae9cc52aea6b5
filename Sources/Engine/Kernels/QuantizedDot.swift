// Dot products of one quantized weight row with a Float activation vector, reading the GGUF
// blocks in place (layouts in Quant/). Used by single-token decode, where each weight is read
// once per token and converting the model to f32 would only move more bytes.
//
// Offsets and formulas per block (value = what the block's element dequantizes to):
//   Q4_0 (18 B / 32):  d:f16, qs[16]                 value = (q - 8)·d
//   Q4_1 (20 B / 32):  d:f16, m:f16, qs[16]          value = q·d + m
//   Q8_0 (34 B / 32):  d:f16, qs:i8[32]              value = q·d
//   Q4_K (144 B / 256): d, dmin:f16, scales[12], qs[128]   value = d·sc·q − dmin·mn (8 groups of 32)
//   Q6_K (210 B / 256): ql[128], qh[64], sc:i8[16], d:f16  value = d·sc·(q − 32) (16 groups of 16)
// In the 4-bit formats byte j of a 32-group holds element j in its low nibble and j+16 (Q4_0,
// Q4_1) in its high nibble; Q4_K pairs groups instead (low nibbles: group 2i, high: 2i+1).
//
// `sums` holds Σx over each 32-element group of x, so the offset terms (m, −8d, −dmin·mn) cost
// one multiply per group instead of one per element.

// The lane conversions are written element by element on purpose: the generic SIMD
// initialisers (`SIMD16<Int32>(truncatingIfNeeded:)`, `SIMD16<Float>(_:)`) compile to calls into
// the standard library here, while this loop vectorises to vpmovzxbd + vcvtdq2ps.
@inline(__always)
func floats(_ v: SIMD16<UInt8>) -> SIMD16<Float> {
    var r = SIMD16<Float>()
    for i in 0..<16 { r[i] = Float(v[i]) }
    return r
}

@inline(__always)
func floats(_ v: SIMD16<Int8>) -> SIMD16<Float> {
    var r = SIMD16<Float>()
    for i in 0..<16 { r[i] = Float(v[i]) }
    return r
}

@inline(__always)
func floats(_ v: SIMD16<Float16>) -> SIMD16<Float> {
    var r = SIMD16<Float>()
    for i in 0..<16 { r[i] = Float(v[i]) }
    return r
}

@inline(__always)
func bfloat16Floats(_ v: SIMD16<UInt16>) -> SIMD16<Float> {
    var r = SIMD16<UInt32>()
    for i in 0..<16 { r[i] = UInt32(v[i]) &<< 16 }
    return unsafeBitCast(r, to: SIMD16<Float>.self)
}

@inline(__always)
func loadBytes(_ p: UnsafeRawPointer, _ offset: Int) -> SIMD16<UInt8> {
    p.loadUnaligned(fromByteOffset: offset, as: SIMD16<UInt8>.self)
}

func dotQ4_0(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ sums: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD16<Float>()
    var offsetTerm: Float = 0
    let mask = SIMD16<UInt8>(repeating: 0x0F)
    for b in 0..<(n / 32) {
        let block = row + b &* 18
        let d = loadHalf(block, 0)
        let q = loadBytes(block, 2)
        let xb = x + b &* 32
        var t = floats(q & mask) * loadVector(xb)
        t.addProduct(floats(q &>> 4), loadVector(xb + 16))
        acc.addProduct(SIMD16(repeating: d), t)
        offsetTerm -= 8 * d * sums[b]
    }
    return acc.sum() + offsetTerm
}

func dotQ4_1(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ sums: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>()
    var offsetTerm: Float = 0
    let mask = SIMD16<UInt8>(repeating: 0x0F)
    let blocks = n / 32
    var b = 0
    while b &+ 2 <= blocks {
        let block0 = row + b &* 20, block1 = block0 + 20
        let q0 = loadBytes(block0, 4), q1 = loadBytes(block1, 4)
        let x0 = x + b &* 32, x1 = x0 + 32
        var t0 = floats(q0 & mask) * loadVector(x0)
        t0.addProduct(floats(q0 &>> 4), loadVector(x0 + 16))
        var t1 = floats(q1 & mask) * loadVector(x1)
        t1.addProduct(floats(q1 &>> 4), loadVector(x1 + 16))
        acc0.addProduct(SIMD16(repeating: loadHalf(block0, 0)), t0)
        acc1.addProduct(SIMD16(repeating: loadHalf(block1, 0)), t1)
        offsetTerm += loadHalf(block0, 2) * sums[b] + loadHalf(block1, 2) * sums[b &+ 1]
        b &+= 2
    }
    if b < blocks {
        let block = row + b &* 20
        let q = loadBytes(block, 4)
        let xb = x + b &* 32
        var t = floats(q & mask) * loadVector(xb)
        t.addProduct(floats(q &>> 4), loadVector(xb + 16))
        acc0.addProduct(SIMD16(repeating: loadHalf(block, 0)), t)
        offsetTerm += loadHalf(block, 2) * sums[b]
    }
    return (acc0 + acc1).sum() + offsetTerm
}

func dotQ8_0(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD16<Float>()
    for b in 0..<(n / 32) {
        let block = row + b &* 34
        let q0 = block.loadUnaligned(fromByteOffset: 2, as: SIMD16<Int8>.self)
        let q1 = block.loadUnaligned(fromByteOffset: 18, as: SIMD16<Int8>.self)
        let xb = x + b &* 32
        var t = floats(q0) * loadVector(xb)
        t.addProduct(floats(q1), loadVector(xb + 16))
        acc.addProduct(SIMD16(repeating: loadHalf(block, 0)), t)
    }
    return acc.sum()
}

/// The 6-bit scale and min of group j (0..<8) of a Q4_K/Q5_K block's 12 scale bytes.
@inline(__always)
func kQuantScaleMin(_ s: UnsafeRawPointer, _ j: Int) -> (Float, Float) {
    let b = s.assumingMemoryBound(to: UInt8.self)
    if j < 4 {
        return (Float(b[j] & 63), Float(b[j &+ 4] & 63))
    }
    let sc = (b[j &+ 4] & 0x0F) | ((b[j &- 4] >> 6) << 4)
    let mn = (b[j &+ 4] >> 4) | ((b[j] >> 6) << 4)
    return (Float(sc), Float(mn))
}

func dotQ4_K(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ sums: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD16<Float>()
    var offsetTerm: Float = 0
    let mask = SIMD16<UInt8>(repeating: 0x0F)
    for b in 0..<(n / 256) {
        let block = row + b &* 144
        let d = loadHalf(block, 0), dmin = loadHalf(block, 2)
        let scales = block + 4
        let xb = x + b &* 256
        for i in 0..<4 {
            let (scLo, mnLo) = kQuantScaleMin(scales, 2 &* i)
            let (scHi, mnHi) = kQuantScaleMin(scales, 2 &* i &+ 1)
            let q0 = loadBytes(block, 16 &+ 32 &* i), q1 = loadBytes(block, 32 &+ 32 &* i)
            let xg = xb + 64 &* i
            var lo = floats(q0 & mask) * loadVector(xg)
            lo.addProduct(floats(q1 & mask), loadVector(xg + 16))
            var hi = floats(q0 &>> 4) * loadVector(xg + 32)
            hi.addProduct(floats(q1 &>> 4), loadVector(xg + 48))
            acc.addProduct(SIMD16(repeating: d * scLo), lo)
            acc.addProduct(SIMD16(repeating: d * scHi), hi)
            let g = b &* 8 &+ 2 &* i
            offsetTerm -= dmin * (mnLo * sums[g] + mnHi * sums[g &+ 1])
        }
    }
    return acc.sum() + offsetTerm
}

func dotQ6_K(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD16<Float>()
    let low4 = SIMD16<UInt8>(repeating: 0x0F), low2 = SIMD16<UInt8>(repeating: 3)
    let bias = SIMD16<Float>(repeating: 32)
    for b in 0..<(n / 256) {
        let block = row + b &* 210
        let d = loadHalf(block, 208)
        let sc = (block + 192).assumingMemoryBound(to: Int8.self)
        let xb = x + b &* 256
        for half in 0..<2 {
            let ql = 64 &* half, qh = 128 &+ 32 &* half
            let scHalf = sc + 8 &* half
            let xh = xb + 128 &* half
            for part in 0..<2 {
                let l = 16 &* part
                let a = loadBytes(block, ql &+ l), c = loadBytes(block, ql &+ l &+ 32)
                let h = loadBytes(block, qh &+ l)
                let q1 = (a & low4) | ((h & low2) &<< 4)
                let q2 = (c & low4) | (((h &>> 2) & low2) &<< 4)
                let q3 = (a &>> 4) | (((h &>> 4) & low2) &<< 4)
                let q4 = (c &>> 4) | (((h &>> 6) & low2) &<< 4)
                acc.addProduct(SIMD16(repeating: d * Float(scHalf[part])), (floats(q1) - bias) * loadVector(xh + l))
                acc.addProduct(SIMD16(repeating: d * Float(scHalf[part &+ 2])), (floats(q2) - bias) * loadVector(xh + (l &+ 32)))
                acc.addProduct(SIMD16(repeating: d * Float(scHalf[part &+ 4])), (floats(q3) - bias) * loadVector(xh + (l &+ 64)))
                acc.addProduct(SIMD16(repeating: d * Float(scHalf[part &+ 6])), (floats(q4) - bias) * loadVector(xh + (l &+ 96)))
            }
        }
    }
    return acc.sum()
}

func dotF16(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD16<Float>()
    var i = 0
    while i &+ 16 <= n {
        let h = row.loadUnaligned(fromByteOffset: i &* 2, as: SIMD16<Float16>.self)
        acc.addProduct(floats(h), loadVector(x + i))
        i &+= 16
    }
    var s = acc.sum()
    while i < n { s += loadHalf(row, i &* 2) * x[i]; i &+= 1 }
    return s
}

func dotBF16(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD16<Float>()
    var i = 0
    while i &+ 16 <= n {
        let h = row.loadUnaligned(fromByteOffset: i &* 2, as: SIMD16<UInt16>.self)
        acc.addProduct(bfloat16Floats(h), loadVector(x + i))
        i &+= 16
    }
    var s = acc.sum()
    while i < n {
        s += Float(bitPattern: UInt32(row.loadUnaligned(fromByteOffset: i &* 2, as: UInt16.self)) << 16) * x[i]
        i &+= 1
    }
    return s
}

/// Σx over each 32-element group of x (n a multiple of 32; a tail group is summed as is).
func groupSums32(_ x: UnsafePointer<Float>, _ n: Int, _ out: UnsafeMutablePointer<Float>) {
    var g = 0
    var i = 0
    while i &+ 32 <= n {
        out[g] = (loadVector(x + i) + loadVector(x + (i &+ 16))).sum()
        g &+= 1
        i &+= 32
    }
    if i < n {
        var s: Float = 0
        while i < n { s += x[i]; i &+= 1 }
        out[g] = s
    }
}
