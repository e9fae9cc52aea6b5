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

    /// How the merged weights are stored: `quant_method` when given, else `torch_dtype`
    /// (float32 keeps them unquantized), else each tensor's own type.
    static func mergeTarget(_ a: ResolvedArguments) throws -> GGMLType? {
        if a.string("quant_method") != nil { return try ggufType(a) }
        switch a.string("torch_dtype") {
        case "float32": return .f32
        case "float16": return .f16
        case "bfloat16": return .bf16
        default: return nil
        }
    }

    /// `adapter` folded into `handle`'s weights, with the report's description of what was
    /// done to them and the largest |Δlogit| against the unmerged adapted model.
    func merged(_ handle: ModelHandle, adapter: AdapterHandle, target: GGMLType?,
                cancel: CancellationFlag) throws -> (model: Engine.LoadedModel, how: String, check: String) {
        guard let entry = adapters[adapter.id] else { throw BackendError.failed("adapter \(adapter.path) is no longer loaded") }
        let source = try loaded(handle)
        let adapted = try answering(handle, adapter: adapter)
        if cancel.isRaised { throw BackendError.cancelled(operation: "merge") }
        let result: LlamaModel
        do {
            result = try source.model.merging(entry.adapter, quantizeTo: target)
        } catch {
            throw BackendError.failed("could not merge adapter \(adapter.path) into \(handle.path): \(error)")
        }
        if cancel.isRaised { throw BackendError.cancelled(operation: "merge") }
        let before = source.model.linearWeightTypes.map(\.name).joined(separator: "/")
        let after = result.linearWeightTypes.map(\.name).joined(separator: "/")
        let how: String
        if source.model.linearWeightTypes.allSatisfy({ !$0.isQuantized }) {
            how = before == after ? "\(before) base" : "\(before) base, merged weights stored as \(after)"
        } else if target == .f32 || target == .f16 || target == .bf16 {
            how = "\(before) base: dequantized, merged, kept \(after)"
        } else {
            how = "\(before) base: dequantized, merged, re-quantized to \(after)"
        }
        let prompts = Self.mergeCheckPrompts.map { source.tokenizer.encode($0, addSpecialTokens: false, parseSpecial: false) }
        let gaps = try adapted.model.largestLogitDifferences(from: result, prompts: prompts)
        let check = String(format: "max |Δlogit| against the unmerged adapter over %d prompts: %.2g", prompts.count, Double(gaps.max() ?? 0))
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
        let m = try merged(handle, adapter: adapter, target: try Self.mergeTarget(request.arguments), cancel: cancel)
        progress(ProgressEvent(task: "merging \(shownAdapter) into \(shownModel)", completed: 1, total: 1))
        let id = nextHandleId()
        register(m.model, id: id)
        let name = (shownModel as NSString).deletingPathExtension + "-merged"
        return CommandOutcome(report: ["merged adapter \(shownAdapter) into \(shownModel) (\(m.how)); \(m.check)"],
                              model: ModelHandle(id: id, path: name, summary: Self.summary(m.model)))
    }
}
