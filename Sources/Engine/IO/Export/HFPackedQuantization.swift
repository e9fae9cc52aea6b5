/// The packed tensor layouts that GPTQ and AWQ checkpoints use in an HF directory, made from
/// a linear weight the engine holds on a `GroupGrid` (Q4_0, Q4_1 or Q8_0 blocks whose blocks
/// within a group repeat one scale): each `….weight` becomes
///
/// - GPTQ (AutoGPTQ / gptqmodel, checkpoint format `gptq`, i.e. v1): `qweight` int32
///   [in·bits/32, out], word k of column o holding the codes of inputs k·p … k·p+p−1
///   (p = 32/bits), the first in the lowest bits; `qzeros` int32 [groups, out·bits/32],
///   packed the same way along the outputs, storing zero − 1; `scales` f16 [groups, out];
///   `g_idx` int32 [in] = i / group_size. A weight is scales[g]·(q − zero).
/// - AWQ (AutoAWQ's GEMM version, 4 bits with a zero point only): `qweight` int32
///   [in, out/8], word c of input row i holding outputs 8c … 8c+7 with output 8c+order[k] in
///   bits 4k…4k+3 (order = 0 2 4 6 1 3 5 7); `qzeros` int32 [groups, out/8] in the same
///   order, storing zero itself; `scales` f16 [groups, out]. In features must be a multiple
///   of the group size.
///
/// Symmetric grids (Q4_0, Q8_0) give these formats' own values exactly: d·(q − 8) is
/// scales·(q − zero) with zero 8. A zero-point grid (Q4_1) stores the minimum m = f16(−zero·d)
/// where these formats compute (q − zero)·d, so the two differ by m's f16 rounding (at most
/// 2⁻¹¹·|zero·d|); the integer codes, zeros and scales are carried over exactly.
public struct HFPackedQuantization: Sendable, Equatable {
    public enum Format: String, Sendable { case gptq, awq }

    public var format: Format
    public var bits: Int
    public var groupSize: Int
    public var symmetric: Bool
    /// GPTQ's damping, recorded in its config.
    public var dampPercent: Double

    public init(format: Format, bits: Int, groupSize: Int, symmetric: Bool, dampPercent: Double = 0.1) {
        self.format = format
        self.bits = bits
        self.groupSize = groupSize
        self.symmetric = symmetric
        self.dampPercent = dampPercent
    }

    /// The GGUF block type the engine holds this grid in.
    var blockType: GGMLType { bits == 8 ? .q8_0 : (symmetric ? .q4_0 : .q4_1) }

    /// `quantization_config` as AutoGPTQ's `BaseQuantizeConfig.to_dict` / AutoAWQ's
    /// `AwqConfig.to_transformers_dict` write it.
    var configJSON: ExportJSON {
        switch format {
        case .gptq:
            return .object([("bits", .int(bits)), ("checkpoint_format", .string("gptq")), ("damp_percent", .double(dampPercent)),
                            ("desc_act", .bool(false)), ("group_size", .int(groupSize)), ("quant_method", .string("gptq")),
                            ("static_groups", .bool(false)), ("sym", .bool(symmetric)), ("true_sequential", .bool(false))])
        case .awq:
            return .object([("bits", .int(bits)), ("group_size", .int(groupSize)), ("modules_to_not_convert", .null),
                            ("quant_method", .string("awq")), ("version", .string("gemm")), ("zero_point", .bool(!symmetric))])
        }
    }

    /// The HF weights of the decoder layers' linear layers are packed; embeddings, norms and a
    /// separate head stay dense.
    static func isPacked(_ name: String) -> Bool {
        name.hasPrefix("model.layers.") && name.hasSuffix("_proj.weight")
    }

    /// Refuses a grid the format cannot hold, before anything is written.
    public func validate() throws {
        switch format {
        case .gptq:
            guard bits == 4 || bits == 8, symmetric || bits == 4 else {
                throw FileError(path: "quantization_config", problem: "GPTQ export takes 4-bit (symmetric or not) or 8-bit symmetric grids, not \(bits)-bit\(symmetric ? "" : " with a zero point")")
            }
        case .awq:
            guard bits == 4, !symmetric else {
                throw FileError(path: "quantization_config", problem: "AWQ's GEMM layout holds 4-bit weights with a zero point only (AutoAWQ packs no other), not \(bits)-bit\(symmetric ? " symmetric" : "")")
            }
        }
        guard groupSize > 0, groupSize % 32 == 0 else {
            throw FileError(path: "quantization_config", problem: "group_size \(groupSize) is not a multiple of 32")
        }
    }

