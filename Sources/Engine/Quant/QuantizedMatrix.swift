/// A weight matrix on a `GroupGrid`: one code per weight and the stored parameters of each
/// (row, group), before they are packed into GGUF blocks.
struct QuantizedMatrix {
    let rows: Int
    let columns: Int
    let grid: GroupGrid
    /// rows × columns, each 0…grid.maxCode.
    var codes: [UInt8]
    /// rows × groupCount.
    var parameters: [GroupGrid.Parameters]

    var groupCount: Int { grid.groupCount(rowLength: columns) }

    /// The values the blocks stand for, rows × columns.
    func dequantized() -> [Float] {
        var out = [Float](repeating: 0, count: rows * columns)
        let groups = groupCount, gs = grid.groupSize, n = columns
        codes.withUnsafeBufferPointer { c in
            parameters.withUnsafeBufferPointer { p in
                out.withUnsafeMutableBufferPointer { o in
                    for r in 0..<rows {
                        for i in 0..<n { o[r &* n &+ i] = p[r &* groups &+ i / gs].value(c[r &* n &+ i]) }
                    }
                }
            }
        }
        return out
    }

    /// The matrix as a tensor of `grid.type` blocks.
    func tensor(name: String) -> RawTensor {
        let type = grid.type
        let rowBytes = type.byteCount(elements: columns)!
        let buffer = OwnedBuffer(byteCount: rows * rowBytes)
        let groups = groupCount
        codes.withUnsafeBufferPointer { c in
            parameters.withUnsafeBufferPointer { p in
                for r in 0..<rows {
                    grid.packRow(codes: c.baseAddress! + r &* columns, parameters: p.baseAddress! + r &* groups,
                                 rowLength: columns, into: buffer.pointer + r &* rowBytes)
                }
            }
        }
        return RawTensor(name: name, type: type, shape: [rows, columns], bytes: buffer.bytes, owner: buffer)
    }

    /// Round to nearest on the grid, no calibration: each group's parameters from its own
    /// weights, each weight to its nearest code.
    static func roundToNearest(_ w: UnsafePointer<Float>, rows: Int, columns: Int, grid: GroupGrid,
                               pool: ThreadPool = .shared) -> QuantizedMatrix {
        let groups = grid.groupCount(rowLength: columns), gs = grid.groupSize
        var codes = [UInt8](repeating: 0, count: rows * columns)
        var params = [GroupGrid.Parameters](repeating: .init(scale: 0, offset: 0), count: rows * groups)
        let maxCode = grid.maxCode
        codes.withUnsafeMutableBufferPointer { c in
            params.withUnsafeMutableBufferPointer { p in
                let cp = c.baseAddress!, pp = p.baseAddress!
                pool.parallelRanges(rows, minimum: 8) { range in
                    for r in range {
                        for g in 0..<groups {
                            let start = g &* gs, end = min(start &+ gs, columns)
                            let param = grid.parameters(w + (r &* columns &+ start), end &- start)
                            pp[r &* groups &+ g] = param
                            for i in start..<end { cp[r &* columns &+ i] = param.code(w[r &* columns &+ i], maxCode: maxCode) }
                        }
                    }
                }
            }
        }
        return QuantizedMatrix(rows: rows, columns: columns, grid: grid, codes: codes, parameters: params)
    }
}
