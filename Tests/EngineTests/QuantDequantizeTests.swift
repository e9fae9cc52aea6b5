import XCTest
@testable import Engine

/// Dequantization against gguf-py's numpy dequantizers (Q8_K: a numpy transcription of ggml's
/// formula) on random blocks: Tests/Fixtures/gguf/dequant_<type>.{blocks,f32}.
final class QuantDequantizeTests: XCTestCase {
    private func check(_ type: GGMLType, file: StaticString = #filePath, line: UInt = #line) throws {
        let blocks = try GGUFFixtures.bytes("dequant_\(type.name).blocks")
        let expected = try GGUFFixtures.floats("dequant_\(type.name).f32")
        XCTAssertEqual(blocks.count, type.byteCount(elements: expected.count), "fixture size", file: file, line: line)
        var got = [Float](repeating: .nan, count: expected.count)
        blocks.withUnsafeBytes { src in
            got.withUnsafeMutableBufferPointer { dequantize(type, from: src.baseAddress!, to: $0.baseAddress!, count: expected.count) }
        }
        // Exact: both sides do the same float32 products of the same decoded integers and
        // half-float scales, so every value must match bit for bit.
        var mismatches = 0
        for i in 0 ..< expected.count where got[i].bitPattern != expected[i].bitPattern {
            if mismatches < 5 { XCTFail("\(type) value \(i): got \(got[i]), expected \(expected[i])", file: file, line: line) }
            mismatches += 1
        }
        XCTAssertEqual(mismatches, 0, "\(type): \(mismatches) of \(expected.count) values differ", file: file, line: line)
    }

    func testF16() throws { try check(.f16) }
    func testBF16() throws { try check(.bf16) }
    func testQ4_0() throws { try check(.q4_0) }
    func testQ4_1() throws { try check(.q4_1) }
    func testQ5_0() throws { try check(.q5_0) }
    func testQ5_1() throws { try check(.q5_1) }
    func testQ8_0() throws { try check(.q8_0) }
    func testQ2_K() throws { try check(.q2_K) }
    func testQ3_K() throws { try check(.q3_K) }
    func testQ4_K() throws { try check(.q4_K) }
    func testQ5_K() throws { try check(.q5_K) }
    func testQ6_K() throws { try check(.q6_K) }
    func testQ8_K() throws { try check(.q8_K) }

    /// The bit-trick half conversion against Swift's own Float16 → Float on all 65536 patterns.
    func testHalfConversionIsExactForEveryBitPattern() {
        for bits in 0 ... UInt16.max {
            let expected = Float(Float16(bitPattern: bits))
            let got = halfToFloat(bits)
            if expected.isNaN {
                XCTAssertTrue(got.isNaN, "0x\(String(bits, radix: 16))")
            } else if got.bitPattern != expected.bitPattern {
                XCTFail("0x\(String(bits, radix: 16)): got \(got), expected \(expected)")
                return
            }
        }
    }

    func testF32IsCopied() {
        let values: [Float] = [1, -2.5, .infinity, 0]
        var out = [Float](repeating: 7, count: 4)
        values.withUnsafeBytes { src in out.withUnsafeMutableBufferPointer { dequantize(.f32, from: src.baseAddress!, to: $0.baseAddress!, count: 4) } }
        XCTAssertEqual(out, values)
    }

    func testRawTensorRowsAgreeWithWholeTensor() throws {
        let blocks = try GGUFFixtures.bytes("dequant_q4_k.blocks")
        let expected = try GGUFFixtures.floats("dequant_q4_k.f32")
        let owner = NSArray()
        try blocks.withUnsafeBytes { raw in
            let t = RawTensor(name: "x", type: .q4_K, shape: [2, 256], bytes: raw, owner: owner)
            XCTAssertEqual(t.toFloat32(), expected)
            var row = [Float](repeating: 0, count: 256)
            row.withUnsafeMutableBufferPointer { t.dequantizeRow(1, into: $0.baseAddress!) }
            XCTAssertEqual(row, Array(expected[256...]))
            _ = try XCTUnwrap(t.bytes.baseAddress)
        }
    }
}
