import XCTest
@testable import Engine

/// Hand-made broken files: each must be refused with the named `GGUFError` kind (and a message
/// naming the file), never a crash or a huge allocation.
final class GGUFCorruptFileTests: XCTestCase {
    private typealias Build = (inout GGUFBytes) -> Void

    /// One valid f32 tensor `t` of `ne` at offset 0, after `kvs` metadata entries.
    private static func oneTensor(ne: [Int64] = [4], type: UInt32 = 0, offset: UInt64 = 0, dataBytes: Int = 16,
                                  kvs: UInt64 = 0, metadata: @escaping Build = { _ in }) -> Build {
        return { b in
            b.header(tensors: 1, kvs: kvs)
            metadata(&b)
            b.tensorInfo("t", ne: ne, type: type, offset: offset)
            b.pad()
            b.zeros(dataBytes)
        }
    }

    private static let cases: [(String, GGUFError.Kind, Build)] = [
        ("empty file", .truncated, { _ in }),
        ("three bytes", .truncated, { $0.bytes = [0x47, 0x47, 0x55] }),
        ("bad magic", .badMagic, { $0.bytes = Array("GGML".utf8) + [3, 0, 0, 0]; $0.u64(0); $0.u64(0) }),
        ("version 0", .unsupportedVersion, { $0.header(version: 0, tensors: 0, kvs: 0) }),
        ("version 1", .unsupportedVersion, { $0.header(version: 1, tensors: 0, kvs: 0) }),
        ("future version", .unsupportedVersion, { $0.header(version: 4, tensors: 0, kvs: 0) }),
        ("big-endian file", .unsupportedVersion, { $0.header(version: UInt32(3).byteSwapped, tensors: 0, kvs: 0) }),
        ("header cut inside the counts", .truncated, { $0.bytes = Array("GGUF".utf8) + [3, 0, 0, 0, 1, 0] }),
        ("tensor count UInt64.max", .countTooLarge, { $0.header(tensors: .max, kvs: 0) }),
        ("tensor count more than the file holds", .countTooLarge, { $0.header(tensors: 1000, kvs: 0); $0.zeros(64) }),
        ("metadata count 2^40", .countTooLarge, { $0.header(tensors: 0, kvs: 1 << 40) }),
        ("string longer than the file", .stringTooLong, { $0.header(tensors: 0, kvs: 1); $0.u64(1000); $0.zeros(20) }),
        ("string longer than 2^30", .stringTooLong, { b in
            b.header(tensors: 0, kvs: 1); b.str("k"); b.u32(GGUFValueType.string.rawValue); b.u64(1 << 31) }),
        ("invalid UTF-8 key", .invalidUTF8, { b in
            b.header(tensors: 0, kvs: 1); b.u64(2); b.bytes += [0xC3, 0x28]; b.u32(4); b.u32(0) }),
        ("empty key", .emptyKey, { b in b.header(tensors: 0, kvs: 1); b.str(""); b.u32(4); b.u32(1) }),
        ("duplicate key", .duplicateKey, { b in b.header(tensors: 0, kvs: 2); b.kvU32("a", 1); b.kvU32("a", 2) }),
        ("unknown value type", .badValueType, { b in b.header(tensors: 0, kvs: 1); b.str("k"); b.u32(13); b.u32(0) }),
        ("unknown array element type", .badValueType, { b in
            b.header(tensors: 0, kvs: 1); b.str("k"); b.u32(9); b.u32(99); b.u64(1); b.u32(0) }),
        ("bool byte 2", .badValueType, { b in b.header(tensors: 0, kvs: 1); b.str("k"); b.u32(7); b.u8(2) }),
        ("arrays nested too deep", .badValueType, { b in
            b.header(tensors: 0, kvs: 1); b.str("k"); b.u32(9)
            for _ in 0 ..< 20 { b.u32(9); b.u64(1) }
            b.u32(4); b.u64(0) }),
        ("array count over 2^30", .arrayTooLong, { b in
            b.header(tensors: 0, kvs: 1); b.str("k"); b.u32(9); b.u32(0); b.u64((1 << 30) + 1); b.zeros(64) }),
        ("array count more than the bytes left", .arrayTooLong, { b in
            b.header(tensors: 0, kvs: 1); b.str("k"); b.u32(9); b.u32(4); b.u64(1000); b.zeros(64) }),
        ("string array longer than the bytes left", .arrayTooLong, { b in
            b.header(tensors: 0, kvs: 1); b.str("k"); b.u32(9); b.u32(8); b.u64(10); b.zeros(64) }),
        ("file cut inside a value", .truncated, { b in b.header(tensors: 0, kvs: 1); b.str("k"); b.u32(10); b.u32(0) }),
        ("alignment stored as UINT64", .badAlignment, oneTensor(kvs: 1) { b in
            b.str("general.alignment"); b.u32(GGUFValueType.uint64.rawValue); b.u64(32) }),
        ("alignment 0", .badAlignment, oneTensor(kvs: 1) { $0.kvU32("general.alignment", 0) }),
        ("alignment 24", .badAlignment, oneTensor(kvs: 1) { $0.kvU32("general.alignment", 24) }),
        ("tensor name of 64 bytes", .badTensorName, { b in
            b.header(tensors: 1, kvs: 0); b.tensorInfo(String(repeating: "x", count: 64), ne: [4], offset: 0); b.pad(); b.zeros(16) }),
        ("empty tensor name", .badTensorName, { b in
            b.header(tensors: 1, kvs: 0); b.tensorInfo("", ne: [4], offset: 0); b.pad(); b.zeros(16) }),
        ("duplicate tensor", .duplicateTensor, { b in
            b.header(tensors: 2, kvs: 0); b.tensorInfo("t", ne: [4], offset: 0); b.tensorInfo("t", ne: [4], offset: 32)
            b.pad(); b.zeros(64) }),
        ("5 dimensions", .badDimensionCount, oneTensor(ne: [1, 1, 1, 1, 4])),
        ("0 dimensions", .badDimensionCount, oneTensor(ne: [])),
        ("zero dimension", .badDimension, oneTensor(ne: [4, 0])),
        ("negative dimension", .badDimension, oneTensor(ne: [-4])),
        ("element count overflow", .elementCountOverflow, oneTensor(ne: [1 << 40, 1 << 40])),
        ("unknown tensor type", .unknownTensorType, oneTensor(type: 99)),
        ("Q8_0 row of 33", .rowNotBlockMultiple, oneTensor(ne: [33], type: GGMLType.q8_0.rawValue)),
        ("byte size overflow", .byteSizeOverflow, oneTensor(ne: [1 << 31, 1 << 31])),
        ("offset not aligned", .misalignedOffset, oneTensor(offset: 4, dataBytes: 64)),
        ("offset past the data", .offsetOutOfRange, oneTensor(offset: 1 << 20)),
        ("offset beyond Int", .offsetOutOfRange, oneTensor(offset: .max)),
        ("overlapping tensors", .overlappingTensors, { b in
            b.header(tensors: 2, kvs: 0); b.tensorInfo("a", ne: [16], offset: 0); b.tensorInfo("b", ne: [8], offset: 32)
            b.pad(); b.zeros(64) }),
        ("data past the end of the file", .truncated, oneTensor(ne: [1024], dataBytes: 64)),
        ("file ends before the data section", .truncated, { b in b.header(tensors: 1, kvs: 0); b.tensorInfo("t", ne: [4], offset: 0) }),
        ("file cut inside the tensor infos", .truncated, { b in
            b.header(tensors: 2, kvs: 0); b.tensorInfo(String(repeating: "a", count: 40), ne: [4], offset: 0)
            b.str("t"); b.u32(2); b.i64(4) }),
    ]

