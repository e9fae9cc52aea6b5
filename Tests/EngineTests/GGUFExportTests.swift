import XCTest
@testable import Engine

/// A quantized copy of the real model written as GGUF reads back as the same model: same
/// logits bit for bit, same tokenizer and chat template.
final class GGUFExportTests: XCTestCase {
    func testQuantizedExportRoundTrips() throws {
        let m = try SharedModels.smolLM2()
        let q = try m.model.quantized(to: .q5_0)
        let path = NSTemporaryDirectory() + "tune-export-\(getpid()).gguf"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try m.writeGGUF(q, to: path, fileType: .q5_0)
        let back = try LoadedModel(location: .gguf(path))
        XCTAssertEqual(back.model.config, q.config)
        XCTAssertEqual(back.model.linearWeightTypes, [.q5_0])
        let text = try m.renderPrompt([ChatMessage(role: "user", content: "Hello there")])
        let ids = m.promptIds(text)
        XCTAssertEqual(back.promptIds(try back.renderPrompt([ChatMessage(role: "user", content: "Hello there")])), ids)
        let a = try q.forward(ids, cache: q.makeCache(capacity: ids.count))
        let b = try back.model.forward(ids, cache: back.model.makeCache(capacity: ids.count))
        XCTAssertEqual(a, b)
        let file = try GGUFFile(path: path)
        XCTAssertEqual(file.metadata["general.file_type"]?.int, 8)
        XCTAssertEqual(file.metadata["tokenizer.ggml.pre"]?.string, "smollm")
    }
}
