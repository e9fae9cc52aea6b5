import Foundation

/// PEFT's `init_lora_weights` for one linear layer W [out, in]:
/// - `true`: A Kaiming-uniform (`a=√5`, i.e. uniform in ±1/√in), B zero;
/// - `false`: no reset, so both keep `nn.Linear`'s default Kaiming-uniform: A in ±1/√in,
///   B in ±1/√rank (B·A ≠ 0 from the start);
/// - `gaussian`: A normal with std 1/rank, B zero;
/// - `pissa`: the r principal singular triplets of W, A = diag(√(S_r/scale))·Vᵀ_r and
///   B = U_r·diag(√(S_r/scale)), and the base becomes the residual W − scale·B·A;
/// - `pissa_niter_N`: the same from `torch.svd_lowrank(W, r, niter: N)`.
enum LoRAInitialization: Equatable {
    case kaiming, randomBoth, gaussian, pissa, pissaRandomized(iterations: Int)

    init(_ value: String) throws {
        let v = value.lowercased()
        switch v {
        case "true": self = .kaiming
        case "false": self = .randomBoth
        case "gaussian": self = .gaussian
        case "pissa": self = .pissa
        default:
            let parts = v.components(separatedBy: "_niter_")
            if parts.count == 2, parts[0] == "pissa", let n = Int(parts[1]), n >= 0 {
                self = .pissaRandomized(iterations: n)
            } else {
                throw TunerError("init_weights '\(value)' is not one of true, false, gaussian, pissa, pissa_niter_N")
            }
        }
    }

    var isPiSSA: Bool {
        switch self {
        case .pissa, .pissaRandomized: return true
        default: return false
        }
    }

    /// A [rank, in], B [out, rank], and the new base weight for PiSSA (nil otherwise).
    func initialize(weight: RawTensor, rank: Int, scale: Float, random: inout RandomSource) throws
        -> (a: [Float], b: [Float], residual: [Float]?) {
        let outF = weight.shape[0], inF = weight.shape[1]
        func uniform(_ n: Int, bound: Float) -> [Float] {
            (0..<n).map { _ in Float(random.nextUnit() * 2 - 1) * bound }
        }
        switch self {
        case .kaiming:
            return (uniform(rank * inF, bound: 1 / Float(inF).squareRoot()), [Float](repeating: 0, count: outF * rank), nil)
        case .randomBoth:
            let a = uniform(rank * inF, bound: 1 / Float(inF).squareRoot())
            return (a, uniform(outF * rank, bound: 1 / Float(rank).squareRoot()), nil)
        case .gaussian:
            let std = 1 / Float(rank)
            return ((0..<(rank * inF)).map { _ in random.nextGaussian() * std }, [Float](repeating: 0, count: outF * rank), nil)
        case .pissa, .pissaRandomized:
            guard rank <= min(outF, inF) else {
                throw TunerError("PiSSA: rank \(rank) is larger than \(weight.name)'s smaller side (\(min(outF, inF)))")
            }
            let w = weight.toFloat32()
            let svd: SingularValueDecomposition
            if case .pissaRandomized(let n) = self {
                svd = try SingularValueDecomposition.randomized(w, rows: outF, columns: inF, rank: rank, iterations: n, random: &random)
            } else {
                svd = try SingularValueDecomposition.full(w, rows: outF, columns: inF)
            }
            let root = (0..<rank).map { (svd.s[$0] / scale).squareRoot() }
            var a = [Float](repeating: 0, count: rank * inF), b = [Float](repeating: 0, count: outF * rank)
            for r in 0..<rank { for j in 0..<inF { a[r * inF + j] = root[r] * svd.vt[r * inF + j] } }
            for i in 0..<outF { for r in 0..<rank { b[i * rank + r] = svd.u[i * svd.k + r] * root[r] } }
            var residual = w
            residual.withUnsafeMutableBufferPointer { res in
                a.withUnsafeBufferPointer { ap in
                    b.withUnsafeBufferPointer { bp in
                        BLAS.sgemm(m: outF, n: inF, k: rank, alpha: -scale, a: bp.baseAddress!, lda: rank,
                                   b: ap.baseAddress!, ldb: inF, transposeB: false, beta: 1, c: res.baseAddress!, ldc: inF)
                    }
                }
            }
            return (a, b, residual)
        }
    }
}

extension RandomSource {
    /// A standard normal value (Box–Muller on two uniforms).
    mutating func nextGaussian() -> Float {
        let u1 = max(nextUnit(), 0x1p-60), u2 = nextUnit()
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }
}

#if canImport(Glibc)
import Glibc
#endif
