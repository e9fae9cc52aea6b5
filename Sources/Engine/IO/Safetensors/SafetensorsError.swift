/// What is wrong with a safetensors file (or a sharded set of them), naming the file.
public struct SafetensorsError: Error, CustomStringConvertible, Equatable {
    public enum Problem: Equatable, Sendable {
        /// Fewer than the 8 bytes that hold the header length.
        case headerTooSmall(fileSize: Int)
        /// The header length is more than the 100,000,000 bytes the format allows.
        case headerTooLarge(length: UInt64)
        /// The header length runs past the end of the file.
        case headerLengthBeyondFile(length: UInt64, fileSize: Int)
        case headerNotUTF8
        case headerNotObject
        case headerNotJSON(String)
        case headerNestedTooDeep(limit: Int)
        case duplicateKey(String)
        case invalidMetadata(String)
        case invalidTensorEntry(name: String, reason: String)
        case unknownDType(name: String, dtype: String)
        /// Tensors' byte ranges, taken in order, must start at 0 and follow each other exactly.
        case invalidOffsets(name: String, reason: String)
        case sizeMismatch(name: String, expected: Int, actual: Int)
        case sizeOverflow(name: String)
        /// The data section is longer or shorter than the tensors account for.
        case dataSizeMismatch(expected: Int, actual: Int)
        case unsupportedDType(name: String, dtype: SafetensorsDType)
        case tensorNotFound(String)
        case invalidIndex(String)
        case missingShard(file: String, tensor: String)
        case tensorMissingFromShard(name: String, file: String)
        case invalidWrite(String)
    }

    public let path: String
    public let problem: Problem

    public init(path: String, problem: Problem) {
        self.path = path
        self.problem = problem
    }

    public var description: String { "\(path): \(problemText)" }

    var problemText: String {
        switch problem {
        case .headerTooSmall(let size):
            return "not a safetensors file: \(size) bytes, fewer than the 8-byte header length"
        case .headerTooLarge(let length):
            return "header length \(length) is over the 100000000-byte limit"
        case .headerLengthBeyondFile(let length, let size):
            return "header length \(length) runs past the end of the \(size)-byte file"
        case .headerNotUTF8: return "header is not valid UTF-8"
        case .headerNotObject: return "header does not start with '{'"
        case .headerNotJSON(let why): return "header is not valid JSON: \(why)"
        case .headerNestedTooDeep(let limit): return "header JSON is nested deeper than \(limit) levels"
        case .duplicateKey(let key): return "header names \"\(key)\" more than once"
        case .invalidMetadata(let why): return "invalid __metadata__: \(why)"
        case .invalidTensorEntry(let name, let why): return "tensor \"\(name)\": \(why)"
        case .unknownDType(let name, let dtype): return "tensor \"\(name)\": unknown dtype \"\(dtype)\""
        case .invalidOffsets(let name, let why): return "tensor \"\(name)\": invalid data_offsets: \(why)"
        case .sizeMismatch(let name, let expected, let actual):
            return "tensor \"\(name)\": its shape and dtype need \(expected) bytes but data_offsets span \(actual)"
        case .sizeOverflow(let name): return "tensor \"\(name)\": shape size overflows"
        case .dataSizeMismatch(let expected, let actual):
            return "the tensors cover \(expected) data bytes but the file has \(actual) after the header"
        case .unsupportedDType(let name, let dtype):
            return "tensor \"\(name)\": dtype \(dtype.rawValue) is not supported for weights (supported: F32, F16, BF16, and F64 converted to F32)"
        case .tensorNotFound(let name): return "no tensor named \"\(name)\""
        case .invalidIndex(let why): return "invalid index: \(why)"
        case .missingShard(let file, let tensor): return "shard file \(file) (listed for \"\(tensor)\") does not exist"
        case .tensorMissingFromShard(let name, let file): return "the index puts \"\(name)\" in \(file), but that file has no such tensor"
        case .invalidWrite(let why): return "cannot write: \(why)"
        }
    }
}
