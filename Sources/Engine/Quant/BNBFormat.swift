/// bitsandbytes' 4-bit formats (NF4, FP4) as the engine holds them in memory.
///
/// bitsandbytes quantizes a weight in blocks of 64 consecutive values (row-major, so with rows
/// a multiple of 64 long a block never crosses a row): each block keeps its absolute maximum
/// and one 4-bit index per value into a 16-entry code table; a value is `code[q] · absmax`,
/// computed in f32 and then converted to the compute dtype.
///
/// Block layout here (36 bytes a block): absmax as a little-endian f32, then 32 bytes whose
/// byte j holds value 2j in its high nibble and value 2j+1 in its low nibble (the packing
/// bitsandbytes uses, so an export copies the code bytes as they are).
///
/// With double quantization bitsandbytes stores the absmax values themselves in 8 bits (their
/// mean subtracted, blocks of 256 over the whole tensor, the signed dynamic map, an f32 absmax
/// a block). The block here holds the absmax that those 8 bits dequantize to, so every weight
/// equals bitsandbytes' value; the 8-bit codes are kept only beside the weight
/// (`BNBWeightStorage`) and in an exported file, because blocks of 256 absmax values span
/// several rows and a row must be readable on its own by the kernels (rows are indexed at
/// r·bytesPerRow). That costs 0.5 bit per weight in memory instead of 0.127.
public enum BNBFormat: String, Sendable, CaseIterable {
    case nf4, fp4

    public static let blockSize = 64
    static let bytesPerBlock = 36

    /// The 16 values of the code table, as bitsandbytes' `get_4bit_type` makes them.
    public var code: [Float] {
        switch self {
        case .nf4: return BNBFormat.nf4Code
        case .fp4: return BNBFormat.fp4Code
        }
    }

    /// NF4: quantiles of a standard normal distribution, scaled to [-1, 1] (QLoRA, Dettmers et al. 2023).
    static let nf4Code: [Float] = [
        -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
        -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
        0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
        0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
    ]

    /// FP4 (1 sign, 2 exponent, 1 mantissa bits, no infinities): index bit 3 is the sign; the
    /// magnitudes 0, 0.0625, 8, 12, 4, 6, 2, 3 divided by the largest, 12 (in f32).
    static let fp4Code: [Float] = {
        let magnitudes: [Float] = [0, 0.0625, 8, 12, 4, 6, 2, 3]
        return (magnitudes + magnitudes.map { -$0 }).map { $0 / 12 }
    }()

    /// The code index of each bucket between consecutive sorted code values: bitsandbytes sorts
    /// the table (FP4's +0 at index 0 sorts before its -0 at 8) and maps the bucket back.
    var bucketCodes: [UInt8] {
        switch self {
        case .nf4: return Array(0..<16)
        case .fp4: return [11, 10, 13, 12, 15, 14, 9, 0, 8, 1, 6, 7, 4, 5, 2, 3]
        }
    }

    /// The 15 decision boundaries: midpoints of consecutive sorted code values, in f32.
    var bounds: [Float] {
        let sorted = bucketCodes.map { code[Int($0)] }
        return (0..<15).map { (sorted[$0] + sorted[$0 + 1]) / 2 }
    }

    /// The engine type for this format with dequantized weights rounded to `dtype`.
    public func type(computeDType dtype: BNBComputeDType) -> GGMLType {
        switch (self, dtype) {
        case (.nf4, .float32): return .bnb_nf4
        case (.nf4, .float16): return .bnb_nf4_f16
        case (.nf4, .bfloat16): return .bnb_nf4_bf16
        case (.fp4, .float32): return .bnb_fp4
        case (.fp4, .float16): return .bnb_fp4_f16
        case (.fp4, .bfloat16): return .bnb_fp4_bf16
        }
    }

