import Foundation
import XCTest
@testable import Engine

/// Reads files written by the reference `safetensors` package (see Tests/Fixtures/hf/README.md)
/// and compares every value with what the reference wrote. Values are compared exactly: the
/// bytes are copied, not computed, so any difference is a decoding bug.
final class SafetensorsReaderTests: XCTestCase {
    func testReadsF32F16BF16ValuesAndMetadataFromReferenceFiles() throws {
        for file in ["f32.safetensors", "f16.safetensors", "bf16.safetensors"] {
            let st = try SafetensorsFile(path: HFFixtures.path(file))
            let expected = HFFixtures.expectedTensors(file)
            XCTAssertEqual(Set(st.tensorNames), Set(expected.keys), file)
            for (name, entry) in expected {
                let t = try st.tensor(name)
                XCTAssertEqual(t.shape, expectedShape(entry), "\(file) \(name)")
                XCTAssertEqual(t.type.name, (entry["dtype"] as! String).lowercased(), "\(file) \(name)")
                XCTAssertEqual(decodeFloats(t), expectedFloats(entry), "\(file) \(name)")
            }
            let meta = (HFFixtures.expected[file] as! [String: Any])["metadata"] as! [String: String]
            XCTAssertEqual(st.metadata, meta, file)
        }
    }

    func testMixedFileExposesEveryDtypeAndRefusesNonFloatWeights() throws {
        let st = try SafetensorsFile(path: HFFixtures.path("mixed.safetensors"))
        let expected = HFFixtures.expectedTensors("mixed.safetensors")
        XCTAssertEqual(st.tensorNames.count, expected.count)
        for (name, entry) in expected {
            let info = try XCTUnwrap(st.info(name), name)
            XCTAssertEqual(info.dtype.rawValue, entry["dtype"] as? String, name)
            XCTAssertEqual(info.shape, expectedShape(entry), name)
        }
        XCTAssertEqual(decodeFloats(try st.tensor("z.f32")), expectedFloats(expected["z.f32"]!))
        XCTAssertEqual(decodeFloats(try st.tensor("a.f16")), expectedFloats(expected["a.f16"]!))
        XCTAssertEqual(decodeFloats(try st.tensor("m.bf16")), expectedFloats(expected["m.bf16"]!))
        XCTAssertEqual(decodeFloats(try st.tensor("h.scalar")), [42.5])
        XCTAssertEqual(try st.tensor("h.scalar").shape, [])
        XCTAssertEqual(try st.tensor("i.empty").elementCount, 0)

        // F64 becomes F32, rounded to nearest as Float(Double) does.
        let f64 = try st.tensor("b.f64")
        XCTAssertEqual(f64.type, .f32)
        XCTAssertEqual(decodeFloats(f64), (expected["b.f64"]!["values"] as! [NSNumber]).map { Float($0.doubleValue) })

        // Integer data is readable as raw bytes but is not a weight.
        let i64 = try st.rawBytes("c.i64")
        XCTAssertEqual((0..<3).map { i64.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self) }, [1, -2, 3])
        for name in ["c.i64", "d.u8", "e.bool", "f.f8", "g.i32"] {
            XCTAssertThrowsError(try st.tensor(name), name) { error in
                guard case .unsupportedDType(let n, _)? = (error as? SafetensorsError)?.problem else {
                    return XCTFail("\(name): \(error)")
                }
                XCTAssertEqual(n, name)
                XCTAssertTrue("\(error)".contains("not supported for weights"), "\(error)")
            }
        }
        XCTAssertThrowsError(try st.tensor("nope")) { error in
            XCTAssertEqual((error as? SafetensorsError)?.problem, .tensorNotFound("nope"))
        }
    }

    func testShardedIndexOpensEachShardOnceAndFindsEveryTensor() throws {
        let shards = try SafetensorsShards(index: HFFixtures.path("sharded/model.safetensors.index.json"))
        let sharded = HFFixtures.expected["sharded"] as! [String: Any]
        XCTAssertEqual(shards.files.map { URL(fileURLWithPath: $0.path).lastPathComponent }.sorted(),
                       sharded["files"] as! [String])
        let expected = sharded["tensors"] as! [String: [String: Any]]
        XCTAssertEqual(Set(shards.tensorNames), Set(expected.keys))
        for (name, entry) in expected {
            let t = try shards.tensor(name)
            XCTAssertEqual(t.shape, expectedShape(entry), name)
            XCTAssertEqual(decodeFloats(t), expectedFloats(entry), name)
        }
        XCTAssertEqual(shards.metadata, ["format": "pt"])
    }

    func testShardedIndexNamingAMissingShardIsAClearError() throws {
        let dir = HFFixtures.makeTempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for f in try FileManager.default.contentsOfDirectory(atPath: HFFixtures.path("sharded")) where f != "model-00003-of-00003.safetensors" {
            try FileManager.default.copyItem(atPath: HFFixtures.path("sharded/\(f)"), toPath: "\(dir)/\(f)")
        }
        XCTAssertThrowsError(try SafetensorsShards(index: "\(dir)/model.safetensors.index.json")) { error in
            XCTAssertEqual((error as? SafetensorsError)?.problem,
                           .missingShard(file: "model-00003-of-00003.safetensors", tensor: "lm_head.weight"))
            XCTAssertTrue("\(error)".hasPrefix("\(dir)/model.safetensors.index.json: "), "\(error)")
        }
    }

    func testShardedIndexPointingAtTheWrongShardIsAClearError() throws {
        let dir = HFFixtures.makeTempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for f in try FileManager.default.contentsOfDirectory(atPath: HFFixtures.path("sharded")) where f.hasSuffix(".safetensors") {
            try FileManager.default.copyItem(atPath: HFFixtures.path("sharded/\(f)"), toPath: "\(dir)/\(f)")
        }
        let index = #"{"metadata": {"total_size": 576}, "weight_map": {"lm_head.weight": "model-00001-of-00003.safetensors"}}"#
        try index.write(toFile: "\(dir)/model.safetensors.index.json", atomically: false, encoding: .utf8)
        XCTAssertThrowsError(try SafetensorsShards(index: "\(dir)/model.safetensors.index.json")) { error in
            XCTAssertEqual((error as? SafetensorsError)?.problem,
                           .tensorMissingFromShard(name: "lm_head.weight", file: "model-00001-of-00003.safetensors"))
        }
        let escaping = #"{"weight_map": {"x": "../x.safetensors"}}"#
        try escaping.write(toFile: "\(dir)/model.safetensors.index.json", atomically: false, encoding: .utf8)
        XCTAssertThrowsError(try SafetensorsShards(index: "\(dir)/model.safetensors.index.json")) { error in
            guard case .invalidIndex? = (error as? SafetensorsError)?.problem else { return XCTFail("\(error)") }
        }
    }
}

