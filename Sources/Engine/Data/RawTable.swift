/// A dataset file as read, before its rows are turned into conversations: each row's fields in
/// file order, the line it starts on, and every column name any row has (HF datasets gives a
/// file one schema, so a column one row lacks is simply absent there).
struct RawRow {
    var file: String
    var line: Int
    var fields: [(key: String, value: JSONValue)]

    subscript(key: String) -> JSONValue? {
        for f in fields where f.key == key { return f.value }
        return nil
    }

    /// Removes and returns a field; a JSON null counts as absent, as a missing HF column value does.
    mutating func take(_ key: String) -> JSONValue? {
        guard let i = fields.firstIndex(where: { $0.key == key }) else { return nil }
        let v = fields.remove(at: i).value
        return v.isNull ? nil : v
    }
}

struct RawTable {
    var file: String
    var rows: [RawRow] = []
    var columns: [String] = []

    init(file: String) { self.file = file }

    mutating func append(_ row: RawRow) {
        for f in row.fields where !columns.contains(f.key) { columns.append(f.key) }
        rows.append(row)
    }
}
