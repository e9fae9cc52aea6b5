import Foundation
import XCTest
@testable import Script

/// `export` through a real session over the engine: the HF directory, the Ollama Modelfile
/// beside a GGUF, and the options this engine refuses.
final class ExportSessionTests: XCTestCase {
    private let tinyGGUF: String = {
        var url = URL(fileURLWithPath: #filePath)
        url.deleteLastPathComponent()
        url.deleteLastPathComponent()
        return url.appendingPathComponent("Fixtures/export/tiny.gguf").path
    }()

    private func session() -> (Interpreter, RecordingOutput) {
        let output = RecordingOutput()
        return (Interpreter(backend: EngineSessionBackend(), output: output, interactive: false), output)
    }

    private func files(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
    }

    func testExportWritesAnHFDirectoryTheEngineLoadsBack() throws {
        let tmp = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let (i, out) = session()
        let dir = tmp + "/tiny-hf"
        XCTAssertEqual(i.runScript("load model \(tinyGGUF)\nexport --output_dir \(dir) --max_shard_size 100KB\nload model \(dir)\ntokenize Hello world",
                                   file: "x.tune"), 0, "\(out.errors)")
        XCTAssertTrue(out.lines.contains { $0.hasPrefix("wrote \(dir) (HF model directory, float16, 2 safetensors files") }, "\(out.lines)")
        XCTAssertTrue(files(dir).contains("model.safetensors.index.json"))
        XCTAssertTrue(files(dir).contains("tokenizer.json"))
    }

    func testExistingDirectoryNeedsExistOK() throws {
        let tmp = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        try Data("mine".utf8).write(to: URL(fileURLWithPath: tmp + "/notes.txt"))
        let (i, out) = session()
        XCTAssertEqual(i.runScript("load model \(tinyGGUF)\nexport --output_dir \(tmp)", file: "x.tune"), 1)
        XCTAssertTrue(out.errors.contains { $0.message.contains("exist_ok") }, "\(out.errors)")
        XCTAssertEqual(files(tmp), ["notes.txt"])
        let (j, out2) = session()
        XCTAssertEqual(j.runScript("load model \(tinyGGUF)\nexport --output_dir \(tmp) --exist_ok true --torch_dtype float32", file: "x.tune"), 0,
                       "\(out2.errors)")
        XCTAssertFalse(files(tmp).contains("notes.txt"))
        XCTAssertTrue(out2.lines.contains { $0.contains("float32, 1 safetensors file") }, "\(out2.lines)")
    }

    func testToOllamaWritesAModelfileBesideTheGGUF() throws {
        let tmp = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let (i, out) = session()
        XCTAssertEqual(i.runScript("load model \(tinyGGUF)\nexport --to_gguf true --quant_method q8_0 --to_ollama true --output_dir \(tmp)/o",
                                   file: "x.tune"), 0, "\(out.errors)")
        XCTAssertEqual(files(tmp + "/o").filter { $0 != "args.json" }, ["Modelfile", "tiny.q8_0.gguf"])
        let modelfile = try String(contentsOfFile: tmp + "/o/Modelfile", encoding: .utf8)
        XCTAssertTrue(modelfile.hasPrefix("FROM ./tiny.q8_0.gguf\n"), modelfile)
        XCTAssertTrue(modelfile.contains("<|start_header_id|>{{ .Role }}<|end_header_id|>"), modelfile)
    }

    func testUnsupportedTemplateForOllamaFailsBeforeWriting() throws {
        let tmp = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let (i, out) = session()
        XCTAssertEqual(i.runScript("set template default\nload model \(tinyGGUF)\nexport --to_gguf true --to_ollama true --output_dir \(tmp)/o",
                                   file: "x.tune"), 1)
        XCTAssertTrue(out.errors.contains { $0.message.contains("Ollama") && $0.message.contains("ChatML") }, "\(out.errors)")
        XCTAssertFalse(files(tmp + "/o").contains { $0.hasSuffix(".gguf") })
    }

    func testForeignExportOptionsAreClearErrors() throws {
        for (option, words) in [("--to_mcore true", "Megatron"), ("--to_hf true", "Megatron"), ("--push_to_hub true", "hub"),
                                ("--to_cached_dataset true", "to_cached_dataset"), ("--to_ollama true", "to_gguf")] {
            let tmp = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: tmp) }
            let (i, out) = session()
            XCTAssertEqual(i.runScript("load model \(tinyGGUF)\nexport \(option) --output_dir \(tmp)/x", file: "x.tune"), 1, option)
            XCTAssertTrue(out.errors.contains { $0.message.contains(words) }, "\(option): \(out.errors)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: tmp + "/x"), option)
        }
    }
}