/// Shared helpers for the safetensors and HF tests.
enum HFFixtures {
    static let root: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/hf").path

    static func path(_ name: String) -> String { root + "/" + name }

    /// `expected.json`, written by Scripts/goldens/hf_safetensors.py from the reference library.
    static let expected: [String: Any] = {
        let data = FileManager.default.contents(atPath: path("expected.json"))!
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }()

    static func expectedTensors(_ file: String) -> [String: [String: Any]] {
        (expected[file] as! [String: Any])["tensors"] as! [String: [String: Any]]
    }

    static func makeTempDirectory() -> String {
        let dir = NSTemporaryDirectory() + "tune-hf-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }
}

/// Decodes an F32/F16/BF16 tensor to Float with scalar code, independent of the kernels.
func decodeFloats(_ t: RawTensor) -> [Float] {
    let b = t.bytes
    switch t.type {
    case .f32:
        return (0..<(b.count / 4)).map { Float(bitPattern: b.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)) }
    case .f16:
        return (0..<(b.count / 2)).map { Float(Float16(bitPattern: b.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self))) }
    case .bf16:
        return (0..<(b.count / 2)).map { Float(bitPattern: UInt32(b.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self)) << 16) }
    default:
        XCTFail("not a float tensor: \(t.type)")
        return []
    }
}

func expectedFloats(_ entry: [String: Any]) -> [Float] {
    (entry["values"] as! [NSNumber]).map { Float($0.doubleValue) }
}

func expectedShape(_ entry: [String: Any]) -> [Int] {
    (entry["shape"] as! [NSNumber]).map(\.intValue)
}
