/// Splits text into the pieces that BPE then encodes one by one.
///
/// Each rule set is a hand-written scanner over unicode scalars that gives the same pieces as the
/// regex it names (leftmost-first alternation, greedy quantifiers, as in Oniguruma, Rust `regex` and
/// llama.cpp). Stages run in order; each later stage splits every piece of the earlier one, and a
/// lookahead never sees past the end of its piece.
enum PreTokenizerStage: Equatable {
    /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    case gpt2
    /// Llama 3 (`maxDigits` 3) and Qwen2 (`maxDigits` 1):
    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,maxDigits}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
    case llama3(maxDigits: Int)
    /// `\p{N}` isolated: every number scalar becomes a piece of its own (HF `Digits(individual_digits)`).
    case isolateEachNumber
    /// `\p{N}+` isolated (HF `Digits(individual_digits: false)`).
    case isolateNumberRuns
    /// `[\p{P}\$\+<=>\^~\|]+` isolated (first stage of llama.cpp's "default" pre-tokenizer).
    case isolatePunctuationRuns
    /// `[0-9][0-9][0-9]` isolated: ASCII digit triples, leftmost first.
    case isolateASCIIDigitTriples
}

/// Text prepared for scanning: scalar values, their classes, and where each scalar starts in UTF-8.
struct ScannedText {
    var scalars: [UInt32] = []
    var classes: [ScalarClass] = []
    /// utf8Offsets[i] is the UTF-8 offset of scalar i; one extra entry holds the total length.
    var utf8Offsets: [Int] = []

    init(_ text: Substring) {
        let n = text.utf8.count
        scalars.reserveCapacity(n)
        classes.reserveCapacity(n)
        utf8Offsets.reserveCapacity(n + 1)
        var offset = 0
        for scalar in text.unicodeScalars {
            scalars.append(scalar.value)
            classes.append(ScalarClass.of(scalar.value))
            utf8Offsets.append(offset)
            offset += UTF8.width(scalar)
        }
        utf8Offsets.append(offset)
    }
}

enum PreTokenizer {
    /// Piece boundaries (scalar indices, each the end of a piece) after running all stages.
    static func split(_ text: ScannedText, stages: [PreTokenizerStage]) -> [Int] {
        var ends = text.scalars.isEmpty ? [] : [text.scalars.count]
        for stage in stages {
            var next: [Int] = []
            next.reserveCapacity(ends.count * 2)
            var start = 0
            text.scalars.withUnsafeBufferPointer { sc in
                text.classes.withUnsafeBufferPointer { cl in
                    for end in ends {
                        scan(stage, sc, cl, start, end, &next)
                        start = end
                    }
                }
            }
            ends = next
        }
        return ends
    }

    private static func scan(
        _ stage: PreTokenizerStage, _ sc: UnsafeBufferPointer<UInt32>, _ cl: UnsafeBufferPointer<ScalarClass>,
        _ start: Int, _ end: Int, _ out: inout [Int]
    ) {
        switch stage {
        case .gpt2: scanGPT2(sc, cl, start, end, &out)
        case .llama3(let maxDigits): scanLlama3(sc, cl, start, end, maxDigits, &out)
        case .isolateEachNumber:
            isolate(start, end, &out) { p in cl[p].contains(.number) ? p + 1 : nil }
        case .isolateNumberRuns:
            isolate(start, end, &out) { p in
                guard cl[p].contains(.number) else { return nil }
                var q = p + 1
                while q < end && cl[q].contains(.number) { q += 1 }
                return q
            }
        case .isolatePunctuationRuns:
            func inSet(_ p: Int) -> Bool {
                if cl[p].contains(.punctuation) { return true }
                switch sc[p] { case 0x24, 0x2B, 0x3C, 0x3D, 0x3E, 0x5E, 0x7E, 0x7C: return true; default: return false }
            }
            isolate(start, end, &out) { p in
                guard inSet(p) else { return nil }
                var q = p + 1
                while q < end && inSet(q) { q += 1 }
                return q
            }
        case .isolateASCIIDigitTriples:
            func digit(_ p: Int) -> Bool { sc[p] >= 0x30 && sc[p] <= 0x39 }
            isolate(start, end, &out) { p in
                (p + 2 < end && digit(p) && digit(p + 1) && digit(p + 2)) ? p + 3 : nil
            }
        }
    }

    /// Regex split with "isolated" behaviour: matches and the gaps between them both become pieces.
    /// `match(p)` returns the end of a match starting at p, or nil.
    private static func isolate(_ start: Int, _ end: Int, _ out: inout [Int], _ match: (Int) -> Int?) {
        var gapStart = start
        var p = start
        while p < end {
            if let m = match(p) {
                if gapStart < p { out.append(p) }
                out.append(m)
                p = m
                gapStart = m
            } else {
                p += 1
            }
        }
        if gapStart < end { out.append(end) }
    }

