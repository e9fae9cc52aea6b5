import Foundation

/// Reads the scalar series back out of a TensorBoard event file (old-style `simple_value`
/// summaries, as `SummaryWriter.add_scalar` and `TensorBoardEventWriter` write them), what
/// ms-swift's `plot_images` reads before drawing. A record cut short at the end (a writer that
/// crashed) is ignored; a damaged record before it is an error.
public enum TensorBoardEventReader {
    public static func scalars(path: String) throws -> [(tag: String, points: [ScalarPoint])] {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw FileError(path: path, problem: "cannot read: \(error.localizedDescription)")
        }
        let bytes = [UInt8](data)
        var out: [(tag: String, points: [ScalarPoint])] = []
        var offset = 0, record = 0
        while offset < bytes.count {
            record += 1
            guard bytes.count - offset >= 12 else { break }
            let length64 = littleEndian(bytes, offset, 8)
            guard UInt32(truncatingIfNeeded: littleEndian(bytes, offset + 8, 4)) == Checksums.maskedCRC32C(bytes[offset..<offset + 8]) else {
                throw FileError(path: path, problem: "record \(record): the length's checksum is wrong")
            }
            guard let length = Int(exactly: length64), length <= bytes.count - offset - 16 else { break }
            let body = offset + 12
            let crc = UInt32(truncatingIfNeeded: littleEndian(bytes, body + length, 4))
            guard crc == Checksums.maskedCRC32C(bytes[body..<body + length]) else {
                throw FileError(path: path, problem: "record \(record): the data's checksum is wrong")
            }
            do {
                for (tag, point) in try scalars(inEvent: bytes[body..<body + length]) {
                    if let i = out.firstIndex(where: { $0.tag == tag }) { out[i].points.append(point) } else { out.append((tag, [point])) }
                }
            } catch let problem as ProtobufProblem {
                throw FileError(path: path, problem: "record \(record): \(problem.text)")
            }
            offset = body + length + 4
        }
        return out
    }

    struct ProtobufProblem: Error { let text: String }

    private static func littleEndian(_ b: [UInt8], _ at: Int, _ n: Int) -> UInt64 {
        (0..<n).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64(b[at + $1]) }
    }

    /// One protobuf message's fields: (number, wire type, varint or fixed value, bytes range).
    private struct Fields: Sequence, IteratorProtocol {
        let bytes: ArraySlice<UInt8>
        var position: Int
        var failure: ProtobufProblem?

        init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes; position = bytes.startIndex }

        mutating func varint() -> UInt64? {
            var value: UInt64 = 0, shift: UInt64 = 0
            while position < bytes.endIndex, shift < 64 {
                let b = bytes[position]
                position += 1
                value |= UInt64(b & 0x7F) << shift
                if b & 0x80 == 0 { return value }
                shift += 7
            }
            return nil
        }

        mutating func next() -> (field: UInt64, wire: UInt64, value: UInt64, slice: ArraySlice<UInt8>)? {
            guard failure == nil, position < bytes.endIndex else { return nil }
            guard let key = varint() else { failure = ProtobufProblem(text: "a field key is cut short"); return nil }
            let wire = key & 7
            switch wire {
            case 0:
                guard let v = varint() else { failure = ProtobufProblem(text: "a varint is cut short"); return nil }
                return (key >> 3, wire, v, [])
            case 1, 5:
                let n = wire == 1 ? 8 : 4
                guard bytes.endIndex - position >= n else { failure = ProtobufProblem(text: "a fixed-size field is cut short"); return nil }
                let v = (0..<n).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64(bytes[position + $1]) }
                position += n
                return (key >> 3, wire, v, [])
            case 2:
                guard let l = varint(), let n = Int(exactly: l), n <= bytes.endIndex - position else {
                    failure = ProtobufProblem(text: "a length-delimited field runs past its message"); return nil
                }
                let slice = bytes[position..<position + n]
                position += n
                return (key >> 3, wire, 0, slice)
            default:
                failure = ProtobufProblem(text: "unknown wire type \(wire)")
                return nil
            }
        }
    }

    private static func scalars(inEvent event: ArraySlice<UInt8>) throws -> [(String, ScalarPoint)] {
        var step = 0
        var summaries: [ArraySlice<UInt8>] = []
        var fields = Fields(event)
        while let f = fields.next() {
            if f.field == 2 && f.wire == 0 { step = Int(truncatingIfNeeded: Int64(bitPattern: f.value)) }
            if f.field == 5 && f.wire == 2 { summaries.append(f.slice) }
        }
        if let failure = fields.failure { throw failure }
        var out: [(String, ScalarPoint)] = []
        for summary in summaries {
            var values = Fields(summary)
            while let v = values.next() {
                guard v.field == 1 && v.wire == 2 else { continue }
                var tag: String?, value: Float?
                var inner = Fields(v.slice)
                while let g = inner.next() {
                    if g.field == 1 && g.wire == 2 { tag = String(decoding: g.slice, as: UTF8.self) }
                    if g.field == 2 && g.wire == 5 { value = Float(bitPattern: UInt32(truncatingIfNeeded: g.value)) }
                }
                if let failure = inner.failure { throw failure }
                if let tag, let value { out.append((tag, ScalarPoint(step: step, value: value))) }
            }
            if let failure = values.failure { throw failure }
        }
        return out
    }
}
