import Foundation
import XCTest
@testable import Script

/// `continue` over the stand-in engine: it runs the session's last sft again with the same
/// arguments and model, from the checkpoint that run ended at, and says clearly when there is
/// nothing to continue. (TrainingSessionTests runs it on the real engine.)
final class ContinueVerbTests: XCTestCase {
    func testNothingToContinueWithoutATrainingRun() {
        let h = Harness()
        XCTAssertEqual(h.run("load model m.gguf\nask 'hi'\ncontinue"), 1)
        XCTAssertEqual(h.output.errors.map(\.description),
                       ["test.tune:3:1: error: there is nothing to continue: no sft or pt has run in this session yet"])
        XCTAssertTrue(h.backend.requests.isEmpty)
    }

    func testContinueRunsTheLastSftFromItsCheckpointWithItsArguments() throws {
        let h = Harness()
        h.backend.trainingState = TrainingRunState(globalStep: 2, maxSteps: 6, stopped: true,
                                                   lastCheckpoint: "out/v0-x/checkpoint-2")
        XCTAssertEqual(h.run("""
            load model m.gguf
            load dataset data/a.jsonl
            sft --max_steps 6 --lora_rank 4 --output_dir out
            set lora_rank 16
            load model other.gguf
            """), 0, h.output.errors.description)
        // The continued run is stopped again, later on.
        h.backend.trainingState = TrainingRunState(globalStep: 4, maxSteps: 6, stopped: true, lastCheckpoint: "out/v1-x/checkpoint-4")
        XCTAssertEqual(h.run("continue"), 0, h.output.errors.description)
        XCTAssertEqual(h.backend.requests.count, 2)
        let (first, second) = (h.backend.requests[0], h.backend.requests[1])
        XCTAssertEqual(second.kind, .swift(.sft))
        XCTAssertEqual(second.arguments.string("resume_from_checkpoint"), "out/v0-x/checkpoint-2")
        XCTAssertNil(first.arguments.explicit["resume_from_checkpoint"])
        XCTAssertEqual(second.arguments.int("lora_rank"), 4, "the run's own arguments, not the session's later settings")
        XCTAssertEqual(second.arguments.int("max_steps"), 6)
        XCTAssertEqual(second.model?.path, "m.gguf", "the run's model, though another is live now")
        XCTAssertEqual(second.datasets.map(\.spec), ["data/a.jsonl"])
        XCTAssertTrue(h.output.lines.contains("continuing sft from out/v0-x/checkpoint-2 (step 2 of 6)"), h.output.text)
        XCTAssertFalse(h.session.record.contains("continue"), "save replays the sft, which then runs every step")

        // A second continue goes on from where the continued run stopped.
        XCTAssertEqual(h.run("continue"), 0, h.output.errors.description)
        XCTAssertEqual(h.backend.requests.last?.arguments.string("resume_from_checkpoint"), "out/v1-x/checkpoint-4")
    }

    func testAFinishedRunHasNothingToContinue() {
        let h = Harness()
        h.backend.trainingState = TrainingRunState(globalStep: 6, maxSteps: 6, stopped: false, lastCheckpoint: "out/v0-x/checkpoint-6")
        XCTAssertEqual(h.run("load model m.gguf\nsft --max_steps 6\ncontinue"), 1)
        XCTAssertEqual(h.output.errors.map(\.description), [
            "test.tune:3:1: error: there is nothing to continue: the last sft run already finished all its 6 steps "
            + "(checkpoint out/v0-x/checkpoint-6); to train further, run sft again (with --resume_from_checkpoint and a larger --max_steps to go on from it)",
        ])
        XCTAssertEqual(h.backend.requests.count, 1)
        // Stopped on its last step is finished too.
        let h2 = Harness()
        h2.backend.trainingState = TrainingRunState(globalStep: 6, maxSteps: 6, stopped: true, lastCheckpoint: "c")
        XCTAssertEqual(h2.run("load model m.gguf\nsft\ncontinue"), 1)
        XCTAssertTrue(h2.output.errors.first?.description.contains("already finished all its 6 steps") == true)
    }

    func testContinueTakesNoWordsAndIsInHelpAndCompletion() {
        let h = Harness(interactive: true)
        XCTAssertEqual(h.run("continue now"), 1)
        XCTAssertEqual(h.output.errors.map(\.description), ["test.tune:1:10: error: 'continue' takes no more words; got 'now'"])
        h.run("help continue")
        XCTAssertTrue(h.output.lines.contains("usage: continue"), h.output.text)
        XCTAssertTrue(h.output.lines.contains { $0.hasPrefix("Go on with the session's last sft/pt run from its last checkpoint") })
        XCTAssertEqual(Completer(interpreter: h.interpreter).candidates(before: "cont"), ["continue"])
    }

    func testCheckModeValidatesContinueAfterATrainingStatement() {
        let h = Harness()
        h.interpreter.checkOnly = true
        XCTAssertEqual(h.run("load model m.gguf\nsft --max_steps 2\ncontinue"), 0, h.output.errors.description)
        let h2 = Harness()
        h2.interpreter.checkOnly = true
        XCTAssertEqual(h2.run("continue"), 1)
        XCTAssertTrue(h.backend.requests.isEmpty && h2.backend.requests.isEmpty)
    }
}
