import Foundation
import XCTest
@testable import Engine

/// The real SmolLM2-135M-Instruct Q4_1 GGUF (llama architecture, Q4_1 with a Q8_0 embedding).
final class GGUFRealModelTests: XCTestCase {
    func testOpensSmolLM2AndReadsItsConfig() throws {
        let f = try GGUFFile(path: GGUFFixtures.modelPath())
        XCTAssertEqual(f.version, 3)
        XCTAssertEqual(f.tensorInfos.count, 272)
        let c = try ModelConfig(gguf: f)
        XCTAssertEqual(c.architecture, .llama)
        XCTAssertEqual(c.layerCount, 30)
        XCTAssertEqual(c.hiddenSize, 576)
        XCTAssertEqual(c.intermediateSize, 1536)
        XCTAssertEqual(c.headCount, 9)
        XCTAssertEqual(c.kvHeadCount, 3)
        XCTAssertEqual(c.headDim, 64)
        XCTAssertEqual(c.vocabSize, 49152)
        XCTAssertEqual(c.maxPositions, 8192)
        XCTAssertEqual(c.ropeTheta, 100000)
        XCTAssertTrue(c.tieWordEmbeddings)
        XCTAssertEqual(c.bosTokenId, 1)
        XCTAssertEqual(c.eosTokenIds, [2])
        XCTAssertEqual(c.padTokenId, 2)
        XCTAssertEqual(f.ropeStyle, .interleaved)

        XCTAssertEqual(f.tensor("token_embd.weight")?.type, .q8_0)
        XCTAssertEqual(f.tensor("token_embd.weight")?.shape, [49152, 576])
        XCTAssertEqual(f.tensor("blk.0.attn_k.weight")?.shape, [192, 576])
        XCTAssertEqual(f.tensor("blk.0.attn_q.weight")?.type, .q4_1)
        for name in f.tensorNames {
            XCTAssertNotNil(GGUFTensorNames.hfName(name), "no HF name for \(name)")
        }

        let tok = try GGUFTokenizerData(gguf: f)
        XCTAssertEqual(tok.model, "gpt2")
        XCTAssertEqual(tok.pre, "smollm")
        XCTAssertEqual(tok.tokens.count, 49152)
        XCTAssertEqual(tok.tokenTypes?.count, 49152)
        XCTAssertEqual(tok.merges.count, 48900)
        XCTAssertEqual(tok.tokens[1], "<|im_start|>")
        XCTAssertEqual(tok.addBOS, false)
        XCTAssertEqual(tok.unkId, 0)
        XCTAssertTrue(tok.chatTemplate?.contains("<|im_start|>") ?? false)
    }

    /// Rows dequantized by gguf-py (Scripts/goldens/gguf_quants.py); bit-exact like the block tests.
    func testDequantizedRowsMatchGGUFPy() throws {
        let f = try GGUFFile(path: GGUFFixtures.modelPath())
        let emb = try XCTUnwrap(f.tensor("token_embd.weight"))
        let expected = try GGUFFixtures.floats("smollm2_token_embd_rows_0_1000.f32")
        var row = [Float](repeating: 0, count: 576)
        row.withUnsafeMutableBufferPointer { emb.dequantizeRow(0, into: $0.baseAddress!) }
        XCTAssertEqual(row, Array(expected[0 ..< 576]))
        row.withUnsafeMutableBufferPointer { emb.dequantizeRow(1000, into: $0.baseAddress!) }
        XCTAssertEqual(row, Array(expected[576...]))

        let q = try XCTUnwrap(f.tensor("blk.0.attn_q.weight"))
        row.withUnsafeMutableBufferPointer { q.dequantizeRow(5, into: $0.baseAddress!) }
        XCTAssertEqual(row, try GGUFFixtures.floats("smollm2_blk0_attn_q_row_5.f32"))
    }

    /// HF-layout q/k of the quantized model: whole Q4_1 rows moved back to rotate-half order.
    func testHFLayoutQKRowsOfTheRealModel() throws {
        let f = try GGUFFile(path: GGUFFixtures.modelPath())
        for (name, heads) in [("blk.0.attn_q.weight", 9), ("blk.0.attn_k.weight", 3)] {
            let file = try XCTUnwrap(f.tensor(name))
            let hf = try XCTUnwrap(f.hfTensor(ggufName: name))
            XCTAssertEqual(hf.shape, file.shape)
            let order = GGUFFile.llamaPermutedRowsForHF(rows: file.rowCount, headCount: heads)
            var a = [Float](repeating: 0, count: 576), b = a
            for r in [0, 1, 31, 32, 33, 63, 64, file.rowCount - 1] {
                a.withUnsafeMutableBufferPointer { hf.dequantizeRow(r, into: $0.baseAddress!) }
                b.withUnsafeMutableBufferPointer { file.dequantizeRow(order[r], into: $0.baseAddress!) }
                XCTAssertEqual(a, b, "\(name) HF row \(r)")
            }
        }
        let down = try XCTUnwrap(f.hfTensor(ggufName: "blk.0.ffn_down.weight"))
        XCTAssertEqual(down.name, "model.layers.0.mlp.down_proj.weight")
        XCTAssertEqual(down.bytes.baseAddress, f.tensor("blk.0.ffn_down.weight")?.bytes.baseAddress, "not a view into the map")
    }

    /// Copying every metadata entry and tensor of the llama.cpp-written file through GGUFWriter
    /// must reproduce it byte for byte (same header encoding, alignment and padding).
    func testRewritingTheModelReproducesItsBytes() throws {
        let f = try GGUFFile(path: GGUFFixtures.modelPath())
        var w = GGUFWriter()
        w.alignment = f.alignment
        for key in f.metadataKeys { w.set(key, f.metadata[key]!) }
        for name in f.tensorNames { try w.addTensor(XCTUnwrap(f.tensor(name))) }
        let scratch = GGUFScratch()
        let out = scratch.path + "/rewrite.gguf"
        try w.write(to: out)
        let copy = try MappedFile(path: out)
        XCTAssertEqual(copy.bytes.count, f.map.bytes.count)
        let same = copy.bytes.count == f.map.bytes.count
            && memcmp(copy.bytes.baseAddress!, f.map.bytes.baseAddress!, copy.bytes.count) == 0
        XCTAssertTrue(same, "rewritten file differs from the original")
    }
}
