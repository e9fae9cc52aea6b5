/// Memory the engine allocated itself (a quantized copy, a converted tensor), freed with the
/// last tensor that points into it.
public final class OwnedBuffer: @unchecked Sendable {
    public let pointer: UnsafeMutableRawPointer
    public let count: Int

    public init(byteCount: Int) {
        count = byteCount
        pointer = .allocate(byteCount: max(byteCount, 1), alignment: 64)
    }

    deinit { pointer.deallocate() }

    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: pointer, count: count) }
}

extension RawTensor {
    /// An f32 tensor owning a copy of `values`.
    public static func float32(name: String, shape: [Int], values: [Float]) -> RawTensor {
        let buffer = OwnedBuffer(byteCount: values.count * 4)
        values.withUnsafeBytes { buffer.pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        return RawTensor(name: name, type: .f32, shape: shape, bytes: buffer.bytes, owner: buffer)
    }
}
