import enum Engine.BLAS
@testable import Script

/// The backend of a build whose verbs are not wired to the engine yet: every operation says
/// so plainly instead of pretending to work.
final class UnwiredBackend: EngineBackend {
    init() {}

    var engineDescription: [String] {
        ["engine: tune CPU engine (not yet wired to the session in this build)",
         "BLAS core: OpenBLAS \(BLAS.coreName)"]
    }

    private func unavailable(_ op: String) -> BackendError { .unavailable(operation: op) }

    func loadModel(path: String, arguments: ResolvedArguments,
                          progress: (ProgressEvent) -> Void) throws -> ModelHandle {
        throw unavailable("load model")
    }

    func loadAdapter(path: String, model: ModelHandle, arguments: ResolvedArguments) throws -> AdapterHandle {
        throw unavailable("load adapter")
    }

    func loadDataset(spec: String, arguments: ResolvedArguments) throws -> DatasetHandle {
        throw unavailable("load dataset")
    }

    func unload(id: Int) {}

    func generate(model: ModelHandle, adapter: AdapterHandle?, messages: [ChatMessage],
                         arguments: ResolvedArguments, cancel: CancellationFlag,
                         onText: (String) -> Void) throws -> Generation {
        throw unavailable("generation")
    }

    func tokenize(model: ModelHandle, text: String) throws -> [TokenPiece] { throw unavailable("tokenize") }

    func render(model: ModelHandle, messages: [ChatMessage], arguments: ResolvedArguments) throws -> RenderedPrompt {
        throw unavailable("render")
    }

    func datasetRow(_ dataset: DatasetHandle, index: Int) throws -> [ChatMessage] {
        throw unavailable("dataset rows")
    }

    func run(_ request: CommandRequest, cancel: CancellationFlag,
                    progress: (ProgressEvent) -> Void) throws -> CommandOutcome {
        throw unavailable(request.kind.name)
    }
}
