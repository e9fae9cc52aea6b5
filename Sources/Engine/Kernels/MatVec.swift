/// y[r] (= or +=) W[r,:] · x for the rows `rows` of a weight in its file type.
///
/// `sums` is `groupSums32(x)`; it is only read by the formats with offsets (Q4_0, Q4_1, Q4_K).
func matVecRows(_ w: RawTensor, x: UnsafePointer<Float>, sums: UnsafePointer<Float>,
                y: UnsafeMutablePointer<Float>, rows: Range<Int>, accumulate: Bool) {
    let n = w.rowLength
    let stride = w.bytesPerRow
    guard let base = w.bytes.baseAddress else { return }
    @inline(__always) func run(_ dot: (UnsafeRawPointer) -> Float) {
        if accumulate {
            for r in rows { y[r] += dot(base + r &* stride) }
        } else {
            for r in rows { y[r] = dot(base + r &* stride) }
        }
    }
    switch w.type {
    case .f32: run { dotF32($0.assumingMemoryBound(to: Float.self), x, n) }
    case .f16: run { dotF16($0, x, n) }
    case .bf16: run { dotBF16($0, x, n) }
    case .q4_0: run { dotQ4_0($0, x, sums, n) }
    case .q4_1: run { dotQ4_1($0, x, sums, n) }
    case .q8_0: run { dotQ8_0($0, x, n) }
    case .q4_K: run { dotQ4_K($0, x, sums, n) }
    case .q6_K: run { dotQ6_K($0, x, n) }
    case .fp8_e4m3: run { dotFP8E4M3($0, x, n) }
    case .hqq4: run { dotHQQ4($0, x, sums, n) }
    case .hqq8: run { dotHQQ8($0, x, sums, n) }
    case .bnb_nf4, .bnb_nf4_f16, .bnb_nf4_bf16, .bnb_fp4, .bnb_fp4_f16, .bnb_fp4_bf16:
        let type = w.type
        run { dotBNB(type, $0, x, n) }
    default:
        // Formats without a fused kernel: dequantize the row, then an f32 dot.
        withUnsafeTemporaryAllocation(of: Float.self, capacity: n) { tmp in
            let t = tmp.baseAddress!
            run { row in
                dequantize(w.type, from: row, to: t, count: n)
                return dotF32(t, x, n)
            }
        }
    }
}

/// Dequantizes rows `rows` of `w` into `out` (row-major, `w.rowLength` floats a row).
func dequantizeRows(_ w: RawTensor, rows: Range<Int>, into out: UnsafeMutablePointer<Float>) {
    let n = w.rowLength, stride = w.bytesPerRow
    guard let base = w.bytes.baseAddress else { return }
    dequantize(w.type, from: base + rows.lowerBound &* stride, to: out + rows.lowerBound &* n,
               count: rows.count &* n)
}