    /// Length of the contraction (`'s 't 'm 'd` = 2, `'re 've 'll` = 3) at p, or 0.
    /// GPT-2 is case-sensitive; Llama 3 / Qwen2 use `(?i:...)`, applied here to ASCII letters only
    /// (as llama.cpp's adapted regex `'[sS]|'[tT]|...` does).
    @inline(__always)
    private static func contraction(_ sc: UnsafeBufferPointer<UInt32>, _ p: Int, _ end: Int, caseInsensitive: Bool) -> Int {
        guard sc[p] == 0x27, p + 1 < end else { return 0 }
        func lower(_ v: UInt32) -> UInt32 { caseInsensitive && v >= 0x41 && v <= 0x5A ? v + 0x20 : v }
        let a = lower(sc[p + 1])
        if a == 0x73 || a == 0x74 || a == 0x6D || a == 0x64 { return 2 }  // s t m d
        guard p + 2 < end else { return 0 }
        let b = lower(sc[p + 2])
        if (a == 0x72 && b == 0x65) || (a == 0x76 && b == 0x65) || (a == 0x6C && b == 0x6C) { return 3 }  // re ve ll
        return 0
    }

    /// Length of the whitespace run starting at p.
    @inline(__always)
    private static func whitespaceRun(_ cl: UnsafeBufferPointer<ScalarClass>, _ p: Int, _ end: Int) -> Int {
        var q = p
        while q < end && cl[q].contains(.whitespace) { q += 1 }
        return q - p
    }

    /// `\s+(?!\S)|\s+` on a whitespace run of length k at p: when a non-space follows inside the
    /// piece, the greedy run gives back its last scalar (so " word" can take it); a lone whitespace
    /// before a non-space is taken by `\s+` (for GPT-2, which lacks `\s+`, it is an unmatched gap of
    /// one scalar, which is the same piece).
    @inline(__always)
    private static func whitespaceMatch(_ k: Int, _ p: Int, _ end: Int) -> Int {
        (k >= 2 && p + k < end) ? k - 1 : k
    }

    private static func scanGPT2(
        _ sc: UnsafeBufferPointer<UInt32>, _ cl: UnsafeBufferPointer<ScalarClass>,
        _ start: Int, _ end: Int, _ out: inout [Int]
    ) {
        var p = start
        while p < end {
            // 's|'t|'re|'ve|'m|'ll|'d
            let c = contraction(sc, p, end, caseInsensitive: false)
            if c > 0 { p += c; out.append(p); continue }
            // ` ?X+` for X in \p{L}, \p{N}, [^\s\p{L}\p{N}]: an optional single space (U+0020) then a run.
            let q = (sc[p] == 0x20 && p + 1 < end) ? p + 1 : p
            let cq = cl[q]
            if cq.contains(.letter) {
                var r = q + 1
                while r < end && cl[r].contains(.letter) { r += 1 }
                p = r; out.append(p); continue
            }
            if cq.contains(.number) {
                var r = q + 1
                while r < end && cl[r].contains(.number) { r += 1 }
                p = r; out.append(p); continue
            }
            if cq.isOther {
                var r = q + 1
                while r < end && cl[r].isOther { r += 1 }
                p = r; out.append(p); continue
            }
            // \s+(?!\S) | lone whitespace
            let k = whitespaceRun(cl, p, end)
            p += max(1, whitespaceMatch(k, p, end))
            out.append(p)
        }
    }

    private static func scanLlama3(
        _ sc: UnsafeBufferPointer<UInt32>, _ cl: UnsafeBufferPointer<ScalarClass>,
        _ start: Int, _ end: Int, _ maxDigits: Int, _ out: inout [Int]
    ) {
        var p = start
        while p < end {
            // (?i:'s|'t|'re|'ve|'m|'ll|'d)
            let c = contraction(sc, p, end, caseInsensitive: true)
            if c > 0 { p += c; out.append(p); continue }
            let cp = cl[p]
            // [^\r\n\p{L}\p{N}]?\p{L}+ : letters, or one scalar that is not CR/LF/letter/number then letters
            var letterStart = -1
            if cp.contains(.letter) {
                letterStart = p
            } else if !cp.contains(.lineBreak) && !cp.contains(.number) && p + 1 < end && cl[p + 1].contains(.letter) {
                letterStart = p + 1
            }
            if letterStart >= 0 {
                var r = letterStart + 1
                while r < end && cl[r].contains(.letter) { r += 1 }
                p = r; out.append(p); continue
            }
            // \p{N}{1,maxDigits}
            if cp.contains(.number) {
                var r = p + 1
                while r < end && r - p < maxDigits && cl[r].contains(.number) { r += 1 }
                p = r; out.append(p); continue
            }
            // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
            let q = (sc[p] == 0x20 && p + 1 < end) ? p + 1 : p
            if cl[q].isOther {
                var r = q + 1
                while r < end && cl[r].isOther { r += 1 }
                while r < end && cl[r].contains(.lineBreak) { r += 1 }
                p = r; out.append(p); continue
            }
            // \s*[\r\n]+ : the whitespace run up to and including its last CR/LF
            let k = whitespaceRun(cl, p, end)
            var lastBreak = -1
            var i = p + k - 1
            while i >= p { if cl[i].contains(.lineBreak) { lastBreak = i; break }; i -= 1 }
            if lastBreak >= 0 { p = lastBreak + 1; out.append(p); continue }
            // \s+(?!\S) | \s+
            p += max(1, whitespaceMatch(k, p, end))
            out.append(p)
        }
    }
}
