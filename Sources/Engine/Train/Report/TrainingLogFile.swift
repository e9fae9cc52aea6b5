import Foundation

/// `logging.jsonl` in a run's output directory, written line by line as ms-swift writes it:
/// one JSON object per logging step, evaluation and the end of training, then the summary.
/// Each line reaches the file before `append` returns, so a crash keeps what was logged.
public final class TrainingLogFile {
    public let path: String
    /// What transformers keeps as `state.log_history`: each entry's unrounded metrics and its
    /// step. The summary line repeats it; set it when resuming from a checkpoint's trainer state.
    public var logHistory: [(step: Int, metrics: [(key: String, value: Double)])] = []
    private let file: AppendOnlyFile

    /// Opens (appending, as ms-swift does) `directory/logging.jsonl`, creating the directory.
    public init(directory: String) throws {
        path = (directory as NSString).appendingPathComponent("logging.jsonl")
        file = try AppendOnlyFile(path: path)
    }

    public func append(_ entry: TrainingLogEntry) throws {
        try file.append(Array((Self.jsonLine(entry) + "\n").utf8))
        logHistory.append((entry.globalStep, entry.metrics))
    }

    /// Appends the final summary, with the log history of every entry appended so far.
    public func appendSummary(_ summary: TrainingSummary) throws {
        try file.append(Array((Self.jsonLine(summary, logHistory: historyJSON) + "\n").utf8))
    }

    public func close() { file.close() }

    private var historyJSON: [PythonJSON] {
        logHistory.map { step, metrics in
            .object(metrics.map { ($0.key, .float($0.value)) } + [("step", .int(step))])
        }
    }

    /// The entry's line of `logging.jsonl` (without the newline).
    public static func jsonLine(_ entry: TrainingLogEntry) -> String {
        PythonJSON.object(entry.loggedFields).text
    }

    static func jsonLine(_ summary: TrainingSummary, logHistory: [PythonJSON]) -> String {
        PythonJSON.object(summary.fields(logHistory: logHistory)).text
    }

    /// The entry as ms-swift shows it above its progress bar (transformers' `ProgressCallback`:
    /// the logged dict's `str()`, floats as '%.4g' strings, without `total_flos`).
    public static func displayLine(_ entry: TrainingLogEntry) -> String {
        let fields: [(String, PythonJSON)] = entry.loggedFields.compactMap { key, value in
            if key == "total_flos" { return nil }
            switch value {
            case .float(let x): return (key, .string(PythonFormat.general4(x)))
            case .string(let s) where s.unicodeScalars.count > 100:
                return (key, .string("[String too long to display, length: \(s.unicodeScalars.count) > 100. Consider increasing `max_str_len` if needed.]"))
            default: return (key, value)
            }
        }
        return PythonJSON.object(fields).pythonRepr
    }

    /// The numeric fields of every line of a `logging.jsonl` (strings, lists and nulls are left
    /// out; the summary line gives its numbers such as `global_step`). A last line cut short
    /// by a crash is ignored; any other line that is not a JSON object is an error.
    public static func read(path: String) throws -> [[String: Double]] {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw FileError(path: path, problem: "cannot read: \(error.localizedDescription)")
        }
        let bytes = [UInt8](data)
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        let lastIsComplete = bytes.last == UInt8(ascii: "\n")
        if lastIsComplete || bytes.isEmpty { lines.removeLast() }
        var out: [[String: Double]] = []
        for (i, line) in lines.enumerated() {
            if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) { continue }
            let object = try? JSONSerialization.jsonObject(with: Data(quotingNonFiniteNumbers(Array(line))))
            guard let dict = object as? [String: Any] else {
                if i == lines.count - 1 && !lastIsComplete { break }
                throw FileError(path: path, problem: "line \(i + 1) is not a JSON object")
            }
            var numbers: [String: Double] = [:]
            for (k, v) in dict {
                if v is Bool { continue }
                if let s = v as? String, let x = nonFinite[s] { numbers[k] = x }
                else if let n = v as? Int { numbers[k] = Double(n) }
                else if let x = v as? Double { numbers[k] = x }
            }
            out.append(numbers)
        }
        return out
    }

    private static let nonFinite: [String: Double] = ["\u{1}NaN": .nan, "\u{1}Infinity": .infinity, "\u{1}-Infinity": -.infinity]

    /// Python's json writes NaN, Infinity and -Infinity bare, which JSONSerialization refuses:
    /// outside strings they become strings marked by a control character no JSON string holds raw.
    private static func quotingNonFiniteNumbers(_ line: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(line.count)
        var i = 0, inString = false
        while i < line.count {
            let b = line[i]
            if inString {
                out.append(b)
                if b == UInt8(ascii: "\\"), i + 1 < line.count { out.append(line[i + 1]); i += 2; continue }
                if b == UInt8(ascii: "\"") { inString = false }
                i += 1
                continue
            }
            if b == UInt8(ascii: "\"") { inString = true; out.append(b); i += 1; continue }
            var matched = false
            for word in ["-Infinity", "Infinity", "NaN"] {
                let w = Array(word.utf8)
                if i + w.count <= line.count, Array(line[i..<(i + w.count)]) == w {
                    out += Array("\"\\u0001\(word)\"".utf8)
                    i += w.count
                    matched = true
                    break
                }
            }
            if !matched { out.append(b); i += 1 }
        }
        return out
    }
}
