/// The three checksums the report files need: CRC-32C (TFRecord framing of TensorBoard event
/// files), CRC-32 (PNG chunks) and Adler-32 (the zlib stream inside a PNG).
enum Checksums {
    /// Reflected table-driven CRC for a given reversed polynomial.
    private static func table(_ reversedPolynomial: UInt32) -> [UInt32] {
        (0..<256).map { n -> UInt32 in
            var c = UInt32(n)
            for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ reversedPolynomial : c >> 1 }
            return c
        }
    }

    private static let crc32cTable = table(0x82F6_3B78)   // Castagnoli
    private static let crc32Table = table(0xEDB8_8320)    // ISO-HDLC, as zlib and PNG use

    private static func crc<S: Sequence>(_ bytes: S, _ table: [UInt32], start: UInt32) -> UInt32 where S.Element == UInt8 {
        var c = ~start
        table.withUnsafeBufferPointer { t in
            for b in bytes { c = t[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        }
        return ~c
    }

    static func crc32c<S: Sequence>(_ bytes: S) -> UInt32 where S.Element == UInt8 {
        crc(bytes, crc32cTable, start: 0)
    }

    /// CRC-32; `continuing` lets a PNG chunk's type and data be summed in two pieces.
    static func crc32<S: Sequence>(_ bytes: S, continuing previous: UInt32 = 0) -> UInt32 where S.Element == UInt8 {
        crc(bytes, crc32Table, start: previous)
    }

    /// TFRecord's masked CRC-32C: rotate right by 15 and add a constant, so that a CRC of data
    /// that itself holds CRCs stays well distributed.
    static func maskedCRC32C<S: Sequence>(_ bytes: S) -> UInt32 where S.Element == UInt8 {
        let c = crc32c(bytes)
        return ((c >> 15) | (c << 17)) &+ 0xA282_EAD8
    }

    static func adler32<S: Sequence>(_ bytes: S) -> UInt32 where S.Element == UInt8 {
        var a: UInt32 = 1, b: UInt32 = 0
        var pending = 0
        for byte in bytes {
            a &+= UInt32(byte)
            b &+= a
            pending &+= 1
            // 5552 is the most bytes that can be summed before b could overflow 32 bits.
            if pending == 5552 { a %= 65521; b %= 65521; pending = 0 }
        }
        return ((b % 65521) << 16) | (a % 65521)
    }
}
