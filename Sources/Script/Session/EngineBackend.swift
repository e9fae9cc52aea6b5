/// What the session's verbs ask of the engine. Everything crossing this boundary is a value;
/// the backend keeps the real objects and names them by handle id.
///
/// Contract: arguments arrive resolved (`ResolvedArguments.value` gives explicit, derived or
/// documented values); long calls check `cancel` at safe points and then return
/// (`Generation.stopReason == .cancelled`) or throw `BackendError.cancelled`; an operation this
/// build cannot do throws `BackendError.unavailable` (never a pretend result); progress goes
/// through the callback only (no terminal output). The session writes args.json into
/// `CommandOutcome.outputDir`, so the backend does not.
public protocol EngineBackend: AnyObject {
    /// Engine version and BLAS core in use, one line each (for `tune --version`, `show engine`).
    var engineDescription: [String] { get }

    func loadModel(path: String, arguments: ResolvedArguments,
                   progress: (ProgressEvent) -> Void) throws -> ModelHandle
    func loadAdapter(path: String, model: ModelHandle, arguments: ResolvedArguments) throws -> AdapterHandle
    func loadDataset(spec: String, arguments: ResolvedArguments) throws -> DatasetHandle
    /// Frees what a handle names (models, adapters, datasets share one id space).
    func unload(id: Int)

    /// One answer to a conversation; `onText` receives the text as it is produced. Returns
    /// early with `stopReason == .cancelled` once `cancel` is raised.
    func generate(model: ModelHandle, adapter: AdapterHandle?, messages: [ChatMessage],
                  arguments: ResolvedArguments, cancel: CancellationFlag,
                  onText: (String) -> Void) throws -> Generation
    func tokenize(model: ModelHandle, text: String) throws -> [TokenPiece]
    /// The chat template applied to a conversation, split into tokens, each marked with
    /// whether it carries loss under `arguments`' loss_scale.
    func render(model: ModelHandle, messages: [ChatMessage], arguments: ResolvedArguments) throws -> RenderedPrompt
    /// One row of a loaded dataset as a conversation (after its columns are mapped), for `render`.
    func datasetRow(_ dataset: DatasetHandle, index: Int) throws -> [ChatMessage]

    /// A long command (an ms-swift command, merge, quantize) over the session's live objects.
    func run(_ request: CommandRequest, cancel: CancellationFlag,
             progress: (ProgressEvent) -> Void) throws -> CommandOutcome
}

public struct ModelHandle: Equatable, Sendable {
    public var id: Int
    public var path: String
    /// One line, e.g. "llama, 135M parameters, q4_1".
    public var summary: String
    public init(id: Int, path: String, summary: String) {
        self.id = id
        self.path = path
        self.summary = summary
    }
}

public struct AdapterHandle: Equatable, Sendable {
    public var id: Int
    public var path: String
    public var summary: String
    public init(id: Int, path: String, summary: String) {
        self.id = id
        self.path = path
        self.summary = summary
    }
}

public struct DatasetHandle: Equatable, Sendable {
    public var id: Int
    /// As given, e.g. `data/train.jsonl#500`.
    public var spec: String
    public var rowCount: Int
    public var summary: String
    public init(id: Int, spec: String, rowCount: Int, summary: String) {
        self.id = id
        self.spec = spec
        self.rowCount = rowCount
        self.summary = summary
    }
}

