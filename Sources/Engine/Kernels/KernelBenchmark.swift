import Foundation

/// Micro-benchmarks of the decode kernels, for `tune-bench --kernels`.
public enum KernelBenchmark {
    /// Weights per second one thread's mat-vec reads from a `rows × cols` matrix of `type`.
    public static func matVecWeightsPerSecond(_ type: GGMLType, rows: Int = 576, cols: Int = 1536, seconds: Double = 0.3) -> Double {
        var rng = RandomSource(seed: 5)
        let values = (0..<(rows * cols)).map { _ in Float(rng.nextUnit() * 2 - 1) }
        let rowBytes = type.byteCount(elements: cols)!
        let storage = UnsafeMutableRawPointer.allocate(byteCount: rows * rowBytes, alignment: 64)
        defer { storage.deallocate() }
        values.withUnsafeBufferPointer { v in
            for r in 0..<rows { quantize(type, from: v.baseAddress! + r * cols, to: storage + r * rowBytes, count: cols) }
        }
        let w = RawTensor(name: "bench", type: type, shape: [rows, cols],
                          bytes: UnsafeRawBufferPointer(start: storage, count: rows * rowBytes), owner: NSObject())
        let x = (0..<cols).map { _ in Float(rng.nextUnit()) }
        var y = [Float](repeating: 0, count: rows)
        var sums = [Float](repeating: 0, count: (cols + 31) / 32)
        var iterations = 0
        let start = DispatchTime.now().uptimeNanoseconds
        var elapsed = 0.0
        x.withUnsafeBufferPointer { xp in
            sums.withUnsafeMutableBufferPointer { sp in
                y.withUnsafeMutableBufferPointer { yp in
                    while elapsed < seconds {
                        groupSums32(xp.baseAddress!, cols, sp.baseAddress!)
                        matVecRows(w, x: xp.baseAddress!, sums: sp.baseAddress!, y: yp.baseAddress!, rows: 0..<rows, accumulate: false)
                        iterations += 1
                        elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                    }
                }
            }
        }
        return Double(iterations * rows * cols) / elapsed
    }
}
