extension GGUFFile {
    /// Which pairs of a head's q/k features RoPE rotates together, as the weights in this
    /// file are laid out.
    ///
    /// HF checkpoints of all supported families use "rotate half" (NEOX style): feature i pairs
    /// with feature i + headDim/2. llama.cpp's converter permutes the rows of q and k for
    /// architecture `llama` (so also Mistral and SmolLM2) so that the same rotation becomes one
    /// on adjacent features (x[2i], x[2i+1]) — ggml's "normal" RoPE. Qwen2 and Qwen3 GGUFs are
    /// not permuted and keep rotate-half (ggml's NEOX mode).
    public enum RopeStyle: Sendable, Equatable {
        /// Pairs (x[2i], x[2i+1]): GGUF `llama`.
        case interleaved
        /// Pairs (x[i], x[i + d/2]): HF layout, GGUF `qwen2`, `qwen3`.
        case halves
    }

    /// The RoPE pairing of this file's q/k weights; nil for an architecture this engine does not know.
    public var ropeStyle: RopeStyle? {
        switch architectureName {
        case "llama"?, "mistral"?: return .interleaved
        case "qwen2"?, "qwen3"?: return .halves
        default: return nil
        }
    }

    /// For a q or k weight of a `llama` GGUF (rows permuted by llama.cpp's converter), the GGUF
    /// row that holds each HF row: `hfRow[r]` is the file row to read for HF row r. Gathering
    /// rows this way gives HF's rotate-half layout (rows are whole blocks, so this works on
    /// quantized rows too). Use `headCount` for q and the key/value head count for k.
    public static func llamaPermutedRowsForHF(rows: Int, headCount: Int) -> [Int] {
        precondition(headCount > 0 && rows % (2 * headCount) == 0, "rows must split into heads of even size")
        let headDim = rows / headCount, half = headDim / 2
        var order = [Int](repeating: 0, count: rows)
        for h in 0 ..< headCount {
            for s in 0 ..< 2 {
                for i in 0 ..< half {
                    order[h * headDim + s * half + i] = h * headDim + 2 * i + s
                }
            }
        }
        return order
    }
}

extension GGUFFile {
    /// Owns the bytes of a tensor whose rows were reordered (a copy, unlike map views).
    private final class RowBuffer {
        let bytes: UnsafeMutableRawBufferPointer
        init(count: Int) { bytes = .allocate(byteCount: max(count, 1), alignment: 64) }
        deinit { bytes.deallocate() }
    }

    /// The tensor stored as `ggufName`, named and laid out as HF would have it: the HF name
    /// (`GGUFTensorNames.hfName`), and for a `llama` file's q/k projection weights the rows put
    /// back in rotate-half order (a copy; every other tensor is a view into the map). Returns nil
    /// when there is no such tensor or it has no HF name.
    public func hfTensor(ggufName: String) throws -> RawTensor? {
        guard let raw = tensor(ggufName), let hf = GGUFTensorNames.hfName(ggufName) else { return nil }
        let isQ = ggufName.hasSuffix(".attn_q.weight"), isK = ggufName.hasSuffix(".attn_k.weight")
        guard ropeStyle == .interleaved, isQ || isK else {
            return RawTensor(name: hf, type: raw.type, shape: raw.shape, bytes: raw.bytes, owner: raw.owner)
        }
        guard let arch = architectureName else { return nil }
        let heads = try requiredPositiveInt("\(arch).attention.head_count")
        let groups = isQ ? heads : (try metadataPositiveInt("\(arch).attention.head_count_kv") ?? heads)
        let rows = raw.rowCount
        guard raw.shape.count == 2, rows % (2 * groups) == 0 else {
            throw metadataError("tensor '\(ggufName)' has \(rows) rows, not whole heads of even size for \(groups) heads")
        }
        let order = GGUFFile.llamaPermutedRowsForHF(rows: rows, headCount: groups)
        let rowBytes = raw.bytesPerRow
        let buffer = RowBuffer(count: raw.bytes.count)
        for (hfRow, fileRow) in order.enumerated() {
            (buffer.bytes.baseAddress! + hfRow * rowBytes)
                .copyMemory(from: raw.bytes.baseAddress! + fileRow * rowBytes, byteCount: rowBytes)
        }
        return RawTensor(name: hf, type: raw.type, shape: raw.shape,
                         bytes: UnsafeRawBufferPointer(rebasing: buffer.bytes[0 ..< raw.bytes.count]), owner: buffer)
    }
}
