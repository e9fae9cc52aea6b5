import Foundation
import XCTest
@testable import Engine

/// GPTQ and AWQ: GPTQ on one layer against a golden from a torch port of the paper's
/// algorithm (Scripts/goldens/gptq_reference.py) and against a scalar OBQ-form reference
/// written here; the grid's blocks against the engine's own dequantizer; and on the real
/// SmolLM2, held-out perplexity against round to nearest at the same bits and group size
/// (GPTQ and AWQ both beat it).
final class CalibratedQuantizationTests: XCTestCase {
    struct Golden {
        let rows, columns, tokens: Int
        let weight, inputs: [Float]
        let cases: [[String: Any]]
    }

    func golden() throws -> Golden {
        let g = try TestPaths.json("gptq/single_layer.json")
        return Golden(rows: g["rows"] as! Int, columns: g["columns"] as! Int, tokens: g["tokens"] as! Int,
                      weight: (g["weight"] as! [Double]).map(Float.init), inputs: (g["inputs"] as! [Double]).map(Float.init),
                      cases: g["cases"] as! [[String: Any]])
    }

    /// 2/N · Σ x xᵀ over `x` (tokens × columns) taken as one sequence, as calibration sums it.
    func hessian(_ x: [Float], tokens: Int, columns: Int) -> [Float] {
        let s = InputStatistics(width: columns)
        x.withUnsafeBufferPointer { s.add($0.baseAddress!, count: tokens, sequences: 1) }
        return s.hessian
    }

    func testGPTQMatchesTheTorchPortOfTheAlgorithmOnOneLayer() throws {
        let g = try golden()
        let h = hessian(g.inputs, tokens: g.tokens, columns: g.columns)
        for c in g.cases {
            let name = c["name"] as! String
            let grid = try GroupGrid(bits: c["bits"] as! Int, groupSize: c["group_size"] as! Int,
                                     symmetric: c["symmetric"] as! Bool, style: .gptq)
            let q = try GPTQ.quantize(weight: g.weight, rows: g.rows, columns: g.columns, hessian: h, grid: grid,
                                      dampPercent: c["damp_percent"] as! Double, actOrder: c["act_order"] as! Bool, name: name)
            let expectedCodes = c["codes"] as! [Int]
            let same = zip(q.codes, expectedCodes).filter { Int($0) == $1 }.count
            // f32 here, f64 in the golden: a weight that lands within ~1e-6 of a rounding
            // boundary may take the other code, and its error feedback then shifts a few
            // neighbours; 99% of 2304 codes leaves room for about 20 such.
            XCTAssertGreaterThanOrEqual(Double(same) / Double(expectedCodes.count), 0.99, "\(name): codes equal to the golden")
            let scales = c["scales"] as! [Double], offsets = c["offsets"] as! [Double]
            XCTAssertEqual(q.parameters.count, scales.count, name)
            let sameScale = zip(q.parameters, zip(scales, offsets)).filter { Double($0.scale) == $1.0 && Double($0.offset) == $1.1 }.count
            XCTAssertGreaterThanOrEqual(Double(sameScale) / Double(scales.count), 0.95, "\(name): f16 scales and offsets equal to the golden")
            let error = LayerError.squaredOutputError(original: g.weight, quantized: q.dequantized(), rows: g.rows, columns: g.columns, hessian: h)
            let expected = c["layer_error"] as! Double
            // A few differing codes move the error by well under 1%.
            XCTAssertEqual(error, expected, accuracy: expected * 0.01, "\(name): layer output error")
            let rtn = QuantizedMatrix.roundToNearest(g.weight, rows: g.rows, columns: g.columns, grid: grid)
            let rtnError = LayerError.squaredOutputError(original: g.weight, quantized: rtn.dequantized(), rows: g.rows, columns: g.columns, hessian: h)
            XCTAssertEqual(rtnError, c["rtn_layer_error"] as! Double, accuracy: expected * 1e-4, "\(name): round-to-nearest error")
            XCTAssertLessThan(error, 0.8 * rtnError, "\(name): GPTQ's layer error against round to nearest's")
        }
    }

