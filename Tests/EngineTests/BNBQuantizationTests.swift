import Foundation
import XCTest
@testable import Engine

/// bitsandbytes 4-bit quantization against bitsandbytes 0.50.2 itself (quantize_4bit /
/// dequantize_4bit on the CPU): Tests/Fixtures/bnb/bnb_goldens.safetensors, made by
/// Scripts/goldens/bnb.py.
final class BNBQuantizationTests: XCTestCase {
    static let golden: SafetensorsFile? = try? SafetensorsFile(path: TestPaths.fixture("bnb/bnb_goldens.safetensors"))

    func golden() throws -> SafetensorsFile {
        guard let g = Self.golden else {
            XCTFail("Tests/Fixtures/bnb/bnb_goldens.safetensors is missing or unreadable")
            throw CocoaError(.fileNoSuchFile)
        }
        return g
    }

    func floats(_ name: String) throws -> [Float] { try golden().tensor(name).toFloat32() }
    func bytes(_ name: String) throws -> [UInt8] { Array(try golden().rawBytes(name)) }

    /// The packed golden codes (high nibble first), one per value.
    func goldenCodes(_ key: String) throws -> [UInt8] {
        try bytes(key + ".packed").flatMap { [$0 >> 4, $0 & 0x0F] }
    }

    func quantized(_ options: BNBOptions) throws -> RawTensor {
        let input = try golden().tensor("input")
        XCTAssertEqual(input.shape, [40, 448])
        return BNBQuantization.quantize(input, options: options)
    }

    func assertClose(_ a: [Float], _ b: [Float], tolerance: Float, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        var worst: Float = 0, at = 0
        for i in 0..<min(a.count, b.count) where abs(a[i] - b[i]) > worst { worst = abs(a[i] - b[i]); at = i }
        XCTAssertLessThanOrEqual(worst, tolerance, "\(what): largest difference \(worst) at \(at) (\(a[at]) vs \(b[at]))", file: file, line: line)
    }

    func testCodeTablesAreBitsandbytes() throws {
        XCTAssertEqual(BNBFormat.nf4.code, try floats("nf4.code"))
        XCTAssertEqual(BNBFormat.fp4.code, try floats("fp4.code"))
        XCTAssertEqual(BNBDynamicMap.values, try floats("dynamic_map"))
    }

    /// Without double quantization: exact codes and absmax; values as dequantize_4bit gives them.
    func testPlainBlocksEqualBitsandbytes() throws {
        for format in BNBFormat.allCases {
            let key = "\(format.rawValue).plain"
            let t = try quantized(BNBOptions(format: format, doubleQuant: false))
            let codes = BNBQuantization.codes(of: t), reference = try goldenCodes(key)
            let differing = zip(codes, reference).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
            XCTAssertEqual(codes.count, reference.count)
            XCTAssertTrue(differing.isEmpty, "\(key): \(differing.count) codes differ, first at \(differing.first ?? -1)")
            XCTAssertEqual(BNBQuantization.absmax(of: t), try floats(key + ".absmax"), key)
            assertClose(t.toFloat32(), try floats(key + ".dequantized"), tolerance: 1e-6, key)
        }
    }

    /// With double quantization: the same codes, the 8-bit absmax codes, nested absmax and
    /// offset bitsandbytes stores, and the values it dequantizes to.
    func testDoubleQuantizationEqualsBitsandbytes() throws {
        for format in BNBFormat.allCases {
            let key = "\(format.rawValue).dq"
            let t = try quantized(BNBOptions(format: format, doubleQuant: true))
            XCTAssertEqual(BNBQuantization.codes(of: t), try goldenCodes(key), key)
            guard let dq = (t.owner as? BNBWeightStorage)?.doubleQuant else { return XCTFail("\(key): no double-quant state kept") }
            XCTAssertEqual(dq.codes, try bytes(key + ".absmax"), key)
            XCTAssertEqual(dq.nestedAbsmax, try floats(key + ".nested_absmax"), key)
            let offset = try floats(key + ".offset")[0]
            XCTAssertEqual(dq.offset, offset, accuracy: offset.ulp, key)
            assertClose(BNBQuantization.absmax(of: t), try floats(key + ".effective_absmax"), tolerance: 1e-6, key + " absmax")
            assertClose(t.toFloat32(), try floats(key + ".dequantized"), tolerance: 1e-6, key)
        }
    }

