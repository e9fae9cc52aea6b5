import Engine
import Foundation
import XCTest
@testable import Script

/// The progress line: step N/M, the bar on a terminal, the figures, and elapsed time and ETA as
/// clocks in ms-swift's `format_time` style (expected strings worked out from its definition:
/// round the seconds half to even, then days/hours/minutes/seconds without padding).
final class ProgressTextTests: XCTestCase {
    func testClocksAreMsSwiftsFormatTime() {
        XCTAssertEqual(ProgressText.clock(0), "0s")
        XCTAssertEqual(ProgressText.clock(42.4), "42s")
        XCTAssertEqual(ProgressText.clock(59.5), "1m 0s", "rounded before it is split, so no '60s'")
        XCTAssertEqual(ProgressText.clock(65), "1m 5s")
        XCTAssertEqual(ProgressText.clock(3723), "1h 2m 3s")
        XCTAssertEqual(ProgressText.clock(3600), "1h 0m 0s")
        XCTAssertEqual(ProgressText.clock(2 * 86400 + 3 * 3600 + 1), "2d 3h 0m 1s")
        XCTAssertEqual(ProgressText.clock(2.5), "2s", "half to even, as Python's round")
        // The same formatter as logging.jsonl's elapsed_time / remaining_time.
        var e = TrainingLogEntry(globalStep: 1, maxSteps: 3, elapsedSeconds: 65)
        e.loss = 1
        XCTAssertTrue(TrainingLogFile.jsonLine(e).contains("\"elapsed_time\": \"\(ProgressText.clock(65))\""))
        XCTAssertTrue(TrainingLogFile.jsonLine(e).contains("\"remaining_time\": \"\(ProgressText.clock(130))\""))
    }

    func testTrainingLineShowsStepFiguresAndClocks() {
        let event = ProgressEvent(task: "sft", completed: 3, total: 6,
                                  metrics: ["epoch": 0.5, "loss": 1.23456, "lr": 9.5e-5, "tokens/s": 210.54],
                                  elapsedSeconds: 65.2, remainingSeconds: 3723)
        XCTAssertEqual(ProgressText.line(event, bar: true),
                       "sft 3/6 [############            ] epoch 0.5 loss 1.235 lr 9.5e-05 tokens/s 210.5 elapsed 1m 5s eta 1h 2m 3s")
        XCTAssertEqual(ProgressText.line(event, bar: false),
                       "sft 3/6 epoch 0.5 loss 1.235 lr 9.5e-05 tokens/s 210.5 elapsed 1m 5s eta 1h 2m 3s")
        XCTAssertFalse(ProgressText.line(event, bar: true).contains("eta_s"))
    }

    func testMessagesAndEventsWithoutTimes() {
        XCTAssertEqual(ProgressText.line(ProgressEvent(task: "fetching model", completed: 0, total: nil), bar: true), "fetching model")
        XCTAssertEqual(ProgressText.line(ProgressEvent(task: "infer", completed: 2, total: 4), bar: true),
                       "infer 2/4 [############            ]")
        let unknown = ProgressEvent(task: "sft", completed: 1, total: 2, elapsedSeconds: .nan, remainingSeconds: .infinity)
        XCTAssertEqual(ProgressText.line(unknown, bar: false), "sft 1/2", "no clock for a time that is not known")
    }

    /// What the engine's trainer reports reaches the line: a short real run's events carry
    /// the elapsed and remaining seconds the progress line shows.
    func testTrainingEventsCarryElapsedAndRemainingSeconds() throws {
        let model = try AdapterSessionTests.defaultModel()
        let out = NSTemporaryDirectory() + "tune-progress-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let output = RecordingOutput()
        let interpreter = Interpreter(backend: EngineSessionBackend(), output: output, interactive: false)
        XCTAssertEqual(interpreter.runScript("""
            load model \(model)
            sft --dataset swift/self-cognition#4 --max_steps 2 --per_device_train_batch_size 1 \
                --gradient_accumulation_steps 1 --max_length 64 --output_dir \(out) --report_to none
            """, file: "p.tune"), 0, output.errors.description)
        let steps = output.events.filter { $0.task == "sft" }
        XCTAssertEqual(steps.map(\.completed), [1, 2])
        for e in steps {
            let elapsed = try XCTUnwrap(e.elapsedSeconds), remaining = try XCTUnwrap(e.remainingSeconds)
            XCTAssertGreaterThan(elapsed, 0)
            XCTAssertEqual(remaining, elapsed / Double(e.completed) * Double(2 - e.completed), accuracy: 1e-9)
            XCTAssertTrue(ProgressText.line(e, bar: false).contains(" elapsed \(ProgressText.clock(elapsed)) eta \(ProgressText.clock(remaining))"))
            XCTAssertNil(e.metrics["eta_s"])
        }
    }
}
