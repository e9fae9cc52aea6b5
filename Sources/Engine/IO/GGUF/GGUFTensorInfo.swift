/// One tensor as a GGUF file's header describes it.
public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    public let type: GGMLType
    /// Dimensions as GGUF stores them: innermost (ne[0]) first.
    public let ne: [Int]
    /// Offset of the data relative to the start of the data section.
    public let offset: Int
    public let byteCount: Int

    /// Shape in HF row-major order (outermost first): `ne` reversed.
    public var shape: [Int] { ne.reversed() }
    public var elementCount: Int { ne.reduce(1, *) }
}
