/// A tensor as a file stores it: element type, shape and bytes, not yet converted.
///
/// `shape` is row-major, outermost first, as HF names it: a linear layer's weight is
/// `[outFeatures, inFeatures]`. (GGUF lists dimensions innermost first; its reader reverses
/// them.) `bytes` points into memory that `owner` keeps alive, usually an mmap of the file.
public struct RawTensor: @unchecked Sendable {
    public let name: String
    public let type: GGMLType
    public let shape: [Int]
    public let bytes: UnsafeRawBufferPointer
    public let owner: AnyObject

    public init(name: String, type: GGMLType, shape: [Int], bytes: UnsafeRawBufferPointer, owner: AnyObject) {
        self.name = name
        self.type = type
        self.shape = shape
        self.bytes = bytes
        self.owner = owner
    }

    public var elementCount: Int { shape.reduce(1, *) }
    /// Length of the innermost dimension (a row).
    public var rowLength: Int { shape.last ?? 1 }
    public var rowCount: Int { shape.count <= 1 ? 1 : shape.dropLast().reduce(1, *) }
    public var bytesPerRow: Int { type.byteCount(elements: rowLength)! }
}
