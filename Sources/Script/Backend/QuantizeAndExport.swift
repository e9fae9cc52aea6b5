import Engine
import Foundation

/// `quantize --quant_method T` (a new live model in memory) and `export` to GGUF, over the
/// session's live model, each reporting the fidelity of the result.
extension EngineSessionBackend {
    /// Held-out text for the fidelity report: Debian's copy of the GPL (base-files), present on
    /// every Debian system; nil when the file is missing.
    static let heldOutText: String? = try? String(contentsOfFile: "/usr/share/common-licenses/GPL-3", encoding: .utf8)

    /// The outermost folder of `path` (itself included) that does not exist yet, if any.
    static func firstMissingFolder(_ path: String) -> String? {
        guard !path.isEmpty else { return nil }
        let fm = FileManager.default
        var missing: String?
        var p = path
        while !p.isEmpty, p != "/", p != ".", !fm.fileExists(atPath: p) {
            missing = p
            p = (p as NSString).deletingLastPathComponent
        }
        return missing
    }

    static func ggufType(_ a: ResolvedArguments) throws -> GGMLType {
        guard let name = a.string("quant_method"), let type = GGMLType(name: name), type.isGGUFType, type != .q8_1, type != .q8_K else {
            throw BackendError.failed("quant_method must be a GGUF type (\(GGMLType.allCases.filter { $0.isGGUFType && $0 != .q8_1 && $0 != .q8_K }.map(\.name).joined(separator: ", ")))")
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
        if let outcome = try quantizeLiveFP8HQQ(request, cancel: cancel) { return outcome }
        guard let handle = request.model else { throw BackendError.failed("quantize needs a live model; load model PATH first") }
        if let o = try Self.bnbOptions(request.arguments) { return try bnbQuantizeLive(o, handle, cancel: cancel) }
        let source = try loaded(handle)
        if let method = CalibratedMethod(request.arguments) {
            let (q, lines) = try calibratedQuantization(method, of: source, request, cancel: cancel, progress: progress)
            let result = Engine.LoadedModel(replacingModelOf: source, with: q)
            let id = nextHandleId()
            register(result, id: id)
            let name = Self.modelStem(handle.path) + "-" + method.name
            return CommandOutcome(report: lines + fidelityLines(q, reference: source, cancel: cancel),
                                  model: ModelHandle(id: id, path: name, summary: Self.summary(result)))
        }
        let type = try Self.ggufType(request.arguments)
        let q = try source.model.quantized(to: type)
        let result = Engine.LoadedModel(replacingModelOf: source, with: q)
        let id = nextHandleId()
        register(result, id: id)
        let name = Self.modelStem(handle.path) + "-" + type.name
        let shown = (handle.path as NSString).lastPathComponent
        var report = ["quantized \(shown) to \(type.name) (matrices whose rows the block does not divide use \(ModelQuantization.fallback(for: type).name)) in memory"]
        report += fidelityLines(q, reference: source, cancel: cancel)
        return CommandOutcome(report: report, model: ModelHandle(id: id, path: name, summary: Self.summary(result)))
    }

    func exportLive(_ request: CommandRequest, cancel: CancellationFlag, progress: (ProgressEvent) -> Void) throws -> CommandOutcome {
        let a = request.arguments
        guard let handle = request.model else { throw BackendError.failed("export needs a live model; load model PATH first") }
        let mergeLora = a.bool("merge_lora") == true
        if mergeLora && request.adapter == nil {
            throw BackendError.failed("export --merge_lora true needs a live adapter; load adapter PATH or use adapter NAME first")
        }
        if request.adapter != nil && !mergeLora {
            throw BackendError.unavailable(operation: "export of an adapter without merging it (pass --merge_lora true)")
        }
        try Self.refuseForeignExportOptions(a)
        if a.string("quant_method") == "hqq" {
            throw BackendError.failed("export --quant_method hqq: ms-swift applies HQQ while loading, not in export; use quantize --quant_method hqq --quant_bits 4 for the live model, or export fp8 or a GGUF type")
        }
        let wantsGGUF = a.bool("to_gguf") == true || (a.string("output_dir")?.hasSuffix(".gguf") ?? false)
        var mergeLines: [String] = []
        var source = try loaded(handle)
        if mergeLora, let adapter = request.adapter {
            // Merged in f32, then quantized once to the export type.
            let m = try merged(handle, adapter: adapter, target: .f32, cancel: cancel)
            source = m.model
            mergeLines = ["merged adapter \((adapter.path as NSString).lastPathComponent) before export (\(m.how)); \(m.check)"]
        }
        if let o = try Self.bnbOptions(a) {
            if wantsGGUF { throw BackendError.failed("quant_method bnb is written as an HF directory (the layout transformers and bitsandbytes load); GGUF has no bitsandbytes types: drop to_gguf, or export a GGUF type such as q4_0") }
            if source.model.linearWeightTypes != [o.type] {
                let (q, line) = try Self.bnbQuantized(source, o)
                mergeLines += [line] + fidelityLines(q.model, reference: source, cancel: cancel)
                source = q
            }
        }
        guard wantsGGUF else {
            if a.bool("to_ollama") == true { throw BackendError.failed("to_ollama needs a GGUF file; add --to_gguf true") }
            // ms-swift's merge writes beside the adapter: `<adapter dir>-merged`.
            let mergedDir = mergeLora ? request.adapter.map { Self.withoutTrailingSlash($0.path) + "-merged" } : nil
            var outcome = try exportHFDirectory(request, source: source, handle: handle,
                                                dtypeOf: try loaded(handle).model, defaultDir: mergedDir,
                                                cancel: cancel, progress: progress)
            outcome.report = mergeLines + outcome.report + (try fp8ExportFidelity(a, source: source, cancel: cancel))
            return outcome
        }
        let method = CalibratedMethod(a)
        let type: GGMLType
        if let method { type = try method.grid().type } else {
            type = a.value("quant_method").flatMap { $0 == ArgumentValue.none ? nil : $0 } == nil ? .f16 : try Self.ggufType(a)
        }
        let base = Self.modelStem(handle.path)
        let label = method.map { "\($0.name)-\(type.name)" } ?? type.name
        let dir = a.string("output_dir") ?? "\(base)-\(label)"
        let path = dir.hasSuffix(".gguf") ? dir : dir + "/\(base).\(label).gguf"
        let fm = FileManager.default
        if fm.fileExists(atPath: path), a.bool("exist_ok") != true {
            throw BackendError.failed("\(path) exists; pass --exist_ok true to replace it")
        }
        let modelfile = a.bool("to_ollama") == true ? try ollamaModelfile(source, ggufPath: path) : nil
        var report: [String] = []
        let q: LlamaModel
        if let method {
            (q, report) = try calibratedQuantization(method, of: source, request, cancel: cancel, progress: progress)
        } else {
            q = try source.model.quantized(to: type)
        }
        // The file goes to a temporary name and is renamed (GGUFWriter); folders made for it
        // are removed again when the write fails, so a failed export leaves nothing behind.
        let folder = (path as NSString).deletingLastPathComponent
        let made = Self.firstMissingFolder(folder)
        do {
            if !folder.isEmpty { try fm.createDirectory(atPath: folder, withIntermediateDirectories: true) }
            try source.writeGGUF(q, to: path, fileType: type)
        } catch {
            if let made { try? fm.removeItem(atPath: made) }
            throw BackendError.failed("export failed, nothing written: \(error)")
        }
        let size = ((try? fm.attributesOfItem(atPath: path)[.size] as? NSNumber) ?? nil)?.doubleValue ?? 0
        report = mergeLines + report + [String(format: "wrote %@ (%@, %.1f MB)", path, type.name, size / 1e6)]
        if let m = modelfile { report.append(try writeModelfile(m)) }
        report += fidelityLines(q, reference: source, cancel: cancel)
        return CommandOutcome(report: report, outputDir: dir.hasSuffix(".gguf") ? nil : dir)
    }
}

/// `quant_method gptq` / `awq`: quantization calibrated on the session's datasets, onto GGUF
/// blocks (GPTQ: symmetric, Q4_0 at 4 bits as optimum's default sym=True; AWQ: with a zero
/// point, Q4_1, as ms-swift asks AutoAWQ; both Q8_0 at 8 bits).
struct CalibratedMethod {
    enum Kind: String { case gptq, awq }
    let kind: Kind
    let bits: Int
    let groupSize: Int
    let samples: Int
    let batchSize: Int
    let maxLength: Int

