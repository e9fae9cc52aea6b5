import Foundation
import XCTest
@testable import Script

/// Collects what the session prints.
final class RecordingOutput: SessionOutput {
    var lines: [String] = []
    var streamed = ""
    var diagnostics: [Diagnostic] = []
    var events: [ProgressEvent] = []
    var isTerminal = false

    func line(_ text: String) { lines.append(text) }
    func stream(_ text: String) { streamed += text }
    func diagnostic(_ diagnostic: Diagnostic) { diagnostics.append(diagnostic) }
    func progress(_ event: ProgressEvent) { events.append(event) }

    var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }
    var warnings: [Diagnostic] { diagnostics.filter { $0.severity == .warning } }
    var text: String { lines.joined(separator: "\n") }
}

/// Hands out prepared input, then the end.
final class ScriptedReader: LineReader {
    var inputs: [LineInput]
    var prompts: [String] = []
    var remembered: [String] = []
    /// Called before each read (lets a test act between turns).
    var beforeRead: ((Int) -> Void)?

    init(_ inputs: [LineInput]) { self.inputs = inputs }

    func read(prompt: String) -> LineInput {
        beforeRead?(prompts.count)
        prompts.append(prompt)
        return inputs.isEmpty ? .end : inputs.removeFirst()
    }

    func remember(_ entry: String) { remembered.append(entry) }
}

/// A stand-in engine: answers are "echo: <last user message>", streamed word by word;
/// tokens are the space-separated words; commands are recorded.
final class FakeBackend: EngineBackend {
    var nextID = 1
    var loaded: [Int: String] = [:]
    var generations: [(messages: [ChatMessage], arguments: ResolvedArguments)] = []
    var requests: [CommandRequest] = []
    /// The command's output directory (written by `run` when set).
    var outputDir: String?
    /// Raise the cancel flag after this many streamed pieces (simulates Ctrl-C mid-answer).
    var cancelAfterPieces: Int?
    /// Where an sft run says it ended (for `continue`).
    var trainingState: TrainingRunState?

    var engineDescription: [String] { ["engine: fake", "BLAS core: none"] }

    private func id(_ what: String) -> Int {
        defer { nextID += 1 }
        loaded[nextID] = what
        return nextID
    }

    func loadModel(path: String, arguments: ResolvedArguments, progress: (ProgressEvent) -> Void) throws -> ModelHandle {
        guard !path.contains("missing") else { throw BackendError.failed("\(path): no such file") }
        progress(ProgressEvent(task: "loading", completed: 1, total: 1))
        return ModelHandle(id: id(path), path: path, summary: "fake model")
    }

    func loadAdapter(path: String, model: ModelHandle, arguments: ResolvedArguments) throws -> AdapterHandle {
        AdapterHandle(id: id(path), path: path, summary: "fake adapter")
    }

    func loadDataset(spec: String, arguments: ResolvedArguments) throws -> DatasetHandle {
        DatasetHandle(id: id(spec), spec: spec, rowCount: 3, summary: "fake rows")
    }

    func unload(id: Int) { loaded[id] = nil }

    func generate(model: ModelHandle, adapter: AdapterHandle?, messages: [ChatMessage], arguments: ResolvedArguments,
                  cancel: CancellationFlag, onText: (String) -> Void) throws -> Generation {
        generations.append((messages, arguments))
        let words = ("echo: " + (messages.last?.content ?? "")).split(separator: " ").map(String.init)
        var text = ""
        for (i, w) in words.enumerated() {
            if cancel.isRaised {
                return Generation(text: text, promptTokens: 1, generatedTokens: i, seconds: 0, stopReason: .cancelled)
            }
            let piece = (i == 0 ? "" : " ") + w
            text += piece
            onText(piece)
            if let n = cancelAfterPieces, i + 1 == n { cancel.raise() }
        }
        return Generation(text: text, promptTokens: 1, generatedTokens: words.count, seconds: 0, stopReason: .endOfText)
    }

    func tokenize(model: ModelHandle, text: String) throws -> [TokenPiece] {
        text.split(separator: " ").enumerated().map { TokenPiece(id: 100 + $0.offset, piece: String($0.element)) }
    }

    func render(model: ModelHandle, messages: [ChatMessage], arguments: ResolvedArguments) throws -> RenderedPrompt {
        var tokens: [TokenPiece] = []
        for m in messages {
            tokens.append(TokenPiece(id: 1, piece: "<\(m.role)>"))
            tokens.append(TokenPiece(id: 2, piece: m.content, carriesLoss: m.role == "assistant"))
        }
        return RenderedPrompt(text: tokens.map(\.piece).joined(), tokens: tokens)
    }

    func datasetRow(_ dataset: DatasetHandle, index: Int) throws -> [ChatMessage] {
        guard index < dataset.rowCount else { throw BackendError.failed("\(dataset.spec) has \(dataset.rowCount) rows") }
        return [ChatMessage(role: "user", content: "q\(index)"), ChatMessage(role: "assistant", content: "a\(index)")]
    }

    func run(_ request: CommandRequest, cancel: CancellationFlag, progress: (ProgressEvent) -> Void) throws -> CommandOutcome {
        requests.append(request)
        progress(ProgressEvent(task: request.kind.name, completed: 1, total: 2, metrics: ["loss": 1.5]))
        switch request.kind {
        case .swift(.sft):
            return CommandOutcome(report: ["trained"], adapter: AdapterHandle(id: id("a"), path: "out/checkpoint-2", summary: "new"),
                                  outputDir: outputDir, training: trainingState)
        case .merge:
            return CommandOutcome(report: ["merged"], model: ModelHandle(id: id("m"), path: "out/merged", summary: "merged"))
        default:
            return CommandOutcome(report: ["done \(request.kind.name)"], outputDir: outputDir)
        }
    }
}

/// An interpreter over the fake backend with its output and history.
struct Harness {
    let backend = FakeBackend()
    let output = RecordingOutput()
    let interpreter: Interpreter

    init(interactive: Bool = false) {
        interpreter = Interpreter(backend: backend, output: output, interactive: interactive)
    }

    var session: Session { interpreter.session }

    /// Runs text as a script named `file`; returns the number of failed statements.
    @discardableResult
    func run(_ text: String, file: String = "test.tune") -> Int {
        interpreter.runScript(text, file: file)
    }

    /// Types lines at a REPL-like loop.
    @discardableResult
    func type(_ lines: [String]) -> Int32 {
        InputLoop(interpreter: interpreter, reader: ScriptedReader(lines.map { .line($0) }), file: "<repl>",
                  stopsAtError: false, failureExitCode: 0).run()
    }
}

func temporaryDirectory() throws -> String {
    let dir = (NSTemporaryDirectory() as NSString).appendingPathComponent("tune-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}