    func testGPTQMatchesAScalarReferenceOfTheAlgorithm() throws {
        var rng = SplitMix(seed: 7)
        let rows = 8, n = 256, tokens = 300
        var w = (0..<(rows * n)).map { _ in Float(rng.normal() * 0.05) }
        for r in 0..<rows { w[r * n + 17] *= 5 }
        var x = [Float](repeating: 0, count: tokens * n)
        for t in 0..<tokens {
            let shared = rng.normal()
            for c in 0..<n { x[t * n + c] = Float(rng.normal() * (c % 37 == 0 ? 6 : 1) + 0.4 * shared) }
        }
        let h = hessian(x, tokens: tokens, columns: n)
        for (bits, group, symmetric, actOrder) in [(4, 128, true, false), (4, 128, false, false), (4, 256, false, true), (8, 128, true, true)] {
            let label = "\(bits) bits, group \(group), \(symmetric ? "sym" : "asym")\(actOrder ? ", act-order" : "")"
            let grid = try GroupGrid(bits: bits, groupSize: group, symmetric: symmetric, style: .gptq)
            let q = try GPTQ.quantize(weight: w, rows: rows, columns: n, hessian: h, grid: grid, dampPercent: 0.01, actOrder: actOrder, name: label)
            let reference = ScalarGPTQ.run(w.map(Double.init), rows: rows, columns: n, hessian: h.map(Double.init), bits: bits,
                                           groupSize: group, symmetric: symmetric, dampPercent: 0.01, actOrder: actOrder)
            let same = zip(q.codes, reference.codes).filter { Int($0) == $1 }.count
            // As above: f32 against f64 on 2048 codes.
            XCTAssertGreaterThanOrEqual(Double(same) / Double(reference.codes.count), 0.99, "\(label): codes")
            let error = LayerError.squaredOutputError(original: w, quantized: q.dequantized(), rows: rows, columns: n, hessian: h)
            let referenceError = LayerError.squaredOutputError(original: w, quantized: reference.values.map(Float.init), rows: rows, columns: n, hessian: h)
            XCTAssertEqual(error, referenceError, accuracy: referenceError * 0.01, "\(label): layer output error")
        }
    }

    /// Codes and parameters packed into blocks read back through the engine's dequantizer as
    /// exactly the grid's values — so the kernels compute with what GPTQ assumed.
    func testGridBlocksDequantizeToTheGridValues() throws {
        var rng = SplitMix(seed: 3)
        let rows = 5, n = 576
        let w = (0..<(rows * n)).map { _ in Float(rng.normal() * 0.03 + 0.01) }
        for (bits, symmetric, style, type) in [(4, true, GroupGrid.Style.gptq, GGMLType.q4_0), (4, false, .gptq, .q4_1),
                                               (4, false, .awq, .q4_1), (4, true, .awq, .q4_0), (8, true, .gptq, .q8_0)] {
            let grid = try GroupGrid(bits: bits, groupSize: 128, symmetric: symmetric, style: style)
            XCTAssertEqual(grid.type, type)
            let q = QuantizedMatrix.roundToNearest(w, rows: rows, columns: n, grid: grid)
            let t = q.tensor(name: "w")
            XCTAssertEqual(t.type, type)
            XCTAssertEqual(t.bytes.count, rows * type.byteCount(elements: n)!)
            var back = [Float](repeating: 0, count: rows * n)
            back.withUnsafeMutableBufferPointer { dequantize(type, from: t.bytes.baseAddress!, to: $0.baseAddress!, count: rows * n) }
            XCTAssertEqual(back, q.dequantized(), "\(type) \(style)")
            // The last group of a 576 row is 64 wide: its two blocks share one scale.
            let blockBytes = type.bytesPerBlock
            let lastGroupScales = (16..<18).map { t.bytes.load(fromByteOffset: $0 * blockBytes, as: UInt16.self) }
            XCTAssertEqual(lastGroupScales[0], lastGroupScales[1])
            // Round to nearest is within half a step of every weight inside its group's range.
            let values = q.dequantized()
            for r in 0..<rows {
                for i in 0..<n {
                    let p = q.parameters[r * q.groupCount + i / 128]
                    let lo = p.value(0), hi = p.value(UInt8(grid.maxCode))
                    if w[r * n + i] >= lo && w[r * n + i] <= hi {
                        XCTAssertLessThanOrEqual(abs(values[r * n + i] - w[r * n + i]), p.scale * 0.5 + 1e-7)
                    }
                }
            }
        }
    }

