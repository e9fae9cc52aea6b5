// Element-wise and reduction kernels over raw Float buffers. All take pointers and counts;
// none allocate.

@inline(__always)
func loadVector(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}

@inline(__always)
func storeVector(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
}

/// Σ a[i]·b[i].
func dotF32(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>()
    var i = 0
    while i &+ 32 <= n {
        acc0.addProduct(loadVector(a + i), loadVector(b + i))
        acc1.addProduct(loadVector(a + (i &+ 16)), loadVector(b + (i &+ 16)))
        i &+= 32
    }
    while i &+ 16 <= n {
        acc0.addProduct(loadVector(a + i), loadVector(b + i))
        i &+= 16
    }
    var s = (acc0 + acc1).sum()
    while i < n { s += a[i] * b[i]; i &+= 1 }
    return s
}

/// y[i] += alpha · x[i].
func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    let va = SIMD16<Float>(repeating: alpha)
    var i = 0
    while i &+ 16 <= n {
        var v = loadVector(y + i)
        v.addProduct(va, loadVector(x + i))
        storeVector(v, y + i)
        i &+= 16
    }
    while i < n { y[i] += alpha * x[i]; i &+= 1 }
}

/// y[i] += x[i].
func addInPlace(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int) {
    var i = 0
    while i &+ 16 <= n {
        storeVector(loadVector(y + i) + loadVector(x + i), y + i)
        i &+= 16
    }
    while i < n { y[i] += x[i]; i &+= 1 }
}

/// out = x / rms(x) · weight, with rms over n values (RMSNorm).
func rmsNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, eps: Float,
             out: UnsafeMutablePointer<Float>, _ n: Int) {
    let ss = dotF32(x, x, n)
    let scale = 1 / (ss / Float(n) + eps).squareRoot()
    let vs = SIMD16<Float>(repeating: scale)
    var i = 0
    while i &+ 16 <= n {
        storeVector(loadVector(x + i) * vs * loadVector(weight + i), out + i)
        i &+= 16
    }
    while i < n { out[i] = x[i] * scale * weight[i]; i &+= 1 }
}

/// gate[i] = silu(gate[i]) · up[i] (the SwiGLU activation).
func swiglu(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, _ n: Int) {
    for i in 0..<n {
        let g = gate[i]
        gate[i] = g / (1 + expf(-g)) * up[i]
    }
}

/// In-place softmax over n values; returns nothing, the values sum to 1 afterwards.
func softmaxInPlace(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
    var m = -Float.infinity
    for i in 0..<n where x[i] > m { m = x[i] }
    var s: Float = 0
    for i in 0..<n {
        let e = expf(x[i] - m)
        x[i] = e
        s += e
    }
    let inv = 1 / s
    for i in 0..<n { x[i] *= inv }
}

#if canImport(Glibc)
import Glibc
#endif
