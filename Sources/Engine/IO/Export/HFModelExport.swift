#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Writes a live model as a Hugging Face model directory that `from_pretrained` loads:
/// `config.json`, safetensors weights in HF names and row layout (sharded by `maxShardSize`
/// with `model.safetensors.index.json`), `generation_config.json`, and the tokenizer files.
///
/// Everything is written into a temporary sibling directory that is renamed into place at
/// the end, so the target holds either its old contents or the complete export.
public enum HFModelExport {
    /// The dtype of the written weights (quantized matrices are dequantized into it).
    public enum DType: String, Sendable, CaseIterable {
        case float32, float16, bfloat16

        /// `float32`, `fp32`, `f32`, `float16`, `fp16`, `f16`, `half`, `bfloat16`, `bf16`.
        public init?(name: String) {
            switch name.lowercased() {
            case "float32", "fp32", "f32", "float": self = .float32
            case "float16", "fp16", "f16", "half": self = .float16
            case "bfloat16", "bf16": self = .bfloat16
            default: return nil
            }
        }

        var ggmlType: GGMLType {
            switch self {
            case .float32: return .f32
            case .float16: return .f16
            case .bfloat16: return .bf16
            }
        }
    }

    public struct Options: Sendable {
        public var dtype: DType
        /// Bytes per safetensors shard (transformers' `max_shard_size`).
        public var maxShardSize: Int
        /// Only safetensors is written; false is refused (no pickle `.bin` writer here).
        public var safeSerialization: Bool
        /// Replace an existing non-empty directory.
        public var existOK: Bool
        /// Write the decoder linear weights in transformers' FP8 layout with this tile (HFFP8Export.swift).
        public var fp8Tile: Int? = nil
        /// Write the decoder's linear layers in GPTQ's or AWQ's packed layout (the model must
        /// hold them on that grid), with the matching `quantization_config`.
        public var packedQuantization: HFPackedQuantization?

        public init(dtype: DType = .float32, maxShardSize: Int = 5_000_000_000, safeSerialization: Bool = true, existOK: Bool = false,
                    packedQuantization: HFPackedQuantization? = nil) {
            self.dtype = dtype
            self.maxShardSize = maxShardSize
            self.safeSerialization = safeSerialization
            self.existOK = existOK
            self.packedQuantization = packedQuantization
        }
    }

    /// Writes `model` (the weights of `weights` when given, with `model`'s tokenizer and template)
    /// to `directory`. Returns the file names written, sorted.
    @discardableResult
    public static func write(_ model: LoadedModel, weights: LlamaModel? = nil, to directory: String,
                             options: Options = Options()) throws -> [String] {
        guard options.safeSerialization else {
            throw FileError(path: directory, problem: "only safetensors weights can be written (safe_serialization false asks for PyTorch .bin files, which this engine does not write)")
        }
        try options.packedQuantization?.validate()
        let target = directory.count > 1 && directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        let fm = FileManager.default
        var isDir: ObjCBool = false
        let exists = fm.fileExists(atPath: target, isDirectory: &isDir)
        if exists {
            guard isDir.boolValue else { throw FileError(path: target, problem: "exists and is not a directory") }
            let entries = (try? fm.contentsOfDirectory(atPath: target)) ?? []
            if !entries.isEmpty && !options.existOK {
                throw FileError(path: target, problem: "exists and is not empty; pass --exist_ok true to replace it")
            }
        }
        let parent = parentDirectory(of: target)
        // Folders made here for the export are removed again if it fails.
        var madeFolder: String?
        var p = parent
        while p != "/", p != ".", !p.isEmpty, !fm.fileExists(atPath: p) {
            madeFolder = p
            p = parentDirectory(of: p)
        }
        var placed = false
        defer { if !placed, let madeFolder { try? fm.removeItem(atPath: madeFolder) } }
        try fm.createDirectory(atPath: parent, withIntermediateDirectories: true)
        let suffix = "\(getpid())-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
        let temp = "\(target).tmp-\(suffix)"
        try fm.createDirectory(atPath: temp, withIntermediateDirectories: false)
        defer { if !placed { try? fm.removeItem(atPath: temp) } }

        let live = weights ?? model.model
        try writeWeights(live, to: temp, options: options)
        let quantization = options.packedQuantization.map(\.configJSON) ?? options.fp8Tile.map(HFFP8Export.quantizationConfig) ?? HFBNBExport.quantizationConfig(live)
        try writeText(configJSON(live.config, dtype: options.dtype, quantization: quantization), to: temp + "/config.json")
        try writeText(generationConfigJSON(model, config: live.config), to: temp + "/generation_config.json")
        try HFTokenizerExport.write(model, maxPositions: live.config.maxPositions, to: temp)

        if exists {
            let old = "\(target).old-\(suffix)"
            guard rename(target, old) == 0 else {
                throw FileError(path: target, problem: "cannot move the old directory aside: \(describeErrno(errno))")
            }
            guard rename(temp, target) == 0 else {
                let code = errno
                _ = rename(old, target)
                throw FileError(path: target, problem: "cannot move the export into place: \(describeErrno(code))")
            }
            try? fm.removeItem(atPath: old)
        } else {
            guard rename(temp, target) == 0 else {
                throw FileError(path: target, problem: "cannot move the export into place: \(describeErrno(errno))")
            }
        }
        placed = true
        syncDirectory(parent)
        return ((try? fm.contentsOfDirectory(atPath: target)) ?? []).sorted()
    }

