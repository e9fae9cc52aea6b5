import Engine
import Foundation
import XCTest
@testable import Script

/// A session over the real engine backend and the default model (SmolLM2-135M-Instruct Q4_1)
/// with an in-memory adapter registered as the trainer registers one: it answers differently
/// from the base, `use base` answers as before, and `merge` gives a live model that answers
/// as the adapter did. Answers are greedy (temperature 0), so equal answers mean equal argmax
/// at every step.
final class AdapterSessionTests: XCTestCase {
    static func defaultModel() throws -> String {
        let cache = ProcessInfo.processInfo.environment["MODELSCOPE_CACHE"].flatMap { $0.isEmpty ? nil : $0 }
            ?? NSHomeDirectory() + "/.cache/modelscope/hub"
        let path = cache + "/models/HuggingFaceTB/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf"
        guard FileManager.default.fileExists(atPath: path) else {
            XCTFail("the default model is missing at \(path); run Scripts/setup")
            throw CocoaError(.fileNoSuchFile)
        }
        return path
    }

    /// Rank-4 random matrices on every linear layer, strong enough to change greedy answers.
    static func randomAdapter(_ c: ModelConfig) -> Engine.LoRAAdapter {
        var rng = RandomSource(seed: 11)
        func uniform(_ n: Int, _ bound: Float) -> [Float] { (0..<n).map { _ in Float(rng.nextUnit() * 2 - 1) * bound } }
        let d = c.hiddenSize, q = c.headCount * c.headDim, kv = c.kvHeadCount * c.headDim, f = c.intermediateSize
        let shapes: [(String, Int, Int)] = [("self_attn.q_proj", q, d), ("self_attn.k_proj", kv, d), ("self_attn.v_proj", kv, d),
                                            ("self_attn.o_proj", d, q), ("mlp.gate_proj", f, d), ("mlp.up_proj", f, d),
                                            ("mlp.down_proj", d, f)]
        var modules: [String: LoRAModuleWeights] = [:]
        for i in 0..<c.layerCount {
            for (name, out, inF) in shapes {
                modules["model.layers.\(i).\(name)"] = LoRAModuleWeights(
                    inFeatures: inF, outFeatures: out, a: uniform(4 * inF, 1 / Float(inF).squareRoot()), b: uniform(out * 4, 0.15))
            }
        }
        return LoRAAdapter(config: LoRAConfig(rank: 4, alpha: 8), modules: modules)
    }

    func testAdapterAnswersUseBaseRestoresAndMergeAnswersAsTheAdapter() throws {
        let path = try Self.defaultModel()
        let backend = EngineSessionBackend()
        let output = RecordingOutput()
        let interpreter = Interpreter(backend: backend, output: output, interactive: false)
        func run(_ text: String) {
            XCTAssertEqual(interpreter.runScript(text, file: "adapter.tune"), 0, output.errors.description)
        }
        func answer(_ text: String = "ask 'Name three colours.'") -> String {
            output.streamed = ""
            run(text)
            return output.streamed
        }
        run("load model \(path) as base\nset --temperature 0 --max_new_tokens 16")
        let session = interpreter.session
        let baseAnswer = answer()

        let model = try XCTUnwrap(session.model?.handle)
        let handle = backend.registerAdapter(Self.randomAdapter(try backend.loaded(model).model.config), modelId: model.id, path: "memory/random")
        XCTAssertTrue(handle.summary.hasPrefix("LoRA rank 4, alpha 8, 210 layers (q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj)"), handle.summary)
        session.adapters.append(.init(name: "mine", handle: handle))
        session.liveAdapter = "mine"
        let adapterAnswer = answer()
        XCTAssertNotEqual(adapterAnswer, baseAnswer)
        XCTAssertEqual(answer(), adapterAnswer, "the cached adapted model answers the same again")

        // export --merge_lora folds the live adapter in before writing; the file answers as an adapted model.
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        run("export --merge_lora true --to_gguf true --quant_method q8_0 --output_dir \(dir)/merged.gguf")
        XCTAssertTrue(output.lines.contains { $0.hasPrefix("merged adapter random before export (q4_1 base: dequantized, merged, kept f32)") }, output.text)
        XCTAssertTrue(output.lines.contains { $0.hasPrefix("wrote \(dir)/merged.gguf (q8_0, ") }, output.text)
        run("load model \(dir)/merged.gguf as exported")
        XCTAssertNotEqual(answer(), baseAnswer)
        run("use model base\nuse adapter mine")

        run("use base")
        XCTAssertEqual(answer(), baseAnswer)

        // Merged and kept f32: the adapter's own arithmetic, so the same greedy answer.
        run("use adapter mine\nmerge --torch_dtype float32")
        XCTAssertTrue(output.lines.contains { $0.hasPrefix("merged adapter random into SmolLM2-135M-Instruct.Q4_1.gguf (q4_1 base: dequantized, merged, kept f32); max |Δlogit| against the unmerged adapter over 3 prompts: ") },
                      output.text)
        XCTAssertNil(session.liveAdapter)
        XCTAssertNotEqual(session.liveModel, "base")
        XCTAssertEqual(answer(), adapterAnswer)

        // Over a quantized base the default merge stores f16 (Q4_1 again would round much of
        // the adapter away) and says what keeping the base format would cost.
        run("use model base\nuse adapter mine\nmerge")
        let report = try XCTUnwrap(output.lines.last { $0.hasPrefix("merged adapter") })
        XCTAssertTrue(report.contains("(q4_1 base: dequantized, merged, stored as f16; --quant_method q4_1 keeps the base format, with max |Δlogit| "), report)
        XCTAssertTrue(session.model?.handle.summary.contains("f16") == true)
        XCTAssertEqual(answer(), adapterAnswer)
        func figure(after marker: String) throws -> Double {
            let tail = try XCTUnwrap(report.components(separatedBy: marker).dropFirst().first, "\(marker) in \(report)")
            return try XCTUnwrap(Double(tail.prefix { "0123456789.e-".contains($0) }), report)
        }
        let keptQ41 = try figure(after: "keeps the base format, with max |Δlogit| ")
        let f16Gap = try figure(after: "over 3 prompts: ")
        let effect = try figure(after: "moves logits by up to ")
        XCTAssertLessThan(f16Gap, effect / 20, report)
        XCTAssertLessThan(f16Gap, keptQ41 / 10, report)

        // --quant_method still chooses: the base's own format, re-quantized.
        run("use model base\nuse adapter mine\nmerge --quant_method q4_1")
        let q41 = try XCTUnwrap(output.lines.last { $0.hasPrefix("merged adapter") })
        XCTAssertTrue(q41.contains("(q4_1 base: dequantized, merged, re-quantized to q4_1)"), q41)
        XCTAssertTrue(session.model?.handle.summary.contains("q4_1") == true)
    }