    /// AutoAWQ's clipping search against a scalar version of it that scores each candidate on
    /// the inputs themselves (Σ_t (x_t · (Q(clamp w) − w))², in f64) rather than through Σ x xᵀ.
    func testAWQClippingPicksTheShrinkWithTheLeastOutputError() throws {
        var rng = SplitMix(seed: 5)
        let rows = 6, n = 96, tokens = 150
        var w = (0..<(rows * n)).map { _ in Float(rng.normal() * 0.05) }
        for r in 0..<rows { w[r * n + (r * 7) % n] *= 8 }   // one outlier per row
        let x = (0..<(tokens * n)).map { i in Float(rng.normal() * (i % n == 3 ? 4 : 1)) }
        let grid = try GroupGrid(bits: 4, groupSize: 64, symmetric: false, style: .awq)
        let h = hessian(x, tokens: tokens, columns: n)
        var clipped = w
        AWQ.clip(&clipped, rows: rows, columns: n, hessian: h, grid: grid)
        var shrunk = 0
        for r in 0..<rows {
            for start in stride(from: 0, to: n, by: 64) {
                let end = min(n, start + 64), width = end - start
                let group = Array(w[(r * n + start)..<(r * n + end)])
                let amax = group.map(abs).max()!
                var best = (error: Double.infinity, limit: amax)
                for i in 0..<10 {
                    let limit = amax * (1 - Float(i) / 20)
                    let c = group.map { min(max($0, -limit), limit) }
                    let p = c.withUnsafeBufferPointer { grid.parameters($0.baseAddress!, width) }
                    let q = c.map { p.value(p.code($0, maxCode: 15)) }
                    var e = 0.0
                    for t in 0..<tokens {
                        var dot = 0.0
                        for j in 0..<width { dot += Double(x[t * n + start + j]) * Double(q[j] - group[j]) }
                        e += dot * dot
                    }
                    // Strictly better, as the search keeps the first of equal errors; 1e-9 relative
                    // leaves f32-versus-f64 near-ties to either side.
                    if e < best.error * (1 - 1e-9) { best = (e, limit) }
                }
                if best.limit < amax { shrunk += 1 }
                let want = group.map { min(max($0, -best.limit), best.limit) }
                XCTAssertEqual(Array(clipped[(r * n + start)..<(r * n + end)]), want, "row \(r), group at \(start)")
            }
        }
        XCTAssertGreaterThan(shrunk, 0, "the outliers make clipping pay somewhere")
    }

    func testUnsupportedGridsAndBadHessiansAreClearErrors() throws {
        XCTAssertThrowsError(try GroupGrid(bits: 4, groupSize: 48, symmetric: true, style: .gptq)) {
            XCTAssertTrue("\($0)".contains("multiple of 32"), "\($0)")
        }
        XCTAssertThrowsError(try GroupGrid(bits: 8, groupSize: 128, symmetric: false, style: .gptq)) {
            XCTAssertTrue("\($0)".contains("symmetric"), "\($0)")
        }
        XCTAssertThrowsError(try GroupGrid(bits: 3, groupSize: 128, symmetric: true, style: .gptq))
        // Eigenvalues 1 ± 3: damping by 10% of the mean diagonal cannot make it definite.
        let n = 32
        var h = [Float](repeating: 0, count: n * n)
        for i in 0..<n { h[i * n + i] = 1 }
        h[1] = 3; h[n] = 3
        let grid = try GroupGrid(bits: 4, groupSize: 32, symmetric: true, style: .gptq)
        XCTAssertThrowsError(try GPTQ.quantize(weight: [Float](repeating: 0.1, count: 2 * n), rows: 2, columns: n, hessian: h,
                                               grid: grid, dampPercent: 0.1, actOrder: false, name: "model.layers.3.mlp.up_proj.weight")) {
            XCTAssertTrue("\($0)".contains("not positive definite"), "\($0)")
            XCTAssertTrue("\($0)".contains("model.layers.3.mlp.up_proj.weight"), "\($0)")
        }
    }

