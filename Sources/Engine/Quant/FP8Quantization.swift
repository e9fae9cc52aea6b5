/// FP8 (E4M3) weight quantization as transformers' `FineGrainedFP8Config` does it (the config
/// ms-swift passes for `quant_method fp8`): one scale per tile of `tile`×`tile` weights, from the
/// tile's largest magnitude, so that it maps to 448; weights are multiplied by 448/amax and rounded
/// to E4M3 (saturating at ±448); the stored scale (`weight_scale_inv`) is the reciprocal.
public enum FP8Quantization {
    /// transformers' default `weight_block_size`.
    public static let defaultTile = 128

    /// The tile side for matrices of these shapes: 128 when it divides every side, else the
    /// largest of 64 and 32 that does (transformers leaves matrices the tile does not divide
    /// unquantized; SmolLM2's 576-wide layers would all be left so at 128). Nil when not even 32 does.
    public static func tile(for shapes: [[Int]]) -> Int? {
        [128, 64, 32].first { t in shapes.allSatisfy { $0.count == 2 && $0[0] % t == 0 && $0[1] % t == 0 } }
    }

    /// A tile's multiplier 448/amax and its reciprocal, the stored scale, as transformers
    /// computes them (both 1 for an all-zero tile). torch evaluates `448 / t` as
    /// `reciprocal(t) * 448`, which rounds differently from one division.
    struct TileScale { var multiplier: Float; var scale: Float }

    @inline(__always) static func tileScale(amax: Float) -> TileScale {
        guard amax > 0 else { return TileScale(multiplier: 1, scale: 1) }
        let m = (1 / amax) * FP8E4M3.maxFinite
        return TileScale(multiplier: m, scale: 1 / m)
    }

    /// One block: the scale, then the 32 codes of x·multiplier.
    @inline(__always) static func writeBlock(_ x: UnsafePointer<Float>, scale: TileScale, into dst: UnsafeMutableRawPointer) {
        dst.storeBytes(of: scale.scale, as: Float.self)
        for j in 0..<32 { dst.storeBytes(of: FP8E4M3.encode(x[j] * scale.multiplier), toByteOffset: 4 &+ j, as: UInt8.self) }
    }

    /// A [rows, columns] f32 matrix as fp8_e4m3 blocks with `tile`×`tile` scales.
    public static func quantize(_ w: UnsafePointer<Float>, rows: Int, columns: Int, tile: Int, name: String,
                                pool: ThreadPool = .shared) -> RawTensor {
        precondition(rows % tile == 0 && columns % tile == 0 && tile % 32 == 0, "fp8 tile \(tile) does not divide [\(rows), \(columns)]")
        let rowBytes = GGMLType.fp8_e4m3.byteCount(elements: columns)!
        let buffer = OwnedBuffer(byteCount: rows * rowBytes)
        let tileColumns = columns / tile
        pool.parallelRanges(rows / tile) { tileRows in
            var scales = [TileScale](repeating: TileScale(multiplier: 1, scale: 1), count: tileColumns)
            for tr in tileRows {
                for tc in 0..<tileColumns {
                    var amax: Float = 0
                    for r in (tr &* tile)..<((tr &+ 1) &* tile) {
                        let p = w + (r &* columns &+ tc &* tile)
                        for j in 0..<tile { amax = Swift.max(amax, abs(p[j])) }
                    }
                    scales[tc] = tileScale(amax: amax)
                }
                for r in (tr &* tile)..<((tr &+ 1) &* tile) {
                    for b in 0..<(columns / 32) {
                        writeBlock(w + (r &* columns &+ b &* 32), scale: scales[(b &* 32) / tile],
                                   into: buffer.pointer + (r &* rowBytes &+ b &* 36))
                    }
                }
            }
        }
        return RawTensor(name: name, type: .fp8_e4m3, shape: [rows, columns], bytes: buffer.bytes, owner: buffer)
    }

    /// The codes and the [rows/tile, columns/tile] scales of an fp8_e4m3 tensor, when every
    /// block of each tile carries the tile's scale (as `quantize` writes them); else nil.
    public static func tiles(of t: RawTensor, tile: Int) -> (codes: [UInt8], scales: [Float])? {
        guard t.type == .fp8_e4m3, t.shape.count == 2, tile % 32 == 0 else { return nil }
        let rows = t.shape[0], columns = t.shape[1]
        guard rows % tile == 0, columns % tile == 0, let base = t.bytes.baseAddress else { return nil }
        let rowBytes = t.bytesPerRow, tileColumns = columns / tile
        var scales = [Float](repeating: 0, count: (rows / tile) * tileColumns)
        var codes = [UInt8](repeating: 0, count: rows * columns)
        for r in 0..<rows {
            for b in 0..<(columns / 32) {
                let block = base + (r &* rowBytes &+ b &* 36)
                let s = block.loadUnaligned(as: Float.self)
                let index = (r / tile) &* tileColumns &+ (b &* 32) / tile
                if r % tile == 0 && (b &* 32) % tile == 0 { scales[index] = s } else if scales[index] != s { return nil }
                for j in 0..<32 { codes[r &* columns &+ b &* 32 &+ j] = block.load(fromByteOffset: 4 &+ j, as: UInt8.self) }
            }
        }
        return (codes, scales)
    }
}
