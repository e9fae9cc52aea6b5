import XCTest
@testable import Engine

/// Finite-difference checks (tolerances as in AutogradOpsTests: |Δ| ≤ 1e-4 + 1e-3·|numeric|;
/// f32 analytic sums of a few hundred terms of size ~1 err by ~1e-6, the Double central
/// difference by ~1e-10, a wrong rule by O(0.1)) of DoRA's row scaling and of whole LoRA and
/// DoRA linear layers (dropout off) over a frozen quantized base, against Double references
/// written here. DoRA's weight norm is a constant of the backward (PEFT detaches it), so the
/// references compute it once from the unperturbed A and B.
final class AutogradLoRAGradientTests: XCTestCase {
    func testDoRAScaleGradients() {
        var rng = RandomSource(seed: 21)
        let rows = 4, outF = 6
        let norm = (0..<outF).map { _ in Float(0.5 + rng.nextUnit()) }
        checkGradients("doraScale", [uniform(&rng, rows * outF, [rows, outF]), uniform(&rng, outF, [outF], around: 1),
                                     uniform(&rng, outF, [outF])],
                       op: { t, v in t.doraScale(v[0], magnitude: v[1], weightNorm: norm, bias: v[2]) },
                       reference: { v in
                           (0..<(rows * outF)).map { i in v[1][i % outF] / Double(norm[i % outF]) * v[0][i] + v[2][i % outF] }
                       })
    }

    /// A tiny graph object to call `apply` on one hand-made layer (the model's own weights are not used).
    func host() throws -> TrainableLlama {
        let dir = try HFModelDirectory(path: TestPaths.fixture("tiny/llama"), requireTokenizer: false)
        let model = try TrainableLlama(lora: try LlamaModel(hfDirectory: dir), config: LoRAConfig(rank: 2, alpha: 4, dropout: 0.3), seed: 1)
        model.isTraining = false
        return model
    }

    func layerCheck(dora: Bool, type: GGMLType) throws {
        let model = try host()
        var rng = RandomSource(seed: dora ? 31 : 32)
        let rows = 3, inF = type.blockSize >= 256 ? 256 : 64, outF = 5, rank = 2
        let scale: Float = 1.5
        let (w, owner) = quantizedTensor(type, rows: outF, cols: inF, &rng)
        let wd = w.toFloat32().map(Double.init)
        let x = uniform(&rng, rows * inF, [rows, inF])
        let a = uniform(&rng, rank * inF, [rank, inF], scale: 0.2), b = uniform(&rng, outF * rank, [outF, rank], scale: 0.2)
        let m = uniform(&rng, outF, [outF], scale: 0.5, around: 4)
        let bias = uniform(&rng, outF, [outF])
        // ‖W + s·B·A‖ per row from the unperturbed values: the constant of the backward.
        let norm: [Double] = (0..<outF).map { o in
            (0..<inF).reduce(0.0) { acc, j in
                var v = wd[o * inF + j]
                for r in 0..<rank { v += Double(scale) * Double(b.values[o * rank + r]) * Double(a.values[r * inF + j]) }
                return acc + v * v
            }.squareRoot()
        }
        let inputs = [x, a, b, bias] + (dora ? [m] : [])
        checkGradients(dora ? "DoRA linear \(type)" : "LoRA linear \(type)", inputs,
                       op: { t, v in
                           let lora = TrainableLlama.LoRA(a: v[1], b: v[2], scale: scale, dropout: 0.3,
                                                          magnitude: dora ? v[4] : nil, initialA: nil, initialB: nil)
                           let layer = TrainableLlama.LinearLayer(name: "test", weight: .frozen(w), bias: v[3], lora: lora, streamIndex: 99)
                           return model.apply(layer, v[0], t)
                       },
                       reference: { v in
                           var y = [Double](repeating: 0, count: rows * outF)
                           for r in 0..<rows {
                               for o in 0..<outF {
                                   var base = 0.0, low = 0.0
                                   for j in 0..<inF {
                                       let xj = v[0][r * inF + j]
                                       base += wd[o * inF + j] * xj
                                       var ba = 0.0
                                       for k in 0..<rank { ba += v[2][o * rank + k] * v[1][k * inF + j] }
                                       low += Double(scale) * ba * xj
                                   }
                                   y[r * outF + o] = dora ? v[4][o] / norm[o] * (base + low) + v[3][o] : base + low + v[3][o]
                               }
                           }
                           return y
                       })
        withExtendedLifetime(owner) {}
    }

    func testLoRALinearGradientsOverQuantizedBase() throws {
        try layerCheck(dora: false, type: .q4_1)
        try layerCheck(dora: false, type: .f32)
    }

    func testDoRALinearGradientsOverQuantizedBase() throws {
        try layerCheck(dora: true, type: .q4_1)
        try layerCheck(dora: true, type: .q4_K)
    }

    /// With dropout while training, PEFT's DoRA is base(x) + (m/n − 1)⊙W·x' + (m/n)⊙s·B·A·x'
    /// with x' the dropped input: checked on a dropout mask recovered from the engine's stream.
    func testDoRAWithDropoutFollowsPEFTFormula() throws {
        let model = try host()
        model.isTraining = true
        var rng = RandomSource(seed: 41)
        let rows = 2, inF = 64, outF = 4, rank = 2
        let scale: Float = 2, p: Float = 0.3
        let (w, owner) = quantizedTensor(.q8_0, rows: outF, cols: inF, &rng)
        let wd = w.toFloat32()
        let x = uniform(&rng, rows * inF, [rows, inF]).values
        let a = uniform(&rng, rank * inF, [rank, inF], scale: 0.2).values, b = uniform(&rng, outF * rank, [outF, rank], scale: 0.2).values
        let m = uniform(&rng, outF, [outF], around: 3).values
        let lora = TrainableLlama.LoRA(a: Variable(a, shape: [rank, inF], requiresGrad: true), b: Variable(b, shape: [outF, rank], requiresGrad: true),
                                       scale: scale, dropout: p, magnitude: Variable(m, shape: [outF], requiresGrad: true),
                                       initialA: nil, initialB: nil)
        let layer = TrainableLlama.LinearLayer(name: "t", weight: .frozen(w), bias: nil, lora: lora, streamIndex: 7)
        let y = model.apply(layer, Variable(x, shape: [rows, inF]), Tape()).values
        var mask = RandomSource(seed: model.streamSeed(7))
        let dropped = x.map { mask.nextUnit() >= Double(p) ? $0 / (1 - p) : 0 }
        let norm = Tape().doraWeightNorm(w, a: lora.a, b: lora.b, scale: scale)
        var worst: Float = 0
        for r in 0..<rows {
            for o in 0..<outF {
                var wx: Float = 0, wxd: Float = 0, low: Float = 0
                for j in 0..<inF {
                    wx += wd[o * inF + j] * x[r * inF + j]
                    wxd += wd[o * inF + j] * dropped[r * inF + j]
                    var ba: Float = 0
                    for k in 0..<rank { ba += b[o * rank + k] * a[k * inF + j] }
                    low += scale * ba * dropped[r * inF + j]
                }
                let f = m[o] / norm[o]
                worst = max(worst, abs(y[r * outF + o] - (wx + (f - 1) * wxd + f * low)))
            }
        }
        XCTAssertLessThan(worst, 1e-4, "f32 sums of 64 terms of size ~1")
        withExtendedLifetime(owner) {}
    }
}
