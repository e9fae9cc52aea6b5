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

    /// A write that runs out of room (RLIMIT_FSIZE below the file's size) fails with a clear
    /// error naming the file, leaves no temporary file behind, and keeps the good file that was
    /// at the target before.
    func testFullDiskKeepsThePreviousFileAndLeavesNoDebris() throws {
        let m = try LoadedModel(location: .gguf(TestPaths.fixture("export/tiny.gguf")))
        let dir = NSTemporaryDirectory() + "tune-gguf-full-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/tiny.gguf"
        try m.writeGGUF(try m.model.quantized(to: .q8_0), to: path, fileType: .q8_0)
        let good = try Data(contentsOf: URL(fileURLWithPath: path))
        let f32 = try m.model.quantized(to: .f32)
        XCTAssertGreaterThan(f32.parameterCount * 4, 2 * good.count, "the f32 file is larger than the limit below")

        var failure: Error?
        try withFileSizeLimit(good.count) {
            do { try m.writeGGUF(f32, to: path, fileType: .f32) } catch { failure = error }
        }
        let error = try XCTUnwrap(failure, "a write past the size limit must fail")
        XCTAssertTrue("\(error)".contains(path), "\(error)")
        XCTAssertTrue("\(error)".contains("File too large"), "\(error)")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["tiny.gguf"])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), good)
        XCTAssertEqual(try LoadedModel(location: .gguf(path)).model.linearWeightTypes, [.q8_0])

        // With the limit lifted the same write succeeds and replaces the file.
        try m.writeGGUF(f32, to: path, fileType: .f32)
        XCTAssertEqual(try LoadedModel(location: .gguf(path)).model.linearWeightTypes, [.f32])
    }
}
