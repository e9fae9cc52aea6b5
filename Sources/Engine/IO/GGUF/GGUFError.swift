/// A problem with a GGUF file: which file, what kind of problem, and a sentence about it.
public struct GGUFError: Error, CustomStringConvertible, Equatable {
    public enum Kind: String, Sendable, Equatable {
        case truncated
        case badMagic
        case unsupportedVersion
        case countTooLarge
        case stringTooLong
        case invalidUTF8
        case arrayTooLong
        case emptyKey
        case duplicateKey
        case badValueType
        case badAlignment
        case badTensorName
        case duplicateTensor
        case badDimensionCount
        case badDimension
        case elementCountOverflow
        case unknownTensorType
        case rowNotBlockMultiple
        case byteSizeOverflow
        case misalignedOffset
        case offsetOutOfRange
        case overlappingTensors
        /// A metadata key a reader needs is missing or has the wrong type.
        case badMetadata
        case unknownArchitecture
        /// The writer was asked to write something GGUF cannot hold.
        case invalidWrite
        case ioFailure
    }

    public let path: String
    public let kind: Kind
    public let problem: String

    public init(path: String, kind: Kind, problem: String) {
        self.path = path
        self.kind = kind
        self.problem = problem
    }

    public var description: String { "\(path): \(problem)" }
}
