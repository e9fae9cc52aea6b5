/// Support for checking gradient rules: central finite differences of a Double function, and
/// the comparison PyTorch's `gradcheck` and tinygrad's `helper_test_op` use,
/// |analytic − numeric| ≤ atol + rtol·|numeric| for every entry.
enum GradientCheck {
    /// ∂f/∂xᵢ ≈ (f(x + eps·eᵢ) − f(x − eps·eᵢ)) / 2eps for every i.
    static func numericGradient(at x: [Double], eps: Double = 1e-6, _ f: ([Double]) -> Double) -> [Double] {
        var probe = x
        return (0..<x.count).map { i in
            probe[i] = x[i] + eps
            let up = f(probe)
            probe[i] = x[i] - eps
            let down = f(probe)
            probe[i] = x[i]
            return (up - down) / (2 * eps)
        }
    }

    struct Mismatch: CustomStringConvertible {
        let index: Int
        let analytic: Double
        let numeric: Double
        var description: String { "entry \(index): analytic \(analytic), numeric \(numeric)" }
    }

    struct Report: CustomStringConvertible {
        /// Largest |analytic − numeric| and largest |analytic − numeric| / (atol + rtol·|numeric|).
        let worstAbsolute: Double
        let worstRatio: Double
        let firstMismatch: Mismatch?
        var passed: Bool { firstMismatch == nil }
        var description: String {
            "worst |Δ| \(worstAbsolute), worst Δ/tolerance \(worstRatio)" + (firstMismatch.map { "; \($0)" } ?? "")
        }
    }

    static func compare(_ analytic: [Float], _ numeric: [Double], atol: Double, rtol: Double) -> Report {
        precondition(analytic.count == numeric.count, "compare: \(analytic.count) against \(numeric.count) values")
        var worstAbs = 0.0, worstRatio = 0.0
        var mismatch: Mismatch?
        for (i, (a, n)) in zip(analytic, numeric).enumerated() {
            let d = abs(Double(a) - n)
            worstAbs = max(worstAbs, d)
            let ratio = d / (atol + rtol * abs(n))
            worstRatio = max(worstRatio, ratio)
            if !(ratio <= 1), mismatch == nil { mismatch = Mismatch(index: i, analytic: Double(a), numeric: n) }
        }
        return Report(worstAbsolute: worstAbs, worstRatio: worstRatio, firstMismatch: mismatch)
    }
}
