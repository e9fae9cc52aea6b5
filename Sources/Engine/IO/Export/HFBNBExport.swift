/// bitsandbytes 4-bit weights in the layout transformers saves a `load_in_4bit` model in (and
/// loads back with `from_pretrained`): for a linear layer's `W.weight`
///
///   W.weight                                  U8 [n/2, 1]  code bytes, value 2i in the high nibble
///   W.weight.absmax                           F32 [n/64], or with double quantization U8 codes
///   W.weight.quant_map                        F32 [16]     the NF4 / FP4 table
///   W.weight.nested_absmax                    F32 [⌈n/64/256⌉]   (double quantization)
///   W.weight.nested_quant_map                 F32 [256]          (double quantization)
///   W.weight.quant_state.bitsandbytes__nf4    U8 JSON: quant_type, blocksize, dtype, shape
///                                             (+ nested_blocksize, nested_dtype, nested_offset)
///
/// with rows in HF order and `quantization_config` in config.json.
enum HFBNBExport {
    /// The tensors for one bitsandbytes weight. `order[h]` is the live row holding HF row h.
    static func tensors(_ t: RawTensor, order: [Int]?, keep: inout [HFModelExport.Buffer]) throws -> [SafetensorsWriter.Tensor] {
        guard let format = BNBFormat(t.type), let dtype = BNBComputeDType(t.type), t.shape.count == 2 else {
            throw FileError(path: t.name, problem: "is not a bitsandbytes 4-bit matrix")
        }
        let rows = t.shape[0], columns = t.shape[1]
        let perRow = columns / BNBFormat.blockSize, blocks = rows * perRow
        let base = t.bytes.baseAddress!
        func buffer(_ count: Int) -> HFModelExport.Buffer {
            let b = HFModelExport.Buffer(count: count)
            keep.append(b)
            return b
        }
        func view(_ b: HFModelExport.Buffer, _ count: Int) -> UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(b.bytes)[0..<count])
        }
        var out: [SafetensorsWriter.Tensor] = []

        let packed = buffer(blocks * 32)
        var hfAbsmax = [Float](repeating: 0, count: blocks)
        for h in 0..<rows {
            let r = order?[h] ?? h
            for k in 0..<perRow {
                let block = base + (r * perRow + k) * BNBFormat.bytesPerBlock
                hfAbsmax[h * perRow + k] = Float(bitPattern: UInt32(littleEndian: block.loadUnaligned(as: UInt32.self)))
                (packed.bytes.baseAddress! + (h * perRow + k) * 32).copyMemory(from: block + 4, byteCount: 32)
            }
        }
        out.append(.init(name: t.name, dtype: .u8, shape: [blocks * 32, 1], bytes: view(packed, blocks * 32)))

        func floats(_ name: String, _ values: [Float]) {
            let b = buffer(values.count * 4)
            values.withUnsafeBytes { b.bytes.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            out.append(.init(name: name, dtype: .f32, shape: [values.count], bytes: view(b, values.count * 4)))
        }
        func bytes(_ name: String, _ values: [UInt8]) {
            let b = buffer(values.count)
            values.withUnsafeBytes { b.bytes.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            out.append(.init(name: name, dtype: .u8, shape: [values.count], bytes: view(b, values.count)))
        }

        // json.dumps of bitsandbytes' dict: insertion order, ", " and ": " separators.
        var state = "{\"quant_type\": \"\(format.rawValue)\", \"blocksize\": \(BNBFormat.blockSize), \"dtype\": \"\(dtype.rawValue)\", \"shape\": [\(rows), \(columns)]"
        if let dq = (t.owner as? BNBWeightStorage)?.doubleQuant, dq.codes.count == blocks {
            bytes(t.name + ".absmax", dq.codes)
            floats(t.name + ".nested_absmax", dq.nestedAbsmax)
            floats(t.name + ".nested_quant_map", BNBDynamicMap.values)
            state += ", \"nested_blocksize\": \(BNBDoubleQuant.blockSize), \"nested_dtype\": \"float32\", \"nested_offset\": \(PythonFormat.repr(Double(dq.offset)))"
        } else {
            floats(t.name + ".absmax", hfAbsmax)
        }
        floats(t.name + ".quant_map", format.code)
        bytes(t.name + ".quant_state.bitsandbytes__" + format.rawValue, Array((state + "}").utf8))
        return out
    }

    /// transformers' `BitsAndBytesConfig.to_dict()` for a model whose matrices are `types`,
    /// nil when none is a bitsandbytes type.
    static func quantizationConfig(_ m: LlamaModel) -> ExportJSON? {
        var format: BNBFormat?, dtype: BNBComputeDType?, nested = false
        for l in m.layers {
            for w in [l.q, l.k, l.v, l.o, l.gate, l.up, l.down].map(\.weight) {
                guard let f = BNBFormat(w.type) else { continue }
                format = f
                dtype = BNBComputeDType(w.type)
                if (w.owner as? BNBWeightStorage)?.doubleQuant != nil { nested = true }
            }
        }
        guard let format, let dtype else { return nil }
        return .object([
            ("quant_method", .string("bitsandbytes")), ("_load_in_8bit", .bool(false)), ("_load_in_4bit", .bool(true)),
            ("llm_int8_threshold", .double(6)), ("llm_int8_skip_modules", .null),
            ("llm_int8_enable_fp32_cpu_offload", .bool(false)), ("llm_int8_has_fp16_weight", .bool(false)),
            ("bnb_4bit_quant_type", .string(format.rawValue)), ("bnb_4bit_use_double_quant", .bool(nested)),
            ("bnb_4bit_compute_dtype", .string(dtype.rawValue)), ("bnb_4bit_quant_storage", .string("uint8")),
            ("load_in_4bit", .bool(true)), ("load_in_8bit", .bool(false)),
        ])
    }
}
