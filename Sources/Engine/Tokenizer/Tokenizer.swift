import Foundation

/// Byte-level BPE tokenizer (GPT-2 / HF `tokenizers` / llama.cpp "gpt2" vocabularies).
///
/// Encoding: added tokens are cut out of the raw text first; each remaining fragment is
/// (optionally NFC-normalized,) split by the pre-tokenizer, and each piece's UTF-8 bytes are
/// merged by BPE. Decoding concatenates each token's bytes.
public final class Tokenizer: @unchecked Sendable {  // immutable; the BPE word cache is locked
    /// Everything the encoder and decoder need, built by `init(gguf:)` or `init(tokenizerJSON:...)`.
    struct Parts {
        var pieces: [[UInt8]]          // bytes each id decodes to
        var storedText: [[UInt8]?]     // each id's text as stored in the vocabulary (UTF-8), for id(of:)
        var isControl: [Bool]
        var bpe: BPEModel
        var stages: [PreTokenizerStage]
        var matcher: SpecialTokenMatcher
        var normalizeNFC = false
        var addPrefixSpace = false
        var prefixIds: [Int] = []
        var suffixIds: [Int] = []
        var bosId: Int?
        var eosId: Int?
        var padId: Int?
        var unkId: Int?
        var chatTemplate: String?
        var endOfGenerationIds: [Int] = []
    }

    private let parts: Parts
    private let idByStoredText: [[UInt8]: Int]

    init(parts: Parts) {
        self.parts = parts
        var map: [[UInt8]: Int] = [:]
        map.reserveCapacity(parts.storedText.count)
        for (id, t) in parts.storedText.enumerated() { if let t { map[t] = id } }
        idByStoredText = map
    }

    public var vocabularySize: Int { parts.pieces.count }
    var preTokenizerStages: [PreTokenizerStage] { parts.stages }
    var normalizesNFC: Bool { parts.normalizeNFC }
    public var bosId: Int? { parts.bosId }
    public var eosId: Int? { parts.eosId }
    public var padId: Int? { parts.padId }
    public var unkId: Int? { parts.unkId }
    /// Whether `encode(addSpecialTokens: true)` puts the BOS token first.
    public var addBOS: Bool { parts.bosId.map { parts.prefixIds.contains($0) } ?? false }
    /// Whether `encode(addSpecialTokens: true)` puts the EOS token last.
    public var addEOS: Bool { parts.eosId.map { parts.suffixIds.contains($0) } ?? false }
    public var chatTemplate: String? { parts.chatTemplate }
    /// Tokens that end generation: EOS plus the end-of-turn / end-of-text markers llama.cpp
    /// recognizes by name (for a tokenizer.json, among its added tokens). Sorted.
    public var endOfGenerationIds: [Int] { parts.endOfGenerationIds }

    /// The id of a token given in its stored vocabulary form (byte-mapped for normal tokens,
    /// literal for special ones), compared byte for byte.
    public func id(of token: String) -> Int? { idByStoredText[Array(token.utf8)] }

    /// Control / special tokens (GGUF types unknown and control; tokenizer.json `special: true`).
    public func isSpecial(_ id: Int) -> Bool { id >= 0 && id < parts.isControl.count && parts.isControl[id] }

    /// The bytes a token stands for (a special token's text for special tokens); empty if out of range.
    public func tokenBytes(_ id: Int) -> [UInt8] {
        guard id >= 0 && id < parts.pieces.count else { return [] }
        return parts.pieces[id]
    }

    public func encode(_ text: String, addSpecialTokens: Bool = true, parseSpecial: Bool = true) -> [Int] {
        var out: [Int] = []
        if addSpecialTokens { out.append(contentsOf: parts.prefixIds) }
        let utf8 = Array(text.utf8)
        let fragments = utf8.withUnsafeBufferPointer { parts.matcher.partition($0, parseSpecial: parseSpecial) }
        for fragment in fragments {
            switch fragment {
            case .token(let id): out.append(id)
            case .text(let range): encodeFragment(utf8[range], into: &out)
            }
        }
        if addSpecialTokens { out.append(contentsOf: parts.suffixIds) }
        return out
    }

    private func encodeFragment(_ bytes: ArraySlice<UInt8>, into out: inout [Int]) {
        var text = String(decoding: bytes, as: UTF8.self)
        if parts.normalizeNFC { text = text.precomposedStringWithCanonicalMapping }
        if parts.addPrefixSpace && !text.hasPrefix(" ") { text = " " + text }
        let utf8 = Array(text.utf8)
        let scanned = ScannedText(Substring(text))
        let ends = PreTokenizer.split(scanned, stages: parts.stages)
        var start = 0
        for end in ends {
            parts.bpe.encode(utf8[scanned.utf8Offsets[start]..<scanned.utf8Offsets[end]], into: &out)
            start = end
        }
    }

    /// Text of the ids; invalid UTF-8 (a multi-byte character cut between tokens) becomes U+FFFD.
    public func decode(_ ids: [Int], skipSpecial: Bool = false) -> String {
        String(decoding: decodeBytes(ids, skipSpecial: skipSpecial), as: UTF8.self)
    }

    /// The exact bytes of the ids.
    public func decodeBytes(_ ids: [Int], skipSpecial: Bool = false) -> [UInt8] {
        var bytes: [UInt8] = []
        for id in ids {
            if skipSpecial && isSpecial(id) { continue }
            bytes.append(contentsOf: tokenBytes(id))
        }
        return bytes
    }
}
