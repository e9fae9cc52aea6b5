import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// (The same helper as Tests/EngineTests/FileSizeLimit.swift; test targets share no code.)
/// A disk that fills up mid-write, simulated honestly: RLIMIT_FSIZE caps how large this
/// process may make any file, so a write past `bytes` fails with EFBIG as a full disk fails a
/// write with ENOSPC. SIGXFSZ (which would kill the process) is ignored for the duration; the
/// previous limit and signal disposition are restored afterwards, also when `body` throws.
func withFileSizeLimit<T>(_ bytes: Int, _ body: () throws -> T) throws -> T {
    var previous = rlimit()
    guard getrlimit(Int32(RLIMIT_FSIZE.rawValue), &previous) == 0 else {
        throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "getrlimit failed"])
    }
    let oldHandler = signal(SIGXFSZ, SIG_IGN)
    var limited = previous
    limited.rlim_cur = rlim_t(bytes)
    guard setrlimit(Int32(RLIMIT_FSIZE.rawValue), &limited) == 0 else {
        signal(SIGXFSZ, oldHandler)
        throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "setrlimit failed"])
    }
    defer {
        _ = setrlimit(Int32(RLIMIT_FSIZE.rawValue), &previous)
        signal(SIGXFSZ, oldHandler)
    }
    return try body()
}
