import Foundation

extension Tokenizer {
    /// Builds a tokenizer from a Hugging Face `tokenizer.json` (model BPE over a ByteLevel
    /// pre-tokenizer) and optionally its `tokenizer_config.json`, encoding as HF `tokenizers` does.
    ///
    /// Supported: normalizer null / NFC; pre-tokenizers ByteLevel, Split with the GPT-2, Llama 3 or
    /// Qwen2 regex, Digits, and Sequences of these; post-processor TemplateProcessing (its single
    /// template gives the tokens added around the text), ByteLevel, Sequence; decoder ByteLevel.
    /// `add_bos_token` / `add_eos_token` in tokenizer_config.json add or remove BOS / EOS.
    public convenience init(tokenizerJSON: Data, tokenizerConfigJSON: Data?) throws {
        let src = "tokenizer.json"
        func fail(_ problem: String) -> TokenizerError { TokenizerError(source: src, problem: problem) }
        let root = try JSONParser.parse([UInt8](tokenizerJSON), source: src)
        guard let model = root["model"] else { throw fail("no 'model'") }
        guard model["type"]?.string == "BPE" || (model["type"] == nil && model["merges"] != nil) else {
            throw fail("model type '\(model["type"]?.string ?? "?")' is not supported (only BPE)")
        }
        guard case .object(let vocabMembers)? = model["vocab"] else { throw fail("model.vocab is not an object") }

        // Ids: vocabulary and added tokens.
        var maxId = -1
        var entries: [(id: Int, text: String)] = []
        entries.reserveCapacity(vocabMembers.count)
        for m in vocabMembers {
            guard let id = m.value.int, id >= 0, id < 16_777_216 else { throw fail("vocab entry '\(m.key)' has no valid id") }
            entries.append((id, m.key))
            maxId = max(maxId, id)
        }
        struct Added { var id: Int; var content: String; var special: Bool; var lstrip: Bool; var rstrip: Bool }
        var addedList: [Added] = []
        for item in root["added_tokens"]?.array ?? [] {
            guard let id = item["id"]?.int, id >= 0, id < 16_777_216, let content = item["content"]?.string else {
                throw fail("an added_tokens entry lacks id or content")
            }
            if item["single_word"]?.bool ?? false {
                throw fail("added token '\(content)' has single_word, which is not supported")
            }
            addedList.append(Added(id: id, content: content, special: item["special"]?.bool ?? false,
                                   lstrip: item["lstrip"]?.bool ?? false, rstrip: item["rstrip"]?.bool ?? false))
            maxId = max(maxId, id)
        }
        guard maxId >= 0 else { throw fail("the vocabulary is empty") }
        // Ids are dense in practice; bound the tables by what the file holds.
        guard maxId < entries.count + addedList.count + 1024 else {
            throw fail("token id \(maxId) is far beyond the \(entries.count + addedList.count) tokens the file defines")
        }
        let n = maxId + 1

        var pieces = [[UInt8]](repeating: [], count: n)
        var stored = [[UInt8]?](repeating: nil, count: n)
        var isControl = [Bool](repeating: false, count: n)
        var tokenByBytes: [[UInt8]: Int] = [:]
        tokenByBytes.reserveCapacity(entries.count)
        for e in entries {
            stored[e.id] = Array(e.text.utf8)
            let bytes = ByteLevelMapping.decode(e.text) ?? Array(e.text.utf8)
            pieces[e.id] = bytes
            tokenByBytes[bytes] = e.id
        }
        var added: [AddedToken] = []
        for a in addedList {
            let bytes = Array(a.content.utf8)
            pieces[a.id] = bytes
            if stored[a.id] == nil { stored[a.id] = bytes }
            isControl[a.id] = a.special
            added.append(AddedToken(id: a.id, bytes: bytes, isControl: a.special, lstrip: a.lstrip, rstrip: a.rstrip))
        }

        var merges: [([UInt8], [UInt8])] = []
        let mergeItems = model["merges"]?.array ?? []
        merges.reserveCapacity(mergeItems.count)
        for (i, item) in mergeItems.enumerated() {
            let left: String, right: String
            if let s = item.string {
                let u = Array(s.utf8)
                guard u.count >= 3, let space = u[1...].firstIndex(of: 0x20) else { throw fail("merge \(i) '\(s)' is not 'left right'") }
                left = String(decoding: u[..<space], as: UTF8.self)
                right = String(decoding: u[(space + 1)...], as: UTF8.self)
            } else if let pair = item.array, pair.count == 2, let l = pair[0].string, let r = pair[1].string {
                left = l
                right = r
            } else {
                throw fail("merge \(i) is neither 'left right' nor [left, right]")
            }
            guard let l = ByteLevelMapping.decode(left), let r = ByteLevelMapping.decode(right) else { continue }
            merges.append((l, r))
        }

        // Normalizer.
        var nfc = false
        func readNormalizer(_ v: JSONValue) throws {
            if v.isNull { return }
            switch v["type"]?.string {
            case "NFC": nfc = true
            case "Sequence": for s in v["normalizers"]?.array ?? [] { try readNormalizer(s) }
            default: throw fail("normalizer '\(v["type"]?.string ?? "?")' is not supported")
            }
        }
        if let nv = root["normalizer"] { try readNormalizer(nv) }

        // Pre-tokenizer.
        var pre = PreTokenizerConfig()
        if let pv = root["pre_tokenizer"], !pv.isNull { try pre.read(pv, fail) }
        guard pre.byteLevel else { throw fail("only byte-level BPE is supported (no ByteLevel pre_tokenizer)") }
        let stages = pre.stages
        let addPrefixSpace = pre.addPrefixSpace

        if let dv = root["decoder"], !dv.isNull {
            guard Self.isByteLevelDecoder(dv) else { throw fail("decoder '\(dv["type"]?.string ?? "?")' is not supported (only ByteLevel)") }
        }

        // Tokens added around the text by the post-processor.
        var prefix: [Int] = []
        var suffix: [Int] = []
        func readPost(_ v: JSONValue) throws {
            switch v["type"]?.string {
            case "TemplateProcessing":
                var seenSequence = false
                for item in v["single"]?.array ?? [] {
                    if item["Sequence"] != nil { seenSequence = true; continue }
                    guard let name = item["SpecialToken"]?["id"]?.string else { continue }
                    guard let ids = v["special_tokens"]?[name]?["ids"]?.array?.compactMap({ $0.int }), ids.allSatisfy({ $0 < n }) else {
                        throw fail("post_processor special token '\(name)' has no valid ids")
                    }
                    if seenSequence { suffix += ids } else { prefix += ids }
                }
            case "ByteLevel":
                break
            case "Sequence":
                for p in v["processors"]?.array ?? [] { try readPost(p) }
            default:
                throw fail("post_processor '\(v["type"]?.string ?? "?")' is not supported")
            }
        }
        if let pv = root["post_processor"], !pv.isNull { try readPost(pv) }

        var parts = Parts(
            pieces: pieces, storedText: stored, isControl: isControl,
            bpe: BPEModel(tokenByBytes: tokenByBytes, merges: merges, ignoreMerges: model["ignore_merges"]?.bool ?? false),
            stages: stages,
            matcher: SpecialTokenMatcher(tokens: added, strategy: .leftmostLongest))
        parts.normalizeNFC = nfc
        parts.addPrefixSpace = addPrefixSpace

        let idByText: (String?) -> Int? = { text in
            guard let text else { return nil }
            let key = Array(text.utf8)
            if let a = addedList.first(where: { Array($0.content.utf8) == key }) { return a.id }
            return stored.firstIndex(where: { $0 == key })
        }
        if let configData = tokenizerConfigJSON {
            let config = try JSONParser.parse([UInt8](configData), source: "tokenizer_config.json")
            func tokenName(_ key: String) -> String? { config[key]?.string ?? config[key]?["content"]?.string }
            parts.bosId = idByText(tokenName("bos_token"))
            parts.eosId = idByText(tokenName("eos_token"))
            parts.padId = idByText(tokenName("pad_token"))
            parts.unkId = idByText(tokenName("unk_token"))
            parts.chatTemplate = config["chat_template"]?.string
            if let addBOS = config["add_bos_token"]?.bool, let b = parts.bosId {
                prefix.removeAll { $0 == b }
                if addBOS { prefix.insert(b, at: 0) }
            }
            if let addEOS = config["add_eos_token"]?.bool, let e = parts.eosId {
                suffix.removeAll { $0 == e }
                if addEOS { suffix.append(e) }
            }
        }
        if parts.unkId == nil, let unk = model["unk_token"]?.string { parts.unkId = idByText(unk) }
        parts.prefixIds = prefix
        parts.suffixIds = suffix
        var eog = Set<Int>()
        if let e = parts.eosId { eog.insert(e) }
        for a in addedList where SpecialTokenNames.endOfGenerationBytes.contains(Array(a.content.utf8)) { eog.insert(a.id) }
        parts.endOfGenerationIds = eog.sorted()
        self.init(parts: parts)
    }

