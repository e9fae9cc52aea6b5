/// The engine's entry to matrix multiplication on the CPU, and what it reports about it.
public enum BLAS {
    /// Why OpenBLAS could not be opened (not installed: Scripts/setup installs it), or nil.
    public static var loadError: String? {
        if case .failure(let error) = OpenBLASLibrary.loaded { return "\(error)" }
        return nil
    }

    /// The kernel family OpenBLAS runs (`openblas_get_corename()`), e.g. "SkylakeX".
    public static var coreName: String { OpenBLASLibrary.shared.coreName }

    /// The core type the engine asked for, or nil when the user set OPENBLAS_CORETYPE (or the
    /// CPU had no better choice).
    public static var chosenCoreType: String? { OpenBLASLibrary.shared.chosenCoreType }

    public static var threadCount: Int {
        get { OpenBLASLibrary.shared.threadCount }
        set { OpenBLASLibrary.shared.threadCount = newValue }
    }

    /// C[m×n] = alpha · A[m×k] · op(B) + beta · C, row-major. `transposeB` means B is stored
    /// as [n×k] (the layout of a linear layer's weight), so C = A · Bᵀ.
    public static func sgemm(m: Int, n: Int, k: Int, alpha: Float = 1,
                             a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
                             beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int,
                             transposeA: Bool = false) {
        let rowMajor: Int32 = 101, noTrans: Int32 = 111, trans: Int32 = 112
        OpenBLASLibrary.shared.sgemm(rowMajor, transposeA ? trans : noTrans, transposeB ? trans : noTrans,
                                     Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                                     beta, c, Int32(ldc))
    }
}
