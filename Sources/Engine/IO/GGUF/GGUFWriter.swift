#if canImport(Glibc)
import Glibc
#endif

/// Builds a GGUF version 3 file: metadata of any value type and tensors of any `GGMLType`
/// given as raw bytes. `write(to:)` writes to a temporary name beside the target and renames
/// it into place, so an interrupted write never leaves a half file.
public struct GGUFWriter {
    /// Owns a copy of caller-supplied bytes for as long as the writer needs them.
    private final class ByteBox {
        let buffer: UnsafeMutableRawBufferPointer
        init(_ b: [UInt8]) {
            buffer = .allocate(byteCount: max(b.count, 1), alignment: 16)
            b.withUnsafeBytes { buffer.copyMemory(from: $0) }
        }
        deinit { buffer.deallocate() }
    }

    struct PendingTensor {
        let name: String
        let type: GGMLType
        let ne: [Int]
        let bytes: UnsafeRawBufferPointer
        let owner: AnyObject
    }

    public private(set) var metadata: [(key: String, value: GGUFValue)] = []
    private(set) var tensors: [PendingTensor] = []
    public var alignment: Int = GGUFFile.defaultAlignment

    public init() {}

    private func invalid(_ problem: String) -> GGUFError {
        GGUFError(path: "<gguf writer>", kind: .invalidWrite, problem: problem)
    }

    /// Sets a metadata value (replacing an earlier value of the same key, keeping its place).
    public mutating func set(_ key: String, _ value: GGUFValue) {
        if let i = metadata.firstIndex(where: { $0.key == key }) {
            metadata[i].value = value
        } else {
            metadata.append((key, value))
        }
    }

    /// Adds a tensor. `shape` is in HF order (outermost first); `bytes` must be exactly the
    /// tensor's size in `type`.
    public mutating func addTensor(name: String, type: GGMLType, shape: [Int], bytes: [UInt8]) throws {
        let box = ByteBox(bytes)
        let view = UnsafeRawBufferPointer(rebasing: box.buffer[0 ..< bytes.count])
        try addTensor(name: name, type: type, shape: shape, bytes: view, owner: box)
    }

    /// Adds a tensor read from another file (or any memory `owner` keeps alive), without copying.
    public mutating func addTensor(_ raw: RawTensor, name: String? = nil) throws {
        try addTensor(name: name ?? raw.name, type: raw.type, shape: raw.shape, bytes: raw.bytes, owner: raw.owner)
    }

    private mutating func addTensor(name: String, type: GGMLType, shape: [Int], bytes: UnsafeRawBufferPointer, owner: AnyObject) throws {
        guard !name.isEmpty, name.utf8.count <= GGUFFile.maxTensorNameBytes else {
            throw invalid("tensor name '\(name)' must be 1 to \(GGUFFile.maxTensorNameBytes) bytes")
        }
        guard !tensors.contains(where: { $0.name == name }) else { throw invalid("tensor '\(name)' added twice") }
        guard (1 ... GGUFFile.maxDimensions).contains(shape.count), shape.allSatisfy({ $0 > 0 }) else {
            throw invalid("tensor '\(name)' shape \(shape) must have 1 to 4 positive dimensions")
        }
        guard type.isGGUFType else {
            throw invalid("tensor '\(name)' is in \(type), a format tune keeps only in memory; GGUF has no type for it")
        }
        let ne = Array(shape.reversed())
        guard ne[0] % type.blockSize == 0 else {
            throw invalid("tensor '\(name)' row length \(ne[0]) is not a multiple of \(type)'s block size \(type.blockSize)")
        }
        var elements = 1
        for n in ne {
            let (p, o) = elements.multipliedReportingOverflow(by: n)
            guard !o else { throw invalid("tensor '\(name)' element count overflows") }
            elements = p
        }
        guard let size = type.byteCount(elements: elements), size == bytes.count else {
            throw invalid("tensor '\(name)' needs \(type.byteCount(elements: elements).map(String.init) ?? "too many") bytes as \(type), got \(bytes.count)")
        }
        tensors.append(PendingTensor(name: name, type: type, ne: ne, bytes: bytes, owner: owner))
    }

