extension Tokenizer {
    /// Builds the tokenizer llama.cpp builds from a GGUF's `tokenizer.ggml.*` metadata
    /// (model "gpt2": byte-level BPE).
    ///
    /// As in llama.cpp: control, unknown and user-defined tokens are matched in the raw text
    /// (longest first; control/unknown only when `parseSpecial`); a token named like an
    /// end-of-generation or fill-in-the-middle marker (`SpecialTokenNames`) is treated as control;
    /// BOS is added by default only for the Llama 3 pre-tokenizer family, and `addBOS` / `addEOS`
    /// override the defaults. `pre` "gpt2" is accepted as an alias of llama.cpp's "gpt-2".
    public convenience init(gguf: GGUFTokenizerData) throws {
        let source = "GGUF tokenizer"
        guard gguf.model == "gpt2" else {
            throw TokenizerError(source: source, problem: "tokenizer model '\(gguf.model)' is not supported (only byte-level BPE, 'gpt2')")
        }
        let n = gguf.tokens.count
        guard n > 0 else { throw TokenizerError(source: source, problem: "the vocabulary is empty") }
        if let types = gguf.tokenTypes, types.count != n {
            throw TokenizerError(source: source, problem: "\(types.count) token types for \(n) tokens")
        }
        for (name, id) in [("bos", gguf.bosId), ("eos", gguf.eosId), ("pad", gguf.padId), ("unk", gguf.unkId)] {
            if let id, id < 0 || id >= n {
                throw TokenizerError(source: source, problem: "\(name) token id \(id) is outside the vocabulary of \(n)")
            }
        }
        guard let setup = Self.ggufPreSetup(gguf.pre) else {
            throw TokenizerError(source: source, problem: "pre-tokenizer '\(gguf.pre ?? "")' is not supported")
        }

        var pieces = [[UInt8]](repeating: [], count: n)
        var stored = [[UInt8]?](repeating: nil, count: n)
        var isControl = [Bool](repeating: false, count: n)
        var tokenByBytes: [[UInt8]: Int] = [:]
        tokenByBytes.reserveCapacity(n)
        var added: [AddedToken] = []
        for (id, text) in gguf.tokens.enumerated() {
            let textBytes = Array(text.utf8)
            stored[id] = textBytes
            var type = gguf.tokenTypes?[id] ?? 1
            if type != 2 && type != 3 && SpecialTokenNames.forcedControlBytes.contains(textBytes) { type = 3 }
            let mapped = ByteLevelMapping.decode(text)
            // Every token is reachable by its byte-mapped text, as in llama.cpp's text-to-token map
            // (a later duplicate wins there too).
            if let mapped { tokenByBytes[mapped] = id }
            switch type {
            case 2, 3, 4:
                pieces[id] = textBytes
                isControl[id] = type != 4
                added.append(AddedToken(id: id, bytes: textBytes, isControl: type != 4))
            case 5:
                pieces[id] = []
            default:
                pieces[id] = mapped ?? textBytes
            }
        }

        var merges: [([UInt8], [UInt8])] = []
        merges.reserveCapacity(gguf.merges.count)
        for (i, m) in gguf.merges.enumerated() {
            // "left right", split at the first space after the first byte (a left part may not be empty).
            let u = Array(m.utf8)
            guard u.count >= 3, let space = u[1...].firstIndex(of: 0x20) else {
                throw TokenizerError(source: source, problem: "merge \(i) '\(m)' is not of the form 'left right'")
            }
            let left = String(decoding: u[..<space], as: UTF8.self)
            let right = String(decoding: u[(space + 1)...], as: UTF8.self)
            guard let l = ByteLevelMapping.decode(left), let r = ByteLevelMapping.decode(right) else { continue }
            merges.append((l, r))
        }

        let addBOS = gguf.addBOS ?? setup.addBOSByDefault
        let addEOS = gguf.addEOS ?? false
        var parts = Parts(
            pieces: pieces, storedText: stored, isControl: isControl,
            bpe: BPEModel(tokenByBytes: tokenByBytes, merges: merges, ignoreMerges: setup.ignoreMerges),
            stages: setup.stages,
            matcher: SpecialTokenMatcher(tokens: added, strategy: .longestTokenFirst))
        parts.bosId = gguf.bosId
        parts.eosId = gguf.eosId
        parts.padId = gguf.padId
        parts.unkId = gguf.unkId
        if addBOS, let b = gguf.bosId { parts.prefixIds = [b] }
        if addEOS, let e = gguf.eosId { parts.suffixIds = [e] }
        parts.chatTemplate = gguf.chatTemplate
        var eog = Set<Int>()
        if let e = gguf.eosId { eog.insert(e) }
        for (id, t) in stored.enumerated() where t.map(SpecialTokenNames.endOfGenerationBytes.contains) ?? false { eog.insert(id) }
        parts.endOfGenerationIds = eog.sorted()
        self.init(parts: parts)
    }

    /// How llama.cpp sets up a vocabulary for a `tokenizer.ggml.pre` name.
    struct PreSetup {
        var stages: [PreTokenizerStage]
        var ignoreMerges = false
        var addBOSByDefault = false
    }

    /// llama.cpp's `tokenizer.ggml.pre` names, for the pre-tokenizers implemented here.
    static func ggufPreSetup(_ pre: String?) -> PreSetup? {
        let gpt2: [PreTokenizerStage] = [.gpt2]
        switch pre {
        case nil, "default":
            // llama.cpp's fallback for vocabularies without a pre-tokenizer name.
            return PreSetup(stages: [.isolatePunctuationRuns, .gpt2, .isolateNumberRuns, .isolateASCIIDigitTriples])
        case "gpt-2", "gpt2", "phi-2", "mpt", "olmo", "jais", "trillion", "granite-docling", "mellum", "gigachat":
            return PreSetup(stages: gpt2)
        case "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2":
            return PreSetup(stages: [.llama3(maxDigits: 3)], ignoreMerges: true, addBOSByDefault: true)
        case "smaug-bpe", "dbrx":
            return PreSetup(stages: [.llama3(maxDigits: 3)])
        case "qwen2", "deepseek-r1-qwen", "stablelm2", "hunyuan", "kormo", "f2llmv2":
            return PreSetup(stages: [.llama3(maxDigits: 1)])
        case "smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva":
            // `\p{N}` isolated, then the GPT-2 regex.
            return PreSetup(stages: [.isolateEachNumber, .gpt2])
        default:
            return nil
        }
    }
}
