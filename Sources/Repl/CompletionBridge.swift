import CEditline
import Foundation
import Script

/// Hands libedit the candidates `Completer` computes. libedit takes C callbacks without
/// context, so the completer and the current candidates live in statics.
enum CompletionBridge {
    nonisolated(unsafe) static var completer: Completer?
    nonisolated(unsafe) static var matches: [String] = []
    nonisolated(unsafe) static var nextMatch = 0

    static func install(_ completer: Completer) {
        self.completer = completer
        rl_basic_word_break_characters = UnsafePointer(strdup(Completer.wordBreaks)!)
        rl_attempted_completion_function = { text, start, end in
            CompletionBridge.complete(start: Int(start), end: Int(end))
        }
    }

    static func complete(start: Int, end: Int) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
        rl_attempted_completion_over = 1
        guard let completer, let buffer = rl_line_buffer else { return nil }
        let bytes = Array(UnsafeBufferPointer(start: UnsafeRawPointer(buffer).assumingMemoryBound(to: UInt8.self),
                                              count: max(0, end)))
        let before = String(decoding: bytes, as: UTF8.self)
        matches = completer.candidates(before: before)
        nextMatch = 0
        guard !matches.isEmpty else { return nil }
        // A directory is not finished: no space after it.
        rl_completion_append_character = matches.count == 1 && matches[0].hasSuffix("/") ? 0 : 32
        let word = String(before.suffix(before.count - prefixLength(before)))
        return rl_completion_matches(word, { _, state in
            if state == 0 { CompletionBridge.nextMatch = 0 }
            guard CompletionBridge.nextMatch < CompletionBridge.matches.count else { return nil }
            defer { CompletionBridge.nextMatch += 1 }
            return strdup(CompletionBridge.matches[CompletionBridge.nextMatch])
        })
    }

    /// Characters before the word being completed.
    private static func prefixLength(_ before: String) -> Int {
        let breaks = Set(Completer.wordBreaks)
        var n = 0
        for c in before.reversed() {
            if breaks.contains(c) { break }
            n += 1
        }
        return before.count - n
    }
}
