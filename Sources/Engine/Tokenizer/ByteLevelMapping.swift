/// GPT-2's reversible map between the 256 byte values and printable unicode scalars.
///
/// Bytes that are printable Latin-1 ('!'...'~', '¡'...'¬', '®'...'ÿ') map to themselves; the
/// other 68 bytes map, in increasing byte order, to U+0100, U+0101, ... This is the form in which
/// byte-level BPE vocabularies (GGUF `tokenizer.ggml.tokens`, tokenizer.json `model.vocab`) are stored.
enum ByteLevelMapping {
    /// byteToScalar[b] is the scalar value that stands for byte b.
    static let byteToScalar: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
            if printable {
                table[b] = UInt32(b)
            } else {
                table[b] = next
                next += 1
            }
        }
        return table
    }()

    /// Inverse of `byteToScalar`; scalar values outside the map are absent.
    static let scalarToByte: [UInt32: UInt8] = {
        var map: [UInt32: UInt8] = [:]
        for (b, s) in byteToScalar.enumerated() { map[s] = UInt8(b) }
        return map
    }()

    /// The raw bytes a byte-mapped token string stands for, or nil when some scalar is not in the map.
    static func decode(_ mapped: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(mapped.unicodeScalars.count)
        for scalar in mapped.unicodeScalars {
            guard let b = scalarToByte[scalar.value] else { return nil }
            out.append(b)
        }
        return out
    }

    /// The byte-mapped string for raw bytes (used when writing vocabularies and in tests).
    static func encode(_ bytes: [UInt8]) -> String {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(Unicode.Scalar(byteToScalar[Int(b)])!) }
        return String(s)
    }
}
