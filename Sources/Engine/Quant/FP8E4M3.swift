/// The OCP 8-bit float E4M3 in its "fn" variant (PyTorch's `float8_e4m3fn`): 1 sign bit, 4
/// exponent bits with bias 7, 3 mantissa bits; no infinities, and only S.1111.111 is NaN, so the
/// largest finite magnitude is 448. Exponent 0 holds the subnormals m/8 · 2^-6.
public enum FP8E4M3 {
    public static let maxFinite: Float = 448

    /// The value of each of the 256 codes (NaN for 0x7F and 0xFF).
    public static let values: [Float] = (0..<256).map { decodeSlow(UInt8($0)) }

    private static func decodeSlow(_ b: UInt8) -> Float {
        let sign: Float = b & 0x80 != 0 ? -1 : 1
        let e = Int((b >> 3) & 0x0F), m = Float(b & 0x07)
        if e == 15 && b & 0x07 == 7 { return .nan }
        let magnitude = e == 0 ? m / 8 * 0x1p-6 : (1 + m / 8) * Float(sign: .plus, exponent: e - 7, significand: 1)
        return sign * magnitude
    }

    @inline(__always) public static func decode(_ b: UInt8) -> Float { values[Int(b)] }

    /// `x` rounded to the nearest E4M3 value, ties to even, as PyTorch (2.15) casts float32 to
    /// float8_e4m3fn: magnitudes past 448 and infinities saturate to ±448, NaN becomes 0x7F.
    public static func encode(_ x: Float) -> UInt8 {
        let bits = x.bitPattern
        let sign = UInt8(truncatingIfNeeded: bits >> 24) & 0x80
        let magnitude = bits & 0x7FFF_FFFF
        if magnitude > Float.infinity.bitPattern { return 0x7F }
        if magnitude >= Float(464).bitPattern { return sign | 0x7E }   // 464 itself ties down to 448 (even)
        if magnitude < Float(0x1p-6).bitPattern {
            // Below the smallest normal: a multiple of 2^-9, rounded on the exact product.
            let steps = (Float(bitPattern: magnitude) * 512).rounded(.toNearestOrEven)
            return sign | UInt8(steps)
        }
        // Rebias the exponent (127 → 7) and round away the 20 low mantissa bits to nearest even.
        let odd = (magnitude >> 20) & 1
        let rounded = magnitude &- (120 << 23) &+ 0x7FFFF &+ odd
        return sign | UInt8(truncatingIfNeeded: rounded >> 20)
    }
}