    func tinyModel(_ name: String) throws -> LlamaModel {
        try LlamaModel(hfDirectory: HFModelDirectory(path: TestPaths.fixture("tiny/\(name)"), requireTokenizer: false))
    }

    func testNoCalibrationDataAndCancellationAreClearErrors() throws {
        let m = try tinyModel("llama")
        XCTAssertThrowsError(try CalibratedQuantization.gptq(model: m, calibration: [], groupSize: 32)) {
            XCTAssertTrue("\($0)".contains("calibration needs data"), "\($0)")
        }
        XCTAssertThrowsError(try CalibratedQuantization.awq(model: m, calibration: [[]], groupSize: 32))
        XCTAssertThrowsError(try CalibratedQuantization.gptq(model: m, calibration: [[1, 2, 99]], groupSize: 32)) {
            XCTAssertTrue("\($0)".contains("outside the vocabulary"), "\($0)")
        }
        let cancel = CancellationToken()
        cancel.cancel()
        XCTAssertThrowsError(try CalibratedQuantization.gptq(model: m, calibration: [[1, 2, 3]], groupSize: 32, cancel: cancel)) {
            XCTAssertTrue("\($0)".contains("cancelled"), "\($0)")
        }
    }

    /// Every tiny family (biases, q/k norms, untied head) quantizes and reports each layer;
    /// 8-bit results stay far closer to the original logits than 4-bit ones, and 4-bit GPTQ is
    /// closer than round to nearest on the same grid.
    func testTinyModelsQuantizeEndToEnd() throws {
        var rng = SplitMix(seed: 11)
        let calibration = (0..<6).map { _ in (0..<48).map { _ in Int(rng.next() % 64) } }
        let probe = Array(calibration[0].prefix(20))
        for name in ["llama", "qwen2", "qwen3"] {
            let m = try tinyModel(name)
            let reference = try m.forward(probe, cache: m.makeCache(capacity: 20), allLogits: true)
            func drift(_ q: LlamaModel) throws -> Float {
                let l = try q.forward(probe, cache: q.makeCache(capacity: 20), allLogits: true)
                return zip(l, reference).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / Float(l.count)
            }
            var seen: [Int] = []
            let g8 = try CalibratedQuantization.gptq(model: m, calibration: calibration, bits: 8, groupSize: 32, batchSize: 2,
                                                     progress: { seen.append($0.layer) })
            XCTAssertEqual(seen, [0, 1, 2], name)
            XCTAssertEqual(g8.linearWeightTypes, [.q8_0], name)
            let a8 = try CalibratedQuantization.awq(model: m, calibration: calibration, bits: 8, groupSize: 32, symmetric: true)
            let g4 = try CalibratedQuantization.gptq(model: m, calibration: calibration, groupSize: 32)
            XCTAssertEqual(g4.linearWeightTypes, [.q4_0], name)
            let r4 = try CalibratedQuantization.roundToNearest(model: m, groupSize: 32)
            let a4 = try CalibratedQuantization.awq(model: m, calibration: calibration, groupSize: 32)
            XCTAssertEqual(a4.linearWeightTypes, [.q4_1], name)
            let r4a = try CalibratedQuantization.roundToNearest(model: m, groupSize: 32, symmetric: false, awqStyle: true)
            // 8-bit steps are 16x finer than 4-bit ones: squared errors ~256x smaller; 1/50 leaves room.
            XCTAssertLessThan(try drift(g8), try drift(r4) / 50, "\(name): 8-bit GPTQ")
            XCTAssertLessThan(try drift(a8), try drift(r4) / 50, "\(name): 8-bit AWQ")
            XCTAssertLessThan(try drift(g4), try drift(r4), "\(name): 4-bit GPTQ against round to nearest")
            // Random weights and tokens have no salient channels for AWQ to protect; a scale
            // folded into the wrong place would multiply the drift, not add a few percent.
            XCTAssertLessThan(try drift(a4), try drift(r4a) * 1.5, "\(name): 4-bit AWQ against round to nearest")
        }
    }

