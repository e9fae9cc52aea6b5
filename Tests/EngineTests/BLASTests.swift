import XCTest
@testable import Engine

/// The engine picks OpenBLAS's kernels for this CPU itself; sgemm on them must agree with a
/// plain triple loop in Double.
final class BLASTests: XCTestCase {
    func testCoreTypeIsChosenForThisCPU() {
        let core = BLAS.coreName
        XCTAssertFalse(core.isEmpty)
        if let chosen = CPUFeatures.current.bestOpenBLASCore, BLAS.chosenCoreType != nil {
            // OpenBLAS reports the core it runs; asking for SkylakeX must not leave Prescott.
            XCTAssertEqual(core.lowercased(), chosen.lowercased())
        }
        XCTAssertNotEqual(core.lowercased(), "prescott", "OpenBLAS fell back to its slowest kernels")
    }

    func testSgemmMatchesAPlainReference() {
        var rng = RandomSource(seed: 3)
        for (m, n, k) in [(1, 1, 1), (7, 5, 3), (64, 96, 128), (130, 257, 67), (512, 576, 576)] {
            let a = (0..<(m * k)).map { _ in Float(rng.nextUnit() * 2 - 1) }
            let b = (0..<(n * k)).map { _ in Float(rng.nextUnit() * 2 - 1) }   // [n, k], used transposed
            var c = [Float](repeating: 0, count: m * n)
            a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
                BLAS.sgemm(m: m, n: n, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: k, transposeB: true,
                           c: cp.baseAddress!, ldc: n)
            } } }
            var worst = 0.0
            for i in 0..<m {
                for j in 0..<n {
                    var s = 0.0
                    for p in 0..<k { s += Double(a[i * k + p]) * Double(b[j * k + p]) }
                    worst = max(worst, abs(s - Double(c[i * n + j])))
                }
            }
            // f32 products summed in any order: error grows like k·ε·|terms|, ε = 6e-8.
            XCTAssertLessThan(worst, 1e-6 * Double(k) + 1e-6, "\(m)×\(n)×\(k)")
        }
    }
}
