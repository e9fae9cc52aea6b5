import XCTest
@testable import Engine

/// The fused quantized mat-vec kernels against the scalar dequantizers (gguf-py-checked) and a
/// Double dot product; the thread pool runs every task exactly once.
final class KernelTests: XCTestCase {
    func testFusedMatVecMatchesDequantizedReference() {
        var rng = RandomSource(seed: 11)
        let rows = 37, cols = 512
        let values = (0..<(rows * cols)).map { _ in Float(rng.nextUnit() * 2 - 1) }
        let x = (0..<cols).map { _ in Float(rng.nextUnit() * 2 - 1) }
        let types: [GGMLType] = [.f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .q8_K]
        for type in types {
            let bytesPerRow = type.byteCount(elements: cols)!
            let storage = UnsafeMutableRawPointer.allocate(byteCount: rows * bytesPerRow, alignment: 64)
            defer { storage.deallocate() }
            values.withUnsafeBufferPointer { v in
                for r in 0..<rows { quantize(type, from: v.baseAddress! + r * cols, to: storage + r * bytesPerRow, count: cols) }
            }
            let owner = NSObject()
            let w = RawTensor(name: "w", type: type, shape: [rows, cols],
                              bytes: UnsafeRawBufferPointer(start: storage, count: rows * bytesPerRow), owner: owner)
            let deq = w.toFloat32()
            var y = [Float](repeating: 0, count: rows)
            var sums = [Float](repeating: 0, count: cols / 32)
            x.withUnsafeBufferPointer { xp in
                sums.withUnsafeMutableBufferPointer { groupSums32(xp.baseAddress!, cols, $0.baseAddress!) }
                sums.withUnsafeBufferPointer { sp in y.withUnsafeMutableBufferPointer { yp in
                    matVecRows(w, x: xp.baseAddress!, sums: sp.baseAddress!, y: yp.baseAddress!, rows: 0..<rows, accumulate: false)
                } }
            }
            for r in 0..<rows {
                var ref = 0.0
                for c in 0..<cols { ref += Double(deq[r * cols + c]) * Double(x[c]) }
                // Same weights, f32 sums in another order: |error| ≲ cols·ε·max|w·x|.
                XCTAssertEqual(Double(y[r]), ref, accuracy: 2e-4, "\(type) row \(r)")
            }
        }
    }

    func testThreadPoolRunsEveryTaskOnce() {
        let pool = ThreadPool(threadCount: 3)
        for count in [1, 2, 3, 17, 1000] {
            for _ in 0..<50 {
                let hits = UnsafeMutablePointer<Int>.allocate(capacity: count)
                hits.initialize(repeating: 0, count: count)
                pool.parallelFor(count) { i in hits[i] += 1 }
                XCTAssertEqual((0..<count).filter { hits[$0] != 1 }, [], "count \(count)")
                hits.deallocate()
            }
        }
        var seen = [Int](repeating: 0, count: 10)
        seen.withUnsafeMutableBufferPointer { s in
            pool.parallelRanges(10, minimum: 1) { r in for i in r { s[i] += 1 } }
        }
        XCTAssertEqual(seen, Array(repeating: 1, count: 10))
    }
}
