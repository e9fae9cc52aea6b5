/// Turns a stream of token ids into text, emitting only complete UTF-8 characters.
///
/// A character whose bytes are split over several tokens is held back until its last byte
/// arrives. Bytes that can never form a character are emitted as U+FFFD at once, so the
/// concatenation of all pushes and the final flush equals `tokenizer.decode(allIds)`.
public struct StreamingDecoder {
    private let tokenizer: Tokenizer
    private let skipSpecial: Bool
    private var pending: [UInt8] = []

    public init(tokenizer: Tokenizer, skipSpecial: Bool = false) {
        self.tokenizer = tokenizer
        self.skipSpecial = skipSpecial
    }

    public mutating func push(_ id: Int) -> String {
        if skipSpecial && tokenizer.isSpecial(id) { return "" }
        pending.append(contentsOf: tokenizer.tokenBytes(id))
        let cut = Self.completePrefixLength(pending)
        guard cut > 0 else { return "" }
        let text = String(decoding: pending[..<cut], as: UTF8.self)
        pending.removeFirst(cut)
        return text
    }

    /// Whatever is held back, with an unfinished character as U+FFFD.
    public mutating func flush() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Length of the longest prefix that does not end inside an unfinished multi-byte character.
    /// A UTF-8 decoder starts afresh at every byte that is not a continuation byte, so cutting
    /// before the last such byte never changes how the bytes before it decode.
    static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        let n = bytes.count
        var i = n - 1
        while i >= 0 && i >= n - 4 && bytes[i] & 0xC0 == 0x80 { i -= 1 }
        guard i >= 0 && i >= n - 4 else { return n }
        let lead = bytes[i]
        let need: Int
        switch lead {
        case 0xC2...0xDF: need = 2
        case 0xE0...0xEF: need = 3
        case 0xF0...0xF4: need = 4
        default: need = 1
        }
        return n - i < need ? i : n
    }
}
