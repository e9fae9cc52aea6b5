import Foundation
import XCTest
@testable import Engine

final class GGUFFileTests: XCTestCase {
    private let allValues: [(String, GGUFValue)] = [
        ("t.u8", .uint8(200)), ("t.i8", .int8(-100)), ("t.u16", .uint16(60000)), ("t.i16", .int16(-30000)),
        ("t.u32", .uint32(4_000_000_000)), ("t.i32", .int32(-2_000_000_000)),
        ("t.u64", .uint64(18_000_000_000_000_000_000)), ("t.i64", .int64(-9_000_000_000_000_000_000)),
        ("t.f32", .float32(1.5)), ("t.f64", .float64(-2.25e300)), ("t.bool", .bool(true)),
        ("t.str", .string("héllo ✓")),
        ("t.arr_i32", .array(.int32, [.int32(1), .int32(-2), .int32(3)])),
        ("t.arr_str", .array(.string, [.string("a"), .string("bc"), .string("")])),
        ("t.arr_nested", .array(.array, [.array(.int32, [.int32(1), .int32(2)]), .array(.int32, [.int32(3)])])),
    ]

    /// gguf-py's GGUFWriter made this file (Scripts/goldens/gguf_quants.py); every value and
    /// tensor must read back as written there.
    func testReadsFileWrittenByGGUFPy() throws {
        let f = try GGUFFile(path: GGUFFixtures.directory.appendingPathComponent("gguf_py_writer.gguf").path)
        XCTAssertEqual(f.version, 3)
        XCTAssertEqual(f.metadata["general.architecture"], .string("llama"))
        for (key, value) in allValues { XCTAssertEqual(f.metadata[key], value, key) }
        XCTAssertEqual(f.metadataKeys, ["general.architecture"] + allValues.map(\.0))
        XCTAssertEqual(f.tensorNames, ["a.weight", "b.weight", "c.weight"])
        let a = try XCTUnwrap(f.tensor("a.weight"))
        XCTAssertEqual(a.type, .f32)
        XCTAssertEqual(a.shape, [2, 4])
        XCTAssertEqual(a.toFloat32(), (0 ..< 8).map(Float.init))
        let b = try XCTUnwrap(f.tensor("b.weight"))
        XCTAssertEqual(b.type, .f16)
        XCTAssertEqual(b.shape, [2, 32])
        XCTAssertEqual(b.toFloat32(), (0 ..< 64).map(Float.init))
        let c = try XCTUnwrap(f.tensor("c.weight"))
        XCTAssertEqual(c.type, .q8_0)
        XCTAssertEqual(c.shape, [3, 32])
        // linspace(-1, 1, 96) through Q8_0: within half a step (1/127/2) plus the f16 scale error.
        for (i, v) in c.toFloat32().enumerated() {
            XCTAssertEqual(v, -1 + 2 * Float(i) / 95, accuracy: 0.5 / 127 + 2e-3)
        }
        XCTAssertEqual(f.dataOffset % 32, 0)
        XCTAssertNil(f.tensor("missing"))
    }

