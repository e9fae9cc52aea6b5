import Foundation

/// A model ready to chat: weights, tokenizer, chat template and generation defaults, loaded
/// from a GGUF file or an HF directory.
public final class LoadedModel: @unchecked Sendable {
    public let location: ModelStore.Location
    public let model: LlamaModel
    public let tokenizer: Tokenizer
    public let chatTemplate: ChatTemplate
    /// "model" when the template came from the model's files, else the built-in's name.
    public let templateName: String
    /// The template's own default system prompt (built-in templates only).
    public let defaultSystem: String?
    public let stopWords: [String]
    /// From `generation_config.json` (HF directories); nil for GGUF files.
    public let generationDefaults: GenerationDefaults?
    public let bosToken: String
    public let eosToken: String
    let autoAddBOS: Bool
    /// The source GGUF's metadata in file order (kept to write the tokenizer back out).
    let sourceGGUFMetadata: [(key: String, value: GGUFValue)]

    /// Loads `location`. `template` picks a built-in template (the `template` argument);
    /// nil uses the model's own, falling back to chatml.
    public init(location: ModelStore.Location, template: String? = nil) throws {
        self.location = location
        var fileTemplate: String?
        switch location {
        case .gguf(let path):
            let file = try GGUFFile(map: MappedFile(path: path))
            model = try LlamaModel(gguf: file)
            let data = try GGUFTokenizerData(gguf: file)
            tokenizer = try Tokenizer(gguf: data)
            fileTemplate = data.chatTemplate
            generationDefaults = nil
            sourceGGUFMetadata = file.metadataKeys.compactMap { k in file.metadata[k].map { (k, $0) } }
        case .hfDirectory(let path):
            let dir = try HFModelDirectory(path: path)
            model = try LlamaModel(hfDirectory: dir)
            guard let json = dir.tokenizerJSON else { throw FileError(path: path, problem: "has no tokenizer.json") }
            tokenizer = try Tokenizer(tokenizerJSON: json, tokenizerConfigJSON: try? Data(contentsOf: URL(fileURLWithPath: path + "/tokenizer_config.json")))
            fileTemplate = dir.tokenizerConfig?.chatTemplate
            generationDefaults = dir.generationConfig
            sourceGGUFMetadata = []
        }
        guard tokenizer.vocabularySize <= model.config.vocabSize else {
            throw ModelError("the tokenizer has \(tokenizer.vocabularySize) tokens but the model's vocabulary is \(model.config.vocabSize)")
        }
        let tok = tokenizer
        bosToken = tok.bosId.map { tok.decode([$0]) } ?? ""
        eosToken = tok.eosId.map { tok.decode([$0]) } ?? ""
        if let name = template, name != "model" {
            guard let builtin = BuiltinTemplates.named(name) else {
                throw ModelError("unknown template '\(name)'; built-in templates: \(BuiltinTemplates.names.joined(separator: ", "))")
            }
            chatTemplate = try ChatTemplate(source: builtin.source)
            templateName = builtin.name
            defaultSystem = builtin.defaultSystem
            stopWords = builtin.stopWords
            autoAddBOS = builtin.autoAddBOS
        } else if let source = fileTemplate {
            chatTemplate = try ChatTemplate(source: source)
            templateName = "model"
            defaultSystem = nil
            stopWords = []
            autoAddBOS = false
        } else {
            let builtin = BuiltinTemplates.named("chatml")!
            chatTemplate = try ChatTemplate(source: builtin.source)
            templateName = builtin.name
            defaultSystem = builtin.defaultSystem
            stopWords = builtin.stopWords
            autoAddBOS = builtin.autoAddBOS
        }
    }

    /// The same tokenizer, template and defaults over other weights (a quantized or merged copy).
    public init(replacingModelOf other: LoadedModel, with model: LlamaModel) {
        location = other.location
        self.model = model
        tokenizer = other.tokenizer
        chatTemplate = other.chatTemplate
        templateName = other.templateName
        defaultSystem = other.defaultSystem
        stopWords = other.stopWords
        generationDefaults = other.generationDefaults
        bosToken = other.bosToken
        eosToken = other.eosToken
        autoAddBOS = other.autoAddBOS
        sourceGGUFMetadata = other.sourceGGUFMetadata
    }

    /// Loads a `--model` value: a path, or a model id in the cache (the default model is
    /// fetched when missing).
    public convenience init(_ model: String, template: String? = nil, store: ModelStore = ModelStore(),
                            progress: (String) -> Void = { _ in }) throws {
        try self.init(location: store.resolve(model, progress: progress), template: template)
    }

    /// The conversation as the template renders it, with the system prompt chosen by
    /// precedence (a system message in `messages` > `system` > the template's default).
    public func renderPrompt(_ messages: [ChatMessage], system: String? = nil, addGenerationPrompt: Bool = true) throws -> String {
        let withSystem = applySystemPrecedence(messages: messages, systemArgument: system, defaultSystem: defaultSystem)
        return try chatTemplate.render(messages: withSystem, addGenerationPrompt: addGenerationPrompt,
                                       bosToken: bosToken, eosToken: eosToken)
    }

    /// Token ids of a rendered prompt: special-token text is parsed, and BOS is added only when
    /// the template asks for it and the text does not start with it (as HF's apply_chat_template
    /// tokenizes with add_special_tokens=False).
    public func promptIds(_ text: String) -> [Int] {
        var ids = tokenizer.encode(text, addSpecialTokens: false, parseSpecial: true)
        if autoAddBOS, let bos = tokenizer.bosId, ids.first != bos { ids.insert(bos, at: 0) }
        return ids
    }

    /// The ids that end an answer: the model's end tokens, the tokenizer's end-of-generation
    /// tokens, and stop words that are single special tokens.
    public var endTokenIds: Set<Int> {
        var ids = Set(model.config.eosTokenIds)
        if let eos = tokenizer.eosId { ids.insert(eos) }
        ids.formUnion(generationDefaults?.eosTokenIds ?? [])
        if generationDefaults == nil { ids.formUnion(tokenizer.endOfGenerationIds) }
        for w in stopWords { if let id = tokenizer.id(of: w), tokenizer.isSpecial(id) { ids.insert(id) } }
        return ids
    }

    /// Generation options seeded from the model: `generation_config.json` values (greedy when
    /// it does not sample), the end tokens and the template's stop words.
    public func defaultOptions() -> GenerationOptions {
        var o = GenerationOptions()
        o.endTokenIds = endTokenIds
        if let g = generationDefaults {
            if !g.isGreedy {
                o.sampling.temperature = g.temperature ?? 1
                if let k = g.topK { o.sampling.topK = k }
                if let p = g.topP { o.sampling.topP = p }
            }
            if let r = g.repetitionPenalty { o.sampling.repetitionPenalty = r }
            if let n = g.maxNewTokens { o.maxNewTokens = n }
            if let b = g.numBeams { o.numBeams = b }
        }
        return o
    }

    /// Answers a conversation. `options` defaults to `defaultOptions()`.
    public func respond(to messages: [ChatMessage], system: String? = nil, options: GenerationOptions? = nil,
                        cancel: CancellationToken? = nil, onToken: (GeneratedToken) -> Void = { _ in }) throws -> GenerationResult {
        let prompt = promptIds(try renderPrompt(messages, system: system))
        var o = options ?? defaultOptions()
        if o.endTokenIds.isEmpty { o.endTokenIds = endTokenIds }
        return try Generator(model: model, tokenizer: tokenizer).generate(prompt: prompt, options: o, cancel: cancel, onToken: onToken)
    }
}
