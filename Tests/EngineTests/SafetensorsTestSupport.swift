import Foundation
import XCTest
@testable import Engine

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
