import XCTest
@testable import Engine

/// Every op's backward against central finite differences of a Double reference of the op
/// (written here, independent of the engine's kernels), on small random shapes.
///
/// Tolerance, for every gradient: |analytic − numeric| ≤ 1e-4 + 1e-3·|numeric| (tinygrad's
/// grad_atol/grad_rtol for f32 ops). Why it is enough and not too loose: the analytic gradient
/// is f32, a sum of at most a few hundred products of values of size ~1, so its rounding error
/// is ~1e-6; the Double central difference (eps 1e-6) errs by ~1e-10. A wrong rule (a missing
/// term, a wrong transpose or sign) errs by O(0.1–1), far outside. The forward is checked too:
/// |f32 − Double| ≤ 1e-5 + 1e-4·|ref| (f32 rounding of short sums; tinygrad uses 1e-6/1e-3).
final class AutogradOpsTests: XCTestCase {
    func testLinearGradients() {
        var rng = RandomSource(seed: 1)
        let rows = 5, inF = 7, outF = 4
        checkGradients("linear", [uniform(&rng, rows * inF, [rows, inF]), uniform(&rng, outF * inF, [outF, inF]),
                                  uniform(&rng, outF, [outF])],
                       op: { t, v in t.linear(v[0], weight: v[1], bias: v[2]) },
                       reference: { v in
                           var y = [Double](repeating: 0, count: rows * outF)
                           for r in 0..<rows { for o in 0..<outF {
                               var s = v[2][o]
                               for i in 0..<inF { s += v[0][r * inF + i] * v[1][o * inF + i] }
                               y[r * outF + o] = s
                           } }
                           return y
                       })
    }

    /// The QLoRA base path: the weight stays quantized, only dx flows.
    func testFrozenQuantizedLinearGradients() {
        for type in [GGMLType.q4_1, .q8_0, .q4_K, .f16] {
            var rng = RandomSource(seed: 2)
            let rows = 3, inF = type.blockSize >= 256 ? 256 : 64, outF = 5
            let (w, _) = quantizedTensor(type, rows: outF, cols: inF, &rng)
            let deq = w.toFloat32().map(Double.init)
            checkGradients("frozenLinear \(type)", [uniform(&rng, rows * inF, [rows, inF])],
                           op: { t, v in t.frozenLinear(v[0], weight: w) },
                           reference: { v in
                               (0..<(rows * outF)).map { idx in
                                   let r = idx / outF, o = idx % outF
                                   return (0..<inF).reduce(0.0) { $0 + v[0][r * inF + $1] * deq[o * inF + $1] }
                               }
                           })
        }
    }

    /// Many row blocks (more rows than one dequantized block holds): same output and dx as a
    /// plain linear layer over the dequantized weight.
    func testFrozenLinearRowBlocksMatchDequantizedLinear() {
        var rng = RandomSource(seed: 3)
        let rows = 4, inF = 64, outF = 4100
        let (w, _) = quantizedTensor(.q8_0, rows: outF, cols: inF, &rng)
        let x = Variable(uniform(&rng, rows * inF, [rows, inF]).values, shape: [rows, inF], requiresGrad: true)
        let x2 = Variable(x.values, shape: x.shape, requiresGrad: true)
        let seed = (0..<(rows * outF)).map { _ in Float(rng.nextUnit() * 2 - 1) }
        let t1 = Tape(), t2 = Tape()
        let y1 = t1.frozenLinear(x, weight: w)
        let y2 = t2.linear(x2, weight: Variable(w.toFloat32(), shape: [outF, inF]))
        t1.backward(from: y1, seed: seed)
        t2.backward(from: y2, seed: seed)
        // Same f32 products summed in possibly different blocking: ~64 terms of size ~1.
        XCTAssertLessThan(maxDiff(y1.values, y2.values), 1e-5)
        XCTAssertLessThan(maxDiff(x.gradient!, x2.gradient!), 1e-4)
    }

