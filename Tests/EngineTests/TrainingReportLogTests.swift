import Foundation
import XCTest
@testable import Engine

/// `logging.jsonl` against the lines ms-swift's own logging code wrote for the same figures
/// (Scripts/goldens/training_logging.py).
final class TrainingReportLogTests: XCTestCase {
    private func number(_ v: Any?) -> Double? {
        if let d = v as? [String: Any], let s = d["nonfinite"] as? String {
            return s == "nan" ? .nan : (s.hasPrefix("-") ? -.infinity : .infinity)
        }
        if let n = v as? Int { return Double(n) }
        return v as? Double
    }

    private func goldenInputs() throws -> (entries: [TrainingLogEntry], summary: TrainingSummary, json: [String: Any]) {
        let json = try TestPaths.json("reports/logging_entries.json")
        let maxSteps = json["max_steps"] as! Int
        var entries: [TrainingLogEntry] = []
        for e in json["entries"] as! [[String: Any]] {
            var entry = TrainingLogEntry(globalStep: e["global_step"] as! Int, maxSteps: maxSteps,
                                         elapsedSeconds: number(e["elapsed"])!, maxMemoryGiB: number(e["memory"]))
            entry.epoch = number(e["epoch"])
            entry.tokenAccuracy = number(e["token_acc_value"])
            switch e["kind"] as! String {
            case "train":
                entry.loss = number(e["loss"])
                entry.gradNorm = number(e["grad_norm"])
                entry.learningRate = number(e["learning_rate"])
            case "eval":
                entry.evalLoss = number(e["eval_loss"])
                entry.evalRuntime = number(e["eval_runtime"])
                entry.evalSamplesPerSecond = number(e["eval_samples_per_second"])
                entry.evalStepsPerSecond = number(e["eval_steps_per_second"])
            default:
                entry.trainRuntime = number(e["train_runtime"])
                entry.trainSamplesPerSecond = number(e["train_samples_per_second"])
                entry.trainStepsPerSecond = number(e["train_steps_per_second"])
                entry.totalFlos = number(e["total_flos"])
                entry.trainLoss = number(e["train_loss"])
            }
            entries.append(entry)
        }
        let s = json["summary"] as! [String: Any]
        let info = TrainingSummary.parameterInfo(modelName: s["model_name"] as! String, parameters: s["model_parameters"] as! Int,
                                                 trainable: s["model_trainable"] as! Int, buffers: s["model_buffers"] as! Int)
        let summary = TrainingSummary(
            globalStep: entries.last!.globalStep,
            trainDataset: TrainingSummary.lengthStatistics(s["train_lengths"] as! [Int]),
            valDataset: TrainingSummary.lengthStatistics(s["val_lengths"] as! [Int]),
            modelParameterInfo: info,
            lastModelCheckpoint: s["last_model_checkpoint"] as? String,
            bestModelCheckpoint: s["best_model_checkpoint"] as? String,
            bestMetric: number(s["best_metric"]),
            memoryGiB: entries.map { $0.maxMemoryGiB ?? 0 }.max())
        return (entries, summary, json)
    }

    private func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "tune-report-\(UUID().uuidString)"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    func testLinesEqualMsSwiftLoggingJsonl() throws {
        let (entries, summary, _) = try goldenInputs()
        let dir = try temporaryDirectory() + "/output/v0"
        let log = try TrainingLogFile(directory: dir)
        XCTAssertEqual(log.path, dir + "/logging.jsonl")
        for e in entries { try log.append(e) }
        try log.appendSummary(summary)
        log.close()
        let golden = try String(contentsOfFile: TestPaths.fixture("reports/logging.jsonl"), encoding: .utf8)
        let ours = try String(contentsOfFile: dir + "/logging.jsonl", encoding: .utf8)
        let g = golden.split(separator: "\n", omittingEmptySubsequences: false)
        let o = ours.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(o.count, g.count)
        for (a, b) in zip(o, g) { XCTAssertEqual(String(a), String(b)) }
    }

