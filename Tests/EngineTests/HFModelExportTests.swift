import XCTest
@testable import Engine

/// `HFModelExport` writes directories transformers loads with the same logits and token ids
/// (Tests/Fixtures/export, checked by Scripts/goldens/hf_export.py), and that this engine's HF
/// reader loads back as the same model.
final class HFModelExportTests: XCTestCase {
    private func tempDir(_ tag: String) -> String {
        NSTemporaryDirectory() + "tune-hfexport-\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    private func logits(_ m: LlamaModel, _ ids: [Int]) throws -> [Float] {
        try m.forward(ids, cache: m.makeCache(capacity: ids.count), allLogits: true)
    }

    private func exportTiny() throws -> (LoadedModel, String) {
        let source = try LoadedModel(location: .gguf(TestPaths.fixture("export/tiny.gguf")))
        let dir = tempDir("tiny")
        try HFModelExport.write(source, to: dir, options: .init(dtype: .float32))
        if let out = ProcessInfo.processInfo.environment["TUNE_WRITE_EXPORT_FIXTURE"], !out.isEmpty {
            try? FileManager.default.removeItem(atPath: out)
            try FileManager.default.copyItem(atPath: dir, toPath: out)
        }
        return (source, dir)
    }

    func testTinyExportIsTheCommittedDirectory() throws {
        let (_, dir) = try exportTiny()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let committed = TestPaths.fixture("export/tiny-hf")
        let fm = FileManager.default
        let names = try fm.contentsOfDirectory(atPath: dir).sorted()
        XCTAssertEqual(names, ["config.json", "generation_config.json", "model.safetensors",
                               "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"])
        XCTAssertEqual(names, try fm.contentsOfDirectory(atPath: committed).sorted())
        for n in names {
            let a = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + n))
            let b = try Data(contentsOf: URL(fileURLWithPath: committed + "/" + n))
            XCTAssertEqual(a, b, "\(n) differs from the committed export")
        }
    }

    func testTinyExportMatchesTransformers() throws {
        let (source, dir) = try exportTiny()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let expected = try TestPaths.json("export/expected.json")
        let ids = expected["ids"] as! [Int]
        let want = (expected["logits"] as! [[Double]]).flatMap { $0.map(Float.init) }
        let back = try LoadedModel(location: .hfDirectory(dir))
        XCTAssertEqual(back.model.config.architecture, .llama)
        XCTAssertEqual(back.model.config.bosTokenId, source.model.config.bosTokenId)
        for (label, m) in [("GGUF", source.model), ("exported HF directory", back.model)] {
            let got = try logits(m, ids)
            XCTAssertEqual(got.count, want.count)
            let err = zip(got, want).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThan(err, 1e-4, "\(label) logits vs transformers on the export")
        }
        for c in expected["tokenizer"] as! [[String: Any]] {
            let text = c["text"] as! String, ids = c["ids"] as! [Int]
            XCTAssertEqual(back.tokenizer.encode(text), ids, "HF reload tokenizes \(text.debugDescription) as transformers does")
            XCTAssertEqual(source.tokenizer.encode(text), ids, "GGUF tokenizes \(text.debugDescription) as transformers does")
        }
        let prompt = try back.renderPrompt([ChatMessage(role: "user", content: "Hi there")])
        XCTAssertEqual(prompt, expected["chat_prompt"] as? String)
    }

    func testExistingNonEmptyTargetIsLeftAloneWithoutExistOK() throws {
        let source = try LoadedModel(location: .gguf(TestPaths.fixture("export/tiny.gguf")))
        let dir = tempDir("exists")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data("keep".utf8).write(to: URL(fileURLWithPath: dir + "/notes.txt"))
        XCTAssertThrowsError(try HFModelExport.write(source, to: dir)) { error in
            XCTAssertTrue("\(error)".contains("exist_ok"), "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["notes.txt"])
        let parent = (dir as NSString).deletingLastPathComponent
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: parent).contains { $0.hasPrefix((dir as NSString).lastPathComponent + ".tmp-") })

        try HFModelExport.write(source, to: dir, options: .init(existOK: true))
        let names = try FileManager.default.contentsOfDirectory(atPath: dir)
        XCTAssertFalse(names.contains("notes.txt"))
        XCTAssertTrue(names.contains("model.safetensors"))
        XCTAssertThrowsError(try HFModelExport.write(source, to: dir, options: .init(safeSerialization: false, existOK: true))) { error in
            XCTAssertTrue("\(error)".contains("safetensors"), "\(error)")
        }
    }

    func testHalfPrecisionExportHoldsTheWeightsInThatDType() throws {
        let source = try LoadedModel(location: .gguf(TestPaths.fixture("export/tiny.gguf")))
        let dir = tempDir("f16")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try HFModelExport.write(source, to: dir, options: .init(dtype: .float16))
        let file = try SafetensorsFile(path: dir + "/model.safetensors")
        XCTAssertEqual(file.info("model.layers.0.self_attn.q_proj.weight")?.dtype, .f16)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/config.json"))) as! [String: Any]
        XCTAssertEqual(config["dtype"] as? String, "float16")
        let back = try LoadedModel(location: .hfDirectory(dir))
        let ids = [0, 17, 250, 3, 999]
        let a = try logits(source.model, ids), b = try logits(back.model, ids)
        XCTAssertLessThan(zip(a, b).map { abs($0 - $1) }.max()!, 0.05)
    }

    /// The real SmolLM2 (Q4_1) exported as f32 in several shards reloads with the GGUF's logits.
    func testSmolLM2ExportReloadsWithSameLogitsAcrossShards() throws {
        let source = try SharedModels.smolLM2()
        let dir = tempDir("smollm2")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let names = try HFModelExport.write(source, to: dir, options: .init(dtype: .float32, maxShardSize: try SafetensorsWriter.parseShardSize("150MB")))
        let shards = names.filter { $0.hasSuffix(".safetensors") }
        XCTAssertGreaterThanOrEqual(shards.count, 3, "\(names)")
        XCTAssertTrue(names.contains("model.safetensors.index.json"))
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/model.safetensors.index.json"))) as! [String: Any]
        let map = index["weight_map"] as! [String: String]
        XCTAssertEqual(Set(map.values), Set(shards))
        XCTAssertEqual(map.count, source.model.namedWeights.count)
        for s in shards {
            let size = (try FileManager.default.attributesOfItem(atPath: dir + "/" + s)[.size] as! NSNumber).intValue
            XCTAssertLessThan(size, 150_000_000 + 120_000_000, "\(s) is \(size) bytes")  // one tensor may exceed the limit alone
        }

        let back = try LoadedModel(location: .hfDirectory(dir))
        XCTAssertEqual(back.model.config.hiddenSize, source.model.config.hiddenSize)
        XCTAssertEqual(back.model.config.tieWordEmbeddings, source.model.config.tieWordEmbeddings)
        let text = try source.renderPrompt([ChatMessage(role: "user", content: "What is the capital of France?")])
        let ids = source.promptIds(text)
        XCTAssertEqual(back.promptIds(try back.renderPrompt([ChatMessage(role: "user", content: "What is the capital of France?")])), ids)
        let a = try source.model.forward(ids, cache: source.model.makeCache(capacity: ids.count))
        let b = try back.model.forward(ids, cache: back.model.makeCache(capacity: ids.count))
        let err = zip(a, b).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(err, 1e-4)
        for s in ["Hello world, 12345 times!", "<|im_start|>user\nnaïve café<|im_end|>"] {
            XCTAssertEqual(back.tokenizer.encode(s), source.tokenizer.encode(s), s)
        }
    }

    /// An export that runs out of room mid-write (RLIMIT_FSIZE below the weights' size) fails
    /// with a clear error, leaves no temporary directory beside the target, and keeps the
    /// previous export at the target whole.
    func testFullDiskKeepsThePreviousDirectoryAndLeavesNoDebris() throws {
        let (source, dir) = try exportTiny()
        let parent = (dir as NSString).deletingLastPathComponent
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fm = FileManager.default
        let name = (dir as NSString).lastPathComponent
        func siblings() throws -> [String] { try fm.contentsOfDirectory(atPath: parent).filter { $0.hasPrefix(name) }.sorted() }
        let before = try fm.contentsOfDirectory(atPath: dir).sorted()
        let weights = try Data(contentsOf: URL(fileURLWithPath: dir + "/model.safetensors"))

        var failure: Error?
        try withFileSizeLimit(weights.count / 2) {
            do { try HFModelExport.write(source, to: dir, options: .init(dtype: .float32, existOK: true)) } catch { failure = error }
        }
        let error = try XCTUnwrap(failure, "a write past the size limit must fail")
        XCTAssertTrue("\(error)".contains("File too large"), "\(error)")
        XCTAssertTrue("\(error)".contains("model.safetensors"), "\(error)")
        XCTAssertEqual(try siblings(), [name], "no temporary or moved-aside directory is left")
        XCTAssertEqual(try fm.contentsOfDirectory(atPath: dir).sorted(), before)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/model.safetensors")), weights)
        let back = try LoadedModel(location: .hfDirectory(dir))
        let ids = [1, 2, 3, 4]
        let a = try logits(back.model, ids), b = try logits(source.model, ids)
        XCTAssertEqual(a.count, b.count)
        XCTAssertLessThan(zip(a, b).map { abs($0 - $1) }.max() ?? .infinity, 1e-4, "the kept export still answers as the source")

        // A new target that cannot be written is not created at all.
        let fresh = dir + "-fresh"
        failure = nil
        try withFileSizeLimit(weights.count / 2) {
            do { try HFModelExport.write(source, to: fresh, options: .init(dtype: .float32)) } catch { failure = error }
        }
        XCTAssertNotNil(failure)
        XCTAssertEqual(try siblings(), [name])
    }
}
