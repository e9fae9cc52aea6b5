import Foundation
import XCTest
@testable import Engine

/// `writeAtomically`: a failed write leaves the previous file exactly as it was and no
/// temporary file behind; an unwritable directory is a clear error.
final class SafetensorsAtomicWriteTests: XCTestCase {
    private var dir = ""

    override func setUp() { dir = HFFixtures.makeTempDirectory() }
    override func tearDown() {
        setImmutable(dir, false)
        chmod(dir, 0o755)
        try? FileManager.default.removeItem(atPath: dir)
    }

    private struct Boom: Error {}

    func testWritesAndReplacesWithoutLeavingTemporaryFiles() throws {
        let path = "\(dir)/out.bin"
        try writeAtomically(to: path) { try $0.write("first") }
        try writeAtomically(to: path) { out in
            try out.write("second")
            XCTAssertEqual(out.offset, 6)
        }
        XCTAssertEqual(FileManager.default.contents(atPath: path), Data("second".utf8))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["out.bin"])
    }

    func testErrorMidwayLeavesPreviousFileByteIdenticalAndNoTempFile() throws {
        let path = "\(dir)/model.safetensors"
        let original = Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: original))
        XCTAssertThrowsError(try writeAtomically(to: path) { out in
            try out.write(Data(repeating: 0xAB, count: 10_000))
            throw Boom()
        }) { XCTAssertTrue($0 is Boom) }
        XCTAssertEqual(FileManager.default.contents(atPath: path), original)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["model.safetensors"])
    }

    func testReadOnlyDirectoryIsAClearError() throws {
        let path = "\(dir)/model.safetensors"
        let original = Data("keep me".utf8)
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: original))
        chmod(dir, 0o555)
        // Root ignores permission bits; the immutable attribute stops root too.
        if geteuid() == 0 { XCTAssertTrue(setImmutable(dir, true), "cannot make \(dir) read-only for root") }
        let v: [Float] = [1]
        XCTAssertThrowsError(try v.withUnsafeBytes { raw in
            try SafetensorsWriter.write([.init(name: "w", dtype: .f32, shape: [1], bytes: raw)], to: path)
        }) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix(path + ": cannot create a file in \(dir)"), text)
            XCTAssertTrue(text.contains("read-only"), text)
        }
        setImmutable(dir, false)
        XCTAssertEqual(FileManager.default.contents(atPath: path), original)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["model.safetensors"])
    }

    /// Sets or clears the file system's immutable flag (FS_IOC_SETFLAGS, FS_IMMUTABLE_FL).
    @discardableResult
    private func setImmutable(_ path: String, _ on: Bool) -> Bool {
        let fd = open(path, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var flags: CLong = 0
        guard ioctl(fd, UInt(0x8008_6601), &flags) == 0 else { return false }
        flags = on ? flags | 0x10 : flags & ~0x10
        return ioctl(fd, UInt(0x4008_6602), &flags) == 0
    }
}
