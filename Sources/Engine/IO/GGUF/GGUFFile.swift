/// A GGUF file (versions 2 and 3) read through a memory map. Metadata is decoded up front;
/// tensor data stays in the map and `tensor(_:)` hands out views of it.
///
/// Every count, length, dimension and offset from the file is checked before it is used, so a
/// damaged or hostile file gives a `GGUFError` naming the problem, never a crash or a large
/// allocation the file's size does not justify.
public final class GGUFFile: @unchecked Sendable {
    public static let magic: UInt32 = 0x4655_4747          // "GGUF" read little-endian
    public static let defaultAlignment = 32
    public static let maxTensorNameBytes = 63               // GGML_MAX_NAME 64 incl. terminator
    public static let maxDimensions = 4
    static let maxElementCount = 1 << 30                    // strings and arrays
    static let maxArrayNesting = 8

    public let path: String
    public let map: MappedFile
    public let version: UInt32
    public let metadata: [String: GGUFValue]
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    /// Tensor descriptions in file order.
    public let tensorInfos: [GGUFTensorInfo]
    public let alignment: Int
    /// Absolute file offset where tensor data begins.
    public let dataOffset: Int
    private let tensorIndex: [String: Int]

    public convenience init(path: String) throws {
        let map: MappedFile
        do { map = try MappedFile(path: path) } catch let e as FileError {
            throw GGUFError(path: path, kind: .ioFailure, problem: e.problem)
        }
        try self.init(map: map)
    }

