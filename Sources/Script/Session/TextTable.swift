import Foundation

/// Plain aligned columns (the last column is not padded).
enum TextTable {
    static let maxCell = 48

    static func print(header: [String], rows: [[String]], to emit: (String) -> Void) {
        let all = [header] + rows.map { $0.map(clip) }
        var widths = [Int](repeating: 0, count: header.count)
        for row in all {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        for row in all {
            var line = ""
            for (i, cell) in row.enumerated() {
                line += i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count + 2)
            }
            while line.last == " " { line.removeLast() }
            emit(line)
        }
    }

    static func clip(_ s: String) -> String {
        let oneLine = s.replacingOccurrences(of: "\n", with: "\\n")
        return oneLine.count <= maxCell ? oneLine : String(oneLine.prefix(maxCell - 3)) + "..."
    }
}
