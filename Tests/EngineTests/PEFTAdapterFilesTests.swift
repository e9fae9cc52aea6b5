import Foundation
import XCTest
@testable import Engine

/// PEFT adapter directories (adapter_config.json + adapter_model.safetensors): adapters PEFT
/// saved (Scripts/goldens/peft_adapters.py) read into HF-layout and llama-GGUF-layout tiny
/// models and checked against PEFT's merged weights and logits; write→read round trips; the
/// directory this writer produced, which the golden script loads back into PEFT; bad input.
final class PEFTAdapterFilesTests: XCTestCase {
    typealias Layout = PEFTTestModels.Layout

    var scratch: String = ""

    override func setUpWithError() throws {
        scratch = NSTemporaryDirectory() + "peft-tests-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: scratch)
    }

    static let peftCases = [("llama-lora", "llama"), ("llama-rslora-dora", "llama"), ("qwen2-bias", "qwen2")]

    // MARK: PEFT → tune

    func testAdaptersSavedByPEFTMergeToPEFTsWeights() throws {
        for (name, base) in Self.peftCases {
            let golden = try TestPaths.json("peft/golden/\(name).json")
            let dir = try PEFTTestModels.directory(base)
            for layout in Layout.allCases {
                let model = try PEFTTestModels.model(base, layout)
                let adapter = try PEFTAdapterFiles.read(directory: TestPaths.fixture("peft/\(name)"), for: model)
                let label = "\(name) (\(layout))"
                for (module, entry) in golden["merged_weights"] as! [String: [String: Any]] {
                    let shape = entry["shape"] as! [Int]
                    var expected = (entry["values"] as! [Double]).map(Float.init)
                    if layout == .gguf, let heads = PEFTTestModels.qkHeads(module, dir.config) {
                        expected = PEFTTestModels.ggufRows(fromHF: expected, rows: shape[0], heads: heads)
                    }
                    let base = try XCTUnwrap(PEFTTestModels.baseValues(dir, module + ".weight", layout))
                    // A module outside the targets (qwen2-bias's v_proj) merges to the base weight.
                    let got = adapter.modules[module].map { PEFTTestModels.mergedWeight(base.values, $0, scale: adapter.config.scale) } ?? base.values
                    // f32 merges on both sides of values ~0.5, golden rounded to 1e-7: 1e-5 is ~50 ulps.
                    XCTAssertLessThan(zip(got, expected).map { abs($0 - $1) }.max()!, 1e-5, "\(label): merged \(module)")
                }
                for (tensor, values) in golden["merged_biases"] as! [String: [Double]] {
                    var expected = values.map(Float.init)
                    if layout == .gguf, let heads = PEFTTestModels.qkHeads(tensor, dir.config) {
                        expected = PEFTTestModels.ggufRows(fromHF: expected, rows: expected.count, heads: heads)
                    }
                    let got = adapter.modules[String(tensor.dropLast(5))]?.bias ?? adapter.savedTensors[tensor]?.values
                    let values = try XCTUnwrap(got, "\(label): no trained \(tensor)")
                    XCTAssertEqual(values.count, expected.count, "\(label): \(tensor)")
                    // Read as stored (f32) against the golden rounded to 1e-7.
                    XCTAssertLessThan(zip(values, expected).map { abs($0 - $1) }.max() ?? 1, 1e-6, "\(label): \(tensor)")
                }
            }
        }
    }

    func testAdaptersSavedByPEFTGivePEFTsLogits() throws {
        for (name, base) in Self.peftCases {
            let golden = try TestPaths.json("peft/golden/\(name).json")
            let tokens = golden["tokens"] as! [Int]
            let expected = (golden["logits"] as! [[Double]]).flatMap { $0.map(Float.init) }
            for layout in Layout.allCases {
                let adapter = try PEFTAdapterFiles.read(directory: TestPaths.fixture("peft/\(name)"),
                                                        for: try PEFTTestModels.model(base, layout))
                let merged = try PEFTTestModels.merged(base, layout, adapter: adapter)
                let got = try merged.forward(tokens, cache: merged.makeCache(capacity: tokens.count), allLogits: true)
                // Same 1e-4 as the tiny-model parity tests: f32 logits ~1 through 2 layers.
                XCTAssertLessThan(zip(got, expected).map { abs($0 - $1) }.max()!, 1e-4, "\(name) (\(layout)): logits against PEFT")
            }
        }
    }

