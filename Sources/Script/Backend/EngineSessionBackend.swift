import Engine
import Foundation

/// The session's verbs over the real engine: models, datasets and LoRA adapters are kept by
/// handle; `sft`/`pt` train (TrainingCommand), adapters answer live and `merge` folds them in
/// (AdapterBackend), `quantize` and `export` / `merge-lora` write GGUF files and HF directories
/// (QuantizeAndExport, ExportHFDirectory). Commands the engine does not run (`rlhf`, `deploy`,
/// ...) answer `BackendError.unavailable`; `--check` still validates their arguments.
public final class EngineSessionBackend: EngineBackend {
    private var models: [Int: Engine.LoadedModel] = [:]
    private var datasets: [Int: Engine.Dataset] = [:]
    /// Live adapters by handle id, with the model they were made on (AdapterBackend.swift).
    var adapters: [Int: (adapter: Engine.LoRAAdapter, modelId: Int)] = [:]
    /// The model answering with each adapter, by adapter id (built on first use).
    var adaptedModels: [Int: (modelId: Int, model: Engine.LoadedModel)] = [:]
    private var nextId = 1
    private let store = ModelStore()

    public init() {}

    public var engineDescription: [String] {
        if let problem = BLAS.loadError { return ["engine: tune CPU engine", "BLAS: unavailable (\(problem))"] }
        return ["engine: tune CPU engine (Llama, Qwen2, Qwen3, Mistral; GGUF and safetensors)",
         "BLAS core: OpenBLAS \(BLAS.coreName) (\(ThreadPool.shared.threadCount) threads)"]
    }

    public func loadModel(path: String, arguments: ResolvedArguments, progress: (ProgressEvent) -> Void) throws -> ModelHandle {
        if let problem = BLAS.loadError { throw BackendError.failed(problem) }
        let location = try store.resolve(path) { message in progress(ProgressEvent(task: message, completed: 0, total: nil)) }
        let template = arguments.string("template").flatMap { $0.isEmpty ? nil : $0 }
        let loaded = try Self.quantizedAtLoad(Engine.LoadedModel(location: location, template: template), arguments, progress: progress)
        let id = nextId
        nextId += 1
        models[id] = loaded
        return ModelHandle(id: id, path: location.path, summary: Self.summary(loaded))
    }

    static func summary(_ m: Engine.LoadedModel) -> String {
        let c = m.model.config
        let types = m.model.linearWeightTypes.map(\.name)
        let kind: String
        switch m.location { case .gguf: kind = "GGUF"; case .hfDirectory: kind = "safetensors" }
        let params = m.model.parameterCount
        let size = params >= 1_000_000_000 ? String(format: "%.1fB", Double(params) / 1e9) : String(format: "%.0fM", Double(params) / 1e6)
        return "\(c.architecture.rawValue), \(size) parameters, \(c.layerCount) layers, \(types.joined(separator: "/")) (\(kind)), template \(m.templateName)"
    }

    /// A PEFT adapter directory (adapter_config.json + adapter_model.safetensors), e.g. a
    /// checkpoint-N of a run, for the live model.
    public func loadAdapter(path: String, model: ModelHandle, arguments: ResolvedArguments) throws -> AdapterHandle {
        let base = try loaded(model)
        guard PEFTAdapterFiles.looksLikeAdapter(directory: path) else {
            if FileManager.default.fileExists(atPath: path + "/model.safetensors") {
                throw BackendError.failed("\(path) holds a fully trained model, not an adapter; load it with load model")
            }
            throw BackendError.failed("\(path) is not an adapter directory (it has no adapter_config.json)")
        }
        let adapter: Engine.LoRAAdapter
        do { adapter = try PEFTAdapterFiles.read(directory: path, for: base.model) } catch {
            throw BackendError.failed("\(error)")
        }
        return registerAdapter(adapter, modelId: model.id, path: path)
    }

