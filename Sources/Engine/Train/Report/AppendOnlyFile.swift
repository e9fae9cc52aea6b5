import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A file opened for appending whose every `append` reaches the operating system before it
/// returns, so a crash of the training process keeps everything written so far.
final class AppendOnlyFile {
    let path: String
    private var fd: Int32

    /// Creates the parent directories and the file when missing; `truncate` starts it empty.
    init(path: String, truncate: Bool = false) throws {
        self.path = path
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty {
            do {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            } catch {
                throw FileError(path: dir, problem: "cannot create the directory: \(error.localizedDescription)")
            }
        }
        let flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0)
        fd = open(path, flags, 0o644)
        guard fd >= 0 else { throw FileError(path: path, problem: "cannot open for writing: \(String(cString: strerror(errno)))") }
    }

    deinit { close() }

    func append(_ bytes: [UInt8]) throws {
        guard fd >= 0 else { throw FileError(path: path, problem: "is already closed") }
        var done = 0
        try bytes.withUnsafeBytes { raw in
            while done < raw.count {
                let n = write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw FileError(path: path, problem: "cannot write: \(String(cString: strerror(errno)))")
                }
                done += n
            }
        }
    }

    func close() {
        if fd >= 0 { _ = Glibc.close(fd); fd = -1 }
    }
}
