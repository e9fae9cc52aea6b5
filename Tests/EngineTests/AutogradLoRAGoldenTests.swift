import XCTest
@testable import Engine

/// LoRA, rsLoRA, DoRA and a Qwen2 adapter (regex targets, bias "all", a saved lm_head) against
/// PEFT on the tiny models (Tests/Fixtures/lora/lora_variants.json, made by
/// Scripts/goldens/lora_variants.py): the same explicit A/B values, then the loss of the
/// autograd golden's padding-free batch and every trainable gradient; for DoRA also one AdamW
/// step with ms-swift's LoRA+ parameter groups.
///
/// Tolerances: both sides run f32 through the same formulas in different summation orders.
/// The loss (~5, a mean of ~20 cross-entropies after two layers) agrees to ~1e-6; 1e-4 allows
/// for that. Each gradient entry within 1e-4 × (the tensor's largest |g|) + 1e-6: reordered f32
/// sums move entries by ~1e-6 of the tensor's scale, a wrong rule (a missing DoRA term, a wrong
/// scale, dropout left on) by O(1) of it.
final class AutogradLoRAGoldenTests: XCTestCase {
    struct Variant {
        let model: TrainableLlama
        let golden: [String: Any]
    }

    static let golden: [String: Any] = try! TestPaths.json("lora/lora_variants.json")

    func batch() -> (tokens: [Int], targets: [Int], lengths: [Int]) {
        let sequences = Self.golden["sequences"] as! [[Int]], labels = Self.golden["labels"] as! [[Int]]
        let lengths = sequences.map(\.count)
        return (sequences.flatMap { $0 },
                TrainableLlama.causalTargets(labels: labels.flatMap { $0 }, sequenceLengths: lengths), lengths)
    }

    /// The engine's graph for a golden variant, its parameters set to PEFT's values.
    func build(_ name: String, _ config: LoRAConfig) throws -> Variant {
        let variant = (Self.golden["variants"] as! [String: Any])[name] as! [String: Any]
        let dir = try HFModelDirectory(path: TestPaths.fixture("tiny/" + (variant["model"] as! String)), requireTokenizer: false)
        let model = try TrainableLlama(lora: try LlamaModel(hfDirectory: dir), config: config, seed: 1)
        XCTAssertEqual(model.namedParameters.map(\.name), variant["order"] as! [String],
                       "\(name): trainable parameters and their order are PEFT's")
        let values = variant["parameters"] as! [String: [String: Any]]
        for (pname, v) in model.namedParameters {
            let given = values[pname]!
            XCTAssertEqual(v.shape, given["shape"] as! [Int], pname)
            let floats = (given["values"] as! [Double]).map(Float.init)
            if pname.hasSuffix("lora_magnitude_vector") {
                // The magnitude is not set from the golden: our own DoRA init must give PEFT's
                // ‖W + scale·B·A‖ once A and B hold PEFT's values.
                continue
            }
            floats.withUnsafeBufferPointer { v.data.update(from: $0.baseAddress!, count: v.count) }
        }
        for l in model.allLinears {
            guard let lora = l.lora, let m = lora.magnitude, case .frozen(let w) = l.weight else { continue }
            let norms = Tape().doraWeightNorm(w, a: lora.a, b: lora.b, scale: lora.scale)
            let expected = (values[l.name + ".lora_magnitude_vector"]!["values"] as! [Double]).map(Float.init)
            XCTAssertLessThan(maxDiff(norms, expected), 1e-5, "\(l.name): DoRA magnitude init")
            expected.withUnsafeBufferPointer { m.data.update(from: $0.baseAddress!, count: m.count) }
        }
        return Variant(model: model, golden: variant)
    }

    @discardableResult
    func checkLossAndGradients(_ name: String, _ v: Variant, file: StaticString = #filePath, line: UInt = #line) -> Float {
        let b = batch()
        let tape = Tape()
        let loss = v.model.loss(tape, tokens: b.tokens, targets: b.targets, sequenceLengths: b.lengths)
        tape.backward(loss)
        XCTAssertEqual(Double(loss.values[0]), v.golden["loss"] as! Double, accuracy: 1e-4, "\(name) loss", file: file, line: line)
        let grads = v.golden["gradients"] as! [String: [Double]]
        var worst = 0.0
        for (pname, variable) in v.model.namedParameters {
            guard let g = variable.gradient else { XCTFail("\(name): \(pname) has no gradient", file: file, line: line); continue }
            let expected = grads[pname]!
            let scale = expected.map(abs).max()!
            let diff = zip(g, expected).map { abs(Double($0) - $1) }.max()!
            XCTAssertLessThanOrEqual(diff, 1e-4 * scale + 1e-6, "\(name): \(pname) gradient", file: file, line: line)
            worst = max(worst, diff / max(scale, 1e-12))
        }
        print("\(name): loss \(loss.values[0]) vs \(v.golden["loss"] as! Double); worst |Δg|/max|g| \(worst)")
        return loss.values[0]
    }

