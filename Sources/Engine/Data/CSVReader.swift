import Foundation

/// CSV as RFC 4180 defines it: records end at CRLF or LF, fields are separated by commas, a
/// field in double quotes may hold commas, line breaks and `""` (one quote). The first record
/// names the columns; each cell becomes a string (an empty cell an empty string).
struct CSVReader {
    var file: String
    var maxRecordBytes: Int

    private static let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), lf: UInt8 = 0x0A, cr: UInt8 = 0x0D

    func read(_ bytes: [UInt8]) throws -> RawTable {
        var table = RawTable(file: file)
        var header: [String]?
        var pos = 0
        var line = 1
        while pos < bytes.count {
            let startLine = line
            let startPos = pos
            var fields: [String] = []
            var field: [UInt8] = []
            var quoted = false
            var fieldStarted = false   // a quote opens a field only as its first byte
            var ended = false
            while pos < bytes.count {
                guard pos - startPos <= maxRecordBytes else {
                    throw DatasetError(file: file, line: startLine, problem: "the record is longer than \(maxRecordBytes) bytes")
                }
                let b = bytes[pos]
                if quoted {
                    if b == CSVReader.quote {
                        if pos + 1 < bytes.count, bytes[pos + 1] == CSVReader.quote { field.append(b); pos += 2; continue }
                        quoted = false
                        pos += 1
                        continue
                    }
                    if b == CSVReader.lf { line += 1 }
                    field.append(b)
                    pos += 1
                    continue
                }
                switch b {
                case CSVReader.quote where !fieldStarted:
                    quoted = true
                    fieldStarted = true
                    pos += 1
                case CSVReader.quote:
                    throw DatasetError(file: file, line: line, problem: "a quote inside an unquoted field (quote the whole field and write \"\" for a quote)")
                case CSVReader.comma:
                    fields.append(try string(field, line: startLine))
                    field = []
                    fieldStarted = false
                    pos += 1
                case CSVReader.cr where pos + 1 < bytes.count && bytes[pos + 1] == CSVReader.lf:
                    pos += 1
                case CSVReader.lf:
                    pos += 1
                    line += 1
                    ended = true
                default:
                    field.append(b)
                    fieldStarted = true
                    pos += 1
                }
                if ended { break }
            }
            if quoted { throw DatasetError(file: file, line: startLine, problem: "a quoted field is not closed") }
            fields.append(try string(field, line: startLine))
            if fields == [""] { continue }   // a blank line
            guard let names = header else {
                let names = fields.map { $0.trimmingCharacters(in: [" "]) }
                if let dup = names.first(where: { n in names.filter { $0 == n }.count > 1 }) {
                    throw DatasetError(file: file, line: startLine, problem: "the header names column '\(dup)' twice")
                }
                header = names
                table.columns = names
                continue
            }
            guard fields.count == names.count else {
                throw DatasetError(file: file, line: startLine, problem: "the record has \(fields.count) fields but the header has \(names.count)")
            }
            table.append(RawRow(file: file, line: startLine, fields: zip(names, fields).map { ($0, .string($1)) }))
        }
        if header == nil { throw DatasetError(file: file, problem: "the file is empty (a CSV file needs a header row)") }
        return table
    }

    private func string(_ bytes: [UInt8], line: Int) throws -> String {
        guard let s = String(validating: bytes, as: UTF8.self) else {
            throw DatasetError(file: file, line: line, problem: "the record is not valid UTF-8")
        }
        return s
    }
}
