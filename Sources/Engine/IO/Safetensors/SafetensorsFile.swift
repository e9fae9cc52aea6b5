/// One `.safetensors` file, memory-mapped; tensors point into the map.
public final class SafetensorsFile: @unchecked Sendable {
    public let path: String
    /// The header's `__metadata__` (string to string).
    public let metadata: [String: String]
    /// Every tensor, in the order of their data in the file.
    public let tensorInfos: [SafetensorsTensorInfo]
    private let file: MappedFile
    private let dataStart: Int
    private let byName: [String: Int]

    public init(path: String) throws {
        file = try MappedFile(path: path)
        self.path = path
        let header = try SafetensorsHeader(bytes: file.bytes, path: path)
        metadata = header.metadata
        tensorInfos = header.tensors
        dataStart = header.dataStart
        var byName: [String: Int] = [:]
        for (i, t) in header.tensors.enumerated() { byName[t.name] = i }
        self.byName = byName
    }

    public var tensorNames: [String] { tensorInfos.map(\.name) }

    public func info(_ name: String) -> SafetensorsTensorInfo? {
        byName[name].map { tensorInfos[$0] }
    }

    public func contains(_ name: String) -> Bool { byName[name] != nil }

    /// The stored bytes of a tensor, whatever its dtype.
    public func rawBytes(_ name: String) throws -> UnsafeRawBufferPointer {
        guard let info = info(name) else { throw SafetensorsError(path: path, problem: .tensorNotFound(name)) }
        return bytes(of: info)
    }

    /// A weight tensor: F32, F16 and BF16 as stored (no copy); F64 converted to F32.
    /// Other dtypes (integers, booleans, 8-bit floats) are an error naming the dtype.
    public func tensor(_ name: String) throws -> RawTensor {
        guard let info = info(name) else { throw SafetensorsError(path: path, problem: .tensorNotFound(name)) }
        let bytes = bytes(of: info)
        if let type = info.dtype.ggmlType {
            return RawTensor(name: name, type: type, shape: info.shape, bytes: bytes, owner: file)
        }
        if info.dtype == .f64 {
            let converted = OwnedBytes(count: bytes.count / 2)
            let count = bytes.count / 8
            let out = converted.pointer.bindMemory(to: Float.self, capacity: count)
            for i in 0..<count {
                let bits = bytes.loadUnaligned(fromByteOffset: i &* 8, as: UInt64.self)
                out[i] = Float(Double(bitPattern: UInt64(littleEndian: bits)))
            }
            return RawTensor(name: name, type: .f32, shape: info.shape,
                             bytes: UnsafeRawBufferPointer(start: converted.pointer, count: converted.count),
                             owner: converted)
        }
        throw SafetensorsError(path: path, problem: .unsupportedDType(name: name, dtype: info.dtype))
    }

    private func bytes(of info: SafetensorsTensorInfo) -> UnsafeRawBufferPointer {
        // The header validation proved dataStart + upperBound <= file size.
        let lo = dataStart + info.dataOffsets.lowerBound
        let hi = dataStart + info.dataOffsets.upperBound
        guard info.dataOffsets.count > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(rebasing: file.bytes[lo..<hi])
    }
}

/// Heap memory owned by one object, for tensors converted on read.
final class OwnedBytes: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    let count: Int

    init(count: Int) {
        self.count = count
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 64)
    }

    deinit { pointer.deallocate() }
}
