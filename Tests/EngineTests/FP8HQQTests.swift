import Foundation
import XCTest
@testable import Engine

/// E4M3 against torch's float8_e4m3fn, FP8 tiles against transformers' Fp8Quantize, HQQ against
/// the hqq package (Tests/Fixtures/fp8hqq, made by Scripts/goldens/fp8hqq.py), and the fused
/// kernels against dequantize + dot.
final class FP8HQQTests: XCTestCase {
    func floats(_ name: String) throws -> [Float] {
        let d = try Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture("fp8hqq/" + name)))
        return d.withUnsafeBytes { raw in (0..<(d.count / 4)).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) } }
    }

    func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture("fp8hqq/" + name))))
    }

    func testE4M3DecodesEveryCodeAsTorch() throws {
        let golden = try floats("e4m3_decode.f32")
        XCTAssertEqual(golden.count, 256)
        for b in 0..<256 {
            let v = FP8E4M3.decode(UInt8(b))
            if golden[b].isNaN { XCTAssert(v.isNaN, "code \(b)") } else { XCTAssertEqual(v.bitPattern, golden[b].bitPattern, "code \(b)") }
        }
        XCTAssertEqual(FP8E4M3.decode(0x7E), 448)
        // The kernel's bit-level conversion gives the same values for every finite code.
        for start in stride(from: 0, to: 256, by: 16) {
            var v = SIMD16<UInt8>()
            for i in 0..<16 { v[i] = UInt8(start + i) }
            let f = e4m3Floats(v)
            for i in 0..<16 where !golden[start + i].isNaN { XCTAssertEqual(f[i].bitPattern, golden[start + i].bitPattern, "code \(start + i)") }
        }
    }

    func testE4M3EncodesAsTorchCastsWithTiesToEven() throws {
        let inputs = try floats("e4m3_encode_in.f32"), golden = try bytes("e4m3_encode_out.u8")
        XCTAssertEqual(inputs.count, golden.count)
        var mismatches = 0
        for (x, g) in zip(inputs, golden) where FP8E4M3.encode(x) != g {
            mismatches += 1
            if mismatches < 5 { XCTFail("encode(\(x)) = \(FP8E4M3.encode(x)), torch \(g)") }
        }
        XCTAssertEqual(mismatches, 0)
        // Saturation (the fixture holds these too): past 448 stays ±448, never NaN.
        XCTAssertEqual(FP8E4M3.encode(470), 0x7E)
        XCTAssertEqual(FP8E4M3.encode(-1e9), 0xFE)
        XCTAssertEqual(FP8E4M3.encode(.infinity), 0x7E)
        XCTAssertEqual(FP8E4M3.encode(.nan), 0x7F)
    }

    func testFP8TilesMatchTransformers() throws {
        for (tile, rows, columns) in [(64, 128, 192), (128, 256, 384)] {
            let w = try floats("fp8_w\(tile).f32")
            let t = w.withUnsafeBufferPointer { FP8Quantization.quantize($0.baseAddress!, rows: rows, columns: columns, tile: tile, name: "w") }
            let (codes, scales) = try XCTUnwrap(FP8Quantization.tiles(of: t, tile: tile))
            XCTAssertEqual(scales, try floats("fp8_w\(tile)_scales.f32"), "tile \(tile)")
            XCTAssertEqual(scales[0], 1, "an all-zero tile keeps scale 1")
            XCTAssertEqual(codes, try bytes("fp8_w\(tile)_codes.u8"), "tile \(tile)")
            // Dequantized values are code·scale, within half an E4M3 step (2^-4 relative) of w.
            let d = t.toFloat32()
            for i in stride(from: 0, to: w.count, by: 7) { XCTAssertEqual(d[i], w[i], accuracy: abs(w[i]) / 16 + scales.max()! / 512) }
        }
    }

    func testHQQMatchesThePackage() throws {
        let w = try floats("hqq_w.f32")
        for bits in [4, 8] {
            let q = w.withUnsafeBufferPointer { HQQ.quantize($0.baseAddress!, count: w.count, bits: bits) }
            let scales = try floats("hqq\(bits)_scales.f32"), zeros = try floats("hqq\(bits)_zeros.f32")
            let codes = try bytes("hqq\(bits)_codes.u8"), dequant = try floats("hqq\(bits)_dequant.f32")
            XCTAssertEqual(q.scales.count, w.count / 64)
            // The scale comes from min/max alone: the same float32 arithmetic gives the same bits.
            XCTAssertEqual(q.scales, scales, "\(bits) bits")
            // The zeros are means over 64 values, summed in another order than torch's: float32 noise.
            for g in 0..<zeros.count { XCTAssertEqual(q.zeros[g], zeros[g], accuracy: 1e-5 * max(1, abs(zeros[g])), "\(bits) bits group \(g)") }
            // A zero that moves by float32 noise can move a value sitting on a rounding boundary.
            let same = zip(q.codes, codes).filter { $0 == $1 }.count
            XCTAssertGreaterThanOrEqual(Double(same) / Double(codes.count), 0.999, "\(bits) bits")
            let t = q.tensor(name: "w", rows: 96, columns: 256)
            XCTAssertEqual(t.type, bits == 4 ? .hqq4 : .hqq8)
            let d = t.toFloat32()
            var worst: Float = 0
            for i in 0..<d.count where q.codes[i] == codes[i] { worst = max(worst, abs(d[i] - dequant[i])) }
            XCTAssertLessThan(worst, 1e-6, "\(bits) bits")
            // The solver lowers the l1 error below min/max rounding alone.
            let meanError = zip(d, w).map { abs($0 - $1) }.reduce(0, +) / Float(w.count)
            let step = q.scales.reduce(0, +) / Float(q.scales.count)
            XCTAssertLessThan(meanError, step * 0.3, "\(bits) bits")
        }
        // The shortcut in the shrink step: below the cutoff the l_p shrink is exactly zero.
        for m in stride(from: Float(1e-8), to: HQQ.shrinkCutoff, by: 1e-4) {
            XCTAssertEqual(max(m - (1 / HQQ.beta) * powf(m, HQQ.lpNorm - 1), 0), 0, "\(m)")
        }
    }

    func testFusedDotsEqualDequantizePlusDot() throws {
        var rng = RandomSource(seed: 3)
        let rows = 64, columns = 256
        let w = (0..<(rows * columns)).map { _ in Float(Double(rng.next() % 20001) / 10000 - 1) * 0.05 }
        let x = (0..<columns).map { _ in Float(Double(rng.next() % 20001) / 10000 - 1) }
        let tensors: [RawTensor] = w.withUnsafeBufferPointer { p in
            [FP8Quantization.quantize(p.baseAddress!, rows: rows, columns: columns, tile: 64, name: "fp8", pool: .shared),
             HQQ.quantize(p.baseAddress!, count: w.count, bits: 4).tensor(name: "h4", rows: rows, columns: columns),
             HQQ.quantize(p.baseAddress!, count: w.count, bits: 8).tensor(name: "h8", rows: rows, columns: columns)]
        }
        var sums = [Float](repeating: 0, count: columns / 32)
        groupSums32(x, columns, &sums)
        for t in tensors {
            let d = t.toFloat32()
            var y = [Float](repeating: 0, count: rows)
            matVecRows(t, x: x, sums: sums, y: &y, rows: 0..<rows, accumulate: false)
            for r in 0..<rows {
                var reference = 0.0, magnitude = 0.0
                for c in 0..<columns { reference += Double(d[r * columns + c]) * Double(x[c]); magnitude += abs(Double(d[r * columns + c]) * Double(x[c])) }
                // f32 sums in another order: a few ulps of the sum of magnitudes.
                XCTAssertEqual(Double(y[r]), reference, accuracy: magnitude * 1e-6, "\(t.type) row \(r)")
            }
            // Row-local quantize/dequantize of the same type round-trips through the generic entry points.
            var row = [UInt8](repeating: 0, count: t.type.byteCount(elements: columns)!)
            quantize(t.type, from: w, to: &row, count: columns)
            var back = [Float](repeating: 0, count: columns)
            dequantize(t.type, from: row, to: &back, count: columns)
            for c in 0..<columns { XCTAssertEqual(back[c], w[c], accuracy: t.type == .hqq4 ? 0.01 : 0.002, "\(t.type)") }
        }
        // Reported, not asserted (a shared host): one thread's mat-vec over a 576×1536 matrix.
        let speeds = [GGMLType.q4_1, .q8_0, .fp8_e4m3, .hqq4, .hqq8].map { String(format: "%@ %.2f", $0.name, KernelBenchmark.matVecWeightsPerSecond($0) / 1e9) }
        print("mat-vec G weights/s, one thread: " + speeds.joined(separator: ", "))
    }
}
