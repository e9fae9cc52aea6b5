/// Just enough protocol-buffer encoding for TensorBoard's `Event` messages: fields are appended
/// in the order the caller writes them (field-number order, as protobuf's own serializers do),
/// proto3 style, so callers skip fields holding their default value.
struct ProtobufEncoder {
    private(set) var bytes: [UInt8] = []

    private enum WireType: UInt8 { case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5 }

    private mutating func key(_ field: Int, _ wire: WireType) {
        varint(UInt64(field) << 3 | UInt64(wire.rawValue))
    }

    private mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// int64 / int32 / enum fields: negative values take ten bytes (two's complement), as protobuf does.
    mutating func int(_ field: Int, _ value: Int) {
        key(field, .varint)
        varint(UInt64(bitPattern: Int64(value)))
    }

    mutating func double(_ field: Int, _ value: Double) {
        key(field, .fixed64)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func float(_ field: Int, _ value: Float) {
        key(field, .fixed32)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func bytes<C: Collection>(_ field: Int, _ value: C) where C.Element == UInt8 {
        key(field, .lengthDelimited)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    mutating func string(_ field: Int, _ value: String) {
        bytes(field, Array(value.utf8))
    }

    mutating func message(_ field: Int, _ build: (inout ProtobufEncoder) -> Void) {
        var inner = ProtobufEncoder()
        build(&inner)
        bytes(field, inner.bytes)
    }
}