    func testEmbeddingGradientsScatterAddRepeatedTokens() {
        var rng = RandomSource(seed: 4)
        let vocab = 6, d = 5, ids = [3, 1, 3, 0, 3, 5]
        checkGradients("embedding", [uniform(&rng, vocab * d, [vocab, d])],
                       op: { t, v in t.embedding(ids, table: v[0]) },
                       reference: { v in ids.flatMap { id in (0..<d).map { v[0][id * d + $0] } } })
    }

    func testRMSNormGradients() {
        var rng = RandomSource(seed: 5)
        let rows = 4, d = 19, eps = 1e-5
        checkGradients("rmsNorm", [uniform(&rng, rows * d, [rows, d]), uniform(&rng, d, [d], around: 1)],
                       op: { t, v in t.rmsNorm(v[0], weight: v[1], eps: Float(eps)) },
                       reference: { v in
                           (0..<(rows * d)).map { idx in
                               let r = idx / d
                               let ms = (0..<d).reduce(0.0) { $0 + v[0][r * d + $1] * v[0][r * d + $1] } / Double(d)
                               return v[0][idx] / (ms + eps).squareRoot() * v[1][idx % d]
                           }
                       })
    }

    func testSwiGLUAddAndScaleGradients() {
        var rng = RandomSource(seed: 6)
        let n = 37
        func silu(_ g: Double) -> Double { g / (1 + exp(-g)) }
        checkGradients("swiglu", [uniform(&rng, n, [n], scale: 4), uniform(&rng, n, [n])],
                       op: { t, v in t.swiglu(gate: v[0], up: v[1]) },
                       reference: { v in (0..<n).map { silu(v[0][$0]) * v[1][$0] } })
        checkGradients("add", [uniform(&rng, n, [n]), uniform(&rng, n, [n])],
                       op: { t, v in t.add(v[0], v[1]) },
                       reference: { v in (0..<n).map { v[0][$0] + v[1][$0] } })
        // The same variable on both sides: its gradient gets both contributions.
        checkGradients("add to itself, then scale", [uniform(&rng, n, [n])],
                       op: { t, v in t.scale(t.add(v[0], v[0]), 0.375) },
                       reference: { v in v[0].map { 0.75 * $0 } })
    }

    /// Masked labels are skipped, the mean is over the counted tokens, and logits of size 80
    /// (exp overflows f32 beyond 88) stay finite.
    func testCrossEntropyGradientsWithMaskedLabels() {
        var rng = RandomSource(seed: 7)
        let n = 6, vocab = 11
        let labels = [3, -100, 0, 10, -100, 7]
        var logits = uniform(&rng, n * vocab, [n, vocab], scale: 3)
        for j in 0..<vocab { logits.values[2 * vocab + j] += 80 }
        checkGradients("crossEntropy", [logits],
                       op: { t, v in t.crossEntropy(logits: v[0], labels: labels) },
                       reference: { v in
                           var total = 0.0, counted = 0.0
                           for (r, l) in labels.enumerated() where l != -100 {
                               let row = Array(v[0][(r * vocab)..<((r + 1) * vocab)])
                               let m = row.max()!
                               total += m + log(row.reduce(0.0) { $0 + exp($1 - m) }) - row[l]
                               counted += 1
                           }
                           return [total / counted]
                       })
    }

    func testDropoutGradientsUseTheSameMask() {
        var rng = RandomSource(seed: 8)
        let n = 200, p: Float = 0.3
        var mask = RandomSource(seed: 99)
        let keep = (0..<n).map { _ in mask.nextUnit() >= Double(p) }
        checkGradients("dropout", [uniform(&rng, n, [n])],
                       op: { t, v in var r = RandomSource(seed: 99); return t.dropout(v[0], p: p, random: &r) },
                       reference: { v in (0..<n).map { keep[$0] ? v[0][$0] / (1 - Double(p)) : 0 } })
        let dropped = keep.filter { !$0 }.count
        XCTAssert(dropped > 30 && dropped < 90, "about 30% of 200 dropped, got \(dropped)")
    }
}