    /// bitsandbytes' own double-quantized state (from its CPU build) dequantizes through the
    /// same arithmetic to the absmax bitsandbytes uses, and the nearest-value codes chosen here
    /// are never farther from the true absmax than the CPU build's.
    func testDoubleQuantArithmeticAndChoiceAgainstBitsandbytesCPU() throws {
        for format in BNBFormat.allCases {
            let cpu = "\(format.rawValue).dq.bnb_cpu"
            let theirs = BNBDoubleQuant(codes: try bytes(cpu + ".absmax"), nestedAbsmax: try floats(cpu + ".nested_absmax"),
                                        offset: try floats(cpu + ".offset")[0])
            assertClose(theirs.dequantized, try floats(cpu + ".effective_absmax"), tolerance: 1e-6, cpu)
            let truth = try floats("\(format.rawValue).plain.absmax")
            let ours = BNBDoubleQuant(absmax: truth).dequantized
            // Their nested absmax can differ from ours by an ulp (their mean), so allow that much.
            for i in truth.indices {
                XCTAssertLessThanOrEqual(abs(ours[i] - truth[i]), abs(theirs.dequantized[i] - truth[i]) + 4 * truth[i].ulp, "\(cpu) block \(i)")
            }
        }
    }

    /// bnb_4bit_compute_dtype float16 / bfloat16: each weight rounded as torch's `.to(dtype)`.
    func testComputeDTypeRoundsLikeTorch() throws {
        for format in BNBFormat.allCases {
            for (dtype, suffix) in [(BNBComputeDType.float16, "f16"), (.bfloat16, "bf16")] {
                let key = "\(format.rawValue).dq"
                let t = try quantized(BNBOptions(format: format, doubleQuant: true, computeDType: dtype))
                XCTAssertEqual(t.type, format.type(computeDType: dtype))
                assertClose(t.toFloat32(), try floats(key + ".dequantized_" + suffix), tolerance: 1e-6, "\(key) \(suffix)")
            }
        }
    }

    /// The fused decode kernel gives the dot product of the dequantized row.
    func testKernelDotEqualsDequantizedDot() throws {
        let input = try golden().tensor("input")
        let n = input.rowLength
        var rng = SystemRandomNumberGenerator()
        let x = (0..<n).map { _ in Float.random(in: -1...1, using: &rng) }
        var sums = [Float](repeating: 0, count: n / 32 + 1)
        x.withUnsafeBufferPointer { groupSums32($0.baseAddress!, n, &sums) }
        for format in BNBFormat.allCases {
            for dtype in BNBComputeDType.allCases {
                let t = BNBQuantization.quantize(input, options: BNBOptions(format: format, computeDType: dtype))
                let w = t.toFloat32()
                var y = [Float](repeating: 0, count: t.rowCount)
                x.withUnsafeBufferPointer { xp in
                    sums.withUnsafeBufferPointer { sp in
                        matVecRows(t, x: xp.baseAddress!, sums: sp.baseAddress!, y: &y, rows: 0..<t.rowCount, accumulate: false)
                    }
                }
                for r in 0..<t.rowCount {
                    var expected = 0.0, scale = 0.0
                    for i in 0..<n { expected += Double(w[r * n + i]) * Double(x[i]); scale += abs(Double(w[r * n + i]) * Double(x[i])) }
                    // f32 sums of 448 products in another order: a few ulps of the magnitude sum.
                    XCTAssertEqual(Double(y[r]), expected, accuracy: 1e-6 * max(scale, 1e-30), "\(t.type) row \(r)")
                }
            }
        }
    }
}