    public init(map: MappedFile) throws {
        let path = map.path
        var r = GGUFByteReader(bytes: map.bytes, path: path)
        func fail(_ kind: GGUFError.Kind, _ problem: String) -> GGUFError {
            GGUFError(path: path, kind: kind, problem: problem)
        }

        // Header.
        guard map.bytes.count >= 4 else { throw fail(.truncated, "file is \(map.bytes.count) bytes, too short for a GGUF header") }
        let magic = try r.read(UInt32.self, "magic")
        guard magic == GGUFFile.magic else { throw fail(.badMagic, "not a GGUF file (magic 0x\(String(magic, radix: 16)), expected \"GGUF\")") }
        let version = try r.read(UInt32.self, "version")
        guard version == 2 || version == 3 else {
            if version.byteSwapped == 2 || version.byteSwapped == 3 {
                throw fail(.unsupportedVersion, "big-endian GGUF (version \(version.byteSwapped)) is not supported")
            }
            throw fail(.unsupportedVersion, "GGUF version \(version) is not supported (only 2 and 3)")
        }
        let rawTensorCount = try r.read(UInt64.self, "tensor count")
        let rawKVCount = try r.read(UInt64.self, "metadata count")
        // Smallest possible encodings: a key/value is >= 8+1+4+1 bytes, a tensor info >= 8+1+4+8+4+8.
        guard let kvCount = Int(exactly: rawKVCount), kvCount <= r.remaining / 14 else {
            throw fail(.countTooLarge, "metadata count \(rawKVCount) is more than the file's \(r.remaining) remaining bytes can hold")
        }
        guard let tensorCount = Int(exactly: rawTensorCount), tensorCount <= r.remaining / 33 else {
            throw fail(.countTooLarge, "tensor count \(rawTensorCount) is more than the file's \(r.remaining) remaining bytes can hold")
        }

        // Metadata.
        var metadata: [String: GGUFValue] = [:]
        var keys: [String] = []
        metadata.reserveCapacity(kvCount)
        keys.reserveCapacity(kvCount)
        for i in 0 ..< kvCount {
            let key = try r.readString("key of metadata entry \(i)", maxLength: 1 << 16)
            guard !key.isEmpty else { throw fail(.emptyKey, "metadata entry \(i) has an empty key") }
            guard metadata[key] == nil else { throw fail(.duplicateKey, "metadata key '\(key)' appears twice") }
            let rawType = try r.read(UInt32.self, "type of '\(key)'")
            guard let type = GGUFValueType(rawValue: rawType) else {
                throw fail(.badValueType, "metadata '\(key)' has unknown value type \(rawType)")
            }
            metadata[key] = try GGUFFile.readValue(type, &r, key: key, depth: 0)
            keys.append(key)
        }

        // Alignment.
        var alignment = GGUFFile.defaultAlignment
        if let a = metadata["general.alignment"] {
            guard case .uint32(let v) = a else {
                throw fail(.badAlignment, "general.alignment must be a UINT32, found \(a.type)")
            }
            guard v != 0, v & (v - 1) == 0 else {
                throw fail(.badAlignment, "general.alignment \(v) is not a non-zero power of two")
            }
            alignment = Int(v)
        }

        // Tensor infos.
        var infos: [GGUFTensorInfo] = []
        var index: [String: Int] = [:]
        infos.reserveCapacity(tensorCount)
        index.reserveCapacity(tensorCount)
        for i in 0 ..< tensorCount {
            let name = try r.readString("name of tensor \(i)", maxLength: 1 << 16)
            guard !name.isEmpty, name.utf8.count <= GGUFFile.maxTensorNameBytes else {
                throw fail(.badTensorName, "tensor \(i) name '\(name.prefix(80))' must be 1 to \(GGUFFile.maxTensorNameBytes) bytes (is \(name.utf8.count))")
            }
            guard index[name] == nil else { throw fail(.duplicateTensor, "tensor '\(name)' appears twice") }
            let nDims = try r.read(UInt32.self, "dimension count of '\(name)'")
            guard nDims >= 1, nDims <= UInt32(GGUFFile.maxDimensions) else {
                throw fail(.badDimensionCount, "tensor '\(name)' has \(nDims) dimensions (must be 1 to \(GGUFFile.maxDimensions))")
            }
            var ne: [Int] = []
            var elements = 1
            for d in 0 ..< Int(nDims) {
                let raw = try r.read(Int64.self, "dimension \(d) of '\(name)'")
                guard raw > 0, let n = Int(exactly: raw) else {
                    throw fail(.badDimension, "tensor '\(name)' dimension \(d) is \(raw) (must be positive)")
                }
                let (product, overflow) = elements.multipliedReportingOverflow(by: n)
                guard !overflow else { throw fail(.elementCountOverflow, "tensor '\(name)' element count overflows") }
                elements = product
                ne.append(n)
            }
            let rawType = try r.read(UInt32.self, "type of '\(name)'")
            guard let type = GGMLType(rawValue: rawType), type.isGGUFType else {
                throw fail(.unknownTensorType, "tensor '\(name)' has unknown type \(rawType)")
            }
            guard ne[0] % type.blockSize == 0 else {
                throw fail(.rowNotBlockMultiple, "tensor '\(name)' row length \(ne[0]) is not a multiple of \(type)'s block size \(type.blockSize)")
            }
            guard let byteCount = type.byteCount(elements: elements) else {
                throw fail(.byteSizeOverflow, "tensor '\(name)' byte size overflows")
            }
            let rawOffset = try r.read(UInt64.self, "offset of '\(name)'")
            guard let offset = Int(exactly: rawOffset) else {
                throw fail(.offsetOutOfRange, "tensor '\(name)' offset \(rawOffset) is out of range")
            }
            guard offset % alignment == 0 else {
                throw fail(.misalignedOffset, "tensor '\(name)' offset \(offset) is not a multiple of the alignment \(alignment)")
            }
            index[name] = infos.count
            infos.append(GGUFTensorInfo(name: name, type: type, ne: ne, offset: offset, byteCount: byteCount))
        }

        // Data section: starts at the next multiple of the alignment.
        let headerEnd = r.position
        let (padded, overflow) = headerEnd.addingReportingOverflow(alignment - 1)
        guard !overflow else { throw fail(.offsetOutOfRange, "data section offset overflows") }
        let dataOffset = padded & ~(alignment - 1)
        let fileSize = map.bytes.count
        if !infos.isEmpty, dataOffset > fileSize {
            throw fail(.truncated, "file ends (\(fileSize) bytes) before its data section at \(dataOffset)")
        }
        let dataSize = max(0, fileSize - dataOffset)
        for t in infos {
            guard t.offset <= dataSize else {
                throw fail(.offsetOutOfRange, "tensor '\(t.name)' offset \(t.offset) is past the end of the data section (\(dataSize) bytes)")
            }
            let (end, endOverflow) = t.offset.addingReportingOverflow(t.byteCount)
            guard !endOverflow, end <= dataSize else {
                throw fail(.truncated, "tensor '\(t.name)' data (\(t.byteCount) bytes at \(t.offset)) runs past the end of the file")
            }
        }
        let byOffset = infos.sorted { $0.offset < $1.offset }
        for (a, b) in zip(byOffset, byOffset.dropFirst()) where a.offset + a.byteCount > b.offset {
            throw fail(.overlappingTensors, "tensors '\(a.name)' and '\(b.name)' overlap in the data section")
        }

        self.path = path
        self.map = map
        self.version = version
        self.metadata = metadata
        self.metadataKeys = keys
        self.tensorInfos = infos
        self.alignment = alignment
        self.dataOffset = dataOffset
        self.tensorIndex = index
    }

