import XCTest
@testable import Engine

/// Perplexity against transformers, and what round-to-nearest quantization of the real model
/// costs in perplexity and KL divergence.
final class QuantizationFidelityTests: XCTestCase {
    func evaluationIds() throws -> [Int] { try TestPaths.json("eval/smollm2-perplexity.json")["ids"] as! [Int] }

    func testPerplexityMatchesTransformers() throws {
        let golden = try TestPaths.json("eval/smollm2-perplexity.json")
        let m = try SharedModels.smolLM2()
        let report = try Fidelity.evaluate(m.model, ids: try evaluationIds(), context: 256, maxChunks: 8)
        XCTAssertEqual(report.scoredTokens, golden["scored_tokens"] as! Int)
        // Same f32 computation as transformers: 1e-4 relative is four orders above f32 noise.
        XCTAssertEqual(report.perplexity, golden["perplexity_transformers"] as! Double, accuracy: 22 * 1e-4)
    }

    func testQuantizedCopiesAnswerAndDriftByTheirBits() throws {
        let base = try SharedModels.smolLM2().model
        let ids = Array(try evaluationIds().prefix(512))
        var kl: [GGMLType: Double] = [:]
        for type in [GGMLType.q8_0, .q5_0, .q4_0, .q4_K, .f16] {
            let q = try base.quantized(to: type)
            let r = try Fidelity.evaluate(q, reference: base, ids: ids, context: 256, maxChunks: 2)
            kl[type] = r.meanKL!
            XCTAssertLessThan(r.perplexity, r.referencePerplexity! * 1.15, "\(type)")
            // Sanity: the embedding stays 8-bit; a K-quant target falls back where rows are 576 long.
            if type == .q4_K {
                XCTAssertEqual(q.layers[0].q.weight.type, .q5_0)
                XCTAssertEqual(q.layers[0].down.weight.type, .q4_K)
            }
        }
        // The source weights are Q4_1: f16 and Q8_0 copies keep them almost exactly.
        XCTAssertLessThan(kl[.f16]!, 1e-5)
        XCTAssertLessThan(kl[.q8_0]!, 5e-3)
        XCTAssertLessThan(kl[.q8_0]!, kl[.q5_0]!)
        XCTAssertLessThan(kl[.q5_0]!, kl[.q4_0]!)
    }
}
