import Foundation
import XCTest
@testable import Engine

/// `export --quant_method bnb`: the HF directory in transformers' bitsandbytes layout, checked
/// against what bitsandbytes (dequantize_4bit from the saved quant state) and transformers
/// (loading the directory on the CPU) read from it: Tests/Fixtures/bnb/export_check.json, made
/// by Scripts/goldens/bnb_export.py from a directory this test wrote.
final class BNBExportTests: XCTestCase {
    static let checked = ["model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.k_proj.weight",
                          "model.layers.29.mlp.down_proj.weight"]

    func exportNF4(to dir: String) throws -> LoadedModel {
        let source = try SharedModels.smolLM2()
        let (q, _) = try source.model.quantizedBNB(BNBOptions(format: .nf4, doubleQuant: true, computeDType: .float32))
        let m = LoadedModel(replacingModelOf: source, with: q)
        try HFModelExport.write(m, to: dir, options: .init(dtype: .float32, existOK: true))
        return m
    }

    func testExportIsReadByBitsandbytesAndTransformersAsTheLiveModel() throws {
        let keep = ProcessInfo.processInfo.environment["TUNE_BNB_EXPORT_DIR"]
        let dir = keep ?? NSTemporaryDirectory() + "tune-bnb-export-\(getpid())"
        defer { if keep == nil { try? FileManager.default.removeItem(atPath: dir) } }
        let m = try exportNF4(to: dir)
        let live = Dictionary(uniqueKeysWithValues: m.model.namedWeights.map { ($0.name, $0) })

        // The layout transformers saves.
        let file = try SafetensorsFile(path: dir + "/model.safetensors")
        let q = "model.layers.0.self_attn.q_proj.weight"
        XCTAssertEqual(file.info(q)?.dtype, .u8)
        XCTAssertEqual(file.info(q)?.shape, [576 * 576 / 2, 1])
        XCTAssertEqual(file.info(q + ".absmax")?.dtype, .u8)
        XCTAssertEqual(file.info(q + ".absmax")?.shape, [576 * 9])
        XCTAssertEqual(file.info(q + ".nested_absmax")?.shape, [(576 * 9 + 255) / 256])
        XCTAssertEqual(file.info(q + ".nested_quant_map")?.shape, [256])
        XCTAssertEqual(try file.tensor(q + ".quant_map").toFloat32(), BNBFormat.nf4.code)
        let state = String(decoding: try file.rawBytes(q + ".quant_state.bitsandbytes__nf4"), as: UTF8.self)
        XCTAssertTrue(state.hasPrefix(#"{"quant_type": "nf4", "blocksize": 64, "dtype": "float32", "shape": [576, 576], "nested_blocksize": 256, "nested_dtype": "float32", "nested_offset": "#), state)
        XCTAssertEqual(file.info("model.embed_tokens.weight")?.dtype, .f32)
        XCTAssertEqual(file.info("model.layers.0.input_layernorm.weight")?.dtype, .f32)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/config.json"))) as! [String: Any]
        let qc = try XCTUnwrap(config["quantization_config"] as? [String: Any])
        XCTAssertEqual(qc["quant_method"] as? String, "bitsandbytes")
        XCTAssertEqual(qc["bnb_4bit_quant_type"] as? String, "nf4")
        XCTAssertEqual(qc["bnb_4bit_use_double_quant"] as? Bool, true)
        XCTAssertEqual(qc["load_in_4bit"] as? Bool, true)

        // What bitsandbytes dequantizes the saved tensors to equals the live weights (HF rows).
        let golden = try TestPaths.json("bnb/export_check.json")
        let tensors = golden["tensors"] as! [String: [String: Any]]
        for name in Self.checked {
            let g = try XCTUnwrap(tensors[name], name)
            let t = try XCTUnwrap(live[name], name)
            let order = HFModelExport.hfRowOrder(t, config: m.model.config, style: m.model.rope.style)
            let values = t.toFloat32(), n = t.rowLength
            let rowsShown = g["rows"] as! [[Double]]
            for (h, row) in rowsShown.enumerated() {
                let r = order?[h] ?? h
                for i in 0..<n { XCTAssertEqual(Double(values[r * n + i]), row[i], accuracy: 1e-6, "\(name) [\(h), \(i)]") }
            }
            let sums = g["row_sums"] as! [Double]
            XCTAssertEqual(sums.count, t.rowCount)
            for h in 0..<t.rowCount {
                let r = order?[h] ?? h
                var s = 0.0
                for i in 0..<n { s += Double(values[r * n + i]) }
                XCTAssertEqual(s, sums[h], accuracy: 1e-4, "\(name) row \(h)")
            }
        }

        // transformers' forward over the loaded directory (f32 compute) agrees with the engine.
        let ids = golden["ids"] as! [Int]
        let logits = try m.model.forward(ids, cache: m.model.makeCache(capacity: ids.count), logitsFrom: 0)
        let vocab = m.model.config.vocabSize
        let argmax = golden["argmax"] as! [Int]
        let head = golden["logits_head"] as! [[Double]]
        for p in 0..<ids.count {
            let row = Array(logits[(p * vocab)..<((p + 1) * vocab)])
            XCTAssertEqual(row.indices.max { row[$0] < row[$1] }, argmax[p], "position \(p)")
            // f32 forwards in different orders: 2e-3 on logits of size ~10–30.
            for k in 0..<head[p].count { XCTAssertEqual(Double(row[k]), head[p][k], accuracy: 2e-3, "logit [\(p), \(k)]") }
        }
    }
}