    /// What the tokenizer.json pre_tokenizer says: the scanner stages and the ByteLevel options.
    private struct PreTokenizerConfig {
        var stages: [PreTokenizerStage] = []
        var byteLevel = false
        var addPrefixSpace = false

        mutating func read(_ v: JSONValue, _ fail: (String) -> TokenizerError) throws {
            switch v["type"]?.string {
            case "Sequence":
                for s in v["pretokenizers"]?.array ?? [] { try read(s, fail) }
            case "ByteLevel":
                byteLevel = true
                addPrefixSpace = v["add_prefix_space"]?.bool ?? false
                if v["use_regex"]?.bool ?? true { stages.append(.gpt2) }
            case "Digits":
                stages.append((v["individual_digits"]?.bool ?? false) ? .isolateEachNumber : .isolateNumberRuns)
            case "Split":
                guard let pattern = v["pattern"]?["Regex"]?.string, let stage = Tokenizer.knownSplitRegex(pattern) else {
                    throw fail("Split pattern is not one of the supported regexes (GPT-2, Llama 3, Qwen2)")
                }
                guard v["behavior"]?.string == "Isolated", !(v["invert"]?.bool ?? false) else {
                    throw fail("Split behavior other than Isolated is not supported")
                }
                stages.append(stage)
            default:
                throw fail("pre_tokenizer '\(v["type"]?.string ?? "?")' is not supported")
            }
        }
    }

    private static func isByteLevelDecoder(_ d: JSONValue) -> Bool {
        switch d["type"]?.string {
        case "ByteLevel": return true
        case "Sequence": return (d["decoders"]?.array ?? []).allSatisfy(isByteLevelDecoder)
        default: return false
        }
    }

    /// The Split regexes implemented by hand-written scanners.
    static func knownSplitRegex(_ pattern: String) -> PreTokenizerStage? {
        let p = Array(pattern.utf8)
        let gpt2 = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
        let llama3 = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        let qwen2 = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        if p == Array(gpt2.utf8) { return .gpt2 }
        if p == Array(llama3.utf8) { return .llama3(maxDigits: 3) }
        if p == Array(qwen2.utf8) { return .llama3(maxDigits: 1) }
        return nil
    }
}
