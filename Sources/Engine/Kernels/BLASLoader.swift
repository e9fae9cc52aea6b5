#if canImport(Glibc)
import Glibc
#endif

/// OpenBLAS, opened at run time.
///
/// Debian's OpenBLAS chooses its kernels in a library constructor from `OPENBLAS_CORETYPE`,
/// and on CPUs newer than it knows (Emerald Rapids, for one) it falls back to Prescott kernels
/// that run sgemm about 5x slower. Linking it normally would run that constructor before any
/// of our code, so the engine opens it with dlopen after setting the variable to the best core
/// this CPU supports. A value the user set is left alone.
final class OpenBLASLibrary: @unchecked Sendable {
    typealias SgemmFn = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Float,
        UnsafePointer<Float>?, Int32, UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32) -> Void
    typealias CoreNameFn = @convention(c) () -> UnsafeMutablePointer<CChar>?
    typealias SetThreadsFn = @convention(c) (Int32) -> Void
    typealias GetThreadsFn = @convention(c) () -> Int32

    let sgemm: SgemmFn
    let coreName: String
    let chosenCoreType: String?
    let userCoreType: String?
    private let setThreads: SetThreadsFn
    private let getThreads: GetThreadsFn
    let handle: UnsafeMutableRawPointer

    static let loaded: Result<OpenBLASLibrary, Error> = Result { try OpenBLASLibrary() }

    static var shared: OpenBLASLibrary {
        switch loaded {
        case .success(let library): return library
        // Front ends check `BLAS.loadError` first and report it; reaching this is a bug there.
        case .failure(let error): fatalError("\(error)")
        }
    }

    private init() throws {
        userCoreType = getenv("OPENBLAS_CORETYPE").map { String(cString: $0) }
        if userCoreType == nil, let core = CPUFeatures.current.bestOpenBLASCore {
            setenv("OPENBLAS_CORETYPE", core, 0)
            chosenCoreType = core
        } else {
            chosenCoreType = nil
        }
        var h: UnsafeMutableRawPointer? = nil
        for name in ["libopenblas.so.0", "libopenblas.so", "libopenblasp.so.0"] {
            h = dlopen(name, RTLD_NOW | RTLD_GLOBAL)
            if h != nil { break }
        }
        guard let h else {
            throw FileError(path: "libopenblas.so.0", problem: "cannot open OpenBLAS (install libopenblas-dev; Scripts/setup does): \(String(cString: dlerror()))")
        }
        handle = h
        func symbol<T>(_ name: String, as: T.Type) throws -> T {
            guard let p = dlsym(h, name) else { throw FileError(path: "libopenblas.so.0", problem: "missing symbol \(name)") }
            return unsafeBitCast(p, to: T.self)
        }
        sgemm = try symbol("cblas_sgemm", as: SgemmFn.self)
        setThreads = try symbol("openblas_set_num_threads", as: SetThreadsFn.self)
        getThreads = try symbol("openblas_get_num_threads", as: GetThreadsFn.self)
        let core = try symbol("openblas_get_corename", as: CoreNameFn.self)
        coreName = core().map { String(cString: $0) } ?? "unknown"
    }

    var threadCount: Int {
        get { Int(getThreads()) }
        set { setThreads(Int32(newValue)) }
    }

    /// A LAPACK or BLAS function by name, for the callers that need one (SVD, Cholesky).
    func function<T>(_ name: String, as type: T.Type) -> T? {
        guard let p = dlsym(handle, name) else { return nil }
        return unsafeBitCast(p, to: T.self)
    }
}

/// What the CPU can do, from /proc/cpuinfo (Linux).
struct CPUFeatures {
    let flags: Set<String>

    static let current: CPUFeatures = {
        guard let f = fopen("/proc/cpuinfo", "r") else { return CPUFeatures(flags: []) }
        defer { fclose(f) }
        var line: UnsafeMutablePointer<CChar>? = nil
        var cap = 0
        defer { free(line) }
        while getline(&line, &cap, f) > 0 {
            let s = String(cString: line!)
            if s.hasPrefix("flags") {
                let parts = s.split(separator: ":", maxSplits: 1)
                if parts.count == 2 {
                    return CPUFeatures(flags: Set(parts[1].split(separator: " ").map { $0.trimmingWhitespace() }))
                }
            }
        }
        return CPUFeatures(flags: [])
    }()

    /// The OpenBLAS core type whose kernels this CPU runs best (nil: let OpenBLAS decide).
    var bestOpenBLASCore: String? {
        if ["avx512f", "avx512bw", "avx512vl", "avx512dq"].allSatisfy(flags.contains) { return "SkylakeX" }
        if ["avx2", "fma"].allSatisfy(flags.contains) { return "Haswell" }
        return nil
    }
}

extension Substring {
    func trimmingWhitespace() -> String {
        var s = self
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}
