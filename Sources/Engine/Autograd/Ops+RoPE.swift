// Rotary position embedding on [tokens, heads, headDim], either pairing style, with the
// frequencies (and rope_scaling) of a model's RotaryEmbedding.

extension Tape {
    /// Rotates every head of token t by the angles of `positions[t]` (positions restart at 0
    /// for each packed sequence).
    func rope(_ x: Variable, heads: Int, positions: [Int], rotary: RotaryEmbedding) -> Variable {
        let hd = rotary.headDim, half = hd / 2, n = positions.count
        precondition(x.count == n &* heads &* hd, "rope: shape \(x.shape) is not \(n) tokens × \(heads) heads × \(hd)")
        let longest = (positions.max() ?? 0) + 1
        let table = rotary.tables(start: 0, count: longest, totalLength: longest)
        var c = [Float](repeating: 0, count: n &* half), s = c
        for (t, p) in positions.enumerated() {
            precondition(p >= 0, "rope: negative position \(p)")
            for i in 0..<half {
                c[t &* half &+ i] = table.cos[p &* half &+ i]
                s[t &* half &+ i] = table.sin[p &* half &+ i]
            }
        }
        let y = output(x.shape, [x])
        y.data.update(from: x.data, count: x.count)
        let width = heads &* hd
        c.withUnsafeBufferPointer { cp in
            s.withUnsafeBufferPointer { sp in
                for t in 0..<n {
                    rotary.rotate(y.data + t &* width, heads: heads, cos: cp.baseAddress! + t &* half,
                                  sin: sp.baseAddress! + t &* half)
                }
            }
        }
        record(.rope(x: x.gradientCell, heads: heads, cos: c, sin: s, positions: positions.map { Int32($0) }, rotary: rotary), y)
        return y
    }

    /// The rotation is R = m·[[cos, −sin], [sin, cos]] per pair, so dx = Rᵀ·dy: the same
    /// rotation with sin negated.
    func ropeBackward(x: GradientCell, heads: Int, cos c: [Float], sin s: [Float], positions: [Int32],
                      rotary: RotaryEmbedding, dy: UnsafePointer<Float>) {
        let hd = rotary.headDim, half = hd / 2, width = heads &* hd, n = positions.count
        let negatedSin = s.map { -$0 }
        let row = Variable.allocate(width)
        defer { Variable.deallocate(row, width) }
        let dx = x.gradBuffer()
        c.withUnsafeBufferPointer { cp in
            negatedSin.withUnsafeBufferPointer { sp in
                for t in 0..<n {
                    row.update(from: dy + t &* width, count: width)
                    rotary.rotate(row, heads: heads, cos: cp.baseAddress! + t &* half, sin: sp.baseAddress! + t &* half)
                    addInPlace(dx + t &* width, row, width)
                }
            }
        }
    }
}