    /// Calibration blocks are cut at this many tokens whatever max_length says (ms-swift uses
    /// 2048): the engine keeps every block's hidden states and runs on the CPU, where time and
    /// memory grow with the tokens.
    static let longestBlock = 512

    init?(_ a: ResolvedArguments) {
        guard let name = a.string("quant_method"), let kind = Kind(rawValue: name) else { return nil }
        self.kind = kind
        bits = a.int("quant_bits") ?? 4
        groupSize = a.int("group_size") ?? 128
        samples = max(1, a.int("quant_n_samples") ?? 256)
        batchSize = max(1, a.int("quant_batch_size") ?? 1)
        maxLength = min(max(1, a.int("max_length") ?? 2048), Self.longestBlock)
    }

    var name: String { kind.rawValue }
    var symmetric: Bool { kind == .gptq || bits == 8 }

    func grid() throws -> GroupGrid {
        do {
            return try GroupGrid(bits: bits, groupSize: groupSize, symmetric: symmetric, style: kind == .gptq ? .gptq : .awq)
        } catch {
            throw BackendError.failed("quant_method \(name): \(error)")
        }
    }
}

extension EngineSessionBackend {
    /// As ms-swift builds its calibration set: the first quant_n_samples rows of the live
    /// datasets, each rendered with the chat template (the whole conversation), concatenated
    /// and cut into blocks of max_length tokens.
    func calibrationBlocks(_ method: CalibratedMethod, source: Engine.LoadedModel, _ request: CommandRequest) throws -> (blocks: [[Int]], rows: Int) {
        guard !request.datasets.isEmpty, request.datasets.contains(where: { $0.rowCount > 0 }) else {
            throw BackendError.failed("quant_method \(method.name) calibrates on data: load a dataset first (load dataset PATH); quant_n_samples rows of it are used")
        }
        let system = request.arguments.string("system").flatMap { $0.isEmpty ? nil : $0 }
        var ids: [Int] = []
        var rows = 0
        outer: for d in request.datasets {
            for i in 0..<d.rowCount {
                if rows == method.samples { break outer }
                let messages = try datasetRow(d, index: i).map { Engine.ChatMessage(role: $0.role, content: $0.content) }
                ids += source.promptIds(try source.renderPrompt(messages, system: system, addGenerationPrompt: false))
                rows += 1
            }
        }
        let count = max(1, ids.count / method.maxLength)
        let blocks = (0..<count).map { Array(ids[($0 * method.maxLength)..<min(ids.count, ($0 + 1) * method.maxLength)]) }
        return (blocks, rows)
    }

