/// Where the session's output goes. The REPL colours it on a terminal; scripts print plain text.
public protocol SessionOutput: AnyObject {
    /// A complete line of ordinary output (no trailing newline).
    func line(_ text: String)
    /// Streamed text as it arrives (no newline added).
    func stream(_ text: String)
    /// Errors and warnings.
    func diagnostic(_ diagnostic: Diagnostic)
    /// Progress of a long verb.
    func progress(_ event: ProgressEvent)
    /// Whether output goes to a terminal (stats lines, progress bars and colour only then).
    var isTerminal: Bool { get }
}

/// One read from the person (or standard input).
public enum LineInput: Equatable {
    case line(String)
    /// Ctrl-C at the prompt: drop what was typed.
    case interrupted
    /// Ctrl-D or the end of input.
    case end
}

/// Reads lines for the REPL, `chat`, and scripts on standard input.
public protocol LineReader: AnyObject {
    func read(prompt: String) -> LineInput
    /// Adds an entry to the recall history (no-op for plain readers).
    func remember(_ entry: String)
}

extension LineReader {
    public func remember(_ entry: String) {}
}
