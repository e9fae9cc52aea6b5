#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Where `writeAtomically` sends bytes: the temporary file that replaces the target at the end.
public protocol FileHandleLike: AnyObject {
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// Bytes written so far.
    var offset: Int { get }
}

extension FileHandleLike {
    public func write(_ data: Data) throws {
        try data.withUnsafeBytes { try write($0) }
    }
    public func write(_ text: String) throws {
        try write(Data(text.utf8))
    }
}

/// Writes `path` so that readers see either the previous file or the complete new one.
///
/// `body` writes into `path.tmp-<pid>-<random>` in the same directory (so the final rename
/// stays on one file system); the file is fsynced, renamed over `path`, and the directory is
/// fsynced so the rename itself survives a crash. If `body` or any step throws, the temporary
/// file is removed and a previous `path` is left untouched.
public func writeAtomically(to path: String, _ body: (FileHandleLike) throws -> Void) throws {
    let directory = parentDirectory(of: path)
    let temp = "\(path).tmp-\(getpid())-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
    let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard fd >= 0 else {
        let code = errno
        throw FileError(path: path, problem: "cannot create a file in \(directory): \(describeErrno(code))")
    }
    let handle = DescriptorWriter(fd: fd, path: path)
    var renamed = false
    defer {
        if handle.fd >= 0 { close(handle.fd) }
        if !renamed { unlink(temp) }
    }
    try body(handle)
    guard fsync(fd) == 0 else {
        throw FileError(path: path, problem: "cannot flush to disk: \(describeErrno(errno))")
    }
    let closeResult = close(fd)
    handle.fd = -1
    guard closeResult == 0 else {
        throw FileError(path: path, problem: "cannot finish writing: \(describeErrno(errno))")
    }
    guard rename(temp, path) == 0 else {
        throw FileError(path: path, problem: "cannot replace the file: \(describeErrno(errno))")
    }
    renamed = true
    syncDirectory(directory)
}

/// Writes to a file descriptor in full, retrying short writes and interrupted calls.
final class DescriptorWriter: FileHandleLike {
    var fd: Int32
    let path: String
    private(set) var offset = 0

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard var next = bytes.baseAddress, bytes.count > 0 else { return }
        var left = bytes.count
        while left > 0 {
            let n = Glibc.write(fd, next, min(left, 1 << 30))
            if n < 0 {
                let code = errno
                if code == EINTR { continue }
                throw FileError(path: path, problem: "cannot write: \(describeErrno(code))")
            }
            if n == 0 { throw FileError(path: path, problem: "cannot write: the device accepted no bytes") }
            left -= n
            offset += n
            next += n
        }
    }
}

func describeErrno(_ code: Int32) -> String {
    let text = String(cString: strerror(code))
    switch code {
    case ENOSPC: return "\(text) (the disk is full)"
    case EDQUOT: return "\(text) (the disk quota is used up)"
    case EROFS: return "\(text) (the file system is read-only)"
    case EACCES, EPERM: return "\(text) (the directory is read-only or not writable by this user)"
    default: return text
    }
}

func parentDirectory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    let dir = String(path[..<slash])
    return dir.isEmpty ? "/" : dir
}

/// Best effort: a file system that cannot fsync a directory still has the renamed file.
func syncDirectory(_ directory: String) {
    let dfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard dfd >= 0 else { return }
    _ = fsync(dfd)
    close(dfd)
}