    func testConfigFieldsAreReadAsPEFTWroteThem() throws {
        let model = try PEFTTestModels.model("llama", .hf)
        let lora = try PEFTAdapterFiles.read(directory: TestPaths.fixture("peft/llama-lora"), for: model)
        XCTAssertEqual(lora.config, LoRAConfig(rank: 4, alpha: 8, dropout: 0, targetModules: LoRAConfig.allLinear,
                                               initWeights: "false", modulesToSave: ["lm_head"],
                                               baseModel: "Tests/Fixtures/tiny/llama"))
        XCTAssertEqual(lora.modules.count, 14)
        XCTAssertEqual(lora.savedTensors.keys.sorted(), ["lm_head.weight"])
        let dora = try PEFTAdapterFiles.read(directory: TestPaths.fixture("peft/llama-rslora-dora"), for: model)
        XCTAssertTrue(dora.config.useDoRA && dora.config.useRSLoRA)
        XCTAssertEqual(dora.config.scale, Float(4 / 2.0.squareRoot()), accuracy: 1e-6)
        XCTAssertEqual(dora.modules.count, 8)
        XCTAssertTrue(dora.modules.values.allSatisfy { $0.magnitude?.count == $0.outFeatures })
        let bias = try PEFTAdapterFiles.read(directory: TestPaths.fixture("peft/qwen2-bias"), for: try PEFTTestModels.model("qwen2", .hf))
        XCTAssertEqual(bias.config.bias, "all")
        XCTAssertEqual(bias.savedTensors.keys.sorted(), ["model.embed_tokens.weight", "model.layers.0.self_attn.v_proj.bias",
                                                          "model.layers.1.self_attn.v_proj.bias"])
        XCTAssertNotNil(bias.modules["model.layers.1.self_attn.q_proj"]?.bias)
        XCTAssertNil(bias.modules["model.layers.1.self_attn.o_proj"]?.bias)
    }

    /// Reading a PEFT file and writing it again gives PEFT's tensors back bit for bit, also
    /// through the GGUF layout (rows permuted on read, restored on write).
    func testRewritingAPEFTAdapterKeepsItsTensors() throws {
        for (name, base) in Self.peftCases {
            for layout in Layout.allCases {
                let model = try PEFTTestModels.model(base, layout)
                let adapter = try PEFTAdapterFiles.read(directory: TestPaths.fixture("peft/\(name)"), for: model)
                let out = scratch + "/\(name)-\(layout)"
                try PEFTAdapterFiles.write(adapter, for: model, to: out)
                let original = try SafetensorsFile(path: TestPaths.fixture("peft/\(name)/adapter_model.safetensors"))
                let written = try SafetensorsFile(path: out + "/adapter_model.safetensors")
                XCTAssertEqual(written.tensorNames.sorted(), original.tensorNames.sorted(), name)
                XCTAssertEqual(written.metadata, ["format": "pt"])
                for t in original.tensorNames {
                    XCTAssertEqual(try written.tensor(t).toFloat32(), try original.tensor(t).toFloat32(), "\(name) (\(layout)): \(t)")
                    XCTAssertEqual(written.info(t)?.shape, original.info(t)?.shape)
                }
            }
        }
    }

    // MARK: Round trips