    public func loadDataset(spec: String, arguments: ResolvedArguments) throws -> DatasetHandle {
        let dataset = try Engine.Dataset.load(spec, options: Self.datasetOptions(arguments))
        let id = nextId
        nextId += 1
        datasets[id] = dataset
        // The row count has its own field; the summary says what was dropped.
        let parts = dataset.summary.split(separator: ";", maxSplits: 1)
        let dropped = parts.count == 2 ? parts[1].trimmingCharacters(in: .whitespaces) : "none dropped"
        return DatasetHandle(id: id, spec: spec, rowCount: dataset.count, summary: dropped)
    }

    /// The data arguments as the dataset layer takes them.
    static func datasetOptions(_ a: ResolvedArguments) -> DatasetOptions {
        var o = DatasetOptions()
        if case .json(.object(let map))? = a.value("columns") {
            for (k, v) in map { if case .string(let s) = v { o.columns[k] = s } }
        }
        if let v = a.bool("strict") { o.strict = v }
        if let v = a.int("data_seed") { o.seed = UInt64(truncatingIfNeeded: v) }
        if let v = a.bool("dataset_shuffle") { o.shuffle = v }
        if let v = a.bool("val_dataset_shuffle") { o.validationShuffle = v }
        if let v = a.bool("streaming") { o.streaming = v }
        if let v = a.int("shuffle_buffer_size") { o.shuffleBufferSize = v }
        if let v = a.strings("model_name") { o.modelName = v }
        if let v = a.strings("model_author") { o.modelAuthor = v }
        if let v = a.bool("disable_auto_column_mapping") { o.autoColumnMapping = !v }
        return o
    }

    public func datasetRow(_ dataset: DatasetHandle, index: Int) throws -> [ChatMessage] {
        guard let d = datasets[dataset.id] else { throw BackendError.failed("dataset \(dataset.spec) is no longer loaded") }
        guard index >= 0, index < d.count else {
            throw BackendError.failed("dataset \(dataset.spec) has \(d.count) rows; there is no row \(index)")
        }
        return d.rows[index].messages.map { ChatMessage(role: $0.role, content: $0.content) }
    }

    public func unload(id: Int) {
        models[id] = nil
        datasets[id] = nil
        forgetAdapters(ofHandle: id)
    }

    func nextHandleId() -> Int {
        defer { nextId += 1 }
        return nextId
    }

    func register(_ model: Engine.LoadedModel, id: Int) { models[id] = model }

    func dataset(_ handle: DatasetHandle) -> Engine.Dataset? { datasets[handle.id] }

    func loaded(_ handle: ModelHandle) throws -> Engine.LoadedModel {
        guard let m = models[handle.id] else { throw BackendError.failed("model \(handle.path) is no longer loaded") }
        return m
    }

    /// Generation options: the model's defaults, overridden by the generation arguments given.
    static func options(for m: Engine.LoadedModel, _ a: ResolvedArguments) -> GenerationOptions {
        var o = m.defaultOptions()
        func given(_ name: String) -> ArgumentValue? {
            guard let v = a.value(name) else { return nil }
            if case .none = v { return nil }
            return v
        }
        if let v = given("max_new_tokens")?.intValue { o.maxNewTokens = v }
        if let v = given("temperature")?.doubleValue { o.sampling.temperature = v }
        if let v = given("top_k")?.intValue { o.sampling.topK = v }
        if let v = given("top_p")?.doubleValue { o.sampling.topP = v }
        if let v = given("repetition_penalty")?.doubleValue { o.sampling.repetitionPenalty = v }
        if let v = given("num_beams")?.intValue { o.numBeams = max(1, v) }
        if let v = given("seed")?.intValue { o.seed = UInt64(truncatingIfNeeded: v) }
        if let v = given("logprobs")?.boolValue { o.logprobs = v }
        if let v = given("top_logprobs")?.intValue { o.topLogprobs = v; o.logprobs = true }
        if let words = a.strings("stop_words"), given("stop_words") != nil { o.stopWords += words }
        o.stopWords += m.stopWords
        return o
    }

