import Engine
import Foundation
import XCTest
@testable import Script

/// `quant_method bnb` through a session over the real engine and the default model: `quantize`
/// makes a live bitsandbytes model that answers and reports its fidelity, the load-time hook
/// quantizes a model an sft/infer command loads, `export` writes the bitsandbytes layout, and
/// what bnb cannot do is a clear error.
final class BNBSessionTests: XCTestCase {
    private func session() -> (Interpreter, RecordingOutput, EngineSessionBackend) {
        let output = RecordingOutput()
        let backend = EngineSessionBackend()
        return (Interpreter(backend: backend, output: output, interactive: false), output, backend)
    }

    func testQuantizeAnswersAndExportWritesTheBitsandbytesLayout() throws {
        let model = try AdapterSessionTests.defaultModel()
        let tmp = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let (i, out, _) = session()
        let script = """
        load model \(model)
        quantize --quant_method bnb --bnb_4bit_quant_type fp4 --bnb_4bit_use_double_quant false --bnb_4bit_compute_dtype float16
        models
        ask --max_new_tokens 16 --temperature 0 "What is the capital of France?"
        export --output_dir \(tmp)/fp4
        """
        XCTAssertEqual(i.runScript(script, file: "x.tune"), 0, "\(out.errors)")
        XCTAssertTrue(out.lines.contains { $0.hasPrefix("quantized the linear layers to bitsandbytes fp4, weights rounded to float16, blocks of 64") }, "\(out.lines)")
        XCTAssertTrue(out.lines.contains { $0.hasPrefix("fidelity on 508 held-out tokens (GPL-3 text): perplexity 19.266 -> ") }, "\(out.lines)")
        XCTAssertTrue(out.lines.contains { $0.contains("bnb_fp4") }, "the models table shows the type: \(out.lines)")
        XCTAssertTrue(out.streamed.contains("Paris"), out.streamed)
        let file = try SafetensorsFile(path: tmp + "/fp4/model.safetensors")
        let q = "model.layers.3.mlp.up_proj.weight"
        XCTAssertEqual(file.info(q)?.dtype, .u8)
        XCTAssertEqual(file.info(q + ".absmax")?.dtype, .f32, "no double quantization: f32 absmax")
        XCTAssertNil(file.info(q + ".nested_absmax"))
        XCTAssertTrue(file.contains(q + ".quant_state.bitsandbytes__fp4"))
        let config = try String(contentsOfFile: tmp + "/fp4/config.json", encoding: .utf8)
        XCTAssertTrue(config.contains("\"bnb_4bit_quant_type\": \"fp4\""), config)
        XCTAssertTrue(config.contains("\"bnb_4bit_compute_dtype\": \"float16\""), config)
    }

    func testLoadTimeQuantizationAndErrors() throws {
        let model = try AdapterSessionTests.defaultModel()
        let (i, out, _) = session()
        // ms-swift applies quant_method while loading the model a command names.
        XCTAssertEqual(i.runScript("set quant_method bnb\nload model \(model)\nmodels", file: "x.tune"), 0, "\(out.errors)")
        XCTAssertTrue(out.lines.contains { $0.contains("bnb_nf4") }, "\(out.lines)")

        let (j, out2, _) = session()
        XCTAssertEqual(j.runScript("load model \(model)\nquantize --quant_method bnb --quant_bits 8", file: "x.tune"), 1)
        XCTAssertTrue(out2.errors.contains { $0.message.contains("quant_bits 8 is not available") }, "\(out2.errors)")
        let (k, out3, _) = session()
        XCTAssertEqual(k.runScript("load model \(model)\nexport --quant_method bnb --to_gguf true --output_dir /tmp/never-written-bnb", file: "x.tune"), 1)
        XCTAssertTrue(out3.errors.contains { $0.message.contains("GGUF has no bitsandbytes types") }, "\(out3.errors)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/tmp/never-written-bnb"))
    }

    func testExportQuantizesWithFidelityAndKeepsTheLiveModel() throws {
        let model = try AdapterSessionTests.defaultModel()
        let tmp = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let (i, out, _) = session()
        XCTAssertEqual(i.runScript("load model \(model)\nexport --quant_method bnb --output_dir \(tmp)/nf4\nmodels", file: "x.tune"), 0, "\(out.errors)")
        XCTAssertTrue(out.lines.contains { $0.hasPrefix("quantized the linear layers to bitsandbytes nf4 with double quantization, weights rounded to float32") }, "\(out.lines)")
        XCTAssertTrue(out.lines.contains { $0.hasPrefix("fidelity on 508 held-out tokens") }, "\(out.lines)")
        XCTAssertTrue(out.lines.contains { $0.contains("q4_1 (GGUF") }, "export leaves the live model as it was: \(out.lines)")
        XCTAssertNotNil(try SafetensorsFile(path: tmp + "/nf4/model.safetensors").info("model.layers.0.mlp.down_proj.weight.nested_absmax"))
    }
}