    /// `merge --quant_method bnb|fp8|hqq` makes the merged weights the way `quantize` makes
    /// them (nested scales, tiles, solved zeros) from the f32 merge: the same model, so the same
    /// greedy answer, as merging in f32 and quantizing afterwards. GPTQ and AWQ need a dataset
    /// merge does not take: a clear error, and the session goes on.
    func testMergeIntoBNBFP8AndHQQEqualsMergingThenQuantizing() throws {
        let path = try Self.defaultModel()
        let backend = EngineSessionBackend()
        let output = RecordingOutput()
        let interpreter = Interpreter(backend: backend, output: output, interactive: false)
        func run(_ text: String, ok: Bool = true) {
            let status = interpreter.runScript(text, file: "merge.tune")
            XCTAssertEqual(status == 0, ok, "\(text): \(output.errors.description)")
        }
        func answer() -> String {
            output.streamed = ""
            run("ask 'Name three colours.'")
            return output.streamed
        }
        run("load model \(path) as base\nset --temperature 0 --max_new_tokens 12")
        let session = interpreter.session
        let model = try XCTUnwrap(session.model?.handle)
        let handle = backend.registerAdapter(Self.randomAdapter(try backend.loaded(model).model.config), modelId: model.id, path: "memory/random")
        session.adapters.append(.init(name: "mine", handle: handle))
        let cases: [(arguments: String, described: String)] = [
            ("--quant_method fp8", "quantized to fp8 (E4M3, one float32 scale per 64×64 tile"),
            ("--quant_method hqq --quant_bits 8", "quantized to hqq 8-bit (group 64, axis 1"),
            ("--quant_method bnb --bnb_4bit_quant_type nf4", "quantized to bitsandbytes nf4 with double quantization"),
        ]
        for c in cases {
            run("use model base\nuse adapter mine\nmerge \(c.arguments)")
            let report = try XCTUnwrap(output.lines.last { $0.hasPrefix("merged adapter") })
            XCTAssertTrue(report.contains("(q4_1 base: dequantized, merged, \(c.described)"), report)
            XCTAssertTrue(report.contains("max |Δlogit| against the unmerged adapter over 3 prompts: "), report)
            let direct = answer()
            let summary = session.model?.handle.summary ?? ""
            run("use model base\nuse adapter mine\nmerge --torch_dtype float32\nquantize \(c.arguments)")
            XCTAssertEqual(session.model?.handle.summary, summary, c.arguments)
            XCTAssertEqual(answer(), direct, c.arguments)
        }
        run("use model base\nuse adapter mine\nmerge --quant_method gptq", ok: false)
        XCTAssertTrue(output.errors.description.contains("gptq calibrates on a dataset, which merge does not take; merge first, then quantize --quant_method gptq"),
                      output.errors.description)
        XCTAssertEqual(session.liveAdapter, "mine", "a refused merge leaves the session as it was")
    }
}
