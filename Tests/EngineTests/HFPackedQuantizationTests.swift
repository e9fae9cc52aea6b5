import Foundation
import XCTest
@testable import Engine

/// GPTQ and AWQ packed layouts in an HF export (Tests/Fixtures/gptq_awq_layout): the tiny
/// GGUF model of Tests/Fixtures/export on each grid, exported; the committed directories are
/// what the engine writes now, and Scripts/goldens/gptq_awq_layout.py unpacked them with the
/// upstream bit order (AutoGPTQ's v1 qzeros, AutoAWQ's GEMM order) into the weights checked
/// here against the engine's own dequantization, and loaded them with transformers +
/// gptqmodel for the logits checked here against the engine's.
final class HFPackedQuantizationTests: XCTestCase {
    struct Variant {
        let name: String
        let layout: HFPackedQuantization
        let awqStyle: Bool
        /// gptqmodel's CPU int4 kernel (`_weight_int4pack_mm_cpu`) needs in_features divisible
        /// by the group size, which a 32-input layer with groups of 64 is not.
        var transformersLoads = true
    }

    static let variants = [
        Variant(name: "gptq4", layout: .init(format: .gptq, bits: 4, groupSize: 32, symmetric: true), awqStyle: false),
        Variant(name: "gptq8", layout: .init(format: .gptq, bits: 8, groupSize: 32, symmetric: true), awqStyle: false),
        Variant(name: "gptq4-zero", layout: .init(format: .gptq, bits: 4, groupSize: 32, symmetric: false), awqStyle: false),
        Variant(name: "gptq4-g64", layout: .init(format: .gptq, bits: 4, groupSize: 64, symmetric: true), awqStyle: false,
                transformersLoads: false),
        Variant(name: "awq4", layout: .init(format: .awq, bits: 4, groupSize: 32, symmetric: false), awqStyle: true),
    ]

    private func tempDir(_ tag: String) -> String {
        NSTemporaryDirectory() + "tune-packed-\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    func source() throws -> LoadedModel { try LoadedModel(location: .gguf(TestPaths.fixture("export/tiny.gguf"))) }

    func quantized(_ source: LoadedModel, _ v: Variant) throws -> LlamaModel {
        try CalibratedQuantization.roundToNearest(model: source.model, bits: v.layout.bits, groupSize: v.layout.groupSize,
                                                  symmetric: v.layout.symmetric, awqStyle: v.awqStyle)
    }

    /// Exports `v` into a temporary directory (and, with TUNE_WRITE_PACKED_FIXTURE=DIR, copies it
    /// to DIR/<variant> to make the fixture).
    func export(_ source: LoadedModel, _ q: LlamaModel, _ v: Variant) throws -> String {
        let dir = tempDir(v.name)
        try HFModelExport.write(source, weights: q, to: dir, options: .init(dtype: .float16, packedQuantization: v.layout))
        if let out = ProcessInfo.processInfo.environment["TUNE_WRITE_PACKED_FIXTURE"], !out.isEmpty {
            try? FileManager.default.removeItem(atPath: out + "/" + v.name)
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: dir, toPath: out + "/" + v.name)
        }
        return dir
    }

