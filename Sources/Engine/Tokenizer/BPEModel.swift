import Foundation

/// Byte-level BPE: a vocabulary keyed by raw bytes and a ranked merge table.
///
/// Symbols are byte strings: the 256 single bytes and the result of every merge. Each symbol has
/// a dense index; merges are looked up by (left, right) symbol index. A symbol that is not itself
/// a vocabulary token (possible in a GGUF whose merges produce strings missing from the vocabulary)
/// is emitted as its single-byte tokens, as llama.cpp does.
final class BPEModel: @unchecked Sendable {  // immutable after init except the locked cache
    /// Vocabulary token id for each symbol, or -1.
    private var symbolToken: [Int32] = []
    private var symbolBytes: [[UInt8]] = []
    private var symbolIndex: [[UInt8]: Int32] = [:]
    /// (left << 32 | right) -> (rank, merged symbol)
    private var mergeTable: [UInt64: (rank: Int32, merged: Int32)] = [:]
    /// Raw-byte key -> token id, for whole-word lookup and byte fallback.
    let tokenByBytes: [[UInt8]: Int]
    /// When true, a word that is itself a vocabulary token is taken whole before merging
    /// (Llama 3's `ignore_merges`).
    let ignoreMerges: Bool

    private var cache: [[UInt8]: [Int32]] = [:]
    private let cacheLock = NSLock()
    private static let cacheLimit = 200_000

    /// - Parameters:
    ///   - tokenByBytes: vocabulary, raw bytes to id.
    ///   - merges: ranked pairs of raw byte strings (rank = position).
    init(tokenByBytes: [[UInt8]: Int], merges: [([UInt8], [UInt8])], ignoreMerges: Bool) {
        self.tokenByBytes = tokenByBytes
        self.ignoreMerges = ignoreMerges
        for b in 0..<256 { _ = intern([UInt8(b)]) }
        mergeTable.reserveCapacity(merges.count)
        for (rank, pair) in merges.enumerated() {
            // Parts are interned even when no merge forms them: such a merge simply never applies.
            let l = intern(pair.0), r = intern(pair.1)
            let merged = intern(pair.0 + pair.1)
            let key = UInt64(UInt32(l)) << 32 | UInt64(UInt32(r))
            if mergeTable[key] == nil { mergeTable[key] = (Int32(rank), merged) }
        }
    }

    private func intern(_ bytes: [UInt8]) -> Int32 {
        if let s = symbolIndex[bytes] { return s }
        let s = Int32(symbolBytes.count)
        symbolIndex[bytes] = s
        symbolBytes.append(bytes)
        symbolToken.append(Int32(tokenByBytes[bytes] ?? -1))
        return s
    }

    /// Token ids for one pre-tokenized piece of raw bytes.
    func encode(_ word: ArraySlice<UInt8>, into out: inout [Int]) {
        if word.isEmpty { return }
        let key = Array(word)
        cacheLock.lock()
        let hit = cache[key]
        cacheLock.unlock()
        if let hit {
            for t in hit { out.append(Int(t)) }
            return
        }
        let ids = encodeUncached(key)
        cacheLock.lock()
        if cache.count >= BPEModel.cacheLimit { cache.removeAll(keepingCapacity: true) }
        cache[key] = ids
        cacheLock.unlock()
        for t in ids { out.append(Int(t)) }
    }

    private struct Candidate: Comparable {
        var rank: Int32
        var left: Int32
        var leftSymbol: Int32
        var rightSymbol: Int32
        static func < (a: Candidate, b: Candidate) -> Bool {
            a.rank != b.rank ? a.rank < b.rank : a.left < b.left
        }
    }

    private func encodeUncached(_ word: [UInt8]) -> [Int32] {
        if ignoreMerges, let whole = tokenByBytes[word] { return [Int32(whole)] }
        let n = word.count
        var sym = word.map { Int32($0) }  // single-byte symbols are interned at indices 0...255
        var next = [Int32](repeating: -1, count: n)
        var prev = [Int32](repeating: -1, count: n)
        for i in 0..<n {
            next[i] = i + 1 < n ? Int32(i + 1) : -1
            prev[i] = Int32(i - 1)
        }
        var heap = MinHeap<Candidate>()
        func consider(_ l: Int32) {
            guard l >= 0 else { return }
            let r = next[Int(l)]
            guard r >= 0 else { return }
            let key = UInt64(UInt32(sym[Int(l)])) << 32 | UInt64(UInt32(sym[Int(r)]))
            if let m = mergeTable[key] {
                heap.push(Candidate(rank: m.rank, left: l, leftSymbol: sym[Int(l)], rightSymbol: sym[Int(r)]))
            }
        }
        for i in 0..<(n - 1) { consider(Int32(i)) }
        while let c = heap.pop() {
            let l = Int(c.left)
            let r = next[l]
            // Stale: the left symbol was absorbed or changed, or its right neighbour changed.
            guard sym[l] == c.leftSymbol, r >= 0, sym[Int(r)] == c.rightSymbol else { continue }
            let key = UInt64(UInt32(c.leftSymbol)) << 32 | UInt64(UInt32(c.rightSymbol))
            guard let m = mergeTable[key] else { continue }
            sym[l] = m.merged
            sym[Int(r)] = -1
            let rn = next[Int(r)]
            next[l] = rn
            if rn >= 0 { prev[Int(rn)] = Int32(l) }
            consider(prev[l])
            consider(Int32(l))
        }
        var ids: [Int32] = []
        var i: Int32 = 0
        while i >= 0 {
            let s = Int(sym[Int(i)])
            let t = symbolToken[s]
            if t >= 0 {
                ids.append(t)
            } else {
                for b in symbolBytes[s] {
                    if let bt = tokenByBytes[[b]] { ids.append(Int32(bt)) }
                }
            }
            i = next[Int(i)]
        }
        return ids
    }
}

/// A binary min-heap.
struct MinHeap<Element: Comparable> {
    private var items: [Element] = []

    mutating func push(_ e: Element) {
        items.append(e)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if items[i] < items[parent] { items.swapAt(i, parent); i = parent } else { break }
        }
    }

    mutating func pop() -> Element? {
        guard !items.isEmpty else { return nil }
        let top = items[0]
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            let n = items.count
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < n && items[l] < items[m] { m = l }
                if r < n && items[r] < items[m] { m = r }
                if m == i { break }
                items.swapAt(i, m)
                i = m
            }
        }
        return top
    }
}
