/// The LAPACK routines GPTQ needs, found at run time in the OpenBLAS the engine opened
/// (Debian's libopenblas carries LAPACK): Cholesky factorisation and the inverse from it, in
/// double precision so a Hessian summed over thousands of tokens keeps its small eigenvalues.
enum Cholesky {
    /// Fortran `xPOTRF`/`xPOTRI(uplo, n, a, lda, info)`; the trailing hidden string length of
    /// gfortran's ABI is passed too (OpenBLAS's own C versions ignore it).
    typealias Routine = @convention(c) (UnsafePointer<CChar>, UnsafePointer<Int32>, UnsafeMutablePointer<Double>,
                                        UnsafePointer<Int32>, UnsafeMutablePointer<Int32>, Int) -> Void

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func routine(_ name: String) throws -> Routine {
        if let problem = BLAS.loadError { throw Failure(description: problem) }
        guard let f = OpenBLASLibrary.shared.function(name, as: Routine.self) else {
            throw Failure(description: "the OpenBLAS library has no LAPACK routine \(name)")
        }
        return f
    }

    /// Factor the symmetric positive definite `n×n` matrix `a` (row-major, overwritten) as
    /// `a = Uᵀ U` and return with `a` holding U (upper triangle; below it zeros). Returns
    /// LAPACK's `info`: 0 on success, k > 0 when the leading k×k minor is not positive definite.
    static func upperFactor(_ a: UnsafeMutablePointer<Double>, _ n: Int) throws -> Int {
        let potrf = try routine("dpotrf_")
        var size = Int32(n), info: Int32 = 0
        // Column-major "L" on a symmetric row-major buffer is row-major U.
        "L".withCString { uplo in potrf(uplo, &size, a, &size, &info, 1) }
        if info == 0 { zeroBelowDiagonal(a, n) }
        return Int(info)
    }

    /// The inverse of the symmetric positive definite `a` (row-major, overwritten, full
    /// symmetric result). Returns LAPACK's `info` as `upperFactor` does.
    static func invert(_ a: UnsafeMutablePointer<Double>, _ n: Int) throws -> Int {
        let potrf = try routine("dpotrf_"), potri = try routine("dpotri_")
        var size = Int32(n), info: Int32 = 0
        "L".withCString { uplo in potrf(uplo, &size, a, &size, &info, 1) }
        guard info == 0 else { return Int(info) }
        "L".withCString { uplo in potri(uplo, &size, a, &size, &info, 1) }
        guard info == 0 else { return Int(info) }
        // Column-major lower = row-major upper holds the result; mirror it below.
        for r in 0..<n { for c in 0..<r { a[r &* n &+ c] = a[c &* n &+ r] } }
        return 0
    }

    private static func zeroBelowDiagonal(_ a: UnsafeMutablePointer<Double>, _ n: Int) {
        for r in 0..<n { for c in 0..<r { a[r &* n &+ c] = 0 } }
    }
}
