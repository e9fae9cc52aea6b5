import Engine
import Foundation

/// Live LoRA adapters in the engine backend: kept by handle, answering through an adapted
/// model that shares the base's weights, and folded into a new live model by `merge`.
extension EngineSessionBackend {
    /// Makes `adapter` (trained on, or read for, model `modelId`) a session object.
    public func registerAdapter(_ adapter: Engine.LoRAAdapter, modelId: Int, path: String) -> AdapterHandle {
        let id = nextHandleId()
        adapters[id] = (adapter, modelId)
        return AdapterHandle(id: id, path: path, summary: Self.summary(adapter))
    }

    /// Drops the cached adapted model of an adapter whose matrices were changed in place
    /// (e.g. training continued on it); the next answer rebuilds it.
    public func adapterChanged(id: Int) { adaptedModels[id] = nil }

    /// e.g. "LoRA rank 8, alpha 32, 210 layers (q_proj, k_proj, ...), 4.9M parameters".
    static func summary(_ a: Engine.LoRAAdapter) -> String {
        let c = a.config
        let kind = c.useDoRA ? "DoRA" : "LoRA"
        let kinds = Set(a.modules.keys.map { $0.split(separator: ".").last.map(String.init) ?? $0 })
        let ordered = LoRAConfig.allLinear.filter(kinds.contains) + kinds.subtracting(LoRAConfig.allLinear).sorted()
        let params = a.parameterCount
        let size = params >= 1_000_000 ? String(format: "%.1fM", Double(params) / 1e6) : String(format: "%.1fK", Double(params) / 1e3)
        var parts = ["\(kind) rank \(c.rank), alpha \(Self.number(c.alpha))\(c.useRSLoRA ? " (rsLoRA)" : "")",
                     "\(a.modules.count) layers (\(ordered.joined(separator: ", ")))"]
        if !a.savedTensors.isEmpty { parts.append("saves \(a.savedTensors.keys.sorted().joined(separator: ", "))") }
        parts.append("\(size) parameters")
        return parts.joined(separator: ", ")
    }

    /// A model file's name without its extension and a GGUF type suffix, the stem of the names
    /// of models made from it: "SmolLM2-135M-Instruct.Q4_1.gguf" → "SmolLM2-135M-Instruct".
    static func modelStem(_ path: String) -> String {
        let file = (path as NSString).lastPathComponent
        var stem = (file as NSString).deletingPathExtension
        let ext = (stem as NSString).pathExtension
        if !ext.isEmpty, GGMLType(name: ext.lowercased()) != nil { stem = (stem as NSString).deletingPathExtension }
        return stem.isEmpty ? file : stem
    }

