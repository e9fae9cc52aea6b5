import XCTest
@testable import Engine

/// Modelfiles for ChatML (SmolLM2) and Llama 3 style (tiny.gguf) templates. The committed
/// Modelfiles' TEMPLATEs were rendered by Go's text/template (Scripts/goldens/ollama_template.go,
/// the engine Ollama uses) into `ollama_render.json`; those renders must equal the model's own
/// chat template on the same conversations.
final class OllamaModelfileTests: XCTestCase {
    private func check(_ model: LoadedModel, gguf: String, fixture: String, key: String) throws {
        let text = try OllamaModelfile.text(for: model, ggufFileName: gguf)
        if let out = ProcessInfo.processInfo.environment["TUNE_WRITE_EXPORT_FIXTURE_DIR"], !out.isEmpty {
            try text.write(toFile: out + "/" + fixture, atomically: true, encoding: .utf8)
        }
        let committed = try String(contentsOfFile: TestPaths.fixture("export/" + fixture), encoding: .utf8)
        XCTAssertEqual(text, committed)
        let renders = (try TestPaths.json("export/ollama_render.json"))[key] as! [[String: Any]]
        XCTAssertFalse(renders.isEmpty)
        for r in renders {
            let messages = (r["messages"] as! [[String: String]]).map { ChatMessage(role: $0["role"]!, content: $0["content"]!) }
            // Ollama's llama.cpp tokenizer adds BOS itself when the GGUF asks for it.
            let bos = model.tokenizer.addBOS ? model.bosToken : ""
            XCTAssertEqual(try model.renderPrompt(messages), bos + (r["rendered"] as! String), "\(messages)")
        }
    }

    func testChatMLModelfileForSmolLM2() throws {
        let m = try SharedModels.smolLM2()
        try check(m, gguf: "smollm2.gguf", fixture: "Modelfile.chatml", key: "chatml")
        let text = try OllamaModelfile.text(for: m, ggufFileName: "smollm2.gguf")
        XCTAssertTrue(text.hasPrefix("FROM ./smollm2.gguf\n"))
        XCTAssertTrue(text.contains("PARAMETER stop \"\"\"<|im_end|>\"\"\""))
        XCTAssertTrue(text.contains("SYSTEM \"\"\"You are a helpful AI assistant named SmolLM, trained by Hugging Face\"\"\""), text)
    }

    func testLlama3ModelfileForTinyModel() throws {
        let m = try LoadedModel(location: .gguf(TestPaths.fixture("export/tiny.gguf")))
        try check(m, gguf: "tiny.gguf", fixture: "Modelfile.llama3", key: "llama3")
        XCTAssertFalse(try OllamaModelfile.text(for: m, ggufFileName: "tiny.gguf").contains("SYSTEM"))
    }

    func testUnsupportedTemplateIsAClearError() throws {
        let m = try LoadedModel(location: .gguf(TestPaths.fixture("export/tiny.gguf")), template: "default")
        XCTAssertThrowsError(try OllamaModelfile.text(for: m, ggufFileName: "tiny.gguf")) { error in
            XCTAssertTrue("\(error)".contains("ChatML"), "\(error)")
        }
    }
}
