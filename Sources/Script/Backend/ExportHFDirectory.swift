import Engine
import Foundation

/// `export` without `--to_gguf`: the live model written as an HF directory; and the export
/// options this engine has no counterpart for.
extension EngineSessionBackend {
    /// Export options that need Megatron, the model hub or ms-swift's dataset cache, refused
    /// with a message saying so (before anything is written).
    static func refuseForeignExportOptions(_ a: ResolvedArguments) throws {
        if a.bool("to_mcore") == true || a.bool("to_hf") == true {
            throw BackendError.failed("to_mcore / to_hf convert Megatron-Core checkpoints; this engine has no Megatron support (export writes HF directories and GGUF files)")
        }
        if a.bool("push_to_hub") == true {
            throw BackendError.failed("push_to_hub uploads to a model hub; this engine has no hub access (export writes to output_dir; upload it yourself)")
        }
        if a.bool("to_cached_dataset") == true {
            throw BackendError.failed("to_cached_dataset is not an export this engine has (datasets are tokenized when training starts)")
        }
    }

    /// The dtype of the written weights: `torch_dtype` when given, else float32 for a model
    /// whose matrices are all f32 and float16 otherwise (dequantized GGUF blocks fit in f16).
    static func exportDType(_ a: ResolvedArguments, model: LlamaModel) throws -> HFModelExport.DType {
        if let method = a.string("quant_method"), let type = GGMLType(name: method), type.isGGUFType {
            let asDType: [GGMLType: HFModelExport.DType] = [.f32: .float32, .f16: .float16, .bf16: .bfloat16]
            guard let d = asDType[type] else {
                throw BackendError.failed("quant_method \(method) is a GGUF block type, which an HF directory does not hold: add --to_gguf true (or an output_dir ending in .gguf) for a GGUF file, or use gptq, awq, bnb or fp8 for a quantized HF directory")
            }
            if let name = a.string("torch_dtype"), HFModelExport.DType(name: name) != d {
                throw BackendError.failed("quant_method \(method) and torch_dtype \(name) ask for different weight types; give one of them")
            }
            return d
        }
        if let name = a.string("torch_dtype") {
            guard let d = HFModelExport.DType(name: name) else {
                throw BackendError.failed("torch_dtype \(name) cannot be written (use float32, float16 or bfloat16)")
            }
            return d
        }
        if model.linearWeightTypes == [.f32] { return .float32 }
        if model.linearWeightTypes == [.bf16] { return .bfloat16 }
        return .float16
    }

    static func withoutTrailingSlash(_ path: String) -> String {
        path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
    }

    /// Writes `source` as an HF directory: into `output_dir`, else `defaultDir`, else
    /// `<model>-hf`; in `torch_dtype`, else the dtype `dtypeOf`'s weights call for (for a
    /// merge, the unmerged model's: a Q4_1 base merged in f32 is written as float16).
    /// With `quant_method gptq|awq` the model is calibrated first and its linear layers are
    /// written in that format's packed layout (`qweight`, `qzeros`, `scales`, `g_idx`).
    func exportHFDirectory(_ request: CommandRequest, source: Engine.LoadedModel, handle: ModelHandle,
                           dtypeOf: LlamaModel? = nil, defaultDir: String? = nil,
                           cancel: CancellationFlag = CancellationFlag(), progress: (ProgressEvent) -> Void = { _ in }) throws -> CommandOutcome {
        let a = request.arguments
        var weights: LlamaModel?
        var packed: HFPackedQuantization?
        var calibrationLines: [String] = []
        if let method = CalibratedMethod(a) {
            let layout = HFPackedQuantization(format: method.kind == .gptq ? .gptq : .awq, bits: method.bits,
                                              groupSize: method.groupSize, symmetric: method.symmetric)
            do { try layout.validate(for: source.model.config) } catch { throw BackendError.failed("quant_method \(method.name) to an HF directory: \(error)") }
            let (q, lines) = try calibratedQuantization(method, of: source, request, cancel: cancel, progress: progress)
            (weights, packed, calibrationLines) = (q, layout, lines + fidelityLines(q, reference: source, cancel: cancel))
        }
        // The packed formats keep their dense tensors (embeddings, norms) in float16.
        let dtype: HFModelExport.DType
        if packed != nil && a.string("torch_dtype") == nil { dtype = .float16 } else { dtype = try Self.exportDType(a, model: dtypeOf ?? source.model) }
        let shardSize: Int
        do {
            shardSize = try SafetensorsWriter.parseShardSize(a.string("max_shard_size") ?? "5GB")
        } catch {
            throw BackendError.failed("\(error)")
        }
        let base = Self.modelStem(handle.path)
        let dir = a.string("output_dir") ?? defaultDir ?? "\(base)-hf"
        var options = HFModelExport.Options(dtype: dtype, maxShardSize: shardSize,
                                            safeSerialization: a.bool("safe_serialization") ?? true,
                                            existOK: a.bool("exist_ok") == true, packedQuantization: packed)
        options.fp8Tile = try Self.fp8ExportTile(a, model: source.model)
        let files: [String]
        do {
            files = try HFModelExport.write(source, weights: weights, to: dir, options: options)
        } catch {
            throw BackendError.failed("\(error)")
        }
        let shards = files.filter { $0.hasSuffix(".safetensors") }.count
        let layout = packed.map { ", \($0.format.rawValue) packed layout" }
            ?? options.fp8Tile.map { ", fp8 e4m3 linear weights with \($0)×\($0) weight_scale_inv" } ?? ""
        return CommandOutcome(report: calibrationLines + ["wrote \(dir) (HF model directory, \(dtype.rawValue)\(layout), \(shards) safetensors file\(shards == 1 ? "" : "s"), \(files.count) files)"],
                              outputDir: dir)
    }

    /// `--to_ollama true` beside a GGUF export: the Modelfile that imports it, made before the
    /// GGUF is written so an unsupported chat template fails before anything is touched.
    func ollamaModelfile(_ source: Engine.LoadedModel, ggufPath: String) throws -> (path: String, text: String) {
        do {
            let text = try OllamaModelfile.text(for: source, ggufFileName: (ggufPath as NSString).lastPathComponent)
            let folder = (ggufPath as NSString).deletingLastPathComponent
            return ((folder.isEmpty ? "." : folder) + "/Modelfile", text)
        } catch {
            throw BackendError.failed("to_ollama: \(error)")
        }
    }

    func writeModelfile(_ m: (path: String, text: String)) throws -> String {
        do {
            try Data(m.text.utf8).write(to: URL(fileURLWithPath: m.path), options: .atomic)
        } catch {
            throw BackendError.failed("cannot write \(m.path): \(error.localizedDescription)")
        }
        return "wrote \(m.path) (import with: ollama create NAME -f \(m.path))"
    }
}
