/// The FP8 layout of an HF directory, as transformers' `FineGrainedFP8Config` saves and loads
/// it: each decoder linear weight as `float8_e4m3fn` (`F8_E4M3`) with its float32
/// `weight_scale_inv` of [out/tile, in/tile] beside it, and `quantization_config` in config.json
/// (ms-swift's `modules_to_not_convert` for a dense model: `lm_head`). Embeddings, norms and the
/// head are written in the export dtype.
enum HFFP8Export {
    static func isQuantized(_ t: RawTensor) -> Bool {
        t.shape.count == 2 && t.name.hasPrefix("model.layers.") && t.name.hasSuffix(".weight")
    }

    /// `quantization_config` with transformers 5.24's `FineGrainedFP8Config.to_dict()` keys.
    static func quantizationConfig(tile: Int) -> ExportJSON {
        .object([
            ("quant_method", .string("fp8")),
            ("modules_to_not_convert", .array([.string("lm_head")])),
            ("modules_to_convert", .null),
            ("activation_scheme", .string("dynamic")),
            ("weight_block_size", .array([.int(tile), .int(tile)])),
            ("dequantize", .bool(false)),
            ("scale_fmt", .string("float")),
            ("expert_dtype", .string("fp8")),
        ])
    }

    /// The weight and its scales in HF row order. An fp8_e4m3 weight whose blocks carry
    /// `tile`×`tile` scales is written as it is; any other is quantized from its values.
    static func tensors(_ t: RawTensor, order: [Int]?, tile: Int, keep: inout [HFModelExport.Buffer]) throws -> [SafetensorsWriter.Tensor] {
        let rows = t.shape[0], columns = t.shape[1]
        guard rows % tile == 0, columns % tile == 0 else {
            throw FileError(path: t.name, problem: "shape \(t.shape) is not a whole number of \(tile)×\(tile) fp8 tiles")
        }
        let hfOrdered = reordered(t, order: order)
        var parts = FP8Quantization.tiles(of: hfOrdered, tile: tile)
        if parts == nil {
            let values = hfOrdered.toFloat32()
            let q = values.withUnsafeBufferPointer { FP8Quantization.quantize($0.baseAddress!, rows: rows, columns: columns, tile: tile, name: t.name) }
            parts = FP8Quantization.tiles(of: q, tile: tile)
        }
        guard let (codes, scales) = parts else { throw FileError(path: t.name, problem: "fp8 tiles could not be formed") }
        let codeBuffer = HFModelExport.Buffer(count: codes.count), scaleBuffer = HFModelExport.Buffer(count: scales.count * 4)
        keep += [codeBuffer, scaleBuffer]
        codes.withUnsafeBytes { codeBuffer.bytes.copyMemory(from: $0) }
        scales.withUnsafeBytes { scaleBuffer.bytes.copyMemory(from: $0) }
        let scaleName = String(t.name.dropLast(".weight".count)) + ".weight_scale_inv"
        return [
            SafetensorsWriter.Tensor(name: t.name, dtype: .f8e4m3, shape: t.shape,
                                     bytes: UnsafeRawBufferPointer(rebasing: codeBuffer.bytes[0 ..< codes.count])),
            SafetensorsWriter.Tensor(name: scaleName, dtype: .f32, shape: [rows / tile, columns / tile],
                                     bytes: UnsafeRawBufferPointer(rebasing: scaleBuffer.bytes[0 ..< scales.count * 4])),
        ]
    }

    /// `t` with its rows in `order` (row r of the result is row order[r] of `t`), same type.
    static func reordered(_ t: RawTensor, order: [Int]?) -> RawTensor {
        guard let order, let base = t.bytes.baseAddress else { return t }
        let stride = t.bytesPerRow
        let buffer = OwnedBuffer(byteCount: t.rowCount * stride)
        for r in 0 ..< t.rowCount { (buffer.pointer + r &* stride).copyMemory(from: base + order[r] &* stride, byteCount: stride) }
        return RawTensor(name: t.name, type: t.type, shape: t.shape, bytes: buffer.bytes, owner: buffer)
    }
}
