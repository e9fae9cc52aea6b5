import Foundation

/// The tokenizer files of an exported HF directory. An HF-directory source has its own files
/// copied; a GGUF source gets a `tokenizer.json` built from its `tokenizer.ggml.*` vocabulary,
/// merges, token types and pre-tokenizer name (byte-level BPE only), plus `tokenizer_config.json`
/// (with the chat template) and `special_tokens_map.json`.
enum HFTokenizerExport {
    static let copiedFiles = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                              "chat_template.jinja", "vocab.json", "merges.txt", "added_tokens.json"]

    static func write(_ model: LoadedModel, maxPositions: Int, to directory: String) throws {
        switch model.location {
        case .hfDirectory(let source):
            for name in copiedFiles {
                let from = source + "/" + name
                guard FileManager.default.fileExists(atPath: from) else { continue }
                let data = try Data(contentsOf: URL(fileURLWithPath: from))
                try writeAtomically(to: directory + "/" + name) { try $0.write(data) }
            }
        case .gguf(let path):
            let data = try GGUFTokenizerData(gguf: GGUFFile(map: MappedFile(path: path)))
            let template = model.templateName == "model" ? data.chatTemplate : BuiltinTemplates.named(model.templateName)?.source
            try HFModelExport.writeText(try tokenizerJSON(data, source: path), to: directory + "/tokenizer.json")
            try HFModelExport.writeText(tokenizerConfigJSON(data, chatTemplate: template, maxPositions: maxPositions),
                                        to: directory + "/tokenizer_config.json")
            try HFModelExport.writeText(specialTokensMapJSON(data), to: directory + "/special_tokens_map.json")
        }
    }

    /// The `tokenizers` pre-tokenizer equivalent to llama.cpp's for a `tokenizer.ggml.pre`
    /// name, and whether BPE ignores merges for whole-word vocabulary hits.
    static func preTokenizer(_ pre: String?, source: String) throws -> (ExportJSON, ignoreMerges: Bool, nfc: Bool) {
        func byteLevel(useRegex: Bool) -> ExportJSON {
            .object([("type", .string("ByteLevel")), ("add_prefix_space", .bool(false)),
                     ("trim_offsets", .bool(true)), ("use_regex", .bool(useRegex))])
        }
        func split(_ regex: String) -> ExportJSON {
            .object([("type", .string("Split")), ("pattern", .object([("Regex", .string(regex))])),
                     ("behavior", .string("Isolated")), ("invert", .bool(false))])
        }
        func sequence(_ items: [ExportJSON]) -> ExportJSON {
            .object([("type", .string("Sequence")), ("pretokenizers", .array(items))])
        }
        let llama3 = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        let qwen2 = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        guard let setup = Tokenizer.ggufPreSetup(pre) else {
            throw FileError(path: source, problem: "pre-tokenizer '\(pre ?? "")' has no tokenizer.json equivalent here")
        }
        switch setup.stages {
        case [.gpt2]: return (byteLevel(useRegex: true), setup.ignoreMerges, false)
        case [.llama3(maxDigits: 3)]: return (sequence([split(llama3), byteLevel(useRegex: false)]), setup.ignoreMerges, false)
        case [.llama3(maxDigits: 1)]: return (sequence([split(qwen2), byteLevel(useRegex: false)]), setup.ignoreMerges, true)
        case [.isolateEachNumber, .gpt2]:
            return (sequence([.object([("type", .string("Digits")), ("individual_digits", .bool(true))]), byteLevel(useRegex: true)]),
                    setup.ignoreMerges, false)
        default:
            throw FileError(path: source, problem: "pre-tokenizer '\(pre ?? "default")' has no tokenizer.json equivalent here (supported: gpt-2, llama-bpe family, qwen2 family, smollm family)")
        }
    }

    static func isSpecialType(_ type: Int) -> Bool { type == 2 || type == 3 }

    /// The types llama.cpp gives tokens: stored types, with end-of-generation names as control.
    static func effectiveTypes(_ d: GGUFTokenizerData) -> [Int] {
        d.tokens.enumerated().map { id, text in
            let t = d.tokenTypes?[id] ?? 1
            if t != 2 && t != 3 && SpecialTokenNames.forcedControlBytes.contains(Array(text.utf8)) { return 3 }
            return t
        }
    }

    static func tokenizerJSON(_ d: GGUFTokenizerData, source: String) throws -> String {
        guard d.model == "gpt2" else {
            throw FileError(path: source, problem: "tokenizer model '\(d.model)' cannot be written as tokenizer.json (only byte-level BPE, 'gpt2')")
        }
        let (pre, ignoreMerges, nfc) = try preTokenizer(d.pre, source: source)
        let types = effectiveTypes(d)
        var added: [ExportJSON] = []
        for (id, text) in d.tokens.enumerated() where [2, 3, 4].contains(types[id]) {
            added.append(.object([
                ("id", .int(id)), ("content", .string(text)), ("single_word", .bool(false)),
                ("lstrip", .bool(false)), ("rstrip", .bool(false)), ("normalized", .bool(false)),
                ("special", .bool(isSpecialType(types[id]))),
            ]))
        }
        var seen = Set<String>()
        var vocab: [(String, ExportJSON)] = []
        for (id, text) in d.tokens.enumerated() where seen.insert(text).inserted { vocab.append((text, .int(id))) }
        let merges: [ExportJSON] = try d.merges.enumerated().map { i, m in
            let u = Array(m.utf8)
            guard u.count >= 3, let space = u[1...].firstIndex(of: 0x20) else {
                throw FileError(path: source, problem: "merge \(i) '\(m)' is not of the form 'left right'")
            }
            return .array([.string(String(decoding: u[..<space], as: UTF8.self)),
                           .string(String(decoding: u[(space + 1)...], as: UTF8.self))])
        }
        let addBOS = d.addBOS ?? (Tokenizer.ggufPreSetup(d.pre)?.addBOSByDefault ?? false)
        let addEOS = d.addEOS ?? false
        var post: ExportJSON = .object([("type", .string("ByteLevel")), ("add_prefix_space", .bool(true)),
                                        ("trim_offsets", .bool(false)), ("use_regex", .bool(true))])
        let bos = addBOS ? d.bosId : nil, eos = addEOS ? d.eosId : nil
        if bos != nil || eos != nil {
            func special(_ id: Int) -> ExportJSON { .object([("SpecialToken", .object([("id", .string(d.tokens[id])), ("type_id", .int(0))]))]) }
            func sequence(_ name: String, _ type: Int) -> ExportJSON { .object([("Sequence", .object([("id", .string(name)), ("type_id", .int(type))]))]) }
            var single: [ExportJSON] = [], pair: [ExportJSON] = []
            if let b = bos { single.append(special(b)) }
            single.append(sequence("A", 0))
            if let e = eos { single.append(special(e)) }
            if let b = bos { pair.append(special(b)) }
            pair.append(sequence("A", 0))
            if let e = eos { pair.append(special(e)) }
            if let b = bos { pair.append(special(b)) }
            pair.append(sequence("B", 1))
            if let e = eos { pair.append(special(e)) }
            var tokens: [(String, ExportJSON)] = []
            for id in Set([bos, eos].compactMap { $0 }).sorted() {
                tokens.append((d.tokens[id], .object([("id", .string(d.tokens[id])), ("ids", .array([.int(id)])),
                                                      ("tokens", .array([.string(d.tokens[id])]))])))
            }
            post = .object([("type", .string("TemplateProcessing")), ("single", .array(single)),
                            ("pair", .array(pair)), ("special_tokens", .object(tokens))])
        }
        let model: ExportJSON = .object([
            ("type", .string("BPE")), ("dropout", .null), ("unk_token", d.unkId.map { .string(d.tokens[$0]) } ?? .null),
            ("continuing_subword_prefix", .null), ("end_of_word_suffix", .null), ("fuse_unk", .bool(false)),
            ("byte_fallback", .bool(false)), ("ignore_merges", .bool(ignoreMerges)),
            ("vocab", .object(vocab)), ("merges", .array(merges)),
        ])
        let root: ExportJSON = .object([
            ("version", .string("1.0")), ("truncation", .null), ("padding", .null),
            ("added_tokens", .array(added)),
            ("normalizer", nfc ? .object([("type", .string("NFC"))]) : .null),
            ("pre_tokenizer", pre), ("post_processor", post),
            ("decoder", .object([("type", .string("ByteLevel")), ("add_prefix_space", .bool(true)),
                                 ("trim_offsets", .bool(true)), ("use_regex", .bool(true))])),
            ("model", model),
        ])
        return root.rendered(sortKeys: false, ensureASCII: false) + "\n"
    }

    static func tokenizerConfigJSON(_ d: GGUFTokenizerData, chatTemplate: String?, maxPositions: Int) -> String {
        var j: [(String, ExportJSON)] = [
            ("backend", .string("tokenizers")),
            ("clean_up_tokenization_spaces", .bool(false)),
            ("model_max_length", .int(maxPositions)),
            ("tokenizer_class", .string("TokenizersBackend")),
        ]
        for (key, id) in [("bos_token", d.bosId), ("eos_token", d.eosId), ("pad_token", d.padId), ("unk_token", d.unkId)] {
            if let id { j.append((key, .string(d.tokens[id]))) }
        }
        if let t = chatTemplate { j.append(("chat_template", .string(t))) }
        return ExportJSON.object(j).rendered(ensureASCII: false) + "\n"
    }

    static func specialTokensMapJSON(_ d: GGUFTokenizerData) -> String {
        var j: [(String, ExportJSON)] = []
        for (key, id) in [("bos_token", d.bosId), ("eos_token", d.eosId), ("pad_token", d.padId), ("unk_token", d.unkId)] {
            guard let id else { continue }
            j.append((key, .object([("content", .string(d.tokens[id])), ("lstrip", .bool(false)), ("normalized", .bool(false)),
                                    ("rstrip", .bool(false)), ("single_word", .bool(false))])))
        }
        return ExportJSON.object(j).rendered(ensureASCII: false) + "\n"
    }
}