    /// `validate()` and the shapes of `config`'s linear layers, so a model the layout cannot
    /// hold is refused before minutes of calibration.
    public func validate(for config: ModelConfig) throws {
        try validate()
        let qDim = config.headCount * config.headDim, kvDim = config.kvHeadCount * config.headDim
        let perWord = 32 / bits
        for out in [config.hiddenSize, qDim, kvDim, config.intermediateSize] where out % perWord != 0 {
            throw FileError(path: "quantization_config", problem: "a linear layer has \(out) outputs, not a multiple of \(perWord) as \(format.rawValue)'s qzeros packs them")
        }
        if format == .awq {
            for n in [config.hiddenSize, qDim, config.intermediateSize] where n % groupSize != 0 {
                throw FileError(path: "quantization_config", problem: "a linear layer has \(n) inputs, not a multiple of group_size \(groupSize), which AWQ's layout requires (AutoAWQ refuses such a layer); use group_size \(Self.largestDividingGroup(n)) or GPTQ")
            }
        }
    }

    /// The codes (rows × columns, 0…2^bits−1), f16 scale bits and integer zeros (rows × groups)
    /// of a weight held in `blockType` blocks on this grid.
    func unpack(_ t: RawTensor) throws -> (codes: [UInt8], scales: [UInt16], zeros: [UInt8]) {
        guard t.type == blockType, t.shape.count == 2 else {
            throw FileError(path: t.name, problem: "is \(t.type.name) \(t.shape), not a matrix of \(blockType.name) blocks as a \(bits)-bit \(format.rawValue) grid is held")
        }
        let rows = t.shape[0], n = t.shape[1]
        guard n % 32 == 0, let rowBytes = blockType.byteCount(elements: n), t.bytes.count == rows * rowBytes else {
            throw FileError(path: t.name, problem: "has \(t.bytes.count) bytes, not whole \(blockType.name) rows of \(n)")
        }
        let groups = (n + groupSize - 1) / groupSize
        var codes = [UInt8](repeating: 0, count: rows * n)
        var scales = [UInt16](repeating: 0, count: rows * groups)
        var zeros = [UInt8](repeating: 0, count: rows * groups)
        let base = t.bytes.baseAddress!
        let blockBytes = blockType.bytesPerBlock
        for r in 0..<rows {
            let row = base + r * rowBytes
            for g in 0..<groups {
                let first = (g * groupSize) / 32, last = min(n, (g + 1) * groupSize) / 32
                let d = row.loadUnaligned(fromByteOffset: first * blockBytes, as: UInt16.self)
                let m = blockType == .q4_1 ? row.loadUnaligned(fromByteOffset: first * blockBytes + 2, as: UInt16.self) : 0
                for b in first..<last {
                    let block = row + b * blockBytes
                    let sameScale = block.loadUnaligned(as: UInt16.self) == d
                    let sameMin = blockType != .q4_1 || block.loadUnaligned(fromByteOffset: 2, as: UInt16.self) == m
                    guard sameScale && sameMin else {
                        throw FileError(path: t.name, problem: "row \(r) has blocks of different scales within group \(g): it is not on a grid of group size \(groupSize) (quantize it with quant_method \(format.rawValue))")
                    }
                    let out = r * n + b * 32
                    switch blockType {
                    case .q4_0, .q4_1:
                        let q = block + (blockType == .q4_0 ? 2 : 4)
                        for j in 0..<16 {
                            let byte = q.load(fromByteOffset: j, as: UInt8.self)
                            codes[out + j] = byte & 0x0F
                            codes[out + j + 16] = byte >> 4
                        }
                    default:
                        for j in 0..<32 {
                            codes[out + j] = UInt8(truncatingIfNeeded: Int(block.load(fromByteOffset: 2 + j, as: Int8.self)) + 128)
                        }
                    }
                }
                scales[r * groups + g] = d
                switch blockType {
                case .q4_0: zeros[r * groups + g] = 8
                case .q8_0: zeros[r * groups + g] = 128
                default:
                    // m = f16(−zero·d): −m/d is within 15·2⁻¹¹ of the integer zero.
                    let scale = Float(Float16(bitPattern: d)), minimum = Float(Float16(bitPattern: m))
                    let z = scale == 0 ? 0 : (-minimum / scale).rounded()
                    guard z.isFinite, z >= 0, z <= 15 else {
                        throw FileError(path: t.name, problem: "row \(r) group \(g) has minimum \(minimum) and scale \(scale): no zero point in 0…15")
                    }
                    zeros[r * groups + g] = UInt8(z)
                }
            }
        }
        return (codes, scales, zeros)
    }

