import Foundation

/// The REPL's history on disk: one entry per line under a header, newlines and backslashes
/// escaped, at most `limit` entries. A file that does not read back cleanly is moved aside
/// (to `PATH.corrupt`) so the REPL can start anyway.
struct HistoryFile {
    static let header = "# tune history v1"
    let path: String
    let limit: Int

    enum LoadResult: Equatable {
        case loaded([String])
        /// The old file was unreadable; it now lives at `movedTo` (nil if it could not be moved).
        case setAside(movedTo: String?, reason: String)
    }

    func load() -> LoadResult {
        guard FileManager.default.fileExists(atPath: path) else { return .loaded([]) }
        guard let data = FileManager.default.contents(atPath: path) else {
            return setAside("it cannot be read")
        }
        guard let text = String(data: data, encoding: .utf8), !text.contains("\0") else {
            return setAside("it is not UTF-8 text")
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        guard lines.first == Self.header else { return setAside("its first line is not '\(Self.header)'") }
        var entries: [String] = []
        for line in lines.dropFirst() {
            guard let entry = Self.unescape(line) else { return setAside("it has a malformed line") }
            entries.append(entry)
        }
        return .loaded(Array(entries.suffix(limit)))
    }

    private func setAside(_ reason: String) -> LoadResult {
        let target = path + ".corrupt"
        let fm = FileManager.default
        try? fm.removeItem(atPath: target)
        let moved = (try? fm.moveItem(atPath: path, toPath: target)) != nil
        return .setAside(movedTo: moved ? target : nil, reason: reason)
    }

    /// Writes the last `limit` entries (temporary file, then rename).
    func save(_ entries: [String]) throws {
        var text = Self.header + "\n"
        for e in entries.suffix(limit) { text += Self.escape(e) + "\n" }
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    static func escape(_ entry: String) -> String {
        var out = ""
        for c in entry {
            switch c {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default: out.append(c)
            }
        }
        return out
    }

    static func unescape(_ line: String) -> String? {
        var out = ""
        var escaping = false
        for c in line {
            if escaping {
                switch c {
                case "\\": out.append("\\")
                case "n": out.append("\n")
                case "r": out.append("\r")
                default: return nil
                }
                escaping = false
            } else if c == "\\" {
                escaping = true
            } else {
                out.append(c)
            }
        }
        return escaping ? nil : out
    }
}
