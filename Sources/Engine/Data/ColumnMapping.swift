/// Column renaming as ms-swift does it before preprocessing (`RowPreprocessor.safe_rename_columns`):
/// names match the file's columns case-insensitively; when two present columns would get the same
/// new name neither is renamed (so a column already named `query` beats `prompt` and `question`);
/// a mapping to the same name is kept out of the renaming but still counts in that tally.
struct ColumnMapping {
    /// ms-swift's automatic aliases for the query/response shape, in its order.
    static let systemAliases = ["system", "system_prompt"]
    static let queryAliases = ["query", "prompt", "input", "instruction", "question", "problem"]
    static let responseAliases = ["response", "answer", "output", "targets", "target", "answer_key", "answers",
                                  "solution", "text", "completion", "content"]
    static let messagesAliases = ["messages", "conversation", "conversations"]

    static func aliases(_ names: [String], to target: String) -> [(String, String)] { names.map { ($0, target) } }

    /// The renames `mapping` (old → new, in order) makes on a table with `columns`.
    static func renames(_ mapping: [(String, String)], columns: [String]) -> [String: String] {
        var byLower: [String: String] = [:]
        for c in columns where byLower[c.lowercased()] == nil { byLower[c.lowercased()] = c }
        var safe: [(String, String)] = []
        for (old, new) in mapping {
            guard let present = byLower[old.lowercased()] else { continue }
            if let i = safe.firstIndex(where: { $0.0 == present }) { safe[i].1 = new } else { safe.append((present, new)) }
        }
        var counts: [String: Int] = [:]
        for (_, new) in safe { counts[new, default: 0] += 1 }
        var out: [String: String] = [:]
        for (old, new) in safe where counts[new] == 1 && old != new { out[old] = new }
        return out
    }

    /// Applies `renames` to every row; a new name that another column already has is an error
    /// (HF `rename_columns` refuses it too).
    static func apply(_ renames: [String: String], to table: inout RawTable) throws {
        guard !renames.isEmpty else { return }
        for (old, new) in renames.sorted(by: { $0.key < $1.key }) where table.columns.contains(new) && renames[new] == nil {
            throw DatasetError(file: table.file, problem: "cannot rename column '\(old)' to '\(new)': the file already has a column '\(new)'")
        }
        table.columns = table.columns.map { renames[$0] ?? $0 }
        for i in table.rows.indices {
            table.rows[i].fields = table.rows[i].fields.map { (renames[$0.key] ?? $0.key, $0.value) }
        }
    }

    /// Two or more alias columns for a target none of them is named: ms-swift silently renames
    /// none of them and the rows lose that part; here it is an error that says how to choose.
    static func checkAmbiguity(_ aliases: [String], target: String, columns: [String], file: String) throws {
        let lower = Set(columns.map { $0.lowercased() })
        guard !lower.contains(target) else { return }
        let present = aliases.filter { lower.contains($0) }
        if present.count > 1 {
            throw DatasetError(file: file, problem: "columns \(present.joined(separator: ", ")) could each be the \(target); choose one with --columns '{\"\(present[0])\": \"\(target)\"}'")
        }
    }
}