    static func number(_ x: Double) -> String { x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x) }

    /// Forgets what handle `id` named, if an adapter, and the adapted models built on it or on
    /// a model of that id.
    func forgetAdapters(ofHandle id: Int) {
        adapters[id] = nil
        adaptedModels[id] = nil
        for (key, entry) in adaptedModels where entry.modelId == id { adaptedModels[key] = nil }
    }

    /// The model that answers: `model` itself, or `model` with `adapter` (built once, then kept).
    func answering(_ model: ModelHandle, adapter: AdapterHandle?) throws -> Engine.LoadedModel {
        let base = try loaded(model)
        guard let adapter else { return base }
        guard let entry = adapters[adapter.id] else { throw BackendError.failed("adapter \(adapter.path) is no longer loaded") }
        if let cached = adaptedModels[adapter.id], cached.modelId == model.id { return cached.model }
        let adapted: LlamaModel
        do {
            adapted = try base.model.adapted(by: entry.adapter)
        } catch {
            throw BackendError.failed("adapter \(adapter.path) does not fit model \(model.path): \(error)")
        }
        let m = Engine.LoadedModel(replacingModelOf: base, with: adapted)
        adaptedModels[adapter.id] = (model.id, m)
        return m
    }

    /// Prompts the merge is checked on: the adapted and merged models' logits at every position.
    static let mergeCheckPrompts = ["The capital of France is", "Write a short poem about the sea.", "def add(a, b):\n    return"]

    /// The type merged weights are stored in when the base is quantized and neither
    /// `quant_method` nor `torch_dtype` says otherwise. Measured on the default model (Q4_1)
    /// with a 4-step self-cognition adapter that moves logits by up to 3.5: re-quantizing to
    /// Q4_1 leaves a largest |Δlogit| against the unmerged adapter of 3.5 (the adapter's whole
    /// effect), Q8_0 0.7 (the greedy answer changes), bf16 0.19, f16 0.03, f32 6e-5. f16 keeps
    /// the answers at half f32's size.
    static let quantizedBaseMergeTarget = GGMLType.f16

    /// How the merged weights are stored: `quant_method` when given, else `torch_dtype`
    /// (float32 keeps them unquantized); else, for a quantized base, f16, and for an
    /// unquantized one each tensor's own type (nil).
    static func mergeTarget(_ a: ResolvedArguments, base: LlamaModel) throws -> GGMLType? {
        if a.string("quant_method") != nil { return try ggufType(a) }
        switch a.string("torch_dtype") {
        case "float32": return .f32
        case "float16": return .f16
        case "bfloat16": return .bf16
        default: break
        }
        return base.linearWeightTypes.contains(where: \.isQuantized) ? quantizedBaseMergeTarget : nil
    }

    /// For `merge --quant_method bnb|fp8|hqq`, the model-level quantization the f32 merge goes
    /// through (these formats are more than a block per row — nested scales, tiles, solved
    /// zeros — so they are made the way `quantize` makes them), with what it did. GPTQ and AWQ
    /// calibrate on data, which merge does not take: an error says how to get there.
    static func mergeQuantization(_ a: ResolvedArguments) throws -> ((LlamaModel) throws -> (LlamaModel, String))? {
        if let o = try bnbOptions(a) {
            return { m in
                do { return (try m.quantizedBNB(o).model, "quantized to \(bnbDescription(o))") } catch {
                    throw BackendError.failed("quant_method bnb: \(error)")
                }
            }
        }
        if let method = try FP8HQQMethod(a) {
            return { m in let q = try method.apply(m); return (q, "quantized to \(method.describe(q))") }
        }
        if let method = CalibratedMethod(a) {
            throw BackendError.failed("merge --quant_method \(method.name): \(method.name) calibrates on a dataset, which merge does not take; merge first, then quantize --quant_method \(method.name) --dataset ... the merged model")
        }
        return nil
    }

    /// The largest |Δlogit| between `model` and `other` over the merge-check prompts.
    static func largestGap(_ model: LlamaModel, _ other: LlamaModel, prompts: [[Int]]) throws -> Float {
        try model.largestLogitDifferences(from: other, prompts: prompts).max() ?? 0
    }

    static func gapText(_ x: Float) -> String { String(format: "%.2g", Double(x)) }

    /// `adapter` folded into `handle`'s weights, with the report's description of what was
    /// done to them and the largest |Δlogit| against the unmerged adapted model. `explicit`
    /// says whether the target was asked for; when it was not and the base is quantized, the
    /// report also says what re-quantizing to the base's own format would have lost.
    func merged(_ handle: ModelHandle, adapter: AdapterHandle, target: GGMLType?, explicit: Bool = true,
                thenQuantize quantization: ((LlamaModel) throws -> (LlamaModel, String))? = nil,
                cancel: CancellationFlag) throws -> (model: Engine.LoadedModel, how: String, check: String) {
        guard let entry = adapters[adapter.id] else { throw BackendError.failed("adapter \(adapter.path) is no longer loaded") }
        let source = try loaded(handle)
        let adapted = try answering(handle, adapter: adapter)
        if cancel.isRaised { throw BackendError.cancelled(operation: "merge") }
        func merge(_ to: GGMLType?) throws -> LlamaModel {
            do {
                return try source.model.merging(entry.adapter, quantizeTo: to)
            } catch {
                throw BackendError.failed("could not merge adapter \(adapter.path) into \(handle.path): \(error)")
            }
        }
        var result = try merge(target)
        var quantized: String?
        if let quantization { (result, quantized) = try quantization(result) }
        if cancel.isRaised { throw BackendError.cancelled(operation: "merge") }
        let baseTypes = source.model.linearWeightTypes
        let before = baseTypes.map(\.name).joined(separator: "/")
        let after = result.linearWeightTypes.map(\.name).joined(separator: "/")
        let prompts = Self.mergeCheckPrompts.map { source.tokenizer.encode($0, addSpecialTokens: false, parseSpecial: false) }
        let gap = try Self.largestGap(adapted.model, result, prompts: prompts)
        let effect = try Self.largestGap(adapted.model, source.model, prompts: prompts)
        var how: String
        if let quantized {
            how = baseTypes.allSatisfy({ !$0.isQuantized }) ? "\(before) base, merged, \(quantized)"
                                                             : "\(before) base: dequantized, merged, \(quantized)"
        } else if baseTypes.allSatisfy({ !$0.isQuantized }) {
            how = before == after ? "\(before) base" : "\(before) base, merged weights stored as \(after)"
        } else if !explicit {
            how = "\(before) base: dequantized, merged, stored as \(after)"
            if baseTypes.count == 1, let own = baseTypes.first, own != target {
                let kept = try merge(own)
                let keptGap = try Self.largestGap(adapted.model, kept, prompts: prompts)
                how += "; --quant_method \(own.name) keeps the base format, with max |Δlogit| \(Self.gapText(keptGap))"
            }
        } else if target == .f32 || target == .f16 || target == .bf16 {
            how = "\(before) base: dequantized, merged, kept \(after)"
        } else {
            how = "\(before) base: dequantized, merged, re-quantized to \(after)"
        }
        let check = "max |Δlogit| against the unmerged adapter over \(prompts.count) prompts: \(Self.gapText(gap))"
            + " (the adapter itself moves logits by up to \(Self.gapText(effect)))"
        return (Engine.LoadedModel(replacingModelOf: source, with: result), how, check)
    }

    /// `merge`: the live adapter folded into the live model, which becomes a new live model.
    func mergeLive(_ request: CommandRequest, cancel: CancellationFlag, progress: (ProgressEvent) -> Void) throws -> CommandOutcome {
        guard let handle = request.model else { throw BackendError.failed("merge needs a live model; load model PATH first") }
        guard let adapter = request.adapter else {
            throw BackendError.failed("merge needs a live adapter; load adapter PATH or use adapter NAME first")
        }
        let shownModel = (handle.path as NSString).lastPathComponent
        let shownAdapter = (adapter.path as NSString).lastPathComponent
        progress(ProgressEvent(task: "merging \(shownAdapter) into \(shownModel)", completed: 0, total: 1))
        let a = request.arguments
        let explicit = a.string("quant_method") != nil || a.string("torch_dtype") != nil
        let m: (model: Engine.LoadedModel, how: String, check: String)
        if let quantization = try Self.mergeQuantization(a) {
            m = try merged(handle, adapter: adapter, target: .f32, thenQuantize: quantization, cancel: cancel)
        } else {
            m = try merged(handle, adapter: adapter, target: try Self.mergeTarget(a, base: try loaded(handle).model),
                           explicit: explicit, cancel: cancel)
        }
        progress(ProgressEvent(task: "merging \(shownAdapter) into \(shownModel)", completed: 1, total: 1))
        let id = nextHandleId()
        register(m.model, id: id)
        let name = Self.modelStem(handle.path) + "-merged"
        return CommandOutcome(report: ["merged adapter \(shownAdapter) into \(shownModel) (\(m.how)); \(m.check)"],
                              model: ModelHandle(id: id, path: name, summary: Self.summary(m.model)))
    }
}
