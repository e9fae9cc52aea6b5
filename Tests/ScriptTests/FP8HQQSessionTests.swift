import Engine
import Foundation
import XCTest
@testable import Script

/// `quant_method fp8` / `hqq` through a session over the real default model: `quantize`, the
/// load-time hook, `export --quant_method fp8`, and the methods refused with what to use.
final class FP8HQQSessionTests: XCTestCase {
    private func session() -> (Interpreter, RecordingOutput) {
        let output = RecordingOutput()
        return (Interpreter(backend: EngineSessionBackend(), output: output, interactive: false), output)
    }

    func testQuantizeAndLoadTimeHQQAnswer() throws {
        let path = try AdapterSessionTests.defaultModel()
        let (i, out) = session()
        XCTAssertEqual(i.runScript("load model \(path)\nquantize --quant_method hqq --quant_bits 4\nask --temperature 0 --max_new_tokens 16 'What is the capital of France?'",
                                   file: "x.tune"), 0, "\(out.errors)")
        XCTAssertTrue(out.lines.contains { $0.contains("to hqq 4-bit (group 64, axis 1") && $0.contains("the embedding and head stay q8_0") }, "\(out.lines)")
        XCTAssertTrue(out.lines.contains { $0.hasPrefix("fidelity on ") && $0.contains("perplexity") }, "\(out.lines)")
        XCTAssertTrue(out.streamed.contains("Paris"), out.streamed)

        // At load (as ms-swift passes HqqConfig to from_pretrained for sft/infer).
        let (j, out2) = session()
        XCTAssertEqual(j.runScript("set --quant_method hqq --quant_bits 8\nload model \(path)\nmodels", file: "x.tune"), 0, "\(out2.errors)")
        XCTAssertTrue(out2.lines.contains { $0.contains("hqq8") }, "\(out2.lines)")
        XCTAssertTrue(out2.events.contains { $0.task.hasPrefix("quantized at load to hqq 8-bit") }, "\(out2.events)")
    }

    func testRefusedMethodsSayWhatToUse() throws {
        let path = try AdapterSessionTests.defaultModel()
        for (script, expected) in [
            ("quantize --quant_method hqq --quant_bits 4 --hqq_axis 0", "hqq_axis 0 is not available"),
            ("quantize --quant_method hqq", "quant_method hqq needs quant_bits (4 or 8)"),
            ("quantize --quant_method hqq --quant_bits 2", "use quant_bits 4 or 8"),
            ("export --quant_method hqq --output_dir /nonexistent/x", "use quantize --quant_method hqq"),
        ] {
            let (i, out) = session()
            XCTAssertEqual(i.runScript("load model \(path)\n" + script, file: "x.tune"), 1, script)
            XCTAssertTrue(out.errors.contains { $0.message.contains(expected) }, "\(script): \(out.errors)")
        }
        let (i, out) = session()
        XCTAssertEqual(i.runScript("set quant_method quanto", file: "x.tune"), 1)
        XCTAssertTrue(out.errors.contains { $0.message.contains("tune has no EETQ or optimum-quanto kernels") && $0.message.contains("use hqq") }, "\(out.errors)")
    }

    func testExportFP8WritesTransformersLayout() throws {
        let path = try AdapterSessionTests.defaultModel()
        let tmp = NSTemporaryDirectory() + "fp8-export-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let (i, out) = session()
        XCTAssertEqual(i.runScript("load model \(path)\nexport --quant_method fp8 --output_dir \(tmp)", file: "x.tune"), 0, "\(out.errors)")
        XCTAssertTrue(out.lines.contains { $0.contains("fp8 e4m3 linear weights with 64×64 weight_scale_inv") }, "\(out.lines)")
        XCTAssertTrue(out.lines.contains { $0.hasPrefix("fidelity on ") }, "\(out.lines)")
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: tmp + "/config.json"))) as! [String: Any]
        let q = try XCTUnwrap(config["quantization_config"] as? [String: Any])
        XCTAssertEqual(q["quant_method"] as? String, "fp8")
        XCTAssertEqual(q["weight_block_size"] as? [Int], [64, 64])
        let file = try SafetensorsFile(path: tmp + "/model.safetensors")
        let w = try XCTUnwrap(file.info("model.layers.0.mlp.down_proj.weight"))
        XCTAssertEqual(w.dtype, .f8e4m3)
        XCTAssertEqual(w.shape, [576, 1536])
        let s = try XCTUnwrap(file.info("model.layers.0.mlp.down_proj.weight_scale_inv"))
        XCTAssertEqual(s.dtype, .f32)
        XCTAssertEqual(s.shape, [9, 24])
        XCTAssertEqual(file.info("model.embed_tokens.weight")?.dtype, .f16)
    }
}
