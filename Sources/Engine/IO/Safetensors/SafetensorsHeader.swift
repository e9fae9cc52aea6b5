import Foundation

/// Where one tensor sits in a safetensors file.
public struct SafetensorsTensorInfo: Sendable, Equatable {
    public let name: String
    public let dtype: SafetensorsDType
    public let shape: [Int]
    /// Byte range within the data section (which begins right after the header).
    public let dataOffsets: Range<Int>
}

/// The parsed and validated header of a safetensors file.
///
/// Layout: an unsigned 64-bit little-endian header length N, N bytes of UTF-8 JSON, then the
/// data section. Validation follows the reference implementation: taken in order of their
/// offsets, the tensors' byte ranges must start at 0 and follow each other with no gap or
/// overlap, each range must be exactly shape product × dtype size, and the data section must
/// end exactly where the last tensor does.
struct SafetensorsHeader {
    static let maxHeaderLength: UInt64 = 100_000_000
    static let nestingLimit = 64

    let headerLength: Int
    let metadata: [String: String]
    /// Sorted by data offset.
    let tensors: [SafetensorsTensorInfo]

    var dataStart: Int { 8 + headerLength }

    init(bytes: UnsafeRawBufferPointer, path: String) throws {
        func fail(_ p: SafetensorsError.Problem) -> SafetensorsError { SafetensorsError(path: path, problem: p) }
        guard bytes.count >= 8 else { throw fail(.headerTooSmall(fileSize: bytes.count)) }
        var length: UInt64 = 0
        for i in 0..<8 { length |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard length <= Self.maxHeaderLength else { throw fail(.headerTooLarge(length: length)) }
        let n = Int(length)  // fits: at most 100,000,000
        let (stop, overflow) = n.addingReportingOverflow(8)
        guard !overflow, stop <= bytes.count else {
            throw fail(.headerLengthBeyondFile(length: length, fileSize: bytes.count))
        }
        let headerBytes = UnsafeRawBufferPointer(rebasing: bytes[8..<stop])
        guard let text = String(validatingUTF8Bytes: headerBytes) else { throw fail(.headerNotUTF8) }
        guard headerBytes.first == UInt8(ascii: "{") else { throw fail(.headerNotObject) }
        try JSONKeyScan.check(headerBytes, nestingLimit: Self.nestingLimit, path: path)

        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [])
        } catch {
            throw fail(.headerNotJSON((error as NSError).localizedDescription))
        }
        guard let top = parsed as? [String: Any] else { throw fail(.headerNotObject) }