// MARK: - Support shared by the autograd tests

struct TestInput {
    var values: [Float]
    let shape: [Int]
    var differentiable = true
}

func uniform(_ rng: inout RandomSource, _ n: Int, _ shape: [Int], scale: Double = 1, around: Double = 0) -> TestInput {
    TestInput(values: (0..<n).map { _ in Float(around + scale * (rng.nextUnit() * 2 - 1)) }, shape: shape)
}

func maxDiff(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { abs($0 - $1) }.max() ?? 0 }

/// Random values stored as `type` (a frozen weight, as a GGUF file would hold it).
func quantizedTensor(_ type: GGMLType, rows: Int, cols: Int, _ rng: inout RandomSource) -> (RawTensor, AnyObject) {
    let values = (0..<(rows * cols)).map { _ in Float(rng.nextUnit() * 2 - 1) }
    let bytesPerRow = type.byteCount(elements: cols)!
    let owner = ByteOwner(count: rows * bytesPerRow)
    values.withUnsafeBufferPointer { v in
        for r in 0..<rows { quantize(type, from: v.baseAddress! + r * cols, to: owner.pointer + r * bytesPerRow, count: cols) }
    }
    let t = RawTensor(name: "w", type: type, shape: [rows, cols],
                      bytes: UnsafeRawBufferPointer(start: owner.pointer, count: rows * bytesPerRow), owner: owner)
    return (t, owner)
}

final class ByteOwner {
    let pointer: UnsafeMutableRawPointer
    init(count: Int) { pointer = .allocate(byteCount: count, alignment: 64) }
    deinit { pointer.deallocate() }
}

extension XCTestCase {
    /// Runs `op` on the tape, backpropagates a random output gradient r, and checks the
    /// forward against `reference` and every differentiable input's gradient against the
    /// central differences of Σ r·reference (tolerances in AutogradOpsTests' header).
    func checkGradients(_ name: String, _ inputs: [TestInput], op: (Tape, [Variable]) -> Variable,
                        reference: ([[Double]]) -> [Double], atol: Double = 1e-4, rtol: Double = 1e-3,
                        file: StaticString = #filePath, line: UInt = #line) {
        let vars = inputs.map { Variable($0.values, shape: $0.shape, requiresGrad: $0.differentiable) }
        let tape = Tape()
        let y = op(tape, vars)
        var rng = RandomSource(seed: 12345)
        let seed = (0..<y.count).map { _ in Float(rng.nextUnit() * 2 - 1) }
        let outputValues = y.values
        tape.backward(from: y, seed: seed)
        XCTAssertEqual(tape.recordedCount, 0, "\(name): tape empty after backward", file: file, line: line)
        let doubles = inputs.map { $0.values.map(Double.init) }
        let expected = reference(doubles)
        XCTAssertEqual(expected.count, outputValues.count, "\(name): output size", file: file, line: line)
        let forward = GradientCheck.compare(outputValues, expected, atol: 1e-5, rtol: 1e-4)
        XCTAssert(forward.passed, "\(name) forward: \(forward)", file: file, line: line)
        for (j, input) in inputs.enumerated() where input.differentiable {
            let numeric = GradientCheck.numericGradient(at: doubles[j]) { probe in
                var all = doubles
                all[j] = probe
                return zip(reference(all), seed).reduce(0.0) { $0 + $1.0 * Double($1.1) }
            }
            guard let analytic = vars[j].gradient else {
                XCTFail("\(name): input \(j) got no gradient", file: file, line: line)
                continue
            }
            let report = GradientCheck.compare(analytic, numeric, atol: atol, rtol: rtol)
            XCTAssert(report.passed, "\(name) input \(j): \(report)", file: file, line: line)
            print("gradient check \(name) input \(j): \(report)")
        }
    }
}
