import Foundation
import XCTest
@testable import Engine

/// Damaged and hostile files: each must throw the matching `SafetensorsError`, naming the
/// file, and never trap. The cases follow the checks of the reference implementation
/// (header size limits, contiguous offsets from 0, byte length = elements × dtype size, no
/// trailing bytes) plus the duplicate-key and nesting guards.
final class SafetensorsCorruptTests: XCTestCase {
    private var dir = ""

    override func setUp() { dir = HFFixtures.makeTempDirectory() }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// 8-byte little-endian length (the header's, unless overridden), header, data.
    private func file(_ header: [UInt8], data: [UInt8] = [], length: UInt64? = nil) -> [UInt8] {
        let n = length ?? UInt64(header.count)
        return (0..<8).map { UInt8(truncatingIfNeeded: n >> (8 * UInt64($0))) } + header + data
    }

    private func file(_ header: String, data: [UInt8] = [], length: UInt64? = nil) -> [UInt8] {
        file(Array(header.utf8), data: data, length: length)
    }

    private func f32(_ name: String, _ shape: [Int], _ begin: Int, _ end: Int) -> String {
        "\"\(name)\":{\"dtype\":\"F32\",\"shape\":[\(shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(begin),\(end)]}"
    }

    func testEveryCorruptCaseThrowsItsOwnError() throws {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        let cases: [(String, [UInt8], SafetensorsError.Problem)] = [
            ("empty file", [], .headerTooSmall(fileSize: 0)),
            ("five bytes", [1, 2, 3, 4, 5], .headerTooSmall(fileSize: 5)),
            ("header over 100 MB", file("{}", length: 100_000_001), .headerTooLarge(length: 100_000_001)),
            ("length near UInt64.max", file("{}", length: UInt64.max - 3), .headerTooLarge(length: UInt64.max - 3)),
            ("length past end of file", file("{}", length: 1000), .headerLengthBeyondFile(length: 1000, fileSize: 10)),
            ("header not UTF-8", file([0x7B, 0xFF, 0xFE, 0x7D]), .headerNotUTF8),
            ("header not an object", file("[1,2]   "), .headerNotObject),
            ("header truncated JSON", file("{\"a\":"), .headerNotJSON("")),
            ("nesting too deep", file("{\"__metadata__\":{\"k\":\(deep)}}"), .headerNestedTooDeep(limit: 64)),
            ("duplicate tensor name", file("{\(f32("w", [1], 0, 4)),\(f32("w", [1], 4, 8))}", data: [UInt8](repeating: 0, count: 8)), .duplicateKey("w")),
            ("duplicate via escape", file("{\(f32("w", [1], 0, 4)),\(f32("\\u0077", [1], 4, 8))}", data: [UInt8](repeating: 0, count: 8)), .duplicateKey("w")),
            ("metadata value not a string", file("{\"__metadata__\":{\"n\":1}}"), .invalidMetadata("value of \"n\" is not a string")),
            ("unknown dtype", file("{\"w\":{\"dtype\":\"F128\",\"shape\":[1],\"data_offsets\":[0,16]}}", data: [UInt8](repeating: 0, count: 16)), .unknownDType(name: "w", dtype: "F128")),
            ("negative shape", file("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", data: [0, 0, 0, 0]), .invalidTensorEntry(name: "w", reason: "shape has a negative entry -1")),
            ("fractional shape", file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", data: [0, 0, 0, 0]), .invalidTensorEntry(name: "w", reason: "shape entry 1.5 is not a whole number in range")),
            ("three offsets", file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", data: [0, 0, 0, 0]), .invalidTensorEntry(name: "w", reason: "\"data_offsets\" must be an array of two numbers")),
            ("entry not an object", file("{\"w\":3}"), .invalidTensorEntry(name: "w", reason: "entry is not an object")),
            ("gap before first tensor", file("{\(f32("w", [1], 4, 8))}", data: [UInt8](repeating: 0, count: 8)), .invalidOffsets(name: "w", reason: "starts at 4, leaving a gap after byte 0")),
            ("overlapping tensors", file("{\(f32("a", [2], 0, 8)),\(f32("b", [2], 4, 12))}", data: [UInt8](repeating: 0, count: 12)), .invalidOffsets(name: "b", reason: "starts at 4, overlapping data that runs to 8")),
            ("end before begin", file("{\(f32("w", [1], 8, 4))}", data: [UInt8](repeating: 0, count: 8)), .invalidOffsets(name: "w", reason: "end 4 is before begin 8")),
            ("size does not match shape", file("{\(f32("w", [3], 0, 8))}", data: [UInt8](repeating: 0, count: 8)), .sizeMismatch(name: "w", expected: 12, actual: 8)),
            ("shape product overflows", file("{\(f32("w", [1 << 40, 1 << 40], 0, 4))}", data: [0, 0, 0, 0]), .sizeOverflow(name: "w")),
            ("trailing bytes after data", file("{\(f32("w", [1], 0, 4))}", data: [0, 0, 0, 0, 9]), .dataSizeMismatch(expected: 4, actual: 5)),
            ("data cut short", file("{\(f32("w", [4], 0, 16))}", data: [0, 0, 0, 0]), .dataSizeMismatch(expected: 16, actual: 4)),
        ]
        XCTAssertGreaterThanOrEqual(cases.count, 16)
        for (i, (label, bytes, problem)) in cases.enumerated() {
            let path = "\(dir)/case\(i).safetensors"
            XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
            do {
                _ = try SafetensorsFile(path: path)
                XCTFail("\(label): opened without error")
            } catch let error as SafetensorsError {
                XCTAssertEqual(error.path, path, label)
                if case .headerNotJSON = problem {
                    guard case .headerNotJSON = error.problem else { XCTFail("\(label): \(error)"); continue }
                } else {
                    XCTAssertEqual(error.problem, problem, "\(label): \(error)")
                }
                XCTAssertTrue(error.description.hasPrefix(path + ": "), error.description)
            } catch {
                XCTFail("\(label): unexpected error type \(error)")
            }
        }
    }

    func testSmallestValidFilesOpen() throws {
        let path = "\(dir)/empty.safetensors"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(file("{}      "))))
        XCTAssertEqual(try SafetensorsFile(path: path).tensorNames, [])
        // Entries out of order in the JSON are fine: order comes from the offsets.
        let path2 = "\(dir)/order.safetensors"
        XCTAssertTrue(FileManager.default.createFile(atPath: path2, contents: Data(file("{\(f32("b", [1], 4, 8)),\(f32("a", [1], 0, 4))}", data: [0, 0, 128, 63, 0, 0, 0, 64]))))
        let st = try SafetensorsFile(path: path2)
        XCTAssertEqual(st.tensorNames, ["a", "b"])
        XCTAssertEqual(decodeFloats(try st.tensor("b")), [2])
    }
}