    static func writeText(_ text: String, to path: String) throws {
        try writeAtomically(to: path) { try $0.write(text) }
    }

    // MARK: - Weights

    /// Owns converted tensor bytes until the write returns.
    final class Buffer {
        let bytes: UnsafeMutableRawBufferPointer
        init(count: Int) { bytes = .allocate(byteCount: max(count, 1), alignment: 64) }
        deinit { bytes.deallocate() }
    }

    /// For each HF row of a q/k weight, the live row that holds it: a model loaded from a
    /// `llama` GGUF keeps llama.cpp's interleaved rows (nil for HF layouts).
    static func hfRowOrder(_ t: RawTensor, config: ModelConfig, style: RopeStyle) -> [Int]? {
        guard style == .interleaved, t.shape.count == 2 else { return nil }
        if t.name.hasSuffix("self_attn.q_proj.weight") {
            return GGUFFile.llamaPermutedRowsForHF(rows: t.shape[0], headCount: config.headCount)
        }
        if t.name.hasSuffix("self_attn.k_proj.weight") {
            return GGUFFile.llamaPermutedRowsForHF(rows: t.shape[0], headCount: config.kvHeadCount)
        }
        return nil
    }

    /// A weight in HF layout and `dtype`: a view when nothing changes, else a converted copy.
    static func converted(_ t: RawTensor, order: [Int]?, dtype: DType, keep: inout [Buffer]) throws -> SafetensorsWriter.Tensor {
        let target = dtype.ggmlType
        if t.type == target && order == nil {
            return try SafetensorsWriter.Tensor(t)
        }
        let rows = t.rowCount, width = t.rowLength
        guard let rowOut = target.byteCount(elements: width) else {
            throw FileError(path: t.name, problem: "cannot convert to \(dtype.rawValue)")
        }
        let out = Buffer(count: rows * rowOut)
        keep.append(out)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(width, 1))
        defer { scratch.deallocate() }
        for r in 0 ..< rows {
            let source = order?[r] ?? r
            t.dequantizeRow(source, into: scratch)
            quantize(target, from: scratch, to: out.bytes.baseAddress! + r &* rowOut, count: width)
        }
        let dtypeName: SafetensorsDType = SafetensorsDType(target)!
        return SafetensorsWriter.Tensor(name: t.name, dtype: dtypeName, shape: t.shape,
                                        bytes: UnsafeRawBufferPointer(rebasing: out.bytes[0 ..< rows * rowOut]))
    }

    static func writeWeights(_ m: LlamaModel, to directory: String, options: Options) throws {
        var keep: [Buffer] = []
        let packedStorage = HFPackedQuantization.Storage()
        var tensors: [SafetensorsWriter.Tensor] = []
        let weights = m.namedWeights   // owns the norm vectors the views below point into
        for t in weights {
            let order = hfRowOrder(t, config: m.config, style: m.rope.style)
            if let p = options.packedQuantization, HFPackedQuantization.isPacked(t.name) {
                tensors += try p.packed(t, order: order, storage: packedStorage)
                continue
            }
            if let tile = options.fp8Tile, HFFP8Export.isQuantized(t) {
                tensors += try HFFP8Export.tensors(t, order: order, tile: tile, keep: &keep)
                continue
            }
            if BNBFormat(t.type) != nil { tensors += try HFBNBExport.tensors(t, order: order, keep: &keep); continue }
            tensors.append(try converted(t, order: order, dtype: options.dtype, keep: &keep))
        }
        try withExtendedLifetime((keep, packedStorage, weights, m)) {
            try SafetensorsWriter.writeSharded(tensors, metadata: ["format": "pt"], directory: directory,
                                               maxShardSize: options.maxShardSize)
        }
    }

    // MARK: - config.json

    /// A value that came from a float32 field (GGUF metadata) written with float32's shortest
    /// digits (1e-05, not 9.999999747378752e-06); other values unchanged.
    static func shortestFloat32(_ x: Double) -> Double {
        let f = Float(x)
        guard Double(f) == x, f.isFinite else { return x }
        return Double(f.description) ?? x
    }

    static func hfClassName(_ a: Architecture) -> String {
        switch a {
        case .llama: return "LlamaForCausalLM"
        case .qwen2: return "Qwen2ForCausalLM"
        case .qwen3: return "Qwen3ForCausalLM"
        case .mistral: return "MistralForCausalLM"
        }
    }

    static func tokenIds(_ ids: [Int]) -> ExportJSON {
        switch ids.count {
        case 0: return .null
        case 1: return .int(ids[0])
        default: return .array(ids.map { .int($0) })
        }
    }

    /// transformers 5's `rope_parameters`: theta plus the scaling fields of its kind.
    static func ropeParameters(_ c: ModelConfig) -> ExportJSON {
        var p: [(String, ExportJSON)] = [("rope_theta", .double(shortestFloat32(c.ropeTheta)))]
        guard let s = c.ropeScaling else {
            p.append(("rope_type", .string("default")))
            return .object(p)
        }
        p.append(("rope_type", .string(s.kind.rawValue)))
        p.append(("factor", .double(s.factor)))
        if let o = s.originalMaxPositions { p.append(("original_max_position_embeddings", .int(o))) }
        switch s.kind {
        case .llama3:
            p.append(("low_freq_factor", .double(s.lowFrequencyFactor)))
            p.append(("high_freq_factor", .double(s.highFrequencyFactor)))
        case .yarn:
            p.append(("beta_fast", .double(s.betaFast)))
            p.append(("beta_slow", .double(s.betaSlow)))
            if let a = s.attentionFactor { p.append(("attention_factor", .double(a))) }
        case .linear, .dynamic:
            break
        }
        return .object(p)
    }

    /// `config.json` with the keys transformers 5.24 writes for the architecture's config class.
    static func configJSON(_ c: ModelConfig, dtype: DType, quantization: ExportJSON? = nil) -> String {
        var j: [(String, ExportJSON)] = [
            ("architectures", .array([.string(hfClassName(c.architecture))])),
            ("attention_dropout", .double(0)),
            ("bos_token_id", c.bosTokenId.map { .int($0) } ?? .null),
            ("dtype", .string(dtype.rawValue)),
            ("eos_token_id", tokenIds(c.eosTokenIds)),
            ("hidden_act", .string("silu")),
            ("hidden_size", .int(c.hiddenSize)),
            ("initializer_range", .double(0.02)),
            ("intermediate_size", .int(c.intermediateSize)),
            ("max_position_embeddings", .int(c.maxPositions)),
            ("model_type", .string(c.architecture.rawValue)),
            ("num_attention_heads", .int(c.headCount)),
            ("num_hidden_layers", .int(c.layerCount)),
            ("num_key_value_heads", .int(c.kvHeadCount)),
            ("pad_token_id", c.padTokenId.map { .int($0) } ?? .null),
            ("rms_norm_eps", .double(shortestFloat32(c.rmsNormEps))),
            ("rope_parameters", ropeParameters(c)),
            ("tie_word_embeddings", .bool(c.tieWordEmbeddings)),
            ("use_cache", .bool(true)),
            ("vocab_size", .int(c.vocabSize)),
        ]
        let layerTypes = ExportJSON.array(Array(repeating: .string("full_attention"), count: c.layerCount))
        switch c.architecture {
        case .llama:
            j += [("attention_bias", .bool(c.attentionBias)), ("head_dim", .int(c.headDim)),
                  ("mlp_bias", .bool(false)), ("pretraining_tp", .int(1))]
        case .mistral:
            j += [("head_dim", .int(c.headDim)), ("sliding_window", .null)]
        case .qwen2:
            j += [("layer_types", layerTypes), ("max_window_layers", .int(c.layerCount)),
                  ("sliding_window", .null), ("use_sliding_window", .bool(false))]
        case .qwen3:
            j += [("attention_bias", .bool(c.attentionBias)), ("head_dim", .int(c.headDim)),
                  ("layer_types", layerTypes), ("max_window_layers", .int(c.layerCount)),
                  ("sliding_window", .null), ("use_sliding_window", .bool(false))]
        }
        if let quantization { j.append(("quantization_config", quantization)) }
        return ExportJSON.object(j).rendered() + "\n"
    }

    // MARK: - generation_config.json

    static func generationConfigJSON(_ model: LoadedModel, config c: ModelConfig) -> String {
        var j: [(String, ExportJSON)] = []
        let g = model.generationDefaults
        let eos = (g?.eosTokenIds.isEmpty == false ? g!.eosTokenIds : c.eosTokenIds)
        if let b = g?.bosTokenId ?? c.bosTokenId { j.append(("bos_token_id", .int(b))) }
        if !eos.isEmpty { j.append(("eos_token_id", tokenIds(eos))) }
        if let p = g?.padTokenId ?? c.padTokenId { j.append(("pad_token_id", .int(p))) }
        if let g {
            if let v = g.doSample { j.append(("do_sample", .bool(v))) }
            if let v = g.temperature { j.append(("temperature", .double(v))) }
            if let v = g.topK { j.append(("top_k", .int(v))) }
            if let v = g.topP { j.append(("top_p", .double(v))) }
            if let v = g.repetitionPenalty { j.append(("repetition_penalty", .double(v))) }
            if let v = g.maxNewTokens { j.append(("max_new_tokens", .int(v))) }
            if let v = g.maxLength { j.append(("max_length", .int(v))) }
            if let v = g.numBeams { j.append(("num_beams", .int(v))) }
        }
        return ExportJSON.object(j).rendered() + "\n"
    }
}