    /// Owns packed bytes until the write returns.
    final class Storage {
        var buffers: [UnsafeMutableRawBufferPointer] = []
        func make(_ count: Int) -> UnsafeMutableRawBufferPointer {
            let b = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 4), alignment: 64)
            b.initializeMemory(as: UInt8.self, repeating: 0)
            buffers.append(b)
            return b
        }
        deinit { for b in buffers { b.deallocate() } }
    }

    /// The packed tensors for the linear weight `t` (HF name `….weight`); `order` maps each HF
    /// row to the row of `t` that holds it (nil: the same).
    func packed(_ t: RawTensor, order: [Int]?, storage: Storage) throws -> [SafetensorsWriter.Tensor] {
        let (codes, scaleBits, zeros) = try unpack(t)
        let out = t.shape[0], n = t.shape[1]
        let groups = (n + groupSize - 1) / groupSize
        let perWord = 32 / bits
        guard out % perWord == 0 else {
            throw FileError(path: t.name, problem: "has \(out) outputs, not a multiple of \(perWord) as \(format.rawValue)'s qzeros packs them")
        }
        if format == .awq && n % groupSize != 0 {
            throw FileError(path: t.name, problem: "has \(n) inputs, not a multiple of group_size \(groupSize), which AWQ's layout requires (AutoAWQ refuses such a layer); use group_size \(Self.largestDividingGroup(n)) or GPTQ")
        }
        let prefix = String(t.name.dropLast("weight".count))
        let source = { (o: Int) in order?[o] ?? o }

        let scales = storage.make(groups * out * 2)
        for g in 0..<groups { for o in 0..<out { scales.storeBytes(of: scaleBits[source(o) * groups + g], toByteOffset: (g * out + o) * 2, as: UInt16.self) } }
        let qzeros = storage.make(groups * (out / perWord) * 4)
        var tensors: [SafetensorsWriter.Tensor] = []
        switch format {
        case .gptq:
            let qweight = storage.make((n / perWord) * out * 4)
            for k in 0..<(n / perWord) {
                for o in 0..<out {
                    var word: UInt32 = 0
                    let row = source(o) * n + k * perWord
                    for j in 0..<perWord { word |= UInt32(codes[row + j]) << UInt32(bits * j) }
                    qweight.storeBytes(of: word, toByteOffset: (k * out + o) * 4, as: UInt32.self)
                }
            }
            for g in 0..<groups {
                for c in 0..<(out / perWord) {
                    var word: UInt32 = 0
                    for j in 0..<perWord {
                        let z = UInt32(zeros[source(c * perWord + j) * groups + g]) &- 1
                        word |= (z & UInt32((1 << bits) - 1)) << UInt32(bits * j)
                    }
                    qzeros.storeBytes(of: word, toByteOffset: (g * (out / perWord) + c) * 4, as: UInt32.self)
                }
            }
            let gIdx = storage.make(n * 4)
            for i in 0..<n { gIdx.storeBytes(of: Int32(i / groupSize), toByteOffset: i * 4, as: Int32.self) }
            tensors.append(.init(name: prefix + "qweight", dtype: .i32, shape: [n / perWord, out], bytes: UnsafeRawBufferPointer(qweight)))
            tensors.append(.init(name: prefix + "qzeros", dtype: .i32, shape: [groups, out / perWord], bytes: UnsafeRawBufferPointer(qzeros)))
            tensors.append(.init(name: prefix + "scales", dtype: .f16, shape: [groups, out], bytes: UnsafeRawBufferPointer(scales)))
            tensors.append(.init(name: prefix + "g_idx", dtype: .i32, shape: [n], bytes: UnsafeRawBufferPointer(gIdx)))
        case .awq:
            let qweight = storage.make(n * (out / 8) * 4)
            for i in 0..<n {
                for c in 0..<(out / 8) {
                    var word: UInt32 = 0
                    for k in 0..<8 { word |= UInt32(codes[source(c * 8 + Self.awqOrder[k]) * n + i]) << UInt32(4 * k) }
                    qweight.storeBytes(of: word, toByteOffset: (i * (out / 8) + c) * 4, as: UInt32.self)
                }
            }
            for g in 0..<groups {
                for c in 0..<(out / 8) {
                    var word: UInt32 = 0
                    for k in 0..<8 { word |= UInt32(zeros[source(c * 8 + Self.awqOrder[k]) * groups + g]) << UInt32(4 * k) }
                    qzeros.storeBytes(of: word, toByteOffset: (g * (out / 8) + c) * 4, as: UInt32.self)
                }
            }
            tensors.append(.init(name: prefix + "qweight", dtype: .i32, shape: [n, out / 8], bytes: UnsafeRawBufferPointer(qweight)))
            tensors.append(.init(name: prefix + "qzeros", dtype: .i32, shape: [groups, out / 8], bytes: UnsafeRawBufferPointer(qzeros)))
            tensors.append(.init(name: prefix + "scales", dtype: .f16, shape: [groups, out], bytes: UnsafeRawBufferPointer(scales)))
        }
        return tensors
    }

    /// AutoAWQ's packing order: nibble k of a word holds output 8c + awqOrder[k].
    static let awqOrder = [0, 2, 4, 6, 1, 3, 5, 7]

    static func largestDividingGroup(_ n: Int) -> Int {
        var g = 128
        while g > 32 && n % g != 0 { g /= 2 }
        return g
    }
}