    /// The format and compute dtype of an engine type, nil for other types.
    public init?(_ type: GGMLType) {
        switch type {
        case .bnb_nf4, .bnb_nf4_f16, .bnb_nf4_bf16: self = .nf4
        case .bnb_fp4, .bnb_fp4_f16, .bnb_fp4_bf16: self = .fp4
        default: return nil
        }
    }
}

/// `bnb_4bit_compute_dtype`: the precision bitsandbytes multiplies in. The engine rounds each
/// dequantized weight to it (as bitsandbytes' dequantize does) and multiplies in f32.
public enum BNBComputeDType: String, Sendable, CaseIterable {
    case float32, float16, bfloat16

    public init?(_ type: GGMLType) {
        switch type {
        case .bnb_nf4, .bnb_fp4: self = .float32
        case .bnb_nf4_f16, .bnb_fp4_f16: self = .float16
        case .bnb_nf4_bf16, .bnb_fp4_bf16: self = .bfloat16
        default: return nil
        }
    }

    /// Each lane rounded to this dtype (round to nearest even) and widened back to f32.
    @inline(__always)
    func round(_ v: SIMD16<Float>) -> SIMD16<Float> {
        switch self {
        case .float32: return v
        case .float16: return roundedToHalf(v)
        case .bfloat16: return roundedToBFloat16(v)
        }
    }
}

/// Lanes rounded to IEEE half precision (round to nearest even) and widened back; the
/// element loops compile to vcvtps2ph / vcvtph2ps (F16C), where a scalar `Float16(x)` is a
/// library call.
@inline(__always)
func roundedToHalf(_ v: SIMD16<Float>) -> SIMD16<Float> {
    var h = SIMD16<Float16>()
    for i in 0..<16 { h[i] = Float16(v[i]) }
    return floats(h)
}

/// Lanes rounded to bfloat16 (round to nearest even, as `bfloat16Bits`) and widened back. The
/// lanes are finite here (products of code values and a block's absmax, which the quantizer
/// takes as a maximum that skips NaNs), so the NaN case of `bfloat16Bits` is not needed.
@inline(__always)
func roundedToBFloat16(_ v: SIMD16<Float>) -> SIMD16<Float> {
    let bits = unsafeBitCast(v, to: SIMD16<UInt32>.self)
    let rounded = (bits &+ (0x7fff &+ ((bits &>> 16) & 1))) & 0xffff_0000
    return unsafeBitCast(rounded, to: SIMD16<Float>.self)
}

// MARK: - Blocks

/// The code indices and absmax of every 64-value block of `count` values (a multiple of 64),
/// as bitsandbytes' quantize_4bit chooses them: absmax = max |x| of the block; each value
/// times 1/absmax (absmax clamped to 1e-38 first), clamped to [-1, 1], goes to the bucket of
/// the decision boundaries it falls in (a value on a boundary to the lower bucket).
func bnbQuantizeBlocks(_ format: BNBFormat, _ x: UnsafePointer<Float>, count: Int,
                       codes: UnsafeMutablePointer<UInt8>, absmax: UnsafeMutablePointer<Float>) {
    let bounds = format.bounds, bucketCodes = format.bucketCodes
    for b in 0..<(count / BNBFormat.blockSize) {
        let xb = x + b &* BNBFormat.blockSize
        var m: Float = 0
        for i in 0..<BNBFormat.blockSize { m = max(m, abs(xb[i])) }
        absmax[b] = m
        let inverse = 1 / max(m, 1e-38)
        for i in 0..<BNBFormat.blockSize {
            let s = min(max(xb[i] * inverse, -1), 1)
            var bucket = 0
            for t in bounds where t < s { bucket &+= 1 }
            codes[b &* BNBFormat.blockSize &+ i] = bucketCodes[bucket]
        }
    }
}

