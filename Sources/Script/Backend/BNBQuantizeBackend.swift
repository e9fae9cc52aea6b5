import Engine
import Foundation

/// `quant_method bnb`: bitsandbytes 4-bit (NF4 / FP4) quantization of the live model — by
/// `quantize` and `export`, and while loading a model for sft / infer as ms-swift applies it.
extension EngineSessionBackend {
    /// The bitsandbytes options the arguments ask for; nil unless quant_method is bnb.
    static func bnbOptions(_ a: ResolvedArguments) throws -> BNBOptions? {
        guard a.string("quant_method") == "bnb" else { return nil }
        if let bits = a.int("quant_bits"), bits != 4 {
            throw BackendError.failed("quant_method bnb: quant_bits \(bits) is not available (tune has bitsandbytes 4-bit, NF4 and FP4; use quant_bits 4, or q8_0 for 8 bits)")
        }
        let format = BNBFormat(rawValue: a.string("bnb_4bit_quant_type") ?? "nf4") ?? .nf4
        let dtypeName = a.string("bnb_4bit_compute_dtype") ?? a.string("torch_dtype") ?? "float32"
        guard let dtype = BNBComputeDType(rawValue: dtypeName) else {
            throw BackendError.failed("quant_method bnb: bnb_4bit_compute_dtype \(dtypeName) is not one of float32, float16, bfloat16")
        }
        return BNBOptions(format: format, doubleQuant: a.bool("bnb_4bit_use_double_quant") ?? true, computeDType: dtype)
    }

    static func bnbDescription(_ o: BNBOptions) -> String {
        "bitsandbytes \(o.format.rawValue)\(o.doubleQuant ? " with double quantization" : ""), weights rounded to \(o.computeDType.rawValue)"
    }

    /// `source` with its decoder linear layers in bitsandbytes 4-bit, and what was done.
    static func bnbQuantized(_ source: Engine.LoadedModel, _ o: BNBOptions) throws -> (Engine.LoadedModel, String) {
        let (q, kept) = try source.model.quantizedBNB(o)
        var line = "quantized the linear layers to \(bnbDescription(o)), blocks of 64 (the embedding and output head keep their type, as bitsandbytes leaves them)"
        if !kept.isEmpty { line += "; \(kept.count) matrices whose rows are not a multiple of 64 keep their type" }
        return (Engine.LoadedModel(replacingModelOf: source, with: q), line)
    }

    /// `quantize --quant_method bnb`: a new live model, with its fidelity.
    func bnbQuantizeLive(_ o: BNBOptions, _ handle: ModelHandle, cancel: CancellationFlag) throws -> CommandOutcome {
        let source = try loaded(handle)
        let (result, line) = try Self.bnbQuantized(source, o)
        let id = nextHandleId()
        register(result, id: id)
        let name = Self.modelStem(handle.path) + "-bnb"   // named after quant_method, as `--check` names it
        return CommandOutcome(report: [line + ", in memory"] + fidelityLines(result.model, reference: source, cancel: cancel),
                              model: ModelHandle(id: id, path: name, summary: Self.summary(result)))
    }
}