    func testEveryCorruptionIsRefusedWithItsError() throws {
        let scratch = GGUFScratch()
        XCTAssertGreaterThanOrEqual(Self.cases.count, 30)
        for (i, (label, kind, build)) in Self.cases.enumerated() {
            var b = GGUFBytes()
            build(&b)
            let path = scratch.write(b.bytes, name: "case\(i).gguf")
            do {
                _ = try GGUFFile(path: path)
                XCTFail("\(label): opened without error")
            } catch let e as GGUFError {
                XCTAssertEqual(e.kind, kind, "\(label): \(e)")
                XCTAssertTrue(e.description.hasPrefix(path + ": "), "\(label): message should name the file: \(e)")
            } catch {
                XCTFail("\(label): unexpected error \(error)")
            }
        }
    }

    /// The builders above make valid files when nothing is broken, so each case fails for its
    /// own reason and not because the base file was bad.
    func testBaseFilesAreValid() throws {
        let scratch = GGUFScratch()
        var b = GGUFBytes()
        Self.oneTensor(kvs: 1) { $0.kvU32("general.alignment", 32) }(&b)
        let f = try GGUFFile(path: scratch.write(b.bytes))
        XCTAssertEqual(f.tensor("t")?.shape, [4])
        var two = GGUFBytes()
        two.header(tensors: 2, kvs: 0); two.tensorInfo("a", ne: [8], offset: 0); two.tensorInfo("b", ne: [8], offset: 32)
        two.pad(); two.zeros(64)
        XCTAssertEqual(try GGUFFile(path: scratch.write(two.bytes, name: "two.gguf")).tensorNames, ["a", "b"])
    }

    /// Every prefix of a valid file is refused (never crashes); seeded byte flips either open
    /// or throw a GGUFError.
    func testTruncationsAndByteFlipsNeverCrash() throws {
        let scratch = GGUFScratch()
        var w = GGUFWriter()
        w.set("general.architecture", .string("llama"))
        w.set("a", .array(.string, [.string("x"), .string("yz")]))
        w.set("n", .array(.array, [.array(.uint16, [.uint16(1)])]))
        try w.addTensor(name: "q", type: .q8_0, shape: [2, 32], bytes: [UInt8](repeating: 1, count: 68))
        try w.addTensor(name: "f", type: .f32, shape: [3], bytes: [UInt8](repeating: 0, count: 12))
        let full = scratch.path + "/full.gguf"
        try w.write(to: full)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: full)))
        XCTAssertNoThrow(try GGUFFile(path: full))
        for n in 0 ..< bytes.count {
            let p = scratch.write(Array(bytes[0 ..< n]), name: "cut.gguf")
            XCTAssertThrowsError(try GGUFFile(path: p), "prefix of \(n) bytes opened") {
                XCTAssertTrue($0 is GGUFError, "prefix \(n): \($0)")
            }
        }
        var state: UInt64 = 12345
        for _ in 0 ..< 400 {
            var m = bytes
            for _ in 0 ..< 3 {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                let at = Int((state >> 33) % UInt64(m.count))
                m[at] ^= UInt8(truncatingIfNeeded: state >> 20) | 1
            }
            let p = scratch.write(m, name: "flip.gguf")
            do { _ = try GGUFFile(path: p) } catch { XCTAssertTrue(error is GGUFError, "\(error)") }
        }
    }

    func testMissingFileAndDirectoryAreErrors() {
        XCTAssertThrowsError(try GGUFFile(path: "/nonexistent/x.gguf")) { XCTAssertEqual(($0 as? GGUFError)?.kind, .ioFailure) }
        XCTAssertThrowsError(try GGUFFile(path: NSTemporaryDirectory())) { XCTAssertEqual(($0 as? GGUFError)?.kind, .ioFailure) }
    }
}