public struct ChatMessage: Equatable, Sendable {
    public var role: String
    public var content: String
    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

public struct Generation: Equatable, Sendable {
    public enum StopReason: String, Sendable { case endOfText, maxTokens, stopWord, cancelled }
    public var text: String
    public var promptTokens: Int
    public var generatedTokens: Int
    public var seconds: Double
    public var stopReason: StopReason
    public init(text: String, promptTokens: Int, generatedTokens: Int, seconds: Double, stopReason: StopReason) {
        self.text = text
        self.promptTokens = promptTokens
        self.generatedTokens = generatedTokens
        self.seconds = seconds
        self.stopReason = stopReason
    }
}

public struct TokenPiece: Equatable, Sendable {
    public var id: Int
    public var piece: String
    /// True when the token carries loss (only meaningful in `render`).
    public var carriesLoss: Bool
    public init(id: Int, piece: String, carriesLoss: Bool = false) {
        self.id = id
        self.piece = piece
        self.carriesLoss = carriesLoss
    }
}

public struct RenderedPrompt: Equatable, Sendable {
    public var text: String
    public var tokens: [TokenPiece]
    public init(text: String, tokens: [TokenPiece]) {
        self.text = text
        self.tokens = tokens
    }
}

/// What a long verb runs: an ms-swift command, or folding/quantizing the live model.
public enum CommandKind: Equatable, Sendable {
    case swift(Command)
    case merge
    case quantize

    public var name: String {
        switch self {
        case .swift(let c): return c.rawValue
        case .merge: return "merge"
        case .quantize: return "quantize"
        }
    }
}

public struct CommandRequest: Sendable {
    public var kind: CommandKind
    public var arguments: ResolvedArguments
    public var model: ModelHandle?
    public var adapter: AdapterHandle?
    public var datasets: [DatasetHandle]
}

public struct CommandOutcome: Sendable {
    /// Lines to show the user (where things were written, final loss, ...).
    public var report: [String]
    /// A new model for the session (merged, quantized, exported and reloaded).
    public var model: ModelHandle?
    /// A new adapter (trained by sft/pt/rlhf); it becomes the live one.
    public var adapter: AdapterHandle?
    /// Set when the command wrote an output directory; args.json is written there.
    public var outputDir: String?
    /// A training run (sft, pt): where it stopped, for `continue`.
    public var training: TrainingRunState?
    public init(report: [String], model: ModelHandle? = nil, adapter: AdapterHandle? = nil, outputDir: String? = nil,
                training: TrainingRunState? = nil) {
        self.report = report
        self.model = model
        self.adapter = adapter
        self.outputDir = outputDir
        self.training = training
    }
}

/// Where a training run ended: the step it reached of those planned, and its last checkpoint.
public struct TrainingRunState: Equatable, Sendable {
    public var globalStep: Int
    public var maxSteps: Int
    /// Stopped early (Ctrl-C) rather than through all its steps.
    public var stopped: Bool
    public var lastCheckpoint: String?
    public init(globalStep: Int, maxSteps: Int, stopped: Bool, lastCheckpoint: String?) {
        self.globalStep = globalStep
        self.maxSteps = maxSteps
        self.stopped = stopped
        self.lastCheckpoint = lastCheckpoint
    }
}

/// Progress as data; the REPL draws it, a script prints plain lines.
public struct ProgressEvent: Equatable, Sendable {
    public var task: String
    public var completed: Int
    public var total: Int?
    /// Extra figures, e.g. ["loss": 1.93, "tokens/s": 412].
    public var metrics: [String: Double]
    /// Seconds since the task began and the estimate of those left (shown as clocks).
    public var elapsedSeconds: Double?
    public var remainingSeconds: Double?
    public init(task: String, completed: Int, total: Int?, metrics: [String: Double] = [:],
                elapsedSeconds: Double? = nil, remainingSeconds: Double? = nil) {
        self.task = task
        self.completed = completed
        self.total = total
        self.metrics = metrics
        self.elapsedSeconds = elapsedSeconds
        self.remainingSeconds = remainingSeconds
    }
}

/// Failures a backend reports.
public enum BackendError: Error, Equatable, CustomStringConvertible {
    /// This build has no engine for the operation yet.
    case unavailable(operation: String)
    /// The operation failed; the message says why (a file, a shape, ...).
    case failed(String)
    /// Ctrl-C stopped it at a safe point; nothing in the session was lost.
    case cancelled(operation: String)

    public var description: String {
        switch self {
        case .unavailable(let op):
            return "'\(op)' is not available in this build yet (no engine for it is wired in)"
        case .failed(let message): return message
        case .cancelled(let op): return "'\(op)' stopped by Ctrl-C; everything loaded is still here"
        }
    }
}