/// Writes blocks of the engine layout from code indices and absmax values.
func bnbPackBlocks(codes: UnsafePointer<UInt8>, absmax: UnsafePointer<Float>, blocks: Int, into dst: UnsafeMutableRawPointer) {
    for b in 0..<blocks {
        let p = dst + b &* BNBFormat.bytesPerBlock
        p.storeBytes(of: absmax[b].bitPattern.littleEndian, toByteOffset: 0, as: UInt32.self)
        let c = codes + b &* BNBFormat.blockSize
        for j in 0..<32 {
            p.storeBytes(of: (c[2 &* j] << 4) | (c[2 &* j &+ 1] & 0x0F), toByteOffset: 4 &+ j, as: UInt8.self)
        }
    }
}

/// Round-to-nearest 4-bit quantization of `count` floats into engine blocks, each block with
/// its own f32 absmax (bitsandbytes without double quantization).
func quantizeBNB(_ type: GGMLType, _ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ count: Int) {
    guard let format = BNBFormat(type) else { preconditionFailure("\(type) is not a bitsandbytes type") }
    let blocks = count / BNBFormat.blockSize
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(count, 1)) { codes in
        withUnsafeTemporaryAllocation(of: Float.self, capacity: max(blocks, 1)) { absmax in
            bnbQuantizeBlocks(format, src, count: count, codes: codes.baseAddress!, absmax: absmax.baseAddress!)
            bnbPackBlocks(codes: codes.baseAddress!, absmax: absmax.baseAddress!, blocks: blocks, into: dst)
        }
    }
}

/// Engine blocks → floats: code · absmax in f32, rounded to the type's compute dtype.
func dequantizeBNB(_ type: GGMLType, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
    guard let format = BNBFormat(type), let dtype = BNBComputeDType(type) else { preconditionFailure("\(type) is not a bitsandbytes type") }
    let pairs = BNBPairTable.table(format)
    for b in 0..<blocks {
        let p = src + b &* BNBFormat.bytesPerBlock
        let a = SIMD16<Float>(repeating: Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(as: UInt32.self))))
        let y = UnsafeMutableRawPointer(dst + b &* BNBFormat.blockSize)
        for part in 0..<4 {
            let v = dtype.round(pairs.values(p + (4 &+ 8 &* part)) * a)
            y.storeBytes(of: v, toByteOffset: 64 &* part, as: SIMD16<Float>.self)
        }
    }
}

/// For every code byte the two values it holds (high nibble first), unscaled: 8 bytes of
/// codes become 16 floats with 8 loads instead of 16 nibble lookups.
struct BNBPairTable: @unchecked Sendable {
    let pairs: UnsafeMutablePointer<SIMD2<Float>>

    init(_ format: BNBFormat) {
        pairs = .allocate(capacity: 256)
        let code = format.code
        for byte in 0..<256 { pairs[byte] = SIMD2(code[byte >> 4], code[byte & 15]) }
    }

    static let nf4 = BNBPairTable(.nf4)
    static let fp4 = BNBPairTable(.fp4)

    @inline(__always)
    static func table(_ format: BNBFormat) -> BNBPairTable { format == .nf4 ? nf4 : fp4 }

    /// The 16 unscaled values of the 8 code bytes at `p`.
    @inline(__always)
    func values(_ p: UnsafeRawPointer) -> SIMD16<Float> {
        let w = UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))
        @inline(__always) func pair(_ k: UInt64) -> SIMD2<Float> { pairs[Int(truncatingIfNeeded: (w &>> (8 &* k)) & 0xff)] }
        let q0 = SIMD4(lowHalf: pair(0), highHalf: pair(1)), q1 = SIMD4(lowHalf: pair(2), highHalf: pair(3))
        let q2 = SIMD4(lowHalf: pair(4), highHalf: pair(5)), q3 = SIMD4(lowHalf: pair(6), highHalf: pair(7))
        return SIMD16(lowHalf: SIMD8(lowHalf: q0, highHalf: q1), highHalf: SIMD8(lowHalf: q2, highHalf: q3))
    }
}
