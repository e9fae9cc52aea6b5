import XCTest
@testable import Engine

/// Tiny seeded models (Scripts/goldens/tiny_models.py): the engine's logits for every position
/// against HF transformers' forward of the same weights, for each family and RoPE scaling kind;
/// and the same weights written as GGUF (llama.cpp's layout: q/k rows permuted, interleaved RoPE)
/// giving the same logits as the safetensors directory.
///
/// Tolerance 1e-4: f32 on both sides, logits of size ~1, a 2-layer model; reordered f32 sums
/// differ by ~1e-6 per operation.
final class TinyModelTests: XCTestCase {
    static let variants = ["llama", "llama-tied", "llama-linear", "llama-dynamic", "llama-yarn", "llama3-rope", "qwen2", "qwen3"]

    func logits(of model: LlamaModel, _ tokens: [Int]) throws -> [Float] {
        try model.forward(tokens, cache: model.makeCache(capacity: tokens.count), allLogits: true)
    }

    func testEveryVariantMatchesTransformers() throws {
        for name in TinyModelTests.variants {
            let dir = try HFModelDirectory(path: TestPaths.fixture("tiny/\(name)"), requireTokenizer: false)
            let model = try LlamaModel(hfDirectory: dir)
            let golden = try TestPaths.json("tiny/\(name)/logits.json")
            let tokens = golden["tokens"] as! [Int]
            let expected = (golden["logits"] as! [[Double]]).flatMap { $0.map(Float.init) }
            let got = try logits(of: model, tokens)
            XCTAssertEqual(got.count, expected.count, name)
            let worst = zip(got, expected).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(worst, 1e-4, "\(name): largest |Δlogit| against transformers")
        }
    }

    /// Prefill in one call and token-by-token decode through the KV cache give the same logits.
    func testIncrementalDecodeMatchesPrefill() throws {
        let dir = try HFModelDirectory(path: TestPaths.fixture("tiny/qwen2"), requireTokenizer: false)
        let model = try LlamaModel(hfDirectory: dir)
        let tokens = Array((try TestPaths.json("tiny/qwen2/logits.json"))["tokens"] as! [Int])
        let full = try logits(of: model, tokens)
        let cache = model.makeCache(capacity: 4)  // grows on demand
        var stepwise: [Float] = try model.forward(Array(tokens[0..<9]), cache: cache, allLogits: true)
        for t in tokens[9...] { stepwise += try model.forward([t], cache: cache) }
        XCTAssertEqual(cache.length, tokens.count)
        XCTAssertLessThan(zip(full, stepwise).map { abs($0 - $1) }.max()!, 1e-5)
    }

    func testGGUFCopyGivesSameLogitsAsSafetensors() throws {
        for name in ["llama", "llama-tied", "qwen2", "qwen3"] {
            let dir = try HFModelDirectory(path: TestPaths.fixture("tiny/\(name)"), requireTokenizer: false)
            let path = NSTemporaryDirectory() + "tiny-\(name)-\(getpid()).gguf"
            defer { try? FileManager.default.removeItem(atPath: path) }
            try writeGGUF(dir, to: path)
            let fromGGUF = try LlamaModel(gguf: GGUFFile(map: MappedFile(path: path)))
            let fromHF = try LlamaModel(hfDirectory: dir)
            XCTAssertEqual(fromGGUF.config.tieWordEmbeddings, name == "llama-tied")
            let tokens = [1, 5, 9, 33, 2, 60, 17, 17, 42, 8]
            let a = try logits(of: fromGGUF, tokens), b = try logits(of: fromHF, tokens)
            XCTAssertLessThan(zip(a, b).map { abs($0 - $1) }.max()!, 1e-5, name)
        }
    }