    func testWriterRoundTripsEveryValueTypeAndTensorType() throws {
        let scratch = GGUFScratch()
        var w = GGUFWriter()
        w.alignment = 64
        for (k, v) in allValues { w.set(k, v) }
        w.set("t.empty", .array(.float32, []))
        w.set("t.arr_f64", .array(.float64, [.float64(0.5), .float64(-1e-300)]))
        let types: [(GGMLType, [Int])] = [
            (.f32, [3]), (.f16, [2, 2, 4]), (.bf16, [1, 2, 3, 8]), (.q8_0, [5, 64]), (.q4_1, [2, 32]),
            (.q4_K, [3, 256]), (.q6_K, [1, 512]), (.q5_0, [7, 32]),
        ]
        var payloads: [String: [UInt8]] = [:]
        for (i, (type, shape)) in types.enumerated() {
            let n = type.byteCount(elements: shape.reduce(1, *))!
            let bytes = (0 ..< n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i) }
            payloads["t\(i).weight"] = bytes
            try w.addTensor(name: "t\(i).weight", type: type, shape: shape, bytes: bytes)
        }
        let path = scratch.path + "/round.gguf"
        try w.write(to: path)
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: scratch.path).contains { $0.contains(".tmp-") },
                       "temporary file left behind")

        let f = try GGUFFile(path: path)
        XCTAssertEqual(f.version, 3)
        XCTAssertEqual(f.alignment, 64)
        XCTAssertEqual(f.metadata["general.alignment"], .uint32(64))
        for (k, v) in allValues { XCTAssertEqual(f.metadata[k], v, k) }
        XCTAssertEqual(f.metadata["t.empty"], .array(.float32, []))
        XCTAssertEqual(f.metadata["t.arr_f64"]?.floatArray, [0.5, -1e-300])
        XCTAssertEqual(f.tensorNames, (0 ..< types.count).map { "t\($0).weight" })
        for (i, (type, shape)) in types.enumerated() {
            let t = try XCTUnwrap(f.tensor("t\(i).weight"))
            XCTAssertEqual(t.type, type)
            XCTAssertEqual(t.shape, shape)
            XCTAssertEqual(f.tensorInfo(t.name)?.ne, shape.reversed())
            XCTAssertEqual([UInt8](t.bytes), payloads[t.name])
            XCTAssertEqual((f.dataOffset + f.tensorInfo(t.name)!.offset) % 64, 0)
        }
    }

    /// Version 2 has the same layout as version 3 (64-bit counts); a metadata-only file has an
    /// empty data section.
    func testReadsVersion2AndMetadataOnlyFiles() throws {
        let scratch = GGUFScratch()
        var w = GGUFWriter()
        w.set("general.name", .string("v2"))
        let path = scratch.path + "/v.gguf"
        try w.write(to: path)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let v3 = try GGUFFile(path: path)
        XCTAssertEqual(v3.tensorInfos.count, 0)
        XCTAssertEqual(v3.dataOffset, bytes.count)
        XCTAssertEqual(v3.metadata["general.name"], .string("v2"))
        bytes[4] = 2
        let v2 = try GGUFFile(path: scratch.write(bytes, name: "v2.gguf"))
        XCTAssertEqual(v2.version, 2)
        XCTAssertEqual(v2.metadata["general.name"], .string("v2"))
    }

    func testValueHelpers() {
        XCTAssertEqual(GGUFValue.uint64(5).int, 5)
        XCTAssertNil(GGUFValue.uint64(.max).int)
        XCTAssertEqual(GGUFValue.int16(-3).double, -3)
        XCTAssertNil(GGUFValue.string("x").int)
        XCTAssertEqual(GGUFValue.array(.uint8, [.uint8(1), .uint8(2)]).intArray, [1, 2])
        XCTAssertNil(GGUFValue.array(.string, [.string("1")]).intArray)
        XCTAssertNil(GGUFValue.array(.int32, [.int32(1)]).stringArray)
        XCTAssertEqual(GGUFValue.array(.float32, [.float32(0.5)]).floatArray, [0.5])
    }

    func testWriterRefusesWhatGGUFCannotHold() {
        var w = GGUFWriter()
        XCTAssertThrowsError(try w.addTensor(name: String(repeating: "n", count: 64), type: .f32, shape: [1], bytes: [0, 0, 0, 0]))
        XCTAssertThrowsError(try w.addTensor(name: "x", type: .q8_0, shape: [1, 33], bytes: []))
        XCTAssertThrowsError(try w.addTensor(name: "x", type: .f32, shape: [2], bytes: [0, 0, 0, 0]))
        XCTAssertNoThrow(try w.addTensor(name: "x", type: .f32, shape: [1], bytes: [0, 0, 0, 0]))
        XCTAssertThrowsError(try w.addTensor(name: "x", type: .f32, shape: [1], bytes: [0, 0, 0, 0]))
        w.set("bad", .array(.int32, [.string("x")]))
        let scratch = GGUFScratch()
        XCTAssertThrowsError(try w.write(to: scratch.path + "/bad.gguf")) {
            XCTAssertEqual(($0 as? GGUFError)?.kind, .invalidWrite)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.path + "/bad.gguf"))
    }

    func testTensorNameMapping() {
        let pairs = [
            ("token_embd.weight", "model.embed_tokens.weight"),
            ("output_norm.weight", "model.norm.weight"),
            ("output.weight", "lm_head.weight"),
            ("blk.0.attn_norm.weight", "model.layers.0.input_layernorm.weight"),
            ("blk.12.ffn_norm.weight", "model.layers.12.post_attention_layernorm.weight"),
            ("blk.3.attn_q.weight", "model.layers.3.self_attn.q_proj.weight"),
            ("blk.3.attn_q.bias", "model.layers.3.self_attn.q_proj.bias"),
            ("blk.3.attn_k.weight", "model.layers.3.self_attn.k_proj.weight"),
            ("blk.3.attn_v.bias", "model.layers.3.self_attn.v_proj.bias"),
            ("blk.3.attn_output.weight", "model.layers.3.self_attn.o_proj.weight"),
            ("blk.3.attn_q_norm.weight", "model.layers.3.self_attn.q_norm.weight"),
            ("blk.3.attn_k_norm.weight", "model.layers.3.self_attn.k_norm.weight"),
            ("blk.29.ffn_gate.weight", "model.layers.29.mlp.gate_proj.weight"),
            ("blk.29.ffn_up.weight", "model.layers.29.mlp.up_proj.weight"),
            ("blk.29.ffn_down.weight", "model.layers.29.mlp.down_proj.weight"),
        ]
        for (g, h) in pairs {
            XCTAssertEqual(GGUFTensorNames.hfName(g), h)
            XCTAssertEqual(GGUFTensorNames.ggufName(h), g)
        }
        XCTAssertNil(GGUFTensorNames.hfName("rope_freqs.weight"))
        XCTAssertNil(GGUFTensorNames.hfName("blk.x.attn_q.weight"))
        XCTAssertNil(GGUFTensorNames.hfName("blk.01.attn_q.weight"))
        XCTAssertNil(GGUFTensorNames.ggufName("model.layers.0.self_attn.rotary_emb.inv_freq"))
    }

    /// The permutation llama.cpp's converter applies (reshape(heads, 2, d/2) then swap the last
    /// two axes), written out for 2 heads of dim 4: GGUF rows [h0: 0 2 1 3 | h1: 4 6 5 7] hold
    /// HF rows [0 2 1 3 | 4 6 5 7]; so HF row 1 is GGUF row 2.
    func testLlamaRowPermutation() {
        XCTAssertEqual(GGUFFile.llamaPermutedRowsForHF(rows: 8, headCount: 2), [0, 2, 1, 3, 4, 6, 5, 7])
        XCTAssertEqual(GGUFFile.llamaPermutedRowsForHF(rows: 6, headCount: 1), [0, 2, 4, 1, 3, 5])
    }

    /// llama.cpp's converter: `w.reshape(n_head, 2, rows // n_head // 2, ...).swapaxes(1, 2)`.
    /// Applied with numpy to arange(16) with 2 heads it gives, for each GGUF row, the HF row
    /// it holds; the literal below is that output.
    func testLlamaRowPermutationInvertsTheConverters() {
        let converter = [0, 4, 1, 5, 2, 6, 3, 7, 8, 12, 9, 13, 10, 14, 11, 15]
        let order = GGUFFile.llamaPermutedRowsForHF(rows: 16, headCount: 2)
        for (ggufRow, hfRow) in converter.enumerated() { XCTAssertEqual(order[hfRow], ggufRow) }
    }

    /// The documented convention: rotating GGUF-llama (permuted) q with adjacent-pair RoPE gives
    /// the same numbers as rotating HF q with rotate-half RoPE, moved by the same permutation.
    /// Both rotations are written out here from their definitions (pair i turns by p·base^(-2i/d)).
    func testInterleavedRopeOnGGUFRowsEqualsHalvesRopeOnHFRows() {
        let d = 8, position: Float = 5, base: Float = 10000
        let hf: [Float] = (0 ..< d).map { Float($0) * 0.37 - 1 }
        let order = GGUFFile.llamaPermutedRowsForHF(rows: d, headCount: 1)
        var gguf = [Float](repeating: 0, count: d)
        for (hfRow, fileRow) in order.enumerated() { gguf[fileRow] = hf[hfRow] }
        func angle(_ i: Int) -> Float { position * pow(base, -2 * Float(i) / Float(d)) }
        var halves = hf, interleaved = gguf
        for i in 0 ..< d / 2 {
            let (c, s) = (cos(angle(i)), sin(angle(i)))
            (halves[i], halves[i + d / 2]) = (hf[i] * c - hf[i + d / 2] * s, hf[i] * s + hf[i + d / 2] * c)
            (interleaved[2 * i], interleaved[2 * i + 1]) = (gguf[2 * i] * c - gguf[2 * i + 1] * s, gguf[2 * i] * s + gguf[2 * i + 1] * c)
        }
        for (hfRow, fileRow) in order.enumerated() { XCTAssertEqual(interleaved[fileRow], halves[hfRow], accuracy: 1e-6) }
    }

    /// hfTensor un-permutes llama q/k rows (f32 rows tagged by their HF index after the
    /// converter's permutation) and leaves qwen2 files and other tensors alone.
    func testHFTensorRestoresRotateHalfRows() throws {
        let scratch = GGUFScratch()
        let converter = [0, 2, 1, 3, 4, 6, 5, 7, 8, 10, 9, 11]   // numpy permute(arange(12), 3)
        func rowBytes(_ tags: [Int], width: Int = 4) -> [UInt8] {
            tags.flatMap { t in (0 ..< width).flatMap { withUnsafeBytes(of: Float(t * 10 + $0)) { Array($0) } } }
        }
        for arch in ["llama", "qwen2"] {
            var w = GGUFWriter()
            w.set("general.architecture", .string(arch))
            w.set("\(arch).attention.head_count", .uint32(6))
            w.set("\(arch).attention.head_count_kv", .uint32(3))
            try w.addTensor(name: "blk.0.attn_k.weight", type: .f32, shape: [12, 4], bytes: rowBytes(converter))
            try w.addTensor(name: "blk.0.attn_v.weight", type: .f32, shape: [12, 4], bytes: rowBytes(converter))
            try w.write(to: scratch.path + "/\(arch).gguf")
            let f = try GGUFFile(path: scratch.path + "/\(arch).gguf")
            let k = try XCTUnwrap(f.hfTensor(ggufName: "blk.0.attn_k.weight"))
            XCTAssertEqual(k.name, "model.layers.0.self_attn.k_proj.weight")
            XCTAssertEqual(k.shape, [12, 4])
            let rowTags = stride(from: 0, to: 48, by: 4).map { Int(k.toFloat32()[$0]) / 10 }
            XCTAssertEqual(rowTags, arch == "llama" ? Array(0 ..< 12) : converter, arch)
            let v = try XCTUnwrap(f.hfTensor(ggufName: "blk.0.attn_v.weight"))
            XCTAssertEqual(v.toFloat32(), f.tensor("blk.0.attn_v.weight")!.toFloat32())
            XCTAssertNil(try f.hfTensor(ggufName: "blk.0.attn_q.weight"))
        }
    }

    func testModelConfigFromSmallQwen3File() throws {
        let scratch = GGUFScratch()
        var w = GGUFWriter()
        w.set("general.architecture", .string("qwen3"))
        w.set("qwen3.context_length", .uint32(40960))
        w.set("qwen3.embedding_length", .uint32(64))
        w.set("qwen3.feed_forward_length", .uint32(96))
        w.set("qwen3.block_count", .uint32(2))
        w.set("qwen3.attention.head_count", .uint32(4))
        w.set("qwen3.attention.head_count_kv", .uint32(2))
        w.set("qwen3.attention.key_length", .uint32(32))
        w.set("qwen3.attention.layer_norm_rms_epsilon", .float32(1e-6))
        w.set("qwen3.rope.freq_base", .float32(1_000_000))
        w.set("qwen3.rope.scaling.type", .string("yarn"))
        w.set("qwen3.rope.scaling.factor", .float32(4))
        w.set("qwen3.rope.scaling.original_context_length", .uint32(32768))
        w.set("tokenizer.ggml.model", .string("gpt2"))
        w.set("tokenizer.ggml.tokens", .array(.string, (0 ..< 10).map { .string("t\($0)") }))
        w.set("tokenizer.ggml.eos_token_id", .uint32(7))
        w.set("tokenizer.ggml.eot_token_id", .uint32(8))
        try w.addTensor(name: "output.weight", type: .f32, shape: [10, 64], bytes: [UInt8](repeating: 0, count: 2560))
        try w.addTensor(name: "blk.0.attn_q_norm.weight", type: .f32, shape: [32], bytes: [UInt8](repeating: 0, count: 128))
        try w.write(to: scratch.path + "/q3.gguf")
        let f = try GGUFFile(path: scratch.path + "/q3.gguf")
        let c = try ModelConfig(gguf: f)
        XCTAssertEqual(c.architecture, .qwen3)
        XCTAssertEqual(c.vocabSize, 10)
        XCTAssertEqual(c.headDim, 32)
        XCTAssertEqual(c.kvHeadCount, 2)
        XCTAssertEqual(c.maxPositions, 40960)
        XCTAssertEqual(c.ropeTheta, 1_000_000)
        XCTAssertEqual(c.rmsNormEps, Double(Float(1e-6)))
        XCTAssertEqual(c.ropeScaling, RopeScaling(kind: .yarn, factor: 4, originalMaxPositions: 32768))
        XCTAssertFalse(c.tieWordEmbeddings)
        XCTAssertTrue(c.qkNorm)
        XCTAssertFalse(c.attentionBias)
        XCTAssertEqual(c.eosTokenIds, [7, 8])
        XCTAssertEqual(f.ropeStyle, .halves)
    }

    func testUnknownArchitectureAndWrongTypesAreClearErrors() throws {
        let scratch = GGUFScratch()
        func config(_ edit: (inout GGUFWriter) -> Void) throws -> ModelConfig {
            var w = GGUFWriter()
            w.set("general.architecture", .string("llama"))
            w.set("llama.embedding_length", .uint32(64))
            w.set("llama.feed_forward_length", .uint32(96))
            w.set("llama.block_count", .uint32(2))
            w.set("llama.attention.head_count", .uint32(4))
            w.set("llama.vocab_size", .uint32(10))
            edit(&w)
            try w.write(to: scratch.path + "/c.gguf")
            return try ModelConfig(gguf: GGUFFile(path: scratch.path + "/c.gguf"))
        }
        let ok = try config { _ in }
        XCTAssertEqual(ok.headDim, 16)
        XCTAssertEqual(ok.kvHeadCount, 4)
        XCTAssertTrue(ok.tieWordEmbeddings)
        XCTAssertThrowsError(try config { $0.set("general.architecture", .string("gpt-neox")) }) {
            XCTAssertEqual(($0 as? GGUFError)?.kind, .unknownArchitecture)
            XCTAssertTrue("\($0)".contains("gpt-neox") && "\($0)".contains("c.gguf"), "\($0)")
        }
        XCTAssertThrowsError(try config { $0.set("llama.block_count", .string("2")) }) {
            XCTAssertEqual(($0 as? GGUFError)?.kind, .badMetadata)
        }
        XCTAssertThrowsError(try config { $0.set("llama.attention.head_count_kv", .uint32(3)) }) {
            XCTAssertEqual(($0 as? GGUFError)?.kind, .badMetadata)
        }
        XCTAssertThrowsError(try config { $0.set("llama.rope.scaling.type", .string("longrope")) }) {
            XCTAssertEqual(($0 as? GGUFError)?.kind, .badMetadata)
        }
    }

    func testTokenizerDataChecksElementTypes() throws {
        let scratch = GGUFScratch()
        func tokenizer(_ edit: (inout GGUFWriter) -> Void) throws -> GGUFTokenizerData {
            var w = GGUFWriter()
            w.set("tokenizer.ggml.model", .string("gpt2"))
            w.set("tokenizer.ggml.tokens", .array(.string, [.string("a"), .string("b"), .string("ab")]))
            w.set("tokenizer.ggml.token_type", .array(.int32, [.int32(1), .int32(1), .int32(3)]))
            w.set("tokenizer.ggml.merges", .array(.string, [.string("a b")]))
            edit(&w)
            try w.write(to: scratch.path + "/t.gguf")
            return try GGUFTokenizerData(gguf: GGUFFile(path: scratch.path + "/t.gguf"))
        }
        let t = try tokenizer { $0.set("tokenizer.ggml.bos_token_id", .uint32(2)) }
        XCTAssertEqual(t.tokens, ["a", "b", "ab"])
        XCTAssertEqual(t.tokenTypes, [1, 1, 3])
        XCTAssertEqual(t.merges, ["a b"])
        XCTAssertEqual(t.bosId, 2)
        XCTAssertNil(t.chatTemplate)
        XCTAssertThrowsError(try tokenizer { $0.set("tokenizer.ggml.tokens", .array(.int32, [.int32(1)])) })
        XCTAssertThrowsError(try tokenizer { $0.set("tokenizer.ggml.token_type", .array(.string, [.string("1"), .string("1"), .string("1")])) })
        XCTAssertThrowsError(try tokenizer { $0.set("tokenizer.ggml.token_type", .array(.int32, [.int32(1)])) })
        XCTAssertThrowsError(try tokenizer { $0.set("tokenizer.ggml.merges", .string("a b")) })
        XCTAssertThrowsError(try tokenizer { $0.set("tokenizer.ggml.eos_token_id", .uint32(3)) })
        XCTAssertThrowsError(try tokenizer { $0.set("tokenizer.chat_template", .uint32(3)) })
    }
}
