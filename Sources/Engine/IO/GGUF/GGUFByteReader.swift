/// A bounds-checked little-endian cursor over the mapped bytes of a GGUF file. Every read
/// either succeeds or throws `GGUFError(.truncated)`; nothing reads past the end.
struct GGUFByteReader {
    let bytes: UnsafeRawBufferPointer
    let path: String
    private(set) var position: Int = 0

    init(bytes: UnsafeRawBufferPointer, path: String) {
        self.bytes = bytes
        self.path = path
    }

    var remaining: Int { bytes.count - position }

    func error(_ kind: GGUFError.Kind, _ problem: String) -> GGUFError {
        GGUFError(path: path, kind: kind, problem: problem)
    }

    private mutating func take(_ n: Int, what: @autoclosure () -> String) throws -> Int {
        guard n >= 0, n <= remaining else {
            throw error(.truncated, "file ends inside \(what()) at byte \(position) (needs \(n) bytes, \(remaining) left)")
        }
        let start = position
        position += n
        return start
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws -> T {
        let at = try take(MemoryLayout<T>.size, what: what())
        return T(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: T.self))
    }

    mutating func readFloat(_ what: @autoclosure () -> String) throws -> Float {
        Float(bitPattern: try read(UInt32.self, what()))
    }

    mutating func readDouble(_ what: @autoclosure () -> String) throws -> Double {
        Double(bitPattern: try read(UInt64.self, what()))
    }

    /// A GGUF string: uint64 byte length, then UTF-8 bytes (no terminator).
    mutating func readString(_ what: @autoclosure () -> String, maxLength: Int = 1 << 30) throws -> String {
        let length = try read(UInt64.self, "length of \(what())")
        guard let n = Int(exactly: length), n <= maxLength else {
            throw error(.stringTooLong, "\(what()) claims \(length) bytes (limit \(maxLength))")
        }
        guard n <= remaining else {
            throw error(.stringTooLong, "\(what()) claims \(n) bytes but only \(remaining) remain in the file")
        }
        let at = try take(n, what: what())
        let slice = UnsafeRawBufferPointer(rebasing: bytes[at ..< at + n])
        guard let s = String(validatingUTF8Bytes: slice) else {
            throw error(.invalidUTF8, "\(what()) is not valid UTF-8")
        }
        return s
    }

    mutating func skip(to offset: Int, _ what: @autoclosure () -> String) throws {
        guard offset >= position else { return }
        _ = try take(offset - position, what: what())
    }
}

extension String {
    /// Decodes UTF-8, returning nil (instead of repairing) when the bytes are not valid UTF-8.
    init?(validatingUTF8Bytes raw: UnsafeRawBufferPointer) {
        guard let s = String(validating: raw.assumingMemoryBound(to: UInt8.self), as: UTF8.self) else { return nil }
        self = s
    }
}
