#if canImport(Glibc)
import Glibc
#endif

// Vector exp and the loops built on it (softmax rows, SiLU), used by the training ops whose
// time went into scalar expf: cross-entropy over the vocabulary, SwiGLU, attention rows.

/// e^x for 16 lanes, within about 1 ulp of expf: x = n·ln2 + r with |r| ≤ ln2/2 (ln2 in two
/// parts, Cody–Waite), e^r by Cephes' degree-5 minimax polynomial, 2^n through the exponent
/// bits. Below −87.3 the result is 0; x is clamped at 88.7 (e^88.7 ≈ 3.3e38).
/// Written with plain arithmetic and bit casts only: `rounded`, `SIMD16<Int32>(_:rounding:)`
/// and `replace(with:where:)` do not vectorize here and made it 50x slower than this.
@inline(__always)
func exp16(_ x: SIMD16<Float>) -> SIMD16<Float> {
    let c = pointwiseMin(pointwiseMax(x, SIMD16(repeating: -87.3)), SIMD16(repeating: 88.7))
    // Adding 1.5·2²³ rounds c·log2(e) to an integer held in the low mantissa bits.
    let magic = SIMD16<Float>(repeating: 12_582_912)
    let t = c * 1.442_695_04 + magic
    let n = t - magic
    var r = c - n * 0.693_359_375
    r = r - n * -2.121_944_4e-4
    var p = SIMD16<Float>(repeating: 1.987_569_15e-4)
    p = p * r + 1.398_199_95e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_59e-2
    p = p * r + 1.666_666_55e-1
    p = p * r + 5.000_000_12e-1
    p = p * (r * r) + r + 1
    let exponent = (unsafeBitCast(t, to: SIMD16<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
    let y = p * unsafeBitCast(exponent, to: SIMD16<Float>.self)
    let keep = SIMD16<Int32>(repeating: 0).replacing(with: -1, where: x .>= -87.3)
    return unsafeBitCast(unsafeBitCast(y, to: SIMD16<Int32>.self) & keep, to: SIMD16<Float>.self)
}

/// Largest of n values (-inf for none). Lanes are kept by compare-and-replace: `pointwiseMax`
/// in this loop compiles to scalar code, 20x slower.
func maxF32(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var v = SIMD16<Float>(repeating: -.infinity)
    var i = 0
    while i &+ 16 <= n {
        let w = loadVector(x + i)
        v = v.replacing(with: w, where: w .> v)
        i &+= 16
    }
    var m = v.max()
    while i < n { m = max(m, x[i]); i &+= 1 }
    return m
}

/// out[i] = e^(x[i] − shift) for n values; returns their sum (out may be x).
@discardableResult
func expShifted(_ x: UnsafePointer<Float>, shift: Float, _ out: UnsafeMutablePointer<Float>, _ n: Int) -> Float {
    let s = SIMD16<Float>(repeating: shift)
    var acc = SIMD16<Float>()
    var i = 0
    while i &+ 16 <= n {
        let e = exp16(loadVector(x + i) - s)
        storeVector(e, out + i)
        acc += e
        i &+= 16
    }
    var sum = acc.sum()
    while i < n { let e = expf(x[i] - shift); out[i] = e; sum += e; i &+= 1 }
    return sum
}

/// Σ e^(x[i] − shift) without storing the values.
func sumExpShifted(_ x: UnsafePointer<Float>, shift: Float, _ n: Int) -> Float {
    let s = SIMD16<Float>(repeating: shift)
    var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>()
    var i = 0
    while i &+ 32 <= n {
        acc0 += exp16(loadVector(x + i) - s)
        acc1 += exp16(loadVector(x + (i &+ 16)) - s)
        i &+= 32
    }
    while i &+ 16 <= n { acc0 += exp16(loadVector(x + i) - s); i &+= 16 }
    var sum = (acc0 + acc1).sum()
    while i < n { sum += expf(x[i] - shift); i &+= 1 }
    return sum
}

/// y[i] = x[i] · s.
func scaled(_ x: UnsafePointer<Float>, _ s: Float, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    let vs = SIMD16<Float>(repeating: s)
    var i = 0
    while i &+ 16 <= n { storeVector(loadVector(x + i) * vs, y + i); i &+= 16 }
    while i < n { y[i] = x[i] * s; i &+= 1 }
}
