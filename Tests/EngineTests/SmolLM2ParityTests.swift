import XCTest
@testable import Engine

/// The engine's forward pass on the real default model against two references:
/// - HF transformers loading the same GGUF (weights dequantized to f32, f32 activations, as the
///   engine computes): logits must agree to 5e-3 (f32 sums in another order over 30 layers);
/// - llama.cpp (llama-cpp-python), which rounds activations to 8 bits (Q8_1) for its integer
///   dot products, so its logits sit up to about 1.3 away from exact f32 ones: the greedy
///   64-token continuation must be identical, and the top token agree at the last position.
/// Fixtures: Scripts/goldens/smollm2_llamacpp.py and smollm2_transformers.py.
final class SmolLM2ParityTests: XCTestCase {
    static var model: LlamaModel?
    func loadModel() throws -> LlamaModel {
        if let m = SmolLM2ParityTests.model { return m }
        let m = try LlamaModel(gguf: GGUFFile(map: MappedFile(path: TestPaths.defaultModel())))
        SmolLM2ParityTests.model = m
        return m
    }

    /// Largest |Δ| between the engine's logits and a golden's, over the last position's whole
    /// vocabulary and every position's sampled ids; and whether every position's top id agrees.
    func compare(_ logits: [Float], vocab: Int, golden: [String: Any]) -> (last: Float, all: Float, topMismatches: [Int]) {
        let n = (golden["ids"] as! [Int]).count
        let last = golden["last_logits"] as! [Double]
        var worstLast: Float = 0
        for v in 0..<vocab { worstLast = max(worstLast, abs(logits[(n - 1) * vocab + v] - Float(last[v]))) }
        let sampleIds = golden["sample_ids"] as! [Int]
        var worstAll: Float = 0
        var mismatches: [Int] = []
        for (p, position) in (golden["positions"] as! [[String: Any]]).enumerated() {
            let row = Array(logits[(p * vocab)..<((p + 1) * vocab)])
            if argmax(row) != (position["top"] as! [Int])[0] { mismatches.append(p) }
            let sampled = position["sample_logits"] as! [Double]
            for (i, id) in sampleIds.enumerated() { worstAll = max(worstAll, abs(row[id] - Float(sampled[i]))) }
        }
        return (worstLast, worstAll, mismatches)
    }

    func testPromptLogitsMatchReferences() throws {
        let hf = try TestPaths.json("smollm2/transformers-prompt.json")
        let llamacpp = try TestPaths.json("smollm2/llamacpp-prompt.json")
        let ids = hf["ids"] as! [Int]
        XCTAssertEqual(ids, llamacpp["ids"] as! [Int])
        let model = try loadModel()
        XCTAssertEqual(model.config.layerCount, 30)
        XCTAssertEqual(model.config.hiddenSize, 576)
        XCTAssertEqual(model.config.headCount, 9)
        XCTAssertEqual(model.config.kvHeadCount, 3)
        XCTAssertTrue(model.config.tieWordEmbeddings)
        let logits = try model.forward(ids, cache: model.makeCache(capacity: ids.count), allLogits: true)
        let vocab = model.config.vocabSize

        let a = compare(logits, vocab: vocab, golden: hf)
        XCTAssertLessThan(a.last, 5e-3, "vs transformers, last position")
        XCTAssertLessThan(a.all, 5e-3, "vs transformers, all positions")
        XCTAssertEqual(a.topMismatches, [], "vs transformers, positions whose top token differs")

        let b = compare(logits, vocab: vocab, golden: llamacpp)
        XCTAssertLessThan(b.all, 1.5, "vs llama.cpp (8-bit activations), all positions")
        XCTAssertFalse(b.topMismatches.contains(ids.count - 1), "vs llama.cpp, top token at the last position")
        print("SmolLM2 parity: max |Δlogit| vs transformers \(a.last) (last) \(a.all) (all); vs llama.cpp \(b.last) (last) \(b.all) (all), top-token mismatches \(b.topMismatches)")
    }

    func testGreedyContinuationMatchesLlamaCpp() throws {
        let golden = try TestPaths.json("smollm2/llamacpp-prompt.json")
        let ids = golden["ids"] as! [Int]
        let expected = golden["greedy"] as! [Int]
        let model = try loadModel()
        let cache = model.makeCache(capacity: ids.count + expected.count)
        var logits = try model.forward(ids, cache: cache)
        var got: [Int] = []
        while got.count < expected.count {
            let next = argmax(logits)
            got.append(next)
            logits = try model.forward([next], cache: cache)
        }
        XCTAssertEqual(got, expected)
    }
}