    /// Writes the file atomically (temporary name, then rename).
    public func write(to path: String) throws {
        guard alignment > 0, alignment & (alignment - 1) == 0, alignment <= Int(UInt32.max) else {
            throw invalid("alignment \(alignment) is not a power of two")
        }
        for (key, value) in metadata {
            guard !key.isEmpty else { throw invalid("empty metadata key") }
            try checkArray(value, key: key)
        }
        // `alignment` is the truth: an existing general.alignment entry keeps its place and
        // takes its value; a non-default alignment adds one.
        var entries = metadata
        if let i = entries.firstIndex(where: { $0.key == "general.alignment" }) {
            entries[i].value = .uint32(UInt32(alignment))
        } else if alignment != GGUFFile.defaultAlignment {
            entries.append(("general.alignment", .uint32(UInt32(alignment))))
        }

        var header = GGUFByteWriter()
        header.u32(GGUFFile.magic)
        header.u32(3)
        header.u64(UInt64(tensors.count))
        header.u64(UInt64(entries.count))
        for (key, value) in entries {
            header.string(key)
            header.u32(value.type.rawValue)
            header.value(value)
        }
        var offset = 0
        var offsets: [Int] = []
        for t in tensors {
            header.string(t.name)
            header.u32(UInt32(t.ne.count))
            for n in t.ne { header.u64(UInt64(n)) }
            header.u32(t.type.rawValue)
            header.u64(UInt64(offset))
            offsets.append(offset)
            offset = GGUFWriter.roundUp(offset + t.bytes.count, alignment)
        }
        header.pad(to: alignment)

        let tmp = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else {
            throw GGUFError(path: path, kind: .ioFailure, problem: "cannot create \(tmp): \(String(cString: strerror(errno)))")
        }
        var ok = false
        defer {
            if !ok { close(fd); unlink(tmp) }
        }
        let zeros = [UInt8](repeating: 0, count: alignment)
        try header.bytes.withUnsafeBytes { try GGUFWriter.writeAll(fd, $0, path: path) }
        for (i, t) in tensors.enumerated() {
            try GGUFWriter.writeAll(fd, t.bytes, path: path)
            let end = offsets[i] + t.bytes.count
            let padding = GGUFWriter.roundUp(end, alignment) - end
            if i + 1 < tensors.count, padding > 0 {
                try zeros.withUnsafeBytes { try GGUFWriter.writeAll(fd, UnsafeRawBufferPointer(rebasing: $0[0 ..< padding]), path: path) }
            }
            withExtendedLifetime(t.owner) {}
        }
        guard fsync(fd) == 0, close(fd) == 0 else {
            throw GGUFError(path: path, kind: .ioFailure, problem: "cannot flush: \(String(cString: strerror(errno)))")
        }
        ok = true
        guard rename(tmp, path) == 0 else {
            let message = String(cString: strerror(errno))
            unlink(tmp)
            throw GGUFError(path: path, kind: .ioFailure, problem: "cannot rename \(tmp) into place: \(message)")
        }
    }

    private func checkArray(_ value: GGUFValue, key: String) throws {
        guard case .array(let elementType, let elements) = value else { return }
        for e in elements {
            guard e.type == elementType else { throw invalid("metadata '\(key)' array of \(elementType) holds a \(e.type)") }
            try checkArray(e, key: key)
        }
    }

    static func roundUp(_ n: Int, _ alignment: Int) -> Int { (n + alignment - 1) & ~(alignment - 1) }

    private static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, path: String) throws {
        var done = 0
        while done < buffer.count {
            let n = Glibc.write(fd, buffer.baseAddress! + done, buffer.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw GGUFError(path: path, kind: .ioFailure, problem: "write failed: \(String(cString: strerror(errno)))")
            }
            done += n
        }
    }
}

/// Little-endian encoder for the GGUF header.
struct GGUFByteWriter {
    var bytes: [UInt8] = []

    mutating func int<T: FixedWidthInteger>(_ v: T) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }
    mutating func u32(_ v: UInt32) { int(v) }
    mutating func u64(_ v: UInt64) { int(v) }
    mutating func string(_ s: String) {
        u64(UInt64(s.utf8.count))
        bytes.append(contentsOf: s.utf8)
    }
    mutating func pad(to alignment: Int) {
        let target = GGUFWriter.roundUp(bytes.count, alignment)
        bytes.append(contentsOf: repeatElement(0, count: target - bytes.count))
    }

    mutating func value(_ v: GGUFValue) {
        switch v {
        case .uint8(let x): int(x)
        case .int8(let x): int(x)
        case .uint16(let x): int(x)
        case .int16(let x): int(x)
        case .uint32(let x): int(x)
        case .int32(let x): int(x)
        case .uint64(let x): int(x)
        case .int64(let x): int(x)
        case .float32(let x): int(x.bitPattern)
        case .float64(let x): int(x.bitPattern)
        case .bool(let b): int(UInt8(b ? 1 : 0))
        case .string(let s): string(s)
        case .array(let t, let elements):
            u32(t.rawValue)
            u64(UInt64(elements.count))
            for e in elements { value(e) }
        }
    }
}