    func testPlainLoRAMatchesPEFT() throws {
        let v = try build("lora", LoRAConfig(rank: 4, alpha: 8, dropout: 0))
        checkLossAndGradients("lora", v)
    }

    func testRSLoRAMatchesPEFT() throws {
        let config = LoRAConfig(rank: 4, alpha: 8, dropout: 0, targetModules: ["q_proj", "v_proj", "down_proj"], useRSLoRA: true)
        XCTAssertEqual(config.scale, 4, "rsLoRA: alpha/√r = 8/2")
        checkLossAndGradients("rslora", try build("rslora", config))
    }

    func testDoRAMatchesPEFTAndLoRAPlusStepMatchesMsSwift() throws {
        let v = try build("dora", LoRAConfig(rank: 4, alpha: 8, dropout: 0, useDoRA: true))
        checkLossAndGradients("dora", v)

        let step = v.golden["lorap_step"] as! [String: Any]
        v.model.lorapLearningRateRatio = Float(step["lorap_lr_ratio"] as! Double)
        let parameters = v.model.trainableParameters
        // ms-swift's groups: lr for group A, ratio·lr for group B (lora_B and 1-D magnitudes).
        let lr = step["lr"] as! Double
        var expectedScale: [String: Float] = [:], expectedDecay: [String: Bool] = [:]
        for group in step["groups"] as! [[String: Any]] {
            for n in group["names"] as! [String] {
                expectedScale[n] = Float((group["lr"] as! Double) / lr)
                expectedDecay[n] = (group["weight_decay"] as! Double) > 0
            }
        }
        for (p, (pname, _)) in zip(parameters, v.model.namedParameters) {
            XCTAssertEqual(p.learningRateScale, expectedScale[pname]!, accuracy: 1e-6, "\(pname) lr scale")
            XCTAssertEqual(p.decays, expectedDecay[pname]!, "\(pname) weight decay")
        }
        let optimizer = AdamW(parameters: parameters, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: Float(step["weight_decay"] as! Double))
        let norm = optimizer.clipGradients(maxNorm: 1)
        XCTAssertEqual(Double(norm), step["grad_norm"] as! Double, accuracy: 1e-4 * (step["grad_norm"] as! Double))
        optimizer.step(learningRate: Float(lr))
        // One Adam step moves every entry by ≈ lr·scale·sign(g) (here up to 0.016); f32
        // rounding of m/(√v+eps) near g ≈ 0 is the only difference, far below 1e-5.
        let after = step["after"] as! [String: [Double]]
        for (pname, variable) in v.model.namedParameters {
            let d = zip(variable.values, after[pname]!).map { abs(Double($0) - $1) }.max()!
            XCTAssertLessThan(d, 1e-5, "\(pname) after the LoRA+ step")
        }
    }

    func testQwen2RegexTargetsBiasAllAndSavedHeadMatchPEFT() throws {
        let config = LoRAConfig(rank: 2, alpha: 4, dropout: 0, targetRegex: #"model\.layers\.\d+\.self_attn\.(q|v)_proj"#,
                                bias: "all", modulesToSave: ["lm_head"])
        let v = try build("qwen2", config)
        checkLossAndGradients("qwen2", v)
        let adapter = v.model.exportAdapter()
        XCTAssertEqual(Set(adapter.modules.keys), ["model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj",
                                                   "model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.v_proj"])
        XCTAssertNotNil(adapter.modules["model.layers.0.self_attn.q_proj"]?.bias, "a trained bias goes with its module")
        XCTAssertEqual(Set(adapter.savedTensors.keys), ["lm_head.weight", "model.layers.0.self_attn.k_proj.bias",
                                                        "model.layers.1.self_attn.k_proj.bias"])
    }

    /// exportAdapter then init(lora:adapter:) gives the same values, hence the same loss and
    /// gradients; the snapshot does not follow later training.
    func testExportedAdapterContinuesTrainingIdentically() throws {
        let v = try build("dora", LoRAConfig(rank: 4, alpha: 8, dropout: 0, useDoRA: true))
        let adapter = v.model.exportAdapter()
        XCTAssertEqual(adapter.config.rank, 4)
        XCTAssertEqual(adapter.parameterCount, v.model.namedParameters.reduce(0) { $0 + $1.variable.count })
        let dir = try HFModelDirectory(path: TestPaths.fixture("tiny/llama"), requireTokenizer: false)
        let again = try TrainableLlama(lora: try LlamaModel(hfDirectory: dir), adapter: adapter)
        for ((n1, a), (n2, b)) in zip(v.model.namedParameters, again.namedParameters) {
            XCTAssertEqual(n1, n2)
            XCTAssertEqual(a.values, b.values, n1)
        }
        let first = checkLossAndGradients("dora (original)", v)
        let second = checkLossAndGradients("dora (re-imported)", Variant(model: again, golden: v.golden))
        XCTAssertEqual(first, second)
        v.model.namedParameters[0].variable.data[0] += 1
        XCTAssertNotEqual(adapter.modules["model.layers.0.self_attn.q_proj"]!.a[0], v.model.namedParameters[0].variable.data[0],
                          "the export is a copy")
    }
}
