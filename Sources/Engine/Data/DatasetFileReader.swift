import Foundation

/// Reads local dataset files as HF `datasets` does for ms-swift: `.jsonl` (one object a line),
/// `.json` (an array of objects, a single object as one row, or JSON lines), `.csv` (a header row, RFC 4180 quoting, every cell a string: ms-swift passes
/// `na_filter=False`), `.txt` (one `text` row a line), and folders (every such file inside,
/// depth first, in sorted order, hidden names skipped).
struct DatasetFileReader {
    /// A longer line (or CSV record) is an error rather than a huge allocation.
    var maxLineBytes = 1 << 20
    /// A bigger `.json` file is refused; JSON lines have no such limit.
    var maxJSONFileBytes = 1 << 30

    static let extensions: Set<String> = ["jsonl", "json", "csv", "txt"]

    func read(path: String) throws -> [RawTable] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw DatasetError(file: path, problem: "no such file or folder (and no built-in dataset has that name; there is no hub here)")
        }
        if isDir.boolValue {
            var visited: Set<String> = []
            let files = try filesInFolder(path, visited: &visited)
            guard !files.isEmpty else {
                throw DatasetError(file: path, problem: "the folder has no .jsonl, .json, .csv or .txt files")
            }
            return try files.map(readFile)
        }
        return [try readFile(path)]
    }

    /// `visited` holds the folders already listed (symlinks resolved), so a link back up the
    /// tree is read once instead of forever.
    private func filesInFolder(_ dir: String, visited: inout Set<String>) throws -> [String] {
        guard visited.insert((dir as NSString).resolvingSymlinksInPath).inserted else { return [] }
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: dir) } catch {
            throw DatasetError(file: dir, problem: "cannot list the folder: \(error.localizedDescription)")
        }
        var out: [String] = []
        for name in names.sorted() where !name.hasPrefix(".") {
            let p = dir + "/" + name
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: p, isDirectory: &isDir) else { continue }
            if isDir.boolValue { out += try filesInFolder(p, visited: &visited) }
            else if DatasetFileReader.extensions.contains((name as NSString).pathExtension.lowercased()) { out.append(p) }
        }
        return out
    }

    func readFile(_ path: String) throws -> RawTable {
        let ext = (path as NSString).pathExtension.lowercased()
        guard DatasetFileReader.extensions.contains(ext) else {
            throw DatasetError(file: path, problem: "unsupported file type '.\(ext)'; use .jsonl, .json, .csv or .txt")
        }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw DatasetError(file: path, problem: "cannot read the file: \(error.localizedDescription)")
        }
        var bytes = [UInt8](data)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        switch ext {
        case "jsonl": return try readJSONLines(bytes, path: path)
        case "json": return try readJSON(bytes, path: path)
        case "csv": return try CSVReader(file: path, maxRecordBytes: maxLineBytes).read(bytes)
        default: return try readText(bytes, path: path)
        }
    }

    /// Calls `body` with each line (without its `\n` or `\r\n`) and its 1-based number.
    private func forEachLine(_ bytes: [UInt8], path: String, _ body: (ArraySlice<UInt8>, Int) throws -> Void) throws {
        var start = 0
        var number = 1
        while start < bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != 0x0A { end += 1 }
            guard end - start <= maxLineBytes else {
                throw DatasetError(file: path, line: number, problem: "the line is longer than \(maxLineBytes) bytes")
            }
            var lineEnd = end
            if lineEnd > start, bytes[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            try body(bytes[start..<lineEnd], number)
            start = end + 1
            number += 1
        }
    }

    private static func isBlank(_ line: ArraySlice<UInt8>) -> Bool {
        line.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }

    private func readJSONLines(_ bytes: [UInt8], path: String) throws -> RawTable {
        var table = RawTable(file: path)
        try forEachLine(bytes, path: path) { line, number in
            guard !DatasetFileReader.isBlank(line) else { return }
            table.append(try DatasetFileReader.objectRow(Array(line), path: path, line: number))
        }
        return table
    }

    static func objectRow(_ bytes: [UInt8], path: String, line: Int) throws -> RawRow {
        let value: JSONValue
        do { value = try JSONParser.parse(bytes, source: path) } catch let e as TokenizerError {
            throw DatasetError(file: path, line: line, problem: e.problem)
        }
        guard case .object(let members) = value else {
            throw DatasetError(file: path, line: line, problem: "expected a JSON object, found \(value.kindName)")
        }
        return RawRow(file: path, line: line, fields: members)
    }

    private func readJSON(_ bytes: [UInt8], path: String) throws -> RawTable {
        guard bytes.count <= maxJSONFileBytes else {
            throw DatasetError(file: path, problem: "the file is larger than \(maxJSONFileBytes) bytes; use JSON lines (.jsonl)")
        }
        let value: JSONValue
        do { value = try JSONParser.parse(bytes, source: path) } catch {
            // Not one JSON document: HF reads such a .json file as JSON lines.
            if let table = try? readJSONLines(bytes, path: path), !table.rows.isEmpty { return table }
            let problem = (error as? TokenizerError)?.problem ?? "\(error)"
            throw DatasetError(file: path, line: DatasetFileReader.lineNumber(ofByteIn: problem, bytes), problem: problem)
        }
        var table = RawTable(file: path)
        switch value {
        case .array(let items):
            // Rows of an array are numbered by their index (1-based), there being no line per row.
            for (i, item) in items.enumerated() {
                guard case .object(let members) = item else {
                    throw DatasetError(file: path, line: i + 1, problem: "item \(i + 1) of the array is \(item.kindName), not a JSON object")
                }
                table.append(RawRow(file: path, line: i + 1, fields: members))
            }
        case .object(let members):
            // One object is one row, as HF reads it (an object of lists is not split into rows).
            table.append(RawRow(file: path, line: 1, fields: members))
        default:
            throw DatasetError(file: path, problem: "expected an array of JSON objects, found \(value.kindName)")
        }
        return table
    }

    /// The 1-based line holding the byte offset named in a JSON parse error, if there is one.
    private static func lineNumber(ofByteIn problem: String, _ bytes: [UInt8]) -> Int? {
        guard let r = problem.range(of: "at byte "), let offset = Int(problem[r.upperBound...].prefix { $0.isNumber }) else { return nil }
        return 1 + bytes.prefix(min(offset, bytes.count)).filter { $0 == 0x0A }.count
    }

    /// `.txt`: each line is a `text` row (for `pt`); blank lines are skipped.
    private func readText(_ bytes: [UInt8], path: String) throws -> RawTable {
        var table = RawTable(file: path)
        try forEachLine(bytes, path: path) { line, number in
            guard !DatasetFileReader.isBlank(line) else { return }
            guard let s = String(validating: line, as: UTF8.self) else {
                throw DatasetError(file: path, line: number, problem: "the line is not valid UTF-8")
            }
            table.append(RawRow(file: path, line: number, fields: [("text", .string(s))]))
        }
        return table
    }
}

extension JSONValue {
    var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}
