import Glibc

/// One added/special token that is matched in raw text before pre-tokenization.
struct AddedToken {
    var id: Int
    var bytes: [UInt8]
    /// Control tokens (GGUF type 3/2, tokenizer.json `special: true`) are matched only when
    /// `parseSpecial` is on; user-defined / non-special added tokens are always matched.
    var isControl: Bool
    /// Strip whitespace to the left / right of a match (tokenizer.json `lstrip` / `rstrip`).
    var lstrip: Bool = false
    var rstrip: Bool = false
}

/// A piece of input: raw text to pre-tokenize, or an added token already matched.
enum Fragment {
    case text(Range<Int>)
    case token(Int)
}

/// Finds added tokens in raw UTF-8 text.
struct SpecialTokenMatcher {
    enum Strategy {
        /// llama.cpp: tokens in order of decreasing byte length; each is found everywhere in the
        /// text fragments left over by the longer ones.
        case longestTokenFirst
        /// HF `tokenizers`: scan left to right; at each position the longest token that matches wins.
        case leftmostLongest
    }

    let tokens: [AddedToken]  // sorted by byte length, longest first
    let strategy: Strategy

    init(tokens: [AddedToken], strategy: Strategy) {
        // Stable sort keeps the id order among tokens of equal length.
        self.tokens = tokens.enumerated()
            .sorted { $0.element.bytes.count != $1.element.bytes.count ? $0.element.bytes.count > $1.element.bytes.count : $0.offset < $1.offset }
            .map { $0.element }
            .filter { !$0.bytes.isEmpty }
        self.strategy = strategy
    }

    func partition(_ text: UnsafeBufferPointer<UInt8>, parseSpecial: Bool) -> [Fragment] {
        if text.isEmpty { return [] }
        let active = tokens.filter { parseSpecial || !$0.isControl }
        if active.isEmpty { return [.text(0..<text.count)] }
        switch strategy {
        case .longestTokenFirst: return partitionLongestFirst(text, active)
        case .leftmostLongest: return partitionLeftmostLongest(text, active)
        }
    }

    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0D) }

    private func partitionLongestFirst(_ text: UnsafeBufferPointer<UInt8>, _ active: [AddedToken]) -> [Fragment] {
        var fragments: [Fragment] = [.text(0..<text.count)]
        for token in active {
            var next: [Fragment] = []
            next.reserveCapacity(fragments.count)
            for fragment in fragments {
                guard case .text(let range) = fragment else { next.append(fragment); continue }
                var start = range.lowerBound
                while start < range.upperBound {
                    guard let at = find(token.bytes, in: text, from: start, to: range.upperBound) else { break }
                    var leftEnd = at
                    if token.lstrip { while leftEnd > start && Self.isSpace(text[leftEnd - 1]) { leftEnd -= 1 } }
                    if leftEnd > start { next.append(.text(start..<leftEnd)) }
                    next.append(.token(token.id))
                    start = at + token.bytes.count
                    if token.rstrip { while start < range.upperBound && Self.isSpace(text[start]) { start += 1 } }
                }
                if start < range.upperBound { next.append(.text(start..<range.upperBound)) }
            }
            fragments = next
        }
        return fragments
    }

    private func partitionLeftmostLongest(_ text: UnsafeBufferPointer<UInt8>, _ active: [AddedToken]) -> [Fragment] {
        var byFirstByte = [[Int]](repeating: [], count: 256)
        for (i, t) in active.enumerated() { byFirstByte[Int(t.bytes[0])].append(i) }
        var fragments: [Fragment] = []
        var textStart = 0
        var p = 0
        let n = text.count
        while p < n {
            var matched: AddedToken?
            for i in byFirstByte[Int(text[p])] {
                let t = active[i]
                if p + t.bytes.count <= n && t.bytes.withUnsafeBufferPointer({ memcmp($0.baseAddress!, text.baseAddress! + p, t.bytes.count) == 0 }) {
                    matched = t
                    break
                }
            }
            guard let t = matched else { p += 1; continue }
            var leftEnd = p
            if t.lstrip { while leftEnd > textStart && Self.isSpace(text[leftEnd - 1]) { leftEnd -= 1 } }
            if leftEnd > textStart { fragments.append(.text(textStart..<leftEnd)) }
            fragments.append(.token(t.id))
            p += t.bytes.count
            if t.rstrip { while p < n && Self.isSpace(text[p]) { p += 1 } }
            textStart = p
        }
        if textStart < n { fragments.append(.text(textStart..<n)) }
        return fragments
    }

    /// First occurrence of needle in text[from..<to] (memchr for the first byte, then memcmp).
    private func find(_ needle: [UInt8], in text: UnsafeBufferPointer<UInt8>, from: Int, to: Int) -> Int? {
        let m = needle.count
        guard m > 0, to - from >= m else { return nil }
        let base = text.baseAddress!
        return needle.withUnsafeBufferPointer { nb -> Int? in
            let first = Int32(nb[0])
            var p = from
            let last = to - m
            while p <= last {
                guard let hit = memchr(base + p, first, last - p + 1) else { return nil }
                let at = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                if memcmp(base + at, nb.baseAddress!, m) == 0 { return at }
                p = at + 1
            }
            return nil
        }
    }
}
