import Foundation

/// The double-quantized absmax of one weight, as bitsandbytes stores it: the blocks' absmax
/// values minus their mean (`offset`), in blocks of 256 over the whole tensor, each an 8-bit
/// index into the dynamic map times the nested block's f32 absmax.
public struct BNBDoubleQuant: Sendable {
    public static let blockSize = 256
    /// One per 4-bit block.
    public var codes: [UInt8]
    /// One per 256 codes (the last block may be shorter).
    public var nestedAbsmax: [Float]
    public var offset: Float

    /// The absmax each 4-bit block is dequantized with: map[code] · nested absmax + offset, in f32.
    public var dequantized: [Float] {
        let map = BNBDynamicMap.values
        return codes.indices.map { map[Int(codes[$0])] * nestedAbsmax[$0 / Self.blockSize] + offset }
    }

    public init(codes: [UInt8], nestedAbsmax: [Float], offset: Float) {
        self.codes = codes
        self.nestedAbsmax = nestedAbsmax
        self.offset = offset
    }

    /// Quantizes `absmax` as bitsandbytes' quantize_4bit(compress_statistics=True) documents
    /// it: offset = the mean (the f32 sum over the count, as torch's mean); per block of 256 the
    /// max |a − offset|; each (a − offset)/max to the nearest map value (searched on the map
    /// with its first entry set to −1, as bitsandbytes does; a tie to the lower index). The
    /// CUDA kernel finds the nearest value; the CPU build's table search misses it for about
    /// 0.2% of values (see Scripts/goldens/bnb.py).
    public init(absmax: [Float]) {
        var sum = 0.0
        for a in absmax { sum += Double(a) }
        offset = absmax.isEmpty ? 0 : Float(sum) / Float(absmax.count)
        var search = BNBDynamicMap.values
        search[0] = -1
        codes = [UInt8](repeating: 0, count: absmax.count)
        nestedAbsmax = []
        var start = 0
        while start < absmax.count {
            let end = min(start + Self.blockSize, absmax.count)
            var m = -Float.greatestFiniteMagnitude
            for i in start..<end { m = max(m, abs(absmax[i] - offset)) }
            nestedAbsmax.append(m)
            for i in start..<end {
                let normed = (absmax[i] - offset) / m
                // The last index whose value is <= normed (0 when none is).
                var lo = 0, hi = 255
                while lo < hi {
                    let mid = (lo + hi + 1) / 2
                    if search[mid] <= normed { lo = mid } else { hi = mid - 1 }
                }
                if lo < 255 && abs(normed - search[lo + 1]) < abs(normed - search[lo]) { lo += 1 }
                codes[i] = UInt8(lo)
            }
            start = end
        }
    }
}

/// Owns a bitsandbytes weight's blocks and remembers how they were made, so an export can
/// write the same double-quantized absmax bitsandbytes would (the blocks hold only its
/// dequantized values; see BNBFormat).
public final class BNBWeightStorage: @unchecked Sendable {
    public let buffer: OwnedBuffer
    public let format: BNBFormat
    public let doubleQuant: BNBDoubleQuant?

    init(buffer: OwnedBuffer, format: BNBFormat, doubleQuant: BNBDoubleQuant?) {
        self.buffer = buffer
        self.format = format
        self.doubleQuant = doubleQuant
    }
}

/// What `quant_method bnb` asks for (transformers' BitsAndBytesConfig, 4-bit).
public struct BNBOptions: Sendable, Equatable {
    public var format: BNBFormat
    public var doubleQuant: Bool
    public var computeDType: BNBComputeDType

    public init(format: BNBFormat = .nf4, doubleQuant: Bool = true, computeDType: BNBComputeDType = .float32) {
        self.format = format
        self.doubleQuant = doubleQuant
        self.computeDType = computeDType
    }

    public var type: GGMLType { format.type(computeDType: computeDType) }
}