    /// The real model: 4 bits, group 128, calibrated on Debian's Apache-2.0, MPL-2.0 and
    /// Artistic licence texts, scored on every 256-token chunk of the GPL-3 text (Fidelity's
    /// held-out measure, which calibration never sees; 3683 scored tokens). The first 4 chunks
    /// alone (508 tokens) rank the methods differently from the whole text, AutoAWQ's own
    /// algorithm included (Scripts/awq_check.py: round to nearest 22.34 → AWQ 23.18 on them,
    /// 27.18 → 25.08 on all).
    func testGPTQAndAWQBeatRoundToNearestOnSmolLM2() throws {
        let loaded = try SharedModels.smolLM2()
        let base = try loaded.model.quantized(to: .f32)
        let calibrationText = try ["Apache-2.0", "MPL-2.0", "Artistic"].map {
            try String(contentsOfFile: "/usr/share/common-licenses/\($0)", encoding: .utf8)
        }.joined(separator: "\n\n")
        let heldOut = try String(contentsOfFile: "/usr/share/common-licenses/GPL-3", encoding: .utf8)
        let calibrationIds = loaded.tokenizer.encode(calibrationText, addSpecialTokens: false, parseSpecial: false)
        let sequenceLength = 256, sequences = 16
        guard calibrationIds.count >= sequenceLength * sequences else {
            return XCTFail("the calibration texts have \(calibrationIds.count) tokens; \(sequenceLength * sequences) are needed")
        }
        let calibration = (0..<sequences).map { Array(calibrationIds[($0 * sequenceLength)..<(($0 + 1) * sequenceLength)]) }
        let ids = loaded.tokenizer.encode(heldOut, addSpecialTokens: false, parseSpecial: false)
        func perplexity(_ m: LlamaModel) throws -> Double {
            try Fidelity.evaluate(m, ids: ids, context: 256, maxChunks: ids.count / 256).perplexity
        }
        let started = Date()
        let gptq = try CalibratedQuantization.gptq(model: base, calibration: calibration)
        let gptqSeconds = Date().timeIntervalSince(started)
        let awq = try CalibratedQuantization.awq(model: base, calibration: calibration)
        let awqSeconds = Date().timeIntervalSince(started) - gptqSeconds
        let rtnSymmetric = try CalibratedQuantization.roundToNearest(model: base)
        let rtnZeroPoint = try CalibratedQuantization.roundToNearest(model: base, symmetric: false, awqStyle: true)
        let figures = [("f32 (dequantized Q4_1)", base), ("RTN 4-bit sym g128", rtnSymmetric), ("GPTQ 4-bit sym g128", gptq),
                       ("RTN 4-bit zero-point g128", rtnZeroPoint), ("AWQ 4-bit zero-point g128", awq)]
        var ppl: [String: Double] = [:]
        for (label, model) in figures {
            ppl[label] = try perplexity(model)
            print(String(format: "SmolLM2 held-out perplexity (GPL-3, %d×256 windows): %@ %.3f", ids.count / 256, label, ppl[label]!))
        }
        print(String(format: "calibration %d×%d tokens: GPTQ %.0f s, AWQ %.0f s", sequences, sequenceLength, gptqSeconds, awqSeconds))
        XCTAssertLessThan(ppl["GPTQ 4-bit sym g128"]!, ppl["RTN 4-bit sym g128"]!)
        // Measured 24.49 against 27.36 (10.5% better; AutoAWQ's algorithm in torch: 7.7%).
        XCTAssertLessThan(ppl["AWQ 4-bit zero-point g128"]!, ppl["RTN 4-bit zero-point g128"]! * 0.95)
        // Calibrated 4-bit stays within reach of the source: not a broken model.
        XCTAssertLessThan(ppl["GPTQ 4-bit sym g128"]!, ppl["f32 (dequantized Q4_1)"]! * 1.5)
        XCTAssertLessThan(ppl["AWQ 4-bit zero-point g128"]!, ppl["f32 (dequantized Q4_1)"]! * 1.5)
    }
}

