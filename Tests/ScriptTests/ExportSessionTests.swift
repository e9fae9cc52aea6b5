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

    /// A float quant_method to an HF directory names the weights' dtype; a GGUF block type is
    /// an error (an HF directory cannot hold it), as is a torch_dtype that says otherwise.
    func testGGUFQuantMethodToAnHFDirectory() throws {
        let tmp = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let (i, out) = session()
        XCTAssertEqual(i.runScript("load model \(tinyGGUF)\nexport --quant_method f32 --output_dir \(tmp)/f32", file: "x.tune"), 0, "\(out.errors)")
        XCTAssertTrue(out.lines.contains { $0.hasPrefix("wrote \(tmp)/f32 (HF model directory, float32, ") }, "\(out.lines)")
        for (line, words) in [("--quant_method q4_k", "quant_method q4_k is a GGUF block type, which an HF directory does not hold: add --to_gguf true"),
                              ("--quant_method bf16 --torch_dtype float16", "quant_method bf16 and torch_dtype float16 ask for different weight types")] {
            let (j, out2) = session()
            XCTAssertEqual(j.runScript("load model \(tinyGGUF)\nexport \(line) --output_dir \(tmp)/x", file: "x.tune"), 1, line)
            XCTAssertTrue(out2.errors.contains { $0.message.contains(words) }, "\(line): \(out2.errors)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: tmp + "/x"), line)
        }
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

    /// A GGUF file at the target is replaced only with --exist_ok true; without it the export
    /// fails before anything is written and the file keeps its bytes.
    func testExistingGGUFNeedsExistOK() throws {
        let tmp = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let target = tmp + "/tiny.gguf"
        let (i, out) = session()
        XCTAssertEqual(i.runScript("load model \(tinyGGUF)\nexport --quant_method q8_0 --output_dir \(target)", file: "x.tune"), 0, "\(out.errors)")
        let good = try Data(contentsOf: URL(fileURLWithPath: target))
        XCTAssertEqual(i.runScript("export --quant_method f32 --output_dir \(target)", file: "x.tune"), 1)
        XCTAssertTrue(out.errors.contains { $0.message.contains("\(target) exists; pass --exist_ok true") }, "\(out.errors)")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: target)), good)
        XCTAssertEqual(files(tmp), ["tiny.gguf"])
        XCTAssertEqual(i.runScript("export --quant_method f32 --exist_ok true --output_dir \(target)", file: "x.tune"), 0, "\(out.errors)")
        XCTAssertTrue(out.lines.contains { $0.hasPrefix("wrote \(target) (f32, ") }, "\(out.lines)")
        XCTAssertGreaterThan(try Data(contentsOf: URL(fileURLWithPath: target)).count, 2 * good.count)
    }

    /// A disk that fills during the write (RLIMIT_FSIZE): the export is a clear error, the good
    /// file or directory at the target stays as it was, and no temporary file, half-written
    /// directory or folder made for the export is left.
    func testFullDiskLeavesTheTargetsAsTheyWere() throws {
        let tmp = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let (i, out) = session()
        XCTAssertEqual(i.runScript("load model \(tinyGGUF)\nexport --quant_method q8_0 --output_dir \(tmp)/good.gguf\nexport --torch_dtype float16 --output_dir \(tmp)/hf",
                                   file: "x.tune"), 0, "\(out.errors)")
        let good = try Data(contentsOf: URL(fileURLWithPath: tmp + "/good.gguf"))
        let hfFiles = files(tmp + "/hf")
        let hfWeights = try Data(contentsOf: URL(fileURLWithPath: tmp + "/hf/model.safetensors"))
        let statements = [
            ("export --quant_method f32 --exist_ok true --output_dir \(tmp)/good.gguf", "good.gguf"),
            ("export --to_gguf true --quant_method f32 --output_dir \(tmp)/new/deeper", "a new GGUF folder"),
            ("export --torch_dtype float32 --exist_ok true --output_dir \(tmp)/hf", "hf"),
            ("export --torch_dtype float32 --output_dir \(tmp)/new/hf", "a new HF directory"),
        ]
        for (statement, what) in statements {
            let before = out.errors.count
            let status = try withFileSizeLimit(good.count + 4096) { i.runScript(statement, file: "x.tune") }
            XCTAssertEqual(status, 1, statement)
            let message = out.errors.dropFirst(before).map(\.message).joined(separator: "\n")
            XCTAssertTrue(message.contains("File too large"), "\(what): \(message)")
            XCTAssertEqual(files(tmp), ["good.gguf", "hf"], "\(what): nothing left beside the targets")
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: tmp + "/good.gguf")), good)
        XCTAssertEqual(files(tmp + "/hf"), hfFiles)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: tmp + "/hf/model.safetensors")), hfWeights)
        XCTAssertEqual(i.runScript("load model \(tmp)/good.gguf\nload model \(tmp)/hf", file: "x.tune"), 0, "\(out.errors)")
    }

    /// Nothing to merge, and an adapter made for another base: clear errors, no model changes.
    func testMergeWithoutAnAdapterOrWithAForeignOneIsAClearError() throws {
        let model = try AdapterSessionTests.defaultModel()
        let tmp = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let (i, out) = session()
        XCTAssertEqual(i.runScript("load model \(tinyGGUF)", file: "x.tune"), 0, "\(out.errors)")
        for (statement, words) in [("merge", "merge needs a live adapter"),
                                   ("export --merge_lora true --output_dir \(tmp)/m", "needs a live adapter"),
                                   ("merge-lora --output_dir \(tmp)/m", "merge-lora needs an adapter")] {
            let before = out.errors.count
            XCTAssertEqual(i.runScript(statement, file: "x.tune"), 1, statement)
            XCTAssertTrue(out.errors.dropFirst(before).contains { $0.message.contains(words) }, "\(statement): \(out.errors)")
        }
        XCTAssertEqual(i.session.models.count, 1)

        // A PEFT adapter saved for the tiny fixture llama does not fit SmolLM2's shapes.
        let foreign = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/peft/llama-lora").path
        let before = out.errors.count
        XCTAssertEqual(i.runScript("load model \(model) as smol\nload adapter \(foreign)", file: "x.tune"), 1)
        let message = out.errors.dropFirst(before).map(\.message).joined(separator: "\n")
        XCTAssertTrue(message.contains("shape"), message)
        XCTAssertNil(i.session.adapter)

        // An in-memory adapter for SmolLM2 put on the tiny model: merge says it does not fit.
        let backend = i.backend as! EngineSessionBackend
        let smol = try backend.loaded(try XCTUnwrap(i.session.model?.handle))
        XCTAssertEqual(i.runScript("use model \(i.session.models[0].name)", file: "x.tune"), 0, "\(out.errors)")
        let tiny = try XCTUnwrap(i.session.model?.handle)
        let handle = backend.registerAdapter(AdapterSessionTests.randomAdapter(smol.model.config), modelId: tiny.id, path: "memory/smol")
        i.session.adapters.append(.init(name: "smol-adapter", handle: handle))
        i.session.liveAdapter = "smol-adapter"
        let before2 = out.errors.count
        XCTAssertEqual(i.runScript("merge", file: "x.tune"), 1)
        let message2 = out.errors.dropFirst(before2).map(\.message).joined(separator: "\n")
        XCTAssertTrue(message2.contains("does not fit"), message2)
        XCTAssertEqual(i.session.models.count, 2)
    }
}