    public var tensorNames: [String] { tensorInfos.map(\.name) }

    public func tensorInfo(_ name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensorInfos[$0] }
    }

    /// The tensor's bytes in the map, with its shape in HF order (GGUF's ne reversed).
    public func tensor(_ name: String) -> RawTensor? {
        guard let info = tensorInfo(name) else { return nil }
        let start = dataOffset + info.offset
        let bytes = UnsafeRawBufferPointer(rebasing: map.bytes[start ..< start + info.byteCount])
        return RawTensor(name: info.name, type: info.type, shape: info.shape, bytes: bytes, owner: map)
    }

    private static func readValue(_ type: GGUFValueType, _ r: inout GGUFByteReader, key: String, depth: Int) throws -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try r.read(UInt8.self, "value of '\(key)'"))
        case .int8: return .int8(try r.read(Int8.self, "value of '\(key)'"))
        case .uint16: return .uint16(try r.read(UInt16.self, "value of '\(key)'"))
        case .int16: return .int16(try r.read(Int16.self, "value of '\(key)'"))
        case .uint32: return .uint32(try r.read(UInt32.self, "value of '\(key)'"))
        case .int32: return .int32(try r.read(Int32.self, "value of '\(key)'"))
        case .uint64: return .uint64(try r.read(UInt64.self, "value of '\(key)'"))
        case .int64: return .int64(try r.read(Int64.self, "value of '\(key)'"))
        case .float32: return .float32(try r.readFloat("value of '\(key)'"))
        case .float64: return .float64(try r.readDouble("value of '\(key)'"))
        case .bool:
            let b = try r.read(UInt8.self, "value of '\(key)'")
            guard b <= 1 else { throw r.error(.badValueType, "metadata '\(key)' has bool byte \(b) (must be 0 or 1)") }
            return .bool(b == 1)
        case .string: return .string(try r.readString("string '\(key)'", maxLength: maxElementCount))
        case .array:
            guard depth < maxArrayNesting else {
                throw r.error(.badValueType, "metadata '\(key)' nests arrays deeper than \(maxArrayNesting)")
            }
            let rawElementType = try r.read(UInt32.self, "array element type of '\(key)'")
            guard let elementType = GGUFValueType(rawValue: rawElementType) else {
                throw r.error(.badValueType, "metadata '\(key)' is an array of unknown type \(rawElementType)")
            }
            let rawCount = try r.read(UInt64.self, "array length of '\(key)'")
            guard let count = Int(exactly: rawCount), count <= maxElementCount else {
                throw r.error(.arrayTooLong, "metadata '\(key)' claims \(rawCount) array elements (limit \(maxElementCount))")
            }
            guard count <= r.remaining / elementType.minimumEncodedSize else {
                throw r.error(.arrayTooLong, "metadata '\(key)' claims \(count) array elements but only \(r.remaining) bytes remain")
            }
            var elements: [GGUFValue] = []
            elements.reserveCapacity(count)
            for _ in 0 ..< count {
                elements.append(try readValue(elementType, &r, key: key, depth: depth + 1))
            }
            return .array(elementType, elements)
        }
    }
}