    func testExportsAreTheCommittedDirectories() throws {
        let s = try source()
        let fm = FileManager.default
        for v in Self.variants {
            let dir = try export(s, try quantized(s, v), v)
            defer { try? fm.removeItem(atPath: dir) }
            let committed = TestPaths.fixture("gptq_awq_layout/\(v.name)")
            let names = try fm.contentsOfDirectory(atPath: dir).sorted()
            XCTAssertEqual(names, try fm.contentsOfDirectory(atPath: committed).sorted(), v.name)
            for n in names {
                let a = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + n))
                let b = try Data(contentsOf: URL(fileURLWithPath: committed + "/" + n))
                XCTAssertEqual(a, b, "\(v.name)/\(n) differs from the committed export")
            }
        }
    }

    func testTensorNamesShapesAndConfigAreTheFormats() throws {
        let s = try source()
        for v in Self.variants {
            let dir = try export(s, try quantized(s, v), v)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let file = try SafetensorsFile(path: dir + "/model.safetensors")
            let p = "model.layers.1.mlp.down_proj."   // [out 32, in 64]
            XCTAssertFalse(file.contains(p + "weight"), v.name)
            let perWord = 32 / v.layout.bits, groups = 64 / v.layout.groupSize
            if v.layout.groupSize == 64 {
                // q_proj has 32 inputs: one partial group, as AutoGPTQ sizes it (ceil(in / group)).
                XCTAssertEqual(file.info("model.layers.0.self_attn.q_proj.scales")?.shape, [1, 32], v.name)
            }
            let qweight = v.layout.format == .gptq ? [64 / perWord, 32] : [64, 32 / 8]
            XCTAssertEqual(file.info(p + "qweight")?.shape, qweight, v.name)
            XCTAssertEqual(file.info(p + "qweight")?.dtype, .i32, v.name)
            XCTAssertEqual(file.info(p + "qzeros")?.shape, [groups, 32 / perWord], v.name)
            XCTAssertEqual(file.info(p + "scales")?.shape, [groups, 32], v.name)
            XCTAssertEqual(file.info(p + "scales")?.dtype, .f16, v.name)
            XCTAssertEqual(file.info(p + "g_idx")?.shape, v.layout.format == .gptq ? [64] : nil, v.name)
            XCTAssertEqual(file.info("model.embed_tokens.weight")?.dtype, .f16, v.name)
            let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/config.json"))) as! [String: Any]
            let q = config["quantization_config"] as! [String: Any]
            XCTAssertEqual(q["quant_method"] as? String, v.layout.format.rawValue)
            XCTAssertEqual(q["bits"] as? Int, v.layout.bits)
            XCTAssertEqual(q["group_size"] as? Int, v.layout.groupSize)
            if v.layout.format == .gptq {
                XCTAssertEqual(q["sym"] as? Bool, v.layout.symmetric)
                XCTAssertEqual(q["desc_act"] as? Bool, false)
                XCTAssertEqual(q["checkpoint_format"] as? String, "gptq")
            } else {
                XCTAssertEqual(q["zero_point"] as? Bool, true)
                XCTAssertEqual(q["version"] as? String, "gemm")
            }
        }
    }

    /// The weights the reference script unpacked from the committed files, against the
    /// engine's dequantization of the model it exported (in HF row order).
    func testUpstreamUnpackingGivesTheEnginesWeights() throws {
        let s = try source()
        let reference = try SafetensorsFile(path: TestPaths.fixture("gptq_awq_layout/unpacked.safetensors"))
        for v in Self.variants {
            let q = try quantized(s, v)
            var compared = 0
            for t in q.namedWeights where HFPackedQuantization.isPacked(t.name) {
                let want = try reference.tensor("\(v.name)/\(t.name)")
                XCTAssertEqual(want.shape, t.shape, "\(v.name) \(t.name)")
                let order = HFModelExport.hfRowOrder(t, config: q.config, style: q.rope.style)
                let n = t.rowLength
                var row = [Float](repeating: 0, count: n)
                var wantRow = [Float](repeating: 0, count: n)
                var worst: Float = 0
                for r in 0..<t.rowCount {
                    row.withUnsafeMutableBufferPointer { t.dequantizeRow(order?[r] ?? r, into: $0.baseAddress!) }
                    wantRow.withUnsafeMutableBufferPointer { want.dequantizeRow(r, into: $0.baseAddress!) }
                    if v.layout.symmetric {
                        // d·(q − 8) and d·(q − 128) are the formats' own products: exact.
                        if row != wantRow { worst = max(worst, zip(row, wantRow).map { abs($0 - $1) }.max()!) }
                    } else {
                        // The engine adds the f16-rounded minimum f16(−zero·d); the formats
                        // subtract zero·d exactly: |zero·d| ≤ 2·max|w|, rounded to 11 bits.
                        let bound = row.map(abs).max()! * Float(pow(2.0, -10)) * 1.001 + 1e-7
                        let e = zip(row, wantRow).map { abs($0 - $1) }.max()!
                        if e > bound { worst = max(worst, e) }
                    }
                }
                XCTAssertEqual(worst, 0, "\(v.name) \(t.name): weights unpacked upstream's way vs the engine's")
                compared += 1
            }
            XCTAssertEqual(compared, 14, v.name)
        }
    }

    /// transformers (with gptqmodel's CPU kernels) on the committed directories gives the
    /// engine's logits for the model it exported.
    func testTransformersLoadsTheExportsWithTheEnginesLogits() throws {
        let s = try source()
        let golden = try TestPaths.json("gptq_awq_layout/logits.json")
        let ids = golden["ids"] as! [Int]
        let cases = golden["variants"] as! [String: Any]
        for v in Self.variants where v.transformersLoads {
            guard let want = (cases[v.name] as? [[Double]])?.flatMap({ $0.map(Float.init) }) else {
                XCTFail("\(v.name): no transformers logits in the fixture (\(cases[v.name] ?? "missing"))"); continue
            }
            let q = try quantized(s, v)
            let got = try q.forward(ids, cache: q.makeCache(capacity: ids.count), allLogits: true)
            XCTAssertEqual(got.count, want.count, v.name)
            let err = zip(got, want).map { abs($0 - $1) }.max() ?? .infinity
            let scale = want.map(abs).max() ?? 1
            // transformers runs the dequantized f16 weights in float16 activations on CPU:
            // 1% of the largest logit covers f16 rounding through two layers.
            XCTAssertLessThan(err, 0.01 * scale, "\(v.name): engine logits vs transformers on the export (max |logit| \(scale))")
        }
    }

    func testGridsTheFormatsCannotHoldAreClearErrors() throws {
        let s = try source()
        let dir = tempDir("refused")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let awq8 = HFPackedQuantization(format: .awq, bits: 8, groupSize: 32, symmetric: true)
        XCTAssertThrowsError(try HFModelExport.write(s, to: dir, options: .init(packedQuantization: awq8))) {
            XCTAssertTrue("\($0)".contains("4-bit weights with a zero point only"), "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir))
        // Plain Q4_0 has a scale per 32 weights: not a group-128 grid.
        let plain = try s.model.quantized(to: .q4_0)
        let gptq = HFPackedQuantization(format: .gptq, bits: 4, groupSize: 64, symmetric: true)
        XCTAssertThrowsError(try HFModelExport.write(s, weights: plain, to: dir, options: .init(packedQuantization: gptq))) {
            XCTAssertTrue("\($0)".contains("not on a grid of group size 64"), "\($0)")
        }
        // AWQ's layout needs whole groups: 32 inputs do not fill a group of 64.
        let awq64 = Variant(name: "", layout: .init(format: .awq, bits: 4, groupSize: 64, symmetric: false), awqStyle: true)
        XCTAssertThrowsError(try HFModelExport.write(s, weights: try quantized(s, awq64), to: dir,
                                                     options: .init(packedQuantization: awq64.layout))) {
            XCTAssertTrue("\($0)".contains("not a multiple of group_size 64"), "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir))
    }
}