    func testEachLineIsOnDiskAsSoonAsItIsAppended() throws {
        let (entries, _, _) = try goldenInputs()
        let dir = try temporaryDirectory()
        let log = try TrainingLogFile(directory: dir)
        try log.append(entries[0])
        // Read while the file is still open: nothing waits in a buffer.
        let text = try String(contentsOfFile: log.path, encoding: .utf8)
        XCTAssertEqual(text, TrainingLogFile.jsonLine(entries[0]) + "\n")
        XCTAssertTrue(text.hasPrefix("{\"loss\": 2.34567891, \"grad_norm\": 11.75321484, \"learning_rate\": 1e-05"))
    }

    func testDisplayLineIsWhatMsSwiftShowsAboveItsProgressBar() throws {
        let (entries, _, _) = try goldenInputs()
        let golden = try String(contentsOfFile: TestPaths.fixture("reports/logging_display.txt"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        XCTAssertEqual(entries.map(TrainingLogFile.displayLine), golden)
    }

    func testReadGivesTheNumbersOfEveryLineAndSurvivesACutLastLine() throws {
        let rows = try TrainingLogFile.read(path: TestPaths.fixture("reports/logging.jsonl"))
        XCTAssertEqual(rows.count, 8)
        XCTAssertEqual(rows[0]["loss"], 2.34567891)
        XCTAssertEqual(rows[1]["learning_rate"], 9.755e-05)
        XCTAssertEqual(rows[2]["eval_loss"], 1.87654321)
        XCTAssertNil(rows[0]["global_step/max_steps"])   // a string
        XCTAssertTrue(rows[4]["loss"]!.isNaN)
        XCTAssertEqual(rows[4]["grad_norm"], .infinity)
        XCTAssertEqual(rows[7]["global_step"], 30)
        XCTAssertEqual(rows[7]["best_metric"], 1.8765432109876)

        let dir = try temporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let golden = try String(contentsOfFile: TestPaths.fixture("reports/logging.jsonl"), encoding: .utf8)
        let lines = golden.split(separator: "\n")
        let cut = lines[0] + "\n" + lines[1] + "\n" + lines[2].prefix(30)
        try cut.write(toFile: dir + "/logging.jsonl", atomically: true, encoding: .utf8)
        XCTAssertEqual(try TrainingLogFile.read(path: dir + "/logging.jsonl").count, 2)

        try (lines[0].prefix(30) + "\n" + lines[1] + "\n").write(toFile: dir + "/bad.jsonl", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try TrainingLogFile.read(path: dir + "/bad.jsonl")) { error in
            XCTAssertEqual("\(error)", dir + "/bad.jsonl: line 1 is not a JSON object")
        }
    }

    func testTimesAndNumbersArePrintedAsPythonPrintsThem() {
        XCTAssertEqual(TrainingTimeFormat.string(seconds: 59.5), "1m 0s")       // round half to even: 60
        XCTAssertEqual(TrainingTimeFormat.string(seconds: 0.5), "0s")
        XCTAssertEqual(TrainingTimeFormat.string(seconds: 3600), "1h 0m 0s")
        XCTAssertEqual(TrainingTimeFormat.string(seconds: -5), "23h 59m 55s")   // Python's floor division
        XCTAssertEqual(PythonFormat.repr(1e-05), "1e-05")
        XCTAssertEqual(PythonFormat.repr(0.0001), "0.0001")
        XCTAssertEqual(PythonFormat.repr(1e15), "1000000000000000.0")
        XCTAssertEqual(PythonFormat.repr(1e16), "1e+16")
        XCTAssertEqual(PythonFormat.repr(123456789012345678), "1.2345678901234568e+17")
        XCTAssertEqual(PythonFormat.repr(-2.5e-300), "-2.5e-300")
        XCTAssertEqual(PythonFormat.repr(-0.0), "-0.0")
        XCTAssertEqual(PythonFormat.round(2.675, 2), 2.67)                     // 2.675 is below 2.675 in binary
        XCTAssertEqual(PythonFormat.jsonString("a\"\\\n\u{1}é"), "\"a\\\"\\\\\\n\\u0001é\"")
    }
}
