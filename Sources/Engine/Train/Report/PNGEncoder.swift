/// Encodes an `RGBImage` as a PNG file: signature, IHDR (8-bit RGB), one IDAT holding a zlib
/// stream (fixed-Huffman deflate with a greedy LZ77 matcher; every scanline unfiltered), IEND.
public enum PNGEncoder {
    public static func encode(_ image: RGBImage) -> [UInt8] {
        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var header: [UInt8] = []
        appendBigEndian(UInt32(image.width), to: &header)
        appendBigEndian(UInt32(image.height), to: &header)
        header += [8, 2, 0, 0, 0]   // bit depth, colour type RGB, deflate, adaptive filtering, no interlace
        chunk("IHDR", header, into: &out)
        let stride = image.width * 3
        var raw: [UInt8] = []
        raw.reserveCapacity((stride + 1) * image.height)
        for y in 0..<image.height {
            raw.append(0)   // filter type None
            raw += image.pixels[(y * stride)..<((y + 1) * stride)]
        }
        // A pixel tends to repeat the one before it (3 bytes back) or the one above (a row back).
        chunk("IDAT", Deflate.zlib(raw, preferredDistances: [3, stride + 1]), into: &out)
        chunk("IEND", [], into: &out)
        return out
    }

    private static func chunk(_ type: String, _ data: [UInt8], into out: inout [UInt8]) {
        let typeBytes = Array(type.utf8)
        appendBigEndian(UInt32(data.count), to: &out)
        out += typeBytes
        out += data
        appendBigEndian(Checksums.crc32(data, continuing: Checksums.crc32(typeBytes)), to: &out)
    }

    static func appendBigEndian(_ v: UInt32, to out: inout [UInt8]) {
        out += [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
    }
}

/// Deflate (RFC 1951) in one fixed-Huffman block, inside a zlib (RFC 1950) wrapper.
enum Deflate {
    static func zlib(_ data: [UInt8], preferredDistances: [Int] = []) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]   // 32 KiB window, no dictionary, check bits
        out += fixedHuffman(data, preferredDistances: preferredDistances)
        PNGEncoder.appendBigEndian(Checksums.adler32(data), to: &out)
        return out
    }

    private static let lengthBase: [Int] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59,
                                            67, 83, 99, 115, 131, 163, 195, 227, 258]
    private static let lengthExtra: [Int] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3,
                                             4, 4, 4, 4, 5, 5, 5, 5, 0]
    private static let distanceBase: [Int] = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769,
                                              1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    private static let distanceExtra: [Int] = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8,
                                               9, 9, 10, 10, 11, 11, 12, 12, 13, 13]

    private struct BitWriter {
        var bytes: [UInt8] = []
        var buffer: UInt32 = 0
        var count = 0
        /// Extra bits and block headers go least significant bit first.
        mutating func bits(_ value: Int, _ n: Int) {
            buffer |= UInt32(value) << UInt32(count)
            count += n
            while count >= 8 { bytes.append(UInt8(buffer & 0xFF)); buffer >>= 8; count -= 8 }
        }
        /// Huffman codes go most significant bit first.
        mutating func code(_ value: Int, _ n: Int) {
            var reversed = 0
            for i in 0..<n { reversed |= ((value >> i) & 1) << (n - 1 - i) }
            bits(reversed, n)
        }
        mutating func finish() -> [UInt8] {
            if count > 0 { bytes.append(UInt8(buffer & 0xFF)) }
            return bytes
        }
    }

    private static func literal(_ symbol: Int, _ w: inout BitWriter) {
        switch symbol {
        case 0...143: w.code(0x30 + symbol, 8)
        case 144...255: w.code(0x190 + symbol - 144, 9)
        case 256...279: w.code(symbol - 256, 7)
        default: w.code(0xC0 + symbol - 280, 8)
        }
    }

    private static func match(length: Int, distance: Int, _ w: inout BitWriter) {
        var li = lengthBase.count - 1
        while lengthBase[li] > length { li -= 1 }
        literal(257 + li, &w)
        w.bits(length - lengthBase[li], lengthExtra[li])
        var di = distanceBase.count - 1
        while distanceBase[di] > distance { di -= 1 }
        w.code(di, 5)
        w.bits(distance - distanceBase[di], distanceExtra[di])
    }

    /// Greedy LZ77: at each position the longest of the match found through a hash of the next
    /// three bytes and the matches at `preferredDistances` is taken.
    static func fixedHuffman(_ data: [UInt8], preferredDistances: [Int] = []) -> [UInt8] {
        var w = BitWriter()
        w.bits(1, 1)   // last block
        w.bits(1, 2)   // fixed Huffman codes
        let n = data.count
        let hashSize = 1 << 15
        var head = [Int](repeating: -1, count: hashSize)
        func hash(_ i: Int) -> Int {
            (Int(data[i]) << 10 ^ Int(data[i + 1]) << 5 ^ Int(data[i + 2])) & (hashSize - 1)
        }
        data.withUnsafeBufferPointer { d in
            func matchLength(_ i: Int, _ j: Int) -> Int {
                let limit = min(258, n - i)
                var k = 0
                while k < limit && d[i &+ k] == d[j &+ k] { k &+= 1 }
                return k
            }
            var i = 0
            while i < n {
                var bestLength = 0, bestDistance = 0
                if i + 3 <= n {
                    let h = hash(i)
                    func consider(_ j: Int) {
                        guard j >= 0, j < i, i - j <= 32768 else { return }
                        let l = matchLength(i, j)
                        if l > bestLength { bestLength = l; bestDistance = i - j }
                    }
                    for distance in preferredDistances { consider(i - distance) }
                    consider(head[h])
                    head[h] = i
                }
                if bestLength >= 3 {
                    match(length: bestLength, distance: bestDistance, &w)
                    // Index the skipped positions so later matches can find them.
                    var k = i + 1
                    while k < i + bestLength && k + 3 <= n { head[hash(k)] = k; k += 1 }
                    i += bestLength
                } else {
                    literal(Int(d[i]), &w)
                    i += 1
                }
            }
        }
        literal(256, &w)   // end of block
        return w.finish()
    }
}