/// GPTQ's Algorithm 1 the slow way, in f64 and in OBQ's form: the explicit inverse Hessian
/// of the columns not yet quantized, shrunk by one row and column after each step, and each
/// column's error pushed onto every later column at once (no lazy blocks, no Cholesky).
enum ScalarGPTQ {
    static func run(_ weight: [Double], rows: Int, columns n: Int, hessian: [Double], bits: Int, groupSize gs: Int,
                    symmetric: Bool, dampPercent: Double, actOrder: Bool) -> (codes: [Int], values: [Double]) {
        var w = weight, h = hessian
        for i in 0..<n where h[i * n + i] == 0 {
            h[i * n + i] = 1
            for r in 0..<rows { w[r * n + i] = 0 }
        }
        let maxq = Double((1 << bits) - 1)
        func parameters(_ x: ArraySlice<Double>) -> (d: Double, m: Double) {
            var lo = min(x.min()!, 0), hi = max(x.max()!, 0)
            if symmetric { hi = max(-lo, hi); if lo < 0 { lo = -hi } }
            if lo == 0 && hi == 0 { lo = -1; hi = 1 }
            let scale = (hi - lo) / maxq
            let zero = symmetric ? (maxq + 1) / 2 : (-lo / scale).rounded(.toNearestOrEven)
            let d = Double(Float16(scale))
            return (d, Double(Float16(-zero * d)))
        }
        let groups = (n + gs - 1) / gs
        var params = [(d: Double, m: Double)](repeating: (0, 0), count: rows * groups)
        if actOrder {
            for r in 0..<rows { for g in 0..<groups { params[r * groups + g] = parameters(w[(r * n + g * gs)..<(r * n + min(n, (g + 1) * gs))]) } }
        }
        var order = Array(0..<n)
        if actOrder { order.sort { h[$0 * n + $0] != h[$1 * n + $1] ? h[$0 * n + $0] > h[$1 * n + $1] : $0 < $1 } }
        let damp = dampPercent * (0..<n).map { h[$0 * n + $0] }.reduce(0, +) / Double(n)
        for i in 0..<n { h[i * n + i] += damp }
        var inv = invert(h, n)
        var codes = [Int](repeating: 0, count: rows * n), values = [Double](repeating: 0, count: rows * n)
        for (step, col) in order.enumerated() {
            for r in 0..<rows {
                if !actOrder && col % gs == 0 {
                    params[r * groups + col / gs] = parameters(w[(r * n + col)..<(r * n + min(n, col + gs))])
                }
                let p = params[r * groups + col / gs]
                let x = w[r * n + col]
                let q = min(max(((x - p.m) / p.d).rounded(.toNearestOrEven), 0), maxq)
                codes[r * n + col] = Int(q)
                values[r * n + col] = p.d * q + p.m
                let e = (x - values[r * n + col]) / inv[col * n + col]
                for later in order[(step + 1)...] { w[r * n + later] -= e * inv[col * n + later] }
            }
            // Remove `col` from the inverse of the remaining columns.
            let pivot = inv[col * n + col]
            let rest = order[(step + 1)...]
            for a in rest { for b in rest { inv[a * n + b] -= inv[a * n + col] * inv[col * n + b] / pivot } }
        }
        return (codes, values)
    }

    /// Gauss–Jordan inverse with partial pivoting.
    static func invert(_ m: [Double], _ n: Int) -> [Double] {
        var a = m, inv = [Double](repeating: 0, count: n * n)
        for i in 0..<n { inv[i * n + i] = 1 }
        for c in 0..<n {
            let p = (c..<n).max { abs(a[$0 * n + c]) < abs(a[$1 * n + c]) }!
            if p != c { for j in 0..<n { a.swapAt(p * n + j, c * n + j); inv.swapAt(p * n + j, c * n + j) } }
            let d = a[c * n + c]
            for j in 0..<n { a[c * n + j] /= d; inv[c * n + j] /= d }
            for r in 0..<n where r != c {
                let f = a[r * n + c]
                if f == 0 { continue }
                for j in 0..<n { a[r * n + j] -= f * a[c * n + j]; inv[r * n + j] -= f * inv[c * n + j] }
            }
        }
        return inv
    }
}

/// A small seeded generator (SplitMix64) with Box–Muller normals, for test data.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
    mutating func normal() -> Double {
        let u = max(uniform(), 1e-300), v = uniform()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }
}
