import Engine
import Foundation

/// `infer --val_dataset ...`: answers every row of the datasets with the live model and appends
/// one JSON line per row to `result_path` (ms-swift's layout: the prompt `messages`, the
/// `response`, and the row's own last answer as `labels`), then scores with `--metric`.
extension EngineSessionBackend {
    func inferDataset(_ request: CommandRequest, cancel: CancellationFlag, progress: (ProgressEvent) -> Void) throws -> CommandOutcome {
        let a = request.arguments
        let modelHandle: ModelHandle
        if let m = request.model {
            modelHandle = m
        } else if let path = a.string("model") {
            modelHandle = try loadModel(path: path, arguments: a, progress: progress)
        } else {
            throw BackendError.failed("infer needs a model: --model or a loaded model")
        }
        let m = try loaded(modelHandle)
        var options = Self.datasetOptions(a)
        options.shuffle = a.bool("val_dataset_shuffle") ?? false
        var specs = a.strings("val_dataset") ?? []
        if let n = a.int("val_dataset_sample") { specs = specs.map { $0.contains("#") ? $0 : "\($0)#\(n)" } }
        guard !specs.isEmpty else { throw BackendError.failed("infer over a dataset needs --val_dataset") }
        let rows = try specs.flatMap { try Engine.Dataset.load($0, options: options).rows }

        let resultPath = a.string("result_path") ?? Self.defaultResultPath(model: modelHandle.path)
        let resultDir = (resultPath as NSString).deletingLastPathComponent
        if !resultDir.isEmpty { try FileManager.default.createDirectory(atPath: resultDir, withIntermediateDirectories: true) }
        if !FileManager.default.fileExists(atPath: resultPath) { _ = FileManager.default.createFile(atPath: resultPath, contents: nil) }
        guard let out = FileHandle(forWritingAtPath: resultPath) else { throw BackendError.failed("cannot write \(resultPath)") }
        defer { try? out.close() }
        try out.seekToEnd()

        let generation = Self.options(for: m, a)
        let system = a.string("system").flatMap { $0.isEmpty ? nil : $0 }
        var scored: [(String, String)] = []
        var answered = 0
        for (i, row) in rows.enumerated() {
            if cancel.isRaised { break }
            var prompt = row.messages
            var label: String? = nil
            if prompt.last?.role == "assistant" { label = prompt.removeLast().content }
            let result = try m.respond(to: prompt, system: system, options: generation, cancel: cancel.token)
            if result.finishReason == .cancelled { break }
            let line: [String: Any] = [
                "messages": prompt.map { ["role": $0.role, "content": $0.content] },
                "response": result.text,
                "labels": label as Any? ?? NSNull(),
            ]
            var data = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys, .withoutEscapingSlashes])
            data.append(0x0A)
            try out.write(contentsOf: data)
            if let label { scored.append((result.text, label)) }
            answered += 1
            progress(ProgressEvent(task: "infer", completed: i + 1, total: rows.count))
        }
        var report = ["answered \(answered) of \(rows.count) rows; results appended to \(resultPath)"]
        if let metric = a.string("metric"), !scored.isEmpty {
            switch metric {
            case "acc":
                let correct = scored.filter { $0.0.trimmingCharacters(in: .whitespacesAndNewlines) == $0.1.trimmingCharacters(in: .whitespacesAndNewlines) }.count
                report.append(String(format: "acc: %.4f (%d of %d exactly right)", Double(correct) / Double(scored.count), correct, scored.count))
            case "rouge":
                let f = scored.map { InferenceMetrics.rougeL($0.0, $0.1) }.reduce(0, +) / Double(scored.count)
                report.append(String(format: "rouge-l: %.4f (F1 of the longest common subsequence, mean over %d rows)", f, scored.count))
            default:
                throw BackendError.failed("metric '\(metric)' is not known; use acc or rouge")
            }
        }
        if cancel.isRaised { report.append("stopped by Ctrl-C; the rows answered so far are written") }
        return CommandOutcome(report: report)
    }

    /// ms-swift's default: `result/<model>/infer_result/<YYYYmmdd-HHMMSS>.jsonl`.
    static func defaultResultPath(model: String) -> String {
        let name = ((model as NSString).lastPathComponent as NSString).deletingPathExtension
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.dateFormat = "yyyyMMdd-HHmmss"
        return "result/\(name)/infer_result/\(f.string(from: Date())).jsonl"
    }
}

enum InferenceMetrics {
    /// ROUGE-L F1 over words (CJK characters count as words).
    static func rougeL(_ candidate: String, _ reference: String) -> Double {
        func units(_ s: String) -> [String] {
            var out: [String] = []
            var word = ""
            for ch in s {
                if ch.isWhitespace || ch.isPunctuation {
                    if !word.isEmpty { out.append(word.lowercased()); word = "" }
                } else if ch.unicodeScalars.first.map({ $0.value >= 0x2E80 }) == true {
                    if !word.isEmpty { out.append(word.lowercased()); word = "" }
                    out.append(String(ch))
                } else {
                    word.append(ch)
                }
            }
            if !word.isEmpty { out.append(word.lowercased()) }
            return out
        }
        let c = units(candidate), r = units(reference)
        guard !c.isEmpty, !r.isEmpty else { return 0 }
        var dp = [Int](repeating: 0, count: r.count + 1)
        for x in c {
            var prev = 0
            for j in 1...r.count {
                let tmp = dp[j]
                dp[j] = x == r[j - 1] ? prev + 1 : max(dp[j], dp[j - 1])
                prev = tmp
            }
        }
        let lcs = Double(dp[r.count])
        let p = lcs / Double(c.count), q = lcs / Double(r.count)
        return p + q == 0 ? 0 : 2 * p * q / (p + q)
    }
}