    func calibratedQuantization(_ method: CalibratedMethod, of source: Engine.LoadedModel, _ request: CommandRequest,
                                cancel: CancellationFlag, progress: (ProgressEvent) -> Void) throws -> (LlamaModel, [String]) {
        let grid = try method.grid()
        let (blocks, rows) = try calibrationBlocks(method, source: source, request)
        let tokens = blocks.reduce(0) { $0 + $1.count }
        let report: (CalibratedQuantization.Progress) -> Void = {
            progress(ProgressEvent(task: "\(method.name) layers", completed: $0.layer, total: $0.layerCount))
        }
        let q: LlamaModel
        do {
            switch method.kind {
            case .gptq:
                q = try CalibratedQuantization.gptq(model: source.model, calibration: blocks, bits: method.bits, groupSize: method.groupSize,
                                                    symmetric: true, batchSize: method.batchSize, progress: report, cancel: cancel.token)
            case .awq:
                q = try CalibratedQuantization.awq(model: source.model, calibration: blocks, bits: method.bits, groupSize: method.groupSize,
                                                   symmetric: method.symmetric, batchSize: method.batchSize, progress: report, cancel: cancel.token)
            }
        } catch let e as CalibrationError {
            throw BackendError.failed("quant_method \(method.name): \(e)")
        }
        let what = method.kind == .gptq ? "GPTQ (symmetric, damp_percent 0.1)" : "AWQ (zero point, duo scaling)"
        return (q, ["quantized the live model with \(what) to \(method.bits) bits, group \(method.groupSize), as \(grid.type.name) blocks, in memory",
                    "calibration: \(rows) dataset rows, \(tokens) tokens in \(blocks.count) blocks of up to \(method.maxLength) (max_length is capped at \(CalibratedMethod.longestBlock) here)"])
    }
}