    public func generate(model: ModelHandle, adapter: AdapterHandle?, messages: [ChatMessage], arguments: ResolvedArguments,
                         cancel: CancellationFlag, onText: (String) -> Void) throws -> Generation {
        let m = try answering(model, adapter: adapter)
        let system = arguments.string("system").flatMap { $0.isEmpty ? nil : $0 }
        let result = try m.respond(to: messages.map { Engine.ChatMessage(role: $0.role, content: $0.content) },
                                   system: system, options: Self.options(for: m, arguments), cancel: cancel.token) { onText($0.text) }
        let reason: Generation.StopReason
        switch result.finishReason {
        case .stop: reason = result.tokens.last.map { m.endTokenIds.contains($0) } == true ? .endOfText : .stopWord
        case .length: reason = .maxTokens
        case .cancelled: reason = .cancelled
        }
        return Generation(text: result.text, promptTokens: result.promptTokenCount, generatedTokens: result.tokens.count,
                          seconds: result.prefillSeconds + result.decodeSeconds, stopReason: reason)
    }

    public func tokenize(model: ModelHandle, text: String) throws -> [TokenPiece] {
        let m = try loaded(model)
        return m.tokenizer.encode(text, addSpecialTokens: true, parseSpecial: true).map { TokenPiece(id: $0, piece: Self.piece(m, $0)) }
    }

    /// A token's text; bytes that are not whole UTF-8 characters show as <0xNN>.
    static func piece(_ m: Engine.LoadedModel, _ id: Int) -> String {
        let bytes = m.tokenizer.tokenBytes(id)
        if let s = String(validating: bytes, as: UTF8.self) { return s }
        return bytes.map { String(format: "<0x%02X>", $0) }.joined()
    }

    public func render(model: ModelHandle, messages: [ChatMessage], arguments: ResolvedArguments) throws -> RenderedPrompt {
        let m = try loaded(model)
        let scaleName = arguments.string("loss_scale") ?? "default"
        let scale = LossScale(rawValue: scaleName.split(separator: "+").first.map(String.init) ?? "default") ?? .default
        let system = arguments.string("system").flatMap { $0.isEmpty ? nil : $0 }
        let engineMessages = messages.map { Engine.ChatMessage(role: $0.role, content: $0.content) }
        if engineMessages.last?.role != "assistant" {
            let text = try m.renderPrompt(engineMessages, system: system, addGenerationPrompt: true)
            return RenderedPrompt(text: text, tokens: m.promptIds(text).map { TokenPiece(id: $0, piece: Self.piece(m, $0)) })
        }
        let t = try m.trainingTokens(engineMessages, system: system, lossScale: scale)
        return RenderedPrompt(text: t.text, tokens: zip(t.ids, t.carriesLoss).map { TokenPiece(id: $0.0, piece: Self.piece(m, $0.0), carriesLoss: $0.1) })
    }

    public func run(_ request: CommandRequest, cancel: CancellationFlag, progress: (ProgressEvent) -> Void) throws -> CommandOutcome {
        switch request.kind {
        case .swift(.infer): return try inferDataset(request, cancel: cancel, progress: progress)
        case .quantize: return try quantizeLive(request, cancel: cancel, progress: progress)
        case .swift(.export), .swift(.mergeLora): return try exportLive(request, cancel: cancel, progress: progress)
        case .swift(.sft): return try trainLive(request, command: .sft, cancel: cancel, progress: progress)
        case .swift(.pt): return try trainLive(request, command: .pt, cancel: cancel, progress: progress)
        case .merge: return try mergeLive(request, cancel: cancel, progress: progress)
        default: break
        }
        throw BackendError.unavailable(operation: request.kind.name)
    }
}
