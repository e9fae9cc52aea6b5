/// Element types of GGUF tensors, with the numbering GGUF files use on disk.
///
/// Quantized types store `blockSize` values in `bytesPerBlock` bytes; plain types have a
/// block of one element.
public enum GGMLType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case f32 = 0
    case f16 = 1
    case q4_0 = 2
    case q4_1 = 3
    case q5_0 = 6
    case q5_1 = 7
    case q8_0 = 8
    case q8_1 = 9
    case q2_K = 10
    case q3_K = 11
    case q4_K = 12
    case q5_K = 13
    case q6_K = 14
    case q8_K = 15
    case bf16 = 30
    // bitsandbytes 4-bit (BNBFormat.swift): NF4 / FP4, dequantized weights rounded to the
    // compute dtype named by the suffix (none: float32).
    case bnb_nf4 = 1000, bnb_nf4_f16 = 1001, bnb_nf4_bf16 = 1002
    case bnb_fp4 = 1003, bnb_fp4_f16 = 1004, bnb_fp4_bf16 = 1005
    // Engine-only (FP8HQQFormats.swift): E4M3 with an f32 scale per 32; HQQ 4/8-bit per 64.
    case fp8_e4m3 = 1010
    case hqq4 = 1011
    case hqq8 = 1012

    /// Values per block.
    public var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16: return 1
        case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q8_1: return 32
        case .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .q8_K: return 256
        case .fp8_e4m3: return 32
        case .hqq4, .hqq8: return 64
        case .bnb_nf4, .bnb_nf4_f16, .bnb_nf4_bf16, .bnb_fp4, .bnb_fp4_f16, .bnb_fp4_bf16: return 64
        }
    }

    /// Bytes per block (layouts as GGUF defines them; documented in Quant/Dequantize*.swift).
    public var bytesPerBlock: Int {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        case .q4_0: return 2 + 16
        case .q4_1: return 4 + 16
        case .q5_0: return 2 + 4 + 16
        case .q5_1: return 4 + 4 + 16
        case .q8_0: return 2 + 32
        case .q8_1: return 4 + 32
        case .q2_K: return 16 + 64 + 4
        case .q3_K: return 32 + 64 + 12 + 2
        case .q4_K: return 4 + 12 + 128
        case .q5_K: return 4 + 12 + 32 + 128
        case .q6_K: return 128 + 64 + 16 + 2
        case .q8_K: return 4 + 256 + 32
        case .fp8_e4m3: return 4 + 32
        case .hqq4: return 4 + 4 + 32
        case .hqq8: return 4 + 4 + 64
        case .bnb_nf4, .bnb_nf4_f16, .bnb_nf4_bf16, .bnb_fp4, .bnb_fp4_f16, .bnb_fp4_bf16: return 4 + 32
        }
    }

    public var isQuantized: Bool { blockSize > 1 }

    /// Raw values from `engineOnlyBase` on are formats tune keeps in memory (bitsandbytes,
    /// fp8, HQQ layouts) that GGUF has no number for: the GGUF reader rejects them and the
    /// GGUF writer refuses to store them.
    public static let engineOnlyBase: UInt32 = 1000
    public var isGGUFType: Bool { rawValue < GGMLType.engineOnlyBase }

    /// The lower-case name GGUF tools use (`q4_k`, `f16`, ...).
    public var name: String {
        switch self {
        case .f32: return "f32"
        case .f16: return "f16"
        case .bf16: return "bf16"
        case .q4_0: return "q4_0"
        case .q4_1: return "q4_1"
        case .q5_0: return "q5_0"
        case .q5_1: return "q5_1"
        case .q8_0: return "q8_0"
        case .q8_1: return "q8_1"
        case .q2_K: return "q2_k"
        case .q3_K: return "q3_k"
        case .q4_K: return "q4_k"
        case .q5_K: return "q5_k"
        case .q6_K: return "q6_k"
        case .q8_K: return "q8_k"
        case .fp8_e4m3: return "fp8_e4m3"
        case .hqq4: return "hqq4"
        case .hqq8: return "hqq8"
        case .bnb_nf4: return "bnb_nf4"
        case .bnb_nf4_f16: return "bnb_nf4_f16"
        case .bnb_nf4_bf16: return "bnb_nf4_bf16"
        case .bnb_fp4: return "bnb_fp4"
        case .bnb_fp4_f16: return "bnb_fp4_f16"
        case .bnb_fp4_bf16: return "bnb_fp4_bf16"
        }
    }

    public var description: String { name.uppercased() }

    public init?(name: String) {
        guard let t = GGMLType.allCases.first(where: { $0.name == name.lowercased() }) else { return nil }
        self = t
    }

    /// Bytes needed for `count` values, or nil when `count` is not a whole number of blocks
    /// or the size overflows.
    public func byteCount(elements count: Int) -> Int? {
        guard count >= 0, count % blockSize == 0 else { return nil }
        let (bytes, overflow) = (count / blockSize).multipliedReportingOverflow(by: bytesPerBlock)
        return overflow ? nil : bytes
    }
}
