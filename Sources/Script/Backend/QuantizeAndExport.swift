import Engine
import Foundation

/// `quantize --quant_method T` (a new live model in memory) and `export` to GGUF, over the
/// session's live model, each reporting the fidelity of the result.
extension EngineSessionBackend {
    /// Held-out text for the fidelity report: Debian's copy of the GPL (base-files), present on
    /// every Debian system; nil when the file is missing.
    static let heldOutText: String? = try? String(contentsOfFile: "/usr/share/common-licenses/GPL-3", encoding: .utf8)

    static func ggufType(_ a: ResolvedArguments) throws -> GGMLType {
        guard let name = a.string("quant_method"), let type = GGMLType(name: name), type != .q8_1, type != .q8_K else {
            throw BackendError.failed("quant_method must be a GGUF type (\(GGMLType.allCases.filter { $0 != .q8_1 && $0 != .q8_K }.map(\.name).joined(separator: ", ")))")
        }
        return type
    }

    /// Perplexity before and after, and the KL divergence, on the held-out text (as llama.cpp's
    /// perplexity tool measures them).
    func fidelityLines(_ candidate: LlamaModel, reference: Engine.LoadedModel, cancel: CancellationFlag) -> [String] {
        guard let text = Self.heldOutText else { return ["fidelity: no held-out text (/usr/share/common-licenses/GPL-3 is missing)"] }
        let ids = reference.tokenizer.encode(text, addSpecialTokens: false, parseSpecial: false)
        do {
            let r = try Fidelity.evaluate(candidate, reference: reference.model, ids: ids, context: 256, maxChunks: 4, cancel: cancel.token)
            return [String(format: "fidelity on %d held-out tokens (GPL-3 text): perplexity %.3f -> %.3f, KL %.5f nats, same top token %.1f%%",
                           r.scoredTokens, r.referencePerplexity!, r.perplexity, r.meanKL!, 100 * r.sameTopToken!)]
        } catch {
            return ["fidelity: not measured (\(error))"]
        }
    }

    func quantizeLive(_ request: CommandRequest, cancel: CancellationFlag, progress: (ProgressEvent) -> Void) throws -> CommandOutcome {
        guard let handle = request.model else { throw BackendError.failed("quantize needs a live model; load model PATH first") }
        let source = try loaded(handle)
        let type = try Self.ggufType(request.arguments)
        let q = try source.model.quantized(to: type)
        let result = Engine.LoadedModel(replacingModelOf: source, with: q)
        let id = nextHandleId()
        register(result, id: id)
        let name = ((handle.path as NSString).lastPathComponent as NSString).deletingPathExtension + "-" + type.name
        let shown = (handle.path as NSString).lastPathComponent
        var report = ["quantized \(shown) to \(type.name) (matrices whose rows the block does not divide use \(ModelQuantization.fallback(for: type).name)) in memory"]
        report += fidelityLines(q, reference: source, cancel: cancel)
        return CommandOutcome(report: report, model: ModelHandle(id: id, path: name, summary: Self.summary(result)))
    }

    func exportLive(_ request: CommandRequest, cancel: CancellationFlag, progress: (ProgressEvent) -> Void) throws -> CommandOutcome {
        let a = request.arguments
        guard let handle = request.model else { throw BackendError.failed("export needs a live model; load model PATH first") }
        if request.adapter != nil || a.bool("merge_lora") == true {
            throw BackendError.unavailable(operation: "export with merge_lora")
        }
        try Self.refuseForeignExportOptions(a)
        let wantsGGUF = a.bool("to_gguf") == true || (a.string("output_dir")?.hasSuffix(".gguf") ?? false)
        let source = try loaded(handle)
        guard wantsGGUF else {
            if a.bool("to_ollama") == true { throw BackendError.failed("to_ollama needs a GGUF file; add --to_gguf true") }
            return try exportHFDirectory(request, source: source, handle: handle)
        }
        let type = a.value("quant_method").flatMap { $0 == ArgumentValue.none ? nil : $0 } == nil ? .f16 : try Self.ggufType(a)
        let base = ((handle.path as NSString).lastPathComponent as NSString).deletingPathExtension
        let dir = a.string("output_dir") ?? "\(base)-\(type.name)"
        let path = dir.hasSuffix(".gguf") ? dir : dir + "/\(base).\(type.name).gguf"
        let fm = FileManager.default
        if fm.fileExists(atPath: path), a.bool("exist_ok") != true {
            throw BackendError.failed("\(path) exists; pass --exist_ok true to replace it")
        }
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty { try fm.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        let modelfile = a.bool("to_ollama") == true ? try ollamaModelfile(source, ggufPath: path) : nil
        let q = try source.model.quantized(to: type)
        try source.writeGGUF(q, to: path, fileType: type)
        let size = ((try? fm.attributesOfItem(atPath: path)[.size] as? NSNumber) ?? nil)?.doubleValue ?? 0
        var report = [String(format: "wrote %@ (%@, %.1f MB)", path, type.name, size / 1e6)]
        if let m = modelfile { report.append(try writeModelfile(m)) }
        report += fidelityLines(q, reference: source, cancel: cancel)
        return CommandOutcome(report: report, outputDir: dir.hasSuffix(".gguf") ? nil : dir)
    }
}
