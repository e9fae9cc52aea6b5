import CEditline
import Foundation
import Glibc
import Synchronization
import Script

/// The terminal line editor: libedit through its readline interface (emacs keys, Ctrl-R
/// history search, tab completion). History is kept in our own file format (`HistoryFile`).
final class EditlineReader: LineReader {
    private let history: HistoryFile
    private var entries: [String] = []
    private let output: ConsoleOutput

    init(historyPath: String, output: ConsoleOutput, completer: Completer) {
        self.history = HistoryFile(path: historyPath, limit: 1000)
        self.output = output
        CompletionBridge.install(completer)
        rl_readline_name = strdupConst("tune")
        // We read keys ourselves (EditlineReader.getKey) so that Ctrl-C can drop the line.
        rl_catch_signals = 0
        rl_getc_function = { _ in EditlineReader.getKey() }
        _ = rl_initialize()
        stifle_history(1000)
        switch history.load() {
        case .loaded(let loaded):
            entries = loaded
        case .setAside(let movedTo, let reason):
            output.diagnostic(Diagnostic(
                "history file \(historyPath) was set aside because \(reason)"
                    + (movedTo.map { " (now \($0))" } ?? "") + "; starting with an empty history",
                at: nil, severity: .warning))
        }
        for e in entries { add_history(e) }
    }

    func read(prompt: String) -> LineInput {
        EditlineReader.interruptedAtPrompt = false
        interruptFlag.reset()
        interruptCount.store(0, ordering: .relaxed)
        guard let raw = readline(prompt) else {
            if EditlineReader.interruptedAtPrompt { return .interrupted }
            return .end
        }
        defer { free(raw) }
        if EditlineReader.interruptedAtPrompt { return .interrupted }
        return .line(String(cString: raw))
    }

    func remember(_ entry: String) {
        guard entries.last != entry else { return }
        entries.append(entry)
        add_history(entry)
        if entries.count > 2 * history.limit { entries.removeFirst(entries.count - history.limit) }
        do { try history.save(entries) } catch {
            output.diagnostic(Diagnostic("cannot write history file \(history.path): \(error.localizedDescription)",
                                         at: nil, severity: .warning))
        }
    }

    /// Set when Ctrl-C arrived while reading a line.
    nonisolated(unsafe) static var interruptedAtPrompt = false

    /// One character for libedit. On Ctrl-C the line is ended with a newline and marked as
    /// interrupted, and the reader drops it.
    static func getKey() -> Int32 {
        var first: UInt8 = 0
        while true {
            if interruptFlag.isRaised {
                interruptFlag.reset()
                interruptCount.store(0, ordering: .relaxed)
                interruptedAtPrompt = true
                fputs("^C", stdout)
                return 10
            }
            let n = Glibc.read(0, &first, 1)
            if n == 1 { break }
            if n == 0 { return -1 }
            if errno != EINTR { return -1 }
        }
        let extra: Int
        switch first {
        case 0xC0...0xDF: extra = 1
        case 0xE0...0xEF: extra = 2
        case 0xF0...0xF7: extra = 3
        default: return Int32(first)
        }
        var scalar = UInt32(first) & (0x3F >> UInt32(extra))
        for _ in 0..<extra {
            var b: UInt8 = 0
            guard Glibc.read(0, &b, 1) == 1, b & 0xC0 == 0x80 else { return 0xFFFD }
            scalar = scalar << 6 | UInt32(b & 0x3F)
        }
        return Int32(bitPattern: scalar)
    }
}

private func strdupConst(_ s: String) -> UnsafePointer<CChar> { UnsafePointer(strdup(s)!) }
