import Engine

/// The backend of a build whose verbs are not wired to the engine yet: every operation says
/// so plainly instead of pretending to work.
public final class UnwiredBackend: EngineBackend {
    public init() {}

    public var engineDescription: [String] {
        ["engine: tune CPU engine (not yet wired to the session in this build)",
         "BLAS core: OpenBLAS \(BLAS.coreName)"]
    }

    private func unavailable(_ op: String) -> BackendError { .unavailable(operation: op) }

    public func loadModel(path: String, arguments: ResolvedArguments,
                          progress: (ProgressEvent) -> Void) throws -> ModelHandle {
        throw unavailable("load model")
    }

    public func loadAdapter(path: String, model: ModelHandle, arguments: ResolvedArguments) throws -> AdapterHandle {
        throw unavailable("load adapter")
    }

    public func loadDataset(spec: String, arguments: ResolvedArguments) throws -> DatasetHandle {
        throw unavailable("load dataset")
    }

    public func unload(id: Int) {}

    public func generate(model: ModelHandle, adapter: AdapterHandle?, messages: [ChatMessage],
                         arguments: ResolvedArguments, cancel: CancellationFlag,
                         onText: (String) -> Void) throws -> Generation {
        throw unavailable("generation")
    }

    public func tokenize(model: ModelHandle, text: String) throws -> [TokenPiece] { throw unavailable("tokenize") }

    public func render(model: ModelHandle, messages: [ChatMessage], arguments: ResolvedArguments) throws -> RenderedPrompt {
        throw unavailable("render")
    }

    public func datasetRow(_ dataset: DatasetHandle, index: Int) throws -> [ChatMessage] {
        throw unavailable("dataset rows")
    }

    public func run(_ request: CommandRequest, cancel: CancellationFlag,
                    progress: (ProgressEvent) -> Void) throws -> CommandOutcome {
        throw unavailable(request.kind.name)
    }
}
