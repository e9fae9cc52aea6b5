/// Reads statements line by line (the REPL, or a script on standard input), asks for more
/// lines while a quote is open or a line ends in `\`, and runs each statement as it completes.
public final class InputLoop {
    public let interpreter: Interpreter
    private let reader: CountingReader
    private let file: String
    /// The prompt for a new statement; the REPL's names the live model and adapter.
    public var prompt: () -> String
    private let continuationPrompt: String
    /// A script on standard input stops at its first error; the REPL and `--check` go on.
    private let stopsAtError: Bool
    /// The exit code when something failed (0 at the REPL, 1 for scripts and checks).
    private let failureExitCode: Int32

    public init(interpreter: Interpreter, reader: LineReader, file: String, prompt: String = "tune> ",
                continuationPrompt: String = "  ... ", stopsAtError: Bool, failureExitCode: Int32) {
        self.interpreter = interpreter
        self.reader = CountingReader(reader)
        self.file = file
        self.prompt = { prompt }
        self.continuationPrompt = continuationPrompt
        self.stopsAtError = stopsAtError
        self.failureExitCode = failureExitCode
        interpreter.input = self.reader
    }

    /// `tune> `, or `tune[MODEL+ADAPTER]> ` while a model is live.
    public static func prompt(for session: Session) -> String {
        guard let model = session.liveModel else { return "tune> " }
        return "tune[\(model)\(session.liveAdapter.map { "+" + $0 } ?? "")]> "
    }

    /// Runs until the end of input or `exit`; returns the exit code.
    public func run() -> Int32 {
        var buffer = ""
        var firstLine = 1
        var failed = false
        while true {
            let input = reader.read(prompt: buffer.isEmpty ? prompt() : continuationPrompt)
            switch input {
            case .interrupted:
                buffer = ""
                continue
            case .end:
                if !buffer.isEmpty, !runChunk(buffer, firstLine: firstLine) { failed = true }
                return interpreter.exitCode ?? (failed ? failureExitCode : 0)
            case .line(let line):
                buffer += buffer.isEmpty ? line : "\n" + line
                if buffer.isEmpty { firstLine = reader.count + 1; continue }
                if Parser.needsMoreInput(buffer) { continue }
                let ok = runChunk(buffer, firstLine: firstLine)
                buffer = ""
                firstLine = reader.count + 1
                if let code = interpreter.exitCode { return code }
                if !ok {
                    failed = true
                    if stopsAtError { return failureExitCode }
                }
            }
        }
    }

    /// Parses and runs one complete chunk of input; false when anything in it failed.
    private func runChunk(_ text: String, firstLine: Int) -> Bool {
        let parsed = Parser.parse(text, file: file, firstLine: firstLine)
        if !text.trimmingSpaces.isEmpty, !parsed.statements.isEmpty || !parsed.diagnostics.isEmpty {
            reader.remember(text)
        }
        parsed.diagnostics.forEach(interpreter.output.diagnostic)
        if !parsed.diagnostics.isEmpty { return false }
        for statement in parsed.statements {
            interpreter.session.history.append(statement.text)
            if !interpreter.perform(statement) { return false }
            if interpreter.exitCode != nil { return true }
        }
        return true
    }
}

/// Counts the lines read so that locations stay right when `chat` reads from the same input.
final class CountingReader: LineReader {
    let base: LineReader
    private(set) var count = 0

    init(_ base: LineReader) { self.base = base }

    func read(prompt: String) -> LineInput {
        let input = base.read(prompt: prompt)
        if case .line = input { count += 1 }
        return input
    }

    func remember(_ entry: String) { base.remember(entry) }
}
