import Engine
import Foundation

/// `quant_method fp8` and `quant_method hqq` (with `quant_bits`, `hqq_axis`): applied to the
/// live model by `quantize`, while loading a model for the other commands (as ms-swift passes
/// `FineGrainedFP8Config` / `HqqConfig` to `from_pretrained`), and written by `export` (fp8).
struct FP8HQQMethod {
    enum Kind: Equatable { case fp8, hqq(bits: Int) }
    let kind: Kind

    /// nil when quant_method names another method (or none).
    init?(_ a: ResolvedArguments) throws {
        switch a.string("quant_method") {
        case "fp8":
            kind = .fp8
        case "hqq":
            guard let bits = a.int("quant_bits") else {
                throw BackendError.failed("quant_method hqq needs quant_bits (4 or 8), as ms-swift asks for it")
            }
            guard bits == 4 || bits == 8 else {
                throw BackendError.failed("hqq quant_bits \(bits): tune stores HQQ weights at 4 or 8 bits (ms-swift also allows 1, 2 and 3); use quant_bits 4 or 8")
            }
            if let axis = a.int("hqq_axis"), axis != 1 {
                guard axis == 0 else { throw BackendError.failed("hqq_axis \(axis): HQQ groups along axis 0 or 1") }
                throw BackendError.failed("hqq_axis 0 is not available: HQQ's axis 0 groups each column's weights across rows (it reshapes the weight to [64, -1]), so every weight of a row has its own scale and zero, and this engine's kernels read each row on its own; stored per row that is more bytes than f32. Use hqq_axis 1 (transformers' default), which groups 64 weights along a row")
            }
            kind = .hqq(bits: bits)
        default:
            return nil
        }
    }

    var name: String {
        switch kind {
        case .fp8: return "fp8"
        case .hqq(let bits): return "hqq\(bits)"
        }
    }

    func describe(_ model: LlamaModel) -> String {
        switch kind {
        case .fp8:
            let tile = model.fp8Tile.map { "\($0)×\($0)" } ?? "?"
            let note = model.fp8Tile == FP8Quantization.defaultTile ? "" : " (transformers' 128×128 does not divide these layers)"
            return "fp8 (E4M3, one float32 scale per \(tile) tile\(note))"
        case .hqq(let bits):
            return "hqq \(bits)-bit (group 64, axis 1, zero points from HQQ's half-quadratic solver)"
        }
    }

    func apply(_ model: LlamaModel) throws -> LlamaModel {
        do {
            switch kind {
            case .fp8: return try model.quantizedFP8()
            case .hqq(let bits): return try model.quantizedHQQ(bits: bits)
            }
        } catch let e as FP8HQQError {
            throw BackendError.failed("quant_method \(name): \(e)")
        }
    }
}

extension EngineSessionBackend {
    /// Load-time quantization: a model loaded for sft/infer/... with `quant_method bnb|fp8|hqq`
    /// is quantized right away, as ms-swift does while loading (export and merge-lora quantize
    /// what they write instead).
    static func quantizedAtLoad(_ m: Engine.LoadedModel, _ a: ResolvedArguments, progress: (ProgressEvent) -> Void) throws -> Engine.LoadedModel {
        guard !Set<Command>.export.contains(a.command) else { return m }
        if let o = try bnbOptions(a) {
            let (q, line) = try bnbQuantized(m, o)
            progress(ProgressEvent(task: line, completed: 1, total: 1))
            return q
        }
        guard let method = try FP8HQQMethod(a) else { return m }
        let q = try method.apply(m.model)
        progress(ProgressEvent(task: "quantized at load to \(method.describe(m.model))", completed: 1, total: 1))
        return Engine.LoadedModel(replacingModelOf: m, with: q)
    }

    /// `quantize --quant_method fp8|hqq`; nil for other methods.
    func quantizeLiveFP8HQQ(_ request: CommandRequest, cancel: CancellationFlag) throws -> CommandOutcome? {
        guard let method = try FP8HQQMethod(request.arguments) else { return nil }
        guard let handle = request.model else { throw BackendError.failed("quantize needs a live model; load model PATH first") }
        let source = try loaded(handle)
        let q = try method.apply(source.model)
        let result = Engine.LoadedModel(replacingModelOf: source, with: q)
        let id = nextHandleId()
        register(result, id: id)
        let report = ["quantized \((handle.path as NSString).lastPathComponent) to \(method.describe(source.model)) in memory; the embedding and head stay \(source.model.namedWeights.first?.type.name ?? "as they were")"]
            + fidelityLines(q, reference: source, cancel: cancel)
        return CommandOutcome(report: report, model: ModelHandle(id: id, path: Self.modelStem(handle.path) + "-" + (request.arguments.string("quant_method") ?? method.name), summary: Self.summary(result)))
    }

    /// The FP8 tile for `export --quant_method fp8` (an HF directory); nil for other methods.
    static func fp8ExportTile(_ a: ResolvedArguments, model: LlamaModel) throws -> Int? {
        guard a.string("quant_method") == "fp8" else { return nil }
        guard let tile = model.fp8Tile else {
            throw BackendError.failed("quant_method fp8: the linear layers' sizes are not multiples of 32, which FP8 tiles need")
        }
        return tile
    }

    /// The fidelity of what `export --quant_method fp8` wrote (the same quantization, in memory).
    func fp8ExportFidelity(_ a: ResolvedArguments, source: Engine.LoadedModel, cancel: CancellationFlag) throws -> [String] {
        guard a.string("quant_method") == "fp8" else { return [] }
        return fidelityLines(try FP8HQQMethod(a)!.apply(source.model), reference: source, cancel: cancel)
    }
}