public enum BNBQuantization {
    /// `values` (rows × columns, columns a multiple of 64) as a bitsandbytes 4-bit tensor.
    /// `hfRowOrder[h]` is the row holding HF row h when the rows are not in HF order; the
    /// double quantization state (kept in the owner, in HF order) follows HF's order.
    public static func quantize(_ values: UnsafePointer<Float>, name: String, rows: Int, columns: Int,
                                options: BNBOptions, hfRowOrder: [Int]? = nil, pool: ThreadPool = .shared) -> RawTensor {
        precondition(columns % BNBFormat.blockSize == 0, "bitsandbytes rows must be a multiple of 64")
        let perRow = columns / BNBFormat.blockSize
        let blocks = rows * perRow
        var codes = [UInt8](repeating: 0, count: rows * columns)
        var absmax = [Float](repeating: 0, count: blocks)
        codes.withUnsafeMutableBufferPointer { c in
            absmax.withUnsafeMutableBufferPointer { a in
                let cp = c.baseAddress!, ap = a.baseAddress!
                pool.parallelRanges(rows, minimum: 8) { range in
                    for r in range {
                        bnbQuantizeBlocks(options.format, values + r &* columns, count: columns,
                                          codes: cp + r &* columns, absmax: ap + r &* perRow)
                    }
                }
            }
        }
        var nested: BNBDoubleQuant?
        if options.doubleQuant && blocks > 0 {
            // bitsandbytes groups the absmax values of the HF tensor in blocks of 256, so they
            // are taken in HF row order (a llama GGUF keeps q/k rows interleaved).
            let order = hfRowOrder ?? Array(0..<rows)
            var hfAbsmax = [Float](); hfAbsmax.reserveCapacity(blocks)
            for r in order { hfAbsmax += absmax[(r * perRow)..<((r + 1) * perRow)] }
            let dq = BNBDoubleQuant(absmax: hfAbsmax)
            let dequantized = dq.dequantized
            for (h, r) in order.enumerated() {
                for k in 0..<perRow { absmax[r * perRow + k] = dequantized[h * perRow + k] }
            }
            nested = dq
        }
        let buffer = OwnedBuffer(byteCount: blocks * BNBFormat.bytesPerBlock)
        codes.withUnsafeBufferPointer { c in
            absmax.withUnsafeBufferPointer { a in
                bnbPackBlocks(codes: c.baseAddress!, absmax: a.baseAddress!, blocks: blocks, into: buffer.pointer)
            }
        }
        let owner = BNBWeightStorage(buffer: buffer, format: options.format, doubleQuant: nested)
        return RawTensor(name: name, type: options.type, shape: [rows, columns], bytes: buffer.bytes, owner: owner)
    }

    /// `tensor` (any type) dequantized to f32 and quantized.
    public static func quantize(_ tensor: RawTensor, options: BNBOptions, hfRowOrder: [Int]? = nil) -> RawTensor {
        let values = tensor.toFloat32()
        return values.withUnsafeBufferPointer {
            quantize($0.baseAddress!, name: tensor.name, rows: tensor.rowCount, columns: tensor.rowLength,
                     options: options, hfRowOrder: hfRowOrder)
        }
    }

    /// The code index of every value of a bitsandbytes tensor, in order.
    public static func codes(of tensor: RawTensor) -> [UInt8] {
        let blocks = tensor.elementCount / BNBFormat.blockSize
        var out = [UInt8](repeating: 0, count: blocks * BNBFormat.blockSize)
        let p = tensor.bytes.baseAddress!
        for b in 0..<blocks {
            for j in 0..<32 {
                let byte = p.load(fromByteOffset: b * BNBFormat.bytesPerBlock + 4 + j, as: UInt8.self)
                out[b * 64 + 2 * j] = byte >> 4
                out[b * 64 + 2 * j + 1] = byte & 0x0F
            }
        }
        return out
    }

    /// The absmax of every block of a bitsandbytes tensor (after double quantization), in order.
    public static func absmax(of tensor: RawTensor) -> [Float] {
        let blocks = tensor.elementCount / BNBFormat.blockSize
        let p = tensor.bytes.baseAddress!
        return (0..<blocks).map {
            Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: $0 * BNBFormat.bytesPerBlock, as: UInt32.self)))
        }
    }
}

extension LlamaModel {
    /// A copy with every decoder linear weight in bitsandbytes 4-bit, as transformers'
    /// `load_in_4bit` replaces the `nn.Linear` layers: the token embedding and the output
    /// head keep their type, norms and biases stay f32. A matrix whose rows are not a multiple
    /// of 64 keeps its type too (its name is returned).
    public func quantizedBNB(_ options: BNBOptions) throws -> (model: LlamaModel, kept: [String]) {
        var converted: [String: RawTensor] = [:]
        var kept: [String] = []
        for t in namedWeights {
            let isLinear = t.shape.count == 2 && t.name.hasPrefix("model.layers.")
            guard isLinear else { converted[t.name] = t; continue }
            guard t.rowLength % BNBFormat.blockSize == 0 else { converted[t.name] = t; kept.append(t.name); continue }
            let order = HFModelExport.hfRowOrder(t, config: config, style: rope.style)
            converted[t.name] = BNBQuantization.quantize(t, options: options, hfRowOrder: order)
        }
        return (try LlamaModel(config: config, ropeStyle: rope.style) { converted[$0] }, kept)
    }
}
