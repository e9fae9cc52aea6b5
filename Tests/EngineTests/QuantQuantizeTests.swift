import XCTest
@testable import Engine

/// Quantizers against gguf-py's `quantize` (bit-exact ports of ggml's reference quantizers)
/// on Tests/Fixtures/gguf/quant_input.f32; Q8_K against a numpy transcription of ggml's.
final class QuantQuantizeTests: XCTestCase {
    private func quantized(_ type: GGMLType, _ x: [Float]) -> [UInt8] {
        var out = [UInt8](repeating: 0xAA, count: type.byteCount(elements: x.count)!)
        x.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBytes { quantize(type, from: src.baseAddress!, to: $0.baseAddress!, count: x.count) }
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
        let got = quantized(type, x)
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

    /// K-quants against ggml's own quantize_row_*_K_ref (libggml-base from llama-cpp-python,
    /// Scripts/goldens/gguf_kquants.py) on kquant_input.f32: weight-like, all-positive,
    /// heavy-tailed, zero and constant sub-blocks, an all-zero super-block and a ramp.
    private func checkKQuant(_ type: GGMLType, file: StaticString = #filePath, line: UInt = #line) throws {
        let x = try GGUFFixtures.floats("kquant_input.f32")
        let expected = try GGUFFixtures.bytes("kquant_\(type.name).bin")
        let got = quantized(type, x)
        XCTAssertEqual(got.count, expected.count, file: file, line: line)
        let firstDiff = zip(got, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        XCTAssertNil(firstDiff, "\(type) bytes differ from ggml first at byte \(firstDiff ?? -1) (super-block \((firstDiff ?? 0) / type.bytesPerBlock), offset \((firstDiff ?? 0) % type.bytesPerBlock))", file: file, line: line)
    }

    func testQ2_KMatchesGGML() throws { try checkKQuant(.q2_K) }
    func testQ4_KMatchesGGML() throws { try checkKQuant(.q4_K) }
    func testQ5_KMatchesGGML() throws { try checkKQuant(.q5_K) }
    func testQ6_KMatchesGGML() throws { try checkKQuant(.q6_K) }
    func testQ3_KMatchesGGML() throws { try checkKQuant(.q3_K) }
    func testQ8_KMatchesGGML() throws { try checkKQuant(.q8_K) }
    func testQ8_1MatchesGGML() throws { try checkKQuant(.q8_1) }

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
            (.q8_0, 127, true), (.q8_1, 127, true), (.q4_0, 8, true), (.q5_0, 16, true), (.q4_1, 15, false), (.q5_1, 31, false),
            (.q8_K, 127, true),
        ]
        for (type, levels, symmetric) in cases {
            let y = dequantized(type, quantized(type, x), count: x.count)
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

    /// K-quant round trips on Gaussian data: the RMS error stays near that of uniform rounding,
    /// step / sqrt(12), where the step is a sub-block's spread over its levels (about 4.5σ/15
    /// for Q4_K's 32 values, 4.5σ/31 for Q5_K, 5σ/64 for Q6_K's 16 signed values, 5σ/8 for
    /// Q3_K, 3.5σ/3 for Q2_K); the bounds are those estimates with about 40% margin for the
    /// scale rounding.
    func testKQuantRoundTripRMSError() throws {
        var state: UInt64 = 0x1234_5678_9ABC_DEF1
        func uniform() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return (Float(state >> 40) + 0.5) / Float(1 << 24)
        }
        let x = (0 ..< 8192).map { _ in (-2 * log(uniform())).squareRoot() * cos(2 * .pi * uniform()) }
        for (type, bound) in [(GGMLType.q4_K, Float(0.12)), (.q5_K, 0.06), (.q6_K, 0.035), (.q3_K, 0.25), (.q2_K, 0.48)] {
            let y = dequantized(type, quantized(type, x), count: x.count)
            let rms = (zip(x, y).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / Float(x.count)).squareRoot()
            XCTAssertLessThan(rms, bound, "\(type) RMS error \(rms)")
            XCTAssertGreaterThan(rms, bound / 20, "\(type) RMS error \(rms) implausibly small")
        }
    }

    func testZeroBlocksStayZero() throws {
        let x = [Float](repeating: 0, count: 256)
        for type in GGMLType.allCases {
            XCTAssertEqual(dequantized(type, quantized(type, x), count: 256), x, "\(type)")
        }
    }
}
