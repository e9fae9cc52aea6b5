/// Nearest-name suggestions for a mistyped argument name.
enum NameSuggester {
    /// Names whose similarity (1 - distance / longer length) reaches this are offered.
    static let similarityFloor = 0.6
    static let maxSuggestions = 3

    static func suggestions(for unknown: String, among names: [String]) -> [String] {
        let typed = Array(unknown.lowercased())
        guard !typed.isEmpty else { return [] }
        var scored: [(name: String, distance: Int)] = []
        for name in names {
            let candidate = Array(name.lowercased())
            let longer = max(typed.count, candidate.count)
            // Cheap bound first: the distance is at least the length difference.
            let minimum = abs(typed.count - candidate.count)
            if 1 - Double(minimum) / Double(longer) < similarityFloor { continue }
            let d = editDistance(typed, candidate)
            if 1 - Double(d) / Double(longer) >= similarityFloor { scored.append((name, d)) }
        }
        scored.sort { $0.distance != $1.distance ? $0.distance < $1.distance : $0.name < $1.name }
        // Only the closest tier: one clear candidate beats several looser ones.
        guard let best = scored.first?.distance else { return [] }
        var seen = Set<String>()
        return scored.filter { $0.distance == best }.map(\.name).filter { seen.insert($0).inserted }
            .prefix(maxSuggestions).map { $0 }
    }

    /// Optimal-string-alignment distance: insertions, deletions, substitutions and
    /// transpositions of neighbours (so `rnak` is one edit from `rank`).
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        let width = b.count + 1
        var prevPrev = [Int](repeating: 0, count: width)
        var prev = Array(0...b.count)
        var row = [Int](repeating: 0, count: width)
        for i in 1...a.count {
            row[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var best = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    best = min(best, prevPrev[j - 2] + 1)
                }
                row[j] = best
            }
            (prevPrev, prev, row) = (prev, row, prevPrev)
        }
        return prev[b.count]
    }
}
