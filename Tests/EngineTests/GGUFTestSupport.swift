import Foundation
import XCTest
@testable import Engine

/// Fixtures of the GGUF layer (Tests/Fixtures/gguf, made by Scripts/goldens/gguf_quants.py).
enum GGUFFixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/gguf")

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    static func floats(_ name: String) throws -> [Float] {
        let b = try bytes(name)
        precondition(b.count % 4 == 0)
        return b.withUnsafeBytes { raw in (0 ..< b.count / 4).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) } }
    }

    /// The real SmolLM2 model CI puts in the ModelScope cache.
    static func modelPath() throws -> String {
        let cache = ProcessInfo.processInfo.environment["MODELSCOPE_CACHE"]
            ?? (NSHomeDirectory() + "/.cache/modelscope/hub")
        let path = cache + "/models/HuggingFaceTB/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf"
        guard FileManager.default.fileExists(atPath: path) else {
            XCTFail("real model missing at \(path); run the set-up script to download SmolLM2-135M-Instruct Q4_1")
            throw CocoaError(.fileNoSuchFile)
        }
        return path
    }
}

/// A scratch directory removed when the test case ends.
final class GGUFScratch {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "gguf-tests-\(getpid())-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    func write(_ bytes: [UInt8], name: String = "t.gguf") -> String {
        let p = path + "/" + name
        let written = FileManager.default.createFile(atPath: p, contents: Data(bytes))
        XCTAssertTrue(written, "cannot write test file \(p)")
        return p
    }
}

/// Builds GGUF bytes field by field, so tests can write files a writer would refuse to.
struct GGUFBytes {
    var bytes: [UInt8] = []
    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func i64(_ v: Int64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func str(_ s: String) { u64(UInt64(s.utf8.count)); bytes.append(contentsOf: s.utf8) }
    mutating func header(version: UInt32 = 3, tensors: UInt64, kvs: UInt64) {
        bytes.append(contentsOf: Array("GGUF".utf8)); u32(version); u64(tensors); u64(kvs)
    }
    mutating func kvU32(_ key: String, _ v: UInt32) { str(key); u32(GGUFValueType.uint32.rawValue); u32(v) }
    mutating func kvString(_ key: String, _ v: String) { str(key); u32(GGUFValueType.string.rawValue); str(v) }
    mutating func tensorInfo(_ name: String, ne: [Int64], type: UInt32 = 0, offset: UInt64) {
        str(name); u32(UInt32(ne.count)); for n in ne { i64(n) }; u32(type); u64(offset)
    }
    mutating func pad(to alignment: Int = 32) { while bytes.count % alignment != 0 { bytes.append(0) } }
    mutating func zeros(_ n: Int) { bytes.append(contentsOf: repeatElement(0, count: n)) }
}