    /// Every variant written and read back exactly, on both layouts; and what the GGUF-layout
    /// model wrote, read by the HF model, is the same adapter with llama.cpp's row order undone.
    func testWriteThenReadIsExactForEveryVariant() throws {
        let variants: [(String, LoRAConfig, Bool)] = [
            ("lora", LoRAConfig(rank: 3, alpha: 16, targetModules: ["q_proj", "k_proj", "v_proj", "o_proj"]), false),
            ("rslora", LoRAConfig(rank: 4, alpha: 8, dropout: 0.1, useRSLoRA: true), false),
            ("dora", LoRAConfig(rank: 2, alpha: 4, targetModules: ["q_proj", "k_proj", "down_proj"], useDoRA: true), false),
            ("bias", LoRAConfig(rank: 2, alpha: 4, targetModules: ["q_proj", "k_proj", "up_proj"], bias: "all"), true),
            ("modules_to_save", LoRAConfig(rank: 2, alpha: 2.5, targetModules: ["k_proj", "gate_proj"], initWeights: "gaussian",
                                           modulesToSave: ["lm_head", "embed_tokens"], baseModel: "tiny/llama"), false),
            ("regex", LoRAConfig(rank: 2, alpha: 4, targetModules: ["q_proj", "v_proj"], targetRegex: #".*\.(q_proj|v_proj)"#), false),
        ]
        let hfModel = try PEFTTestModels.model("llama", .hf)
        for (name, config, biases) in variants {
            for layout in Layout.allCases {
                let model = try PEFTTestModels.model("llama", layout)
                let adapter = syntheticAdapter(model, config, biases: biases)
                let out = scratch + "/\(name)-\(layout)"
                try PEFTAdapterFiles.write(adapter, for: model, to: out)
                XCTAssertTrue(PEFTAdapterFiles.looksLikeAdapter(directory: out))
                let back = try PEFTAdapterFiles.read(directory: out, for: model)
                assertSame(back, adapter, "\(name) (\(layout))")

                let asHF = try PEFTAdapterFiles.read(directory: out, for: hfModel)
                let expected = layout == .hf ? adapter : hfLayout(of: adapter, hfModel.config)
                assertSame(asHF, expected, "\(name) (\(layout)) read as HF")
            }
        }
    }

    func testWriterOutputIsTheCommittedFixture() throws {
        let model = try PEFTTestModels.model("llama", .gguf)
        let adapter = Self.formulaAdapter(model)
        let out = scratch + "/written-by-tune"
        try PEFTAdapterFiles.write(adapter, for: model, to: out)
        let fixture = TestPaths.fixture("peft/written-by-tune")
        for file in ["adapter_config.json", "adapter_model.safetensors"] {
            let made = try Data(contentsOf: URL(fileURLWithPath: out + "/" + file))
            let committed = FileManager.default.contents(atPath: fixture + "/" + file)
            if made != committed {
                let keep = NSTemporaryDirectory() + "peft-written-by-tune"
                try? FileManager.default.removeItem(atPath: keep)
                try? FileManager.default.copyItem(atPath: out, toPath: keep)
                XCTFail("\(file) differs from \(fixture); the new output is in \(keep) (see Tests/Fixtures/peft/README.md)")
            }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out).sorted(), ["adapter_config.json", "adapter_model.safetensors"])
        assertSame(try PEFTAdapterFiles.read(directory: fixture, for: model), adapter, "committed written-by-tune")
    }

    /// The adapter behind written-by-tune/: values from `formula` in the GGUF model's row order,
    /// seeds layer·100 + module·10 + (0 A, 1 B, 2 magnitude), lm_head seed 999. The golden
    /// script recomputes them.
    static func formulaAdapter(_ model: LlamaModel) -> LoRAAdapter {
        let config = LoRAConfig(rank: 2, alpha: 4, dropout: 0.05, useRSLoRA: true, useDoRA: true,
                                modulesToSave: ["lm_head"], baseModel: "Tests/Fixtures/tiny/llama")
        let layout = PEFTModelLayout(model)
        var modules: [String: LoRAModuleWeights] = [:]
        for layer in 0..<model.config.layerCount {
            for (mi, short) in LoRAConfig.allLinear.enumerated() {
                let name = "model.layers.\(layer).\(mi < 4 ? "self_attn" : "mlp").\(short)"
                let m = layout.modules[name]!, seed = layer * 100 + mi * 10
                modules[name] = LoRAModuleWeights(inFeatures: m.inFeatures, outFeatures: m.outFeatures,
                                                  a: PEFTTestModels.formula(seed, 2 * m.inFeatures),
                                                  b: PEFTTestModels.formula(seed + 1, m.outFeatures * 2),
                                                  magnitude: PEFTTestModels.formula(seed + 2, m.outFeatures, offset: 1))
            }
        }
        let head = layout.tensorShapes["lm_head.weight"]!
        return LoRAAdapter(config: config, modules: modules,
                           savedTensors: ["lm_head.weight": (head, PEFTTestModels.formula(999, head[0] * head[1]))])
    }

    func testAFailedWriteLeavesThePreviousAdapter() throws {
        let model = try PEFTTestModels.model("llama", .gguf)
        let good = syntheticAdapter(model, LoRAConfig(rank: 2, alpha: 4, targetModules: ["q_proj"]), biases: false)
        try PEFTAdapterFiles.write(good, for: model, to: scratch)
        let before = try Data(contentsOf: URL(fileURLWithPath: scratch + "/adapter_model.safetensors"))
        let bad = syntheticAdapter(model, LoRAConfig(rank: 2, alpha: 4, targetModules: ["q_proj"]), biases: false)
        bad.savedTensors["lm_head.weight"] = ([3, 3], [Float](repeating: 1, count: 9))
        XCTAssertThrowsError(try PEFTAdapterFiles.write(bad, for: model, to: scratch)) { error in
            XCTAssertTrue("\(error)".contains("lm_head.weight has shape [3, 3]"), "\(error)")
        }
        let other = syntheticAdapter(model, LoRAConfig(rank: 2, alpha: 4, targetModules: ["v_proj"]), biases: false)
        other.modules["model.layers.9.self_attn.v_proj"] = other.modules.values.first!
        XCTAssertThrowsError(try PEFTAdapterFiles.write(other, for: model, to: scratch)) { error in
            XCTAssertTrue("\(error)".contains("model.layers.9.self_attn.v_proj is not a linear layer"), "\(error)")
        }
        let ranked = syntheticAdapter(model, LoRAConfig(rank: 2, alpha: 4, targetModules: ["q_proj"]), biases: false)
        ranked.config.rank = 3
        XCTAssertThrowsError(try PEFTAdapterFiles.write(ranked, for: model, to: scratch)) { error in
            XCTAssertTrue("\(error)".contains("has rank 2 but the adapter's config says r = 3"), "\(error)")
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: scratch + "/adapter_model.safetensors")), before)
        assertSame(try PEFTAdapterFiles.read(directory: scratch, for: model), good, "previous adapter")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch).sorted(), ["adapter_config.json", "adapter_model.safetensors"])
    }

    func testWrittenConfigHasEveryFieldPEFTWrites() throws {
        let model = try PEFTTestModels.model("llama", .hf)
        try PEFTAdapterFiles.write(syntheticAdapter(model, LoRAConfig(rank: 4, alpha: 8, modulesToSave: ["lm_head"]), biases: false),
                                   for: model, to: scratch)
        let written = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: scratch + "/adapter_config.json"))) as! [String: Any]
        let peft = try TestPaths.json("peft/llama-lora/adapter_config.json")
        XCTAssertEqual(written.keys.sorted(), peft.keys.sorted())
        for key in peft.keys where !["base_model_name_or_path", "target_modules", "lora_dropout", "init_lora_weights"].contains(key) {
            XCTAssertEqual(written[key] as? NSObject, peft[key] as? NSObject, key)
        }
        XCTAssertEqual(written["target_modules"] as? [String], LoRAConfig.allLinear)
        XCTAssertEqual(written["lora_dropout"] as? Double, 0.05)
        XCTAssertEqual(written["init_lora_weights"] as? Bool, true)
    }

    // MARK: Bad input

    func testMissingFilesAreNamed() throws {
        let model = try PEFTTestModels.model("llama", .hf)
        assertReadError(scratch + "/nowhere", model, "no such adapter directory")
        assertReadError(scratch, model, "no adapter_config.json")
        XCTAssertFalse(PEFTAdapterFiles.looksLikeAdapter(directory: scratch))
        try copyFixture("llama-lora", only: ["adapter_config.json"])
        assertReadError(scratch, model, "no adapter_model.safetensors")
        XCTAssertTrue(FileManager.default.createFile(atPath: scratch + "/adapter_model.bin", contents: Data([1, 2, 3])))
        assertReadError(scratch, model, "has adapter_model.bin but no adapter_model.safetensors; only safetensors")
    }

    func testBadConfigsAreNamed() throws {
        let model = try PEFTTestModels.model("llama", .hf)
        try copyFixture("llama-lora")
        let config = scratch + "/adapter_config.json"
        let original = try String(contentsOfFile: config, encoding: .utf8)
        let cases: [(String, String)] = [
            ("{\"peft_type\": \"LORA\", ", "adapter_config.json: the adapter config is not valid JSON"),
            (original.replacingOccurrences(of: "\"LORA\"", with: "\"PREFIX_TUNING\""), "peft_type \"PREFIX_TUNING\" is not supported"),
            (original.replacingOccurrences(of: "\"peft_type\": \"LORA\",", with: ""), "no \"peft_type\""),
            (original.replacingOccurrences(of: "\"r\": 4", with: "\"r\": \"four\""), "\"r\" must be a positive integer"),
            (original.replacingOccurrences(of: "\"rank_pattern\": {}", with: "\"rank_pattern\": {\"q_proj\": 8}"), "per-module ranks is not supported"),
            (original.replacingOccurrences(of: "\"use_dora\": false", with: "\"use_dora\": 1"), "\"use_dora\" must be true or false"),
        ]
        for (text, message) in cases {
            try text.write(toFile: config, atomically: true, encoding: .utf8)
            assertReadError(scratch, model, message)
        }
    }

    func testAnAdapterForAnotherBaseNamesTheModuleAndShapes() throws {
        let qwen3 = try PEFTTestModels.model("qwen3", .hf)
        assertReadError(TestPaths.fixture("peft/llama-lora"), qwen3,
                        "tensor base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight has shape [32, 4], but model.layers.0.self_attn.q_proj needs [64, 4]")
    }

    func testBadTensorsAreNamed() throws {
        let model = try PEFTTestModels.model("llama", .hf)
        let q = "base_model.model.model.layers.0.self_attn.q_proj"
        let a = (q + ".lora_A.weight", [2, 32], [Float](repeating: 0.1, count: 64))
        let b = (q + ".lora_B.weight", [32, 2], [Float](repeating: 0.1, count: 64))
        let config = "{\"peft_type\": \"LORA\", \"task_type\": \"CAUSAL_LM\", \"r\": 2, \"lora_alpha\": 4, \"target_modules\": [\"q_proj\"]}"
        let cases: [(String, [(String, [Int], [Float])], String)] = [
            (config, [a], "module model.layers.0.self_attn.q_proj has no lora_B"),
            (config, [b], "module model.layers.0.self_attn.q_proj has no lora_A"),
            (config.replacingOccurrences(of: "\"r\": 2", with: "\"r\": 8"), [a, b], "has rank 2 but adapter_config.json says r = 8"),
            (config, [a, (q + ".lora_B.weight", [32, 3], [Float](repeating: 0, count: 96))], "lora_A has rank 2 (shape [2, 32]) but lora_B rank 3"),
            (config, [a, b, ("base_model.model.model.layers.7.self_attn.q_proj.lora_A.weight", [2, 32], a.2)],
             "unknown module model.layers.7.self_attn.q_proj"),
            (config, [a, b, ("base_model.model.model.layers.0.mlp.fc1.lora_B.weight", [32, 2], b.2)], "unknown module model.layers.0.mlp.fc1"),
            (config, [a, b, ("base_model.model.model.embed_tokens.lora_embedding_A", [2, 64], [Float](repeating: 0, count: 128))],
             "a kind of LoRA tensor this engine does not read"),
            (config, [a, b, ("model.layers.0.self_attn.q_proj.lora_A.weight", [2, 32], a.2)], "is not a PEFT adapter tensor"),
            (config, [a, b, ("base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector", [32], b.2.prefix(32).map { $0 })],
             "has a DoRA magnitude vector but adapter_config.json has use_dora false"),
            (config.replacingOccurrences(of: "\"r\": 2", with: "\"r\": 2, \"use_dora\": true"), [a, b], "has no lora_magnitude_vector"),
            (config, [a, b, ("base_model.model.lm_head.weight", [64, 31], [Float](repeating: 0, count: 64 * 31))],
             "tensor base_model.model.lm_head.weight has shape [64, 31], but lm_head.weight needs [64, 32]"),
            (config, [a, b, ("base_model.model.model.layers.0.self_attn.rotary.weight", [2], [1, 2])], "the model has no tensor model.layers.0.self_attn.rotary.weight"),
            (config, [], "holds no tensors"),
        ]
        for (configText, tensors, message) in cases {
            try makeAdapter(config: configText, tensors: tensors)
            assertReadError(scratch, model, message)
        }
    }

    func testCorruptWeightsAreAnErrorNotACrash() throws {
        let model = try PEFTTestModels.model("llama", .hf)
        try copyFixture("llama-lora")
        let path = scratch + "/adapter_model.safetensors"
        let full = try Data(contentsOf: URL(fileURLWithPath: path))
        for cut in [0, 5, 100, full.count / 2, full.count - 1] {
            try full.prefix(cut).write(to: URL(fileURLWithPath: path))
            XCTAssertThrowsError(try PEFTAdapterFiles.read(directory: scratch, for: model)) { error in
                XCTAssertTrue(error is SafetensorsError && "\(error)".hasPrefix(path), "\(cut): \(error)")
            }
        }
        // An integer tensor where a float one belongs.
        let ints = [Int32](repeating: 1, count: 128)
        try ints.withUnsafeBytes { bytes in
            try SafetensorsWriter.write([
                .init(name: "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", dtype: .i32, shape: [4, 32], bytes: bytes),
                .init(name: "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", dtype: .i32, shape: [32, 4], bytes: bytes),
            ], to: path)
        }
        assertReadError(scratch, model, "dtype I32 is not supported")
    }

    // MARK: Helpers

    /// Values from `formula` for each targeted module (and biases, magnitudes, saved tensors).
    func syntheticAdapter(_ model: LlamaModel, _ config: LoRAConfig, biases: Bool) -> LoRAAdapter {
        let layout = PEFTModelLayout(model)
        var modules: [String: LoRAModuleWeights] = [:], seed = 0
        for name in layout.moduleOrder where config.targetModules.contains(where: { name.hasSuffix("." + $0) }) {
            let m = layout.modules[name]!
            seed += 7
            modules[name] = LoRAModuleWeights(
                inFeatures: m.inFeatures, outFeatures: m.outFeatures,
                a: PEFTTestModels.formula(seed, config.rank * m.inFeatures),
                b: PEFTTestModels.formula(seed + 1, m.outFeatures * config.rank),
                magnitude: config.useDoRA ? PEFTTestModels.formula(seed + 2, m.outFeatures, offset: 1) : nil,
                bias: biases ? PEFTTestModels.formula(seed + 3, m.outFeatures) : nil)
        }
        var saved: [String: (shape: [Int], values: [Float])] = [:]
        for short in config.modulesToSave {
            let tensor = short == "lm_head" ? "lm_head.weight" : "model.\(short).weight"
            let shape = layout.tensorShapes[tensor]!
            saved[tensor] = (shape, PEFTTestModels.formula(seed + 50 + saved.count, shape.reduce(1, *)))
        }
        if config.bias == "all" {
            // Also a whole saved tensor whose rows the GGUF layout permutes (llama has no
            // biases to save whole).
            let shape = layout.tensorShapes["model.layers.1.self_attn.q_proj.weight"]!
            saved["model.layers.1.self_attn.q_proj.weight"] = (shape, PEFTTestModels.formula(77, shape[0] * shape[1]))
        }
        return LoRAAdapter(config: config, modules: modules, savedTensors: saved)
    }

    /// `adapter` (in llama.cpp's GGUF row order) with q/k rows put in HF order by the test's own permutation.
    func hfLayout(of adapter: LoRAAdapter, _ config: ModelConfig) -> LoRAAdapter {
        var modules = adapter.modules
        for (name, var m) in modules {
            guard let heads = PEFTTestModels.qkHeads(name, config) else { continue }
            m.b = PEFTTestModels.hfRows(fromGGUF: m.b, rows: m.outFeatures, heads: heads)
            m.magnitude = m.magnitude.map { PEFTTestModels.hfRows(fromGGUF: $0, rows: m.outFeatures, heads: heads) }
            m.bias = m.bias.map { PEFTTestModels.hfRows(fromGGUF: $0, rows: m.outFeatures, heads: heads) }
            modules[name] = m
        }
        var saved = adapter.savedTensors
        for (name, t) in saved {
            guard let heads = PEFTTestModels.qkHeads(name, config) else { continue }
            saved[name] = (t.shape, PEFTTestModels.hfRows(fromGGUF: t.values, rows: t.shape[0], heads: heads))
        }
        return LoRAAdapter(config: adapter.config, modules: modules, savedTensors: saved)
    }

    func assertSame(_ got: LoRAAdapter, _ expected: LoRAAdapter, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.config, expected.config, label, file: file, line: line)
        XCTAssertEqual(got.modules.keys.sorted(), expected.modules.keys.sorted(), label, file: file, line: line)
        for (name, e) in expected.modules {
            guard let g = got.modules[name] else { continue }
            XCTAssertEqual(g.inFeatures, e.inFeatures, "\(label) \(name)", file: file, line: line)
            XCTAssertEqual(g.outFeatures, e.outFeatures, "\(label) \(name)", file: file, line: line)
            XCTAssertEqual(g.a, e.a, "\(label) \(name) A", file: file, line: line)
            XCTAssertEqual(g.b, e.b, "\(label) \(name) B", file: file, line: line)
            XCTAssertEqual(g.magnitude, e.magnitude, "\(label) \(name) magnitude", file: file, line: line)
            XCTAssertEqual(g.bias, e.bias, "\(label) \(name) bias", file: file, line: line)
        }
        XCTAssertEqual(got.savedTensors.keys.sorted(), expected.savedTensors.keys.sorted(), label, file: file, line: line)
        for (name, e) in expected.savedTensors {
            XCTAssertEqual(got.savedTensors[name]?.shape, e.shape, "\(label) \(name)", file: file, line: line)
            XCTAssertEqual(got.savedTensors[name]?.values, e.values, "\(label) \(name)", file: file, line: line)
        }
    }

    func assertReadError(_ directory: String, _ model: LlamaModel, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try PEFTAdapterFiles.read(directory: directory, for: model), file: file, line: line) { error in
            XCTAssertTrue("\(error)".contains(message), "expected “\(message)” in: \(error)", file: file, line: line)
            XCTAssertTrue("\(error)".hasPrefix(directory), "the error names the file: \(error)", file: file, line: line)
        }
    }

    func copyFixture(_ name: String, only: [String] = ["adapter_config.json", "adapter_model.safetensors"]) throws {
        for f in only {
            try? FileManager.default.removeItem(atPath: scratch + "/" + f)
            try FileManager.default.copyItem(atPath: TestPaths.fixture("peft/\(name)/\(f)"), toPath: scratch + "/" + f)
        }
    }

    func makeAdapter(config: String, tensors: [(String, [Int], [Float])]) throws {
        try config.write(toFile: scratch + "/adapter_config.json", atomically: true, encoding: .utf8)
        let store = TensorStore()
        let entries = tensors.map { t -> SafetensorsWriter.Tensor in
            let raw = store.tensor(t.0, t.1, t.2)
            return SafetensorsWriter.Tensor(name: t.0, dtype: .f32, shape: t.1, bytes: raw.bytes)
        }
        try withExtendedLifetime(store) {
            try SafetensorsWriter.write(entries, metadata: ["format": "pt"], to: scratch + "/adapter_model.safetensors")
        }
    }
}
