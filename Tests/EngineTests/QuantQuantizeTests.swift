import XCTest
@testable import Engine

/// Quantizers against gguf-py's `quantize` (bit-exact ports of ggml's reference quantizers)
/// on Tests/Fixtures/gguf/quant_input.f32; Q8_K against a numpy transcription of ggml's.
final class QuantQuantizeTests: XCTestCase {
    private func quantized(_ type: GGMLType, _ x: [Float]) throws -> [UInt8] {
        var out = [UInt8](repeating: 0xAA, count: type.byteCount(elements: x.count)!)
        try x.withUnsafeBufferPointer { src in
            try out.withUnsafeMutableBytes { try quantize(type, from: src.baseAddress!, to: $0.baseAddress!, count: x.count) }
        }
        return out
    }

    private func dequantized(_ type: GGMLType, _ bytes: [UInt8], count: Int) -> [Float] {
        var out = [Float](repeating: .nan, count: count)
        bytes.withUnsafeBytes { src in out.withUnsafeMutableBufferPointer { dequantize(type, from: src.baseAddress!, to: $0.baseAddress!, count: count) } }
        return out
    }

    private func checkBytes(_ type: GGMLType, file: StaticString = #filePath, line: UInt = #line) throws {
        let x = try GGUFFixtures.floats("quant_input.f32")
        let expected = try GGUFFixtures.bytes("quant_\(type.name).bin")
        let got = try quantized(type, x)
        XCTAssertEqual(got.count, expected.count, file: file, line: line)
        let firstDiff = zip(got, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        XCTAssertNil(firstDiff, "\(type) bytes differ from gguf-py first at byte \(firstDiff ?? -1) (block \((firstDiff ?? 0) / type.bytesPerBlock))", file: file, line: line)
    }

    func testQ8_0MatchesReference() throws { try checkBytes(.q8_0) }
    func testQ4_0MatchesReference() throws { try checkBytes(.q4_0) }
    func testQ4_1MatchesReference() throws { try checkBytes(.q4_1) }
    func testQ5_0MatchesReference() throws { try checkBytes(.q5_0) }
    func testQ5_1MatchesReference() throws { try checkBytes(.q5_1) }
    func testQ8_KMatchesReference() throws { try checkBytes(.q8_K) }
    func testF16MatchesReference() throws { try checkBytes(.f16) }
    func testBF16MatchesReference() throws { try checkBytes(.bf16) }

    /// Round trip error per block is at most half a quantization step (plus the rounding of the
    /// scale to f16): |x - x̂| <= step/2 * (1 + 2^-10 * levels) + tiny, where the step is the
    /// block's range over its number of levels.
    func testRoundTripErrorWithinHalfStep() throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15   // fixed seed: a deterministic xorshift stream
        func next() -> Float {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Float(state >> 40) / Float(1 << 24) * 2 - 1
        }
        let x = (0 ..< 4096).map { i -> Float in next() * Float(1 + i / 256) }
        let cases: [(GGMLType, levels: Float, symmetric: Bool)] = [
            (.q8_0, 127, true), (.q4_0, 8, true), (.q5_0, 16, true), (.q4_1, 15, false), (.q5_1, 31, false), (.q8_K, 127, true),
        ]
        for (type, levels, symmetric) in cases {
            let y = dequantized(type, try quantized(type, x), count: x.count)
            let bs = type.blockSize
            for b in 0 ..< x.count / bs {
                let block = x[b * bs ..< (b + 1) * bs]
                let amax = block.map(abs).max()!
                let range = symmetric ? amax : block.max()! - block.min()!
                // Symmetric Q4_0/Q5_0 map the signed extreme to -levels, so their step is amax/levels
                // and the far side can clip by one extra step.
                let step = range / levels
                let clip: Float = (type == .q4_0 || type == .q5_0) ? 1 : 0
                let bound = step * (0.5 + clip) * (1 + levels / 1024) + range * 1e-6
                for i in block.indices {
                    XCTAssertLessThanOrEqual(abs(x[i] - y[i]), bound, "\(type) value \(i)")
                }
            }
        }
    }

    func testZeroBlocksStayZero() throws {
        let x = [Float](repeating: 0, count: 256)
        for type in [GGMLType.q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q8_K] {
            XCTAssertEqual(dequantized(type, try quantized(type, x), count: 256), x, "\(type)")
        }
    }

    func testUnsupportedTypeIsAnError() {
        let x = [Float](repeating: 1, count: 256)
        XCTAssertThrowsError(try quantized(.q6_K, x)) { XCTAssertEqual($0 as? QuantizeError, .unsupported(.q6_K)) }
    }
}