    /// Writes an HF directory's weights as a GGUF the way llama.cpp's converter does: GGUF
    /// tensor names and metadata, and for architecture `llama` the q/k rows permuted so that RoPE
    /// pairs adjacent features.
    func writeGGUF(_ dir: HFModelDirectory, to path: String) throws {
        let c = dir.config
        let arch = c.architecture == .mistral ? "llama" : c.architecture.rawValue
        var w = GGUFWriter()
        w.set("general.architecture", .string(arch))
        w.set("\(arch).context_length", .uint32(UInt32(c.maxPositions)))
        w.set("\(arch).embedding_length", .uint32(UInt32(c.hiddenSize)))
        w.set("\(arch).feed_forward_length", .uint32(UInt32(c.intermediateSize)))
        w.set("\(arch).block_count", .uint32(UInt32(c.layerCount)))
        w.set("\(arch).attention.head_count", .uint32(UInt32(c.headCount)))
        w.set("\(arch).attention.head_count_kv", .uint32(UInt32(c.kvHeadCount)))
        w.set("\(arch).attention.key_length", .uint32(UInt32(c.headDim)))
        w.set("\(arch).attention.layer_norm_rms_epsilon", .float32(Float(c.rmsNormEps)))
        w.set("\(arch).rope.freq_base", .float32(Float(c.ropeTheta)))
        w.set("\(arch).vocab_size", .uint32(UInt32(c.vocabSize)))
        for name in dir.tensors.tensorNames.sorted() {
            if name == "lm_head.weight" && c.tieWordEmbeddings { continue }
            let t = try dir.tensor(name)
            guard let ggufName = GGUFTensorNames.ggufName(name) else { XCTFail("no GGUF name for \(name)"); continue }
            var bytes = [UInt8](t.bytes)
            if arch == "llama", name.hasSuffix("q_proj.weight") || name.hasSuffix("k_proj.weight") {
                let heads = name.hasSuffix("q_proj.weight") ? c.headCount : c.kvHeadCount
                // GGUF row g holds HF row hfRowOf[g]: invert the reader's HF-order gather.
                let order = GGUFFile.llamaPermutedRowsForHF(rows: t.shape[0], headCount: heads)
                let rowBytes = t.bytesPerRow
                var permuted = bytes
                for (hfRow, fileRow) in order.enumerated() {
                    permuted[(fileRow * rowBytes)..<((fileRow + 1) * rowBytes)] = bytes[(hfRow * rowBytes)..<((hfRow + 1) * rowBytes)]
                }
                bytes = permuted
            }
            try w.addTensor(name: ggufName, type: t.type, shape: t.shape, bytes: bytes)
        }
        try w.write(to: path)
    }
}

/// `rope_scaling` with `max_model_len` builds the same scaling HF reads from config.json.
final class RopeScalingArgumentTests: XCTestCase {
    func testKindAndMaxModelLenGiveTheFactor() throws {
        let base = try HFModelDirectory(path: TestPaths.fixture("tiny/llama"), requireTokenizer: false).config
        let linear = try base.applyingRopeScaling("linear", maxModelLength: 256)
        XCTAssertEqual(linear.ropeScaling, RopeScaling(kind: .linear, factor: 2, originalMaxPositions: 128))
        XCTAssertEqual(linear.maxPositions, 256)
        // The argument form gives the same logits as the checked-in config with factor 2.
        let dir = try HFModelDirectory(path: TestPaths.fixture("tiny/llama-linear"), requireTokenizer: false)
        let viaArgument = try LlamaModel(config: try dir.config.applyingRopeScaling("{\"type\": \"linear\", \"factor\": 2.0}", maxModelLength: nil),
                                         ropeStyle: .halves) { try? dir.tensor($0) }
        let golden = try TestPaths.json("tiny/llama-linear/logits.json")
        let tokens = golden["tokens"] as! [Int]
        let got = try viaArgument.forward(tokens, cache: viaArgument.makeCache(capacity: tokens.count), allLogits: true)
        let expected = (golden["logits"] as! [[Double]]).flatMap { $0.map(Float.init) }
        XCTAssertLessThan(zip(got, expected).map { abs($0 - $1) }.max()!, 1e-4)
        XCTAssertThrowsError(try base.applyingRopeScaling("yarn", maxModelLength: nil))
        XCTAssertThrowsError(try base.applyingRopeScaling("cubic", maxModelLength: 512))
    }
}
