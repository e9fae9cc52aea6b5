import Foundation
import XCTest

/// Training in the REPL on the real default model, in a pseudo-terminal: the progress line
/// (step, loss, learning rate, tokens/s, elapsed and ETA as clocks), Ctrl-C stopping `sft` at a
/// step boundary with a checkpoint, the partial adapter answering, and `continue` finishing
/// the planned steps. A small run (16 self-cognition rows, batch 1, 64 tokens, 6 steps).
final class TrainingTerminalTests: XCTestCase {
    func testCtrlCStopsSftAtAStepBoundaryAndContinueFinishesIt() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("tune-train-term-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: home) }
        let out = home + "/output"
        let prompt = "tune[SmolLM2-135M-Instruct]>"
        // With an adapter live the prompt names it too: tune[SmolLM2-135M-Instruct+checkpoint-2]>.
        func isPrompt(_ line: String?) -> Bool {
            guard let line else { return false }
            return line.hasPrefix("tune[SmolLM2-135M-Instruct") && line.hasSuffix("]>")
        }
        let term = try TmuxTerminal(command: try TuneBinary.url.path,
                                    environment: ["HOME": home, "TERM": "xterm", "MODELSCOPE_CACHE": TuneBinary.modelCache])
        term.waitForLastLine("tune>")
        try term.type("load model HuggingFaceTB/SmolLM2-135M-Instruct")
        try term.press("Enter")
        guard term.wait("the model", seconds: 30, { $0.last == prompt }) else { return }
        Thread.sleep(forTimeInterval: 0.2)

        try term.type("sft --dataset swift/self-cognition#16 --model_name Tuney --model_author Lead --max_steps 6 "
            + "--per_device_train_batch_size 1 --gradient_accumulation_steps 1 --max_length 64 --learning_rate 1e-3 "
            + "--logging_steps 1 --report_to none --output_dir \(out)")
        try term.press("Enter")
        var progress = ""
        guard term.wait("the first step's progress line", seconds: 60, { lines in
            guard let line = lines.last(where: { $0.hasPrefix("sft ") && $0.contains("/6 [") }) else { return false }
            progress = line
            return true
        }) else { return }
        try term.press("C-c")
        // The progress line: step N/M with its bar, loss, lr, tokens/s, then clocks.
        let shape = #"^sft [1-6]/6 \[[# ]{24}\] epoch [0-9.e-]+ loss [0-9.e-]+ lr [0-9.e-]+ tokens/s [0-9.e+]+ elapsed (\d+m )?\d+s eta (\d+m )?\d+s$"#
        XCTAssertNotNil(progress.range(of: shape, options: .regularExpression), progress)

        guard term.wait("the prompt after Ctrl-C", seconds: 60, { isPrompt($0.last) }) else { return }
        let stopped = term.lines
        XCTAssertTrue(stopped.contains { $0.hasPrefix("stopped ") && $0.contains("/6 steps") }, stopped.joined(separator: "\n"))
        XCTAssertTrue(stopped.contains { $0.hasPrefix("stopped at the step boundary; type continue to go on from the checkpoint") })
        let checkpointLine = try XCTUnwrap(stopped.first { $0.hasPrefix("checkpoint: ") }, stopped.joined(separator: "\n"))
        let checkpoint = String(checkpointLine.dropFirst("checkpoint: ".count))
        let step = try XCTUnwrap(Int(checkpoint.split(separator: "-").last ?? ""))
        XCTAssertLessThan(step, 6, "stopped before the end")
        XCTAssertTrue(checkpoint.hasPrefix(out + "/v0-"), checkpoint)
        XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint + "/adapter_model.safetensors"))
        XCTAssertTrue(stopped.contains("adapter checkpoint-\(step) is now live"), stopped.joined(separator: "\n"))
        XCTAssertEqual(stopped.last, "tune[SmolLM2-135M-Instruct+checkpoint-\(step)]>", "the partial adapter is live")

        // The partial adapter answers.
        Thread.sleep(forTimeInterval: 0.2)
        try term.type("ask --max_new_tokens 12 --temperature 0 'Who are you?'")
        try term.press("Enter")
        guard term.wait("an answer", seconds: 30, { lines in
            guard isPrompt(lines.last), let asked = lines.lastIndex(where: { $0.hasSuffix("ask --max_new_tokens 12 --temperature 0 'Who are you?'") })
            else { return false }
            return lines[(asked + 1)...].contains { !$0.isEmpty && !$0.contains("error") && !isPrompt($0) }
        }) else { return }

        Thread.sleep(forTimeInterval: 0.2)
        try term.type("continue")
        try term.press("Enter")
        guard term.wait("the continued run", seconds: 90, { $0.contains { $0.hasPrefix("trained 6/6 steps") } && isPrompt($0.last) })
        else { return }
        XCTAssertTrue(term.lines.contains("continuing sft from \(checkpoint) (step \(step) of 6)"), term.screen)
        XCTAssertTrue(term.lines.contains { $0.hasPrefix("checkpoint: \(out)/v1-") && $0.hasSuffix("/checkpoint-6") }, term.screen)
        try term.press("C-d")
        _ = term.wait("exit") { $0.last == "[exit 0]" }
    }
}