        var metadata: [String: String] = [:]
        var tensors: [SafetensorsTensorInfo] = []
        tensors.reserveCapacity(top.count)
        for (key, value) in top {
            if key == "__metadata__" {
                if JSONValues.isNull(value) { continue }
                guard let dict = value as? [String: Any] else { throw fail(.invalidMetadata("must be an object of strings")) }
                for (mk, mv) in dict {
                    guard let s = mv as? String else {
                        throw fail(.invalidMetadata("value of \"\(mk)\" is not a string"))
                    }
                    metadata[mk] = s
                }
                continue
            }
            tensors.append(try Self.tensorInfo(name: key, value: value, path: path))
        }
        tensors.sort { ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound, $0.name) < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound, $1.name) }

        var end = 0
        for t in tensors {
            if t.dataOffsets.lowerBound != end {
                let why = t.dataOffsets.lowerBound > end
                    ? "starts at \(t.dataOffsets.lowerBound), leaving a gap after byte \(end)"
                    : "starts at \(t.dataOffsets.lowerBound), overlapping data that runs to \(end)"
                throw fail(.invalidOffsets(name: t.name, reason: why))
            }
            var elements = 1
            for d in t.shape {
                let (p, o) = elements.multipliedReportingOverflow(by: d)
                guard !o else { throw fail(.sizeOverflow(name: t.name)) }
                elements = p
            }
            guard let size = t.dtype.byteCount(elements: elements) else { throw fail(.sizeOverflow(name: t.name)) }
            guard size == t.dataOffsets.count else {
                throw fail(.sizeMismatch(name: t.name, expected: size, actual: t.dataOffsets.count))
            }
            end = t.dataOffsets.upperBound
        }
        let dataBytes = bytes.count - stop
        guard end == dataBytes else { throw fail(.dataSizeMismatch(expected: end, actual: dataBytes)) }

        self.headerLength = n
        self.metadata = metadata
        self.tensors = tensors
    }

    private static func tensorInfo(name: String, value: Any, path: String) throws -> SafetensorsTensorInfo {
        func bad(_ why: String) -> SafetensorsError {
            SafetensorsError(path: path, problem: .invalidTensorEntry(name: name, reason: why))
        }
        guard let entry = value as? [String: Any] else { throw bad("entry is not an object") }
        guard let dtypeText = entry["dtype"] as? String else { throw bad("missing string \"dtype\"") }
        guard let dtype = SafetensorsDType(rawValue: dtypeText) else {
            throw SafetensorsError(path: path, problem: .unknownDType(name: name, dtype: dtypeText))
        }
        guard let shapeList = entry["shape"] as? [Any] else { throw bad("missing array \"shape\"") }
        var shape: [Int] = []
        shape.reserveCapacity(shapeList.count)
        for v in shapeList {
            if let d = JSONValues.double(v), d < 0 { throw bad("shape has a negative entry \(v)") }
            guard let i = JSONValues.int(v) else { throw bad("shape entry \(v) is not a whole number in range") }
            shape.append(i)
        }
        guard let offsets = entry["data_offsets"] as? [Any], offsets.count == 2 else {
            throw bad("\"data_offsets\" must be an array of two numbers")
        }
        var pair: [Int] = []
        for v in offsets {
            if let d = JSONValues.double(v), d < 0 { throw bad("data_offsets has a negative entry \(v)") }
            guard let i = JSONValues.int(v) else { throw bad("data_offsets entry \(v) is not a whole number in range") }
            pair.append(i)
        }
        guard pair[1] >= pair[0] else {
            throw SafetensorsError(path: path, problem: .invalidOffsets(name: name, reason: "end \(pair[1]) is before begin \(pair[0])"))
        }
        return SafetensorsTensorInfo(name: name, dtype: dtype, shape: shape, dataOffsets: pair[0]..<pair[1])
    }
}

/// A pass over JSON text before Foundation parses it, for what Foundation does not report:
/// nesting depth beyond a limit, and an object naming the same key twice (Foundation keeps one
/// silently). Malformed JSON is left for the real parser to report.
enum JSONKeyScan {
    private struct Level {
        var isObject: Bool
        var expectingKey: Bool
        var keys: Set<String> = []
    }

    static func check(_ bytes: UnsafeRawBufferPointer, nestingLimit: Int, path: String) throws {
        var stack: [Level] = []
        var i = 0
        let n = bytes.count
        while i < n {
            let c = bytes[i]
            switch c {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                stack.append(Level(isObject: c == UInt8(ascii: "{"), expectingKey: c == UInt8(ascii: "{")))
                if stack.count > nestingLimit {
                    throw SafetensorsError(path: path, problem: .headerNestedTooDeep(limit: nestingLimit))
                }
                i += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if stack.isEmpty { return }
                stack.removeLast()
                i += 1
            case UInt8(ascii: ","):
                if let last = stack.indices.last, stack[last].isObject { stack[last].expectingKey = true }
                i += 1
            case UInt8(ascii: "\""):
                let start = i
                var hasEscape = false
                i += 1
                while i < n && bytes[i] != UInt8(ascii: "\"") {
                    if bytes[i] == UInt8(ascii: "\\") { hasEscape = true; i += 1 }
                    i += 1
                }
                guard i < n else { return }
                i += 1
                guard let last = stack.indices.last, stack[last].isObject, stack[last].expectingKey else { continue }
                stack[last].expectingKey = false
                let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<i])
                guard let key = decodeKey(raw, hasEscape: hasEscape) else { return }
                if !stack[last].keys.insert(key).inserted {
                    throw SafetensorsError(path: path, problem: .duplicateKey(key))
                }
            default:
                i += 1
            }
        }
    }

    private static func decodeKey(_ quoted: UnsafeRawBufferPointer, hasEscape: Bool) -> String? {
        if !hasEscape {
            return String(validatingUTF8Bytes: UnsafeRawBufferPointer(rebasing: quoted[1..<(quoted.count - 1)]))
        }
        let data = Data(quoted)
        return (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) as? String
    }
}
