import Foundation
import XCTest

/// The REPL in a real pseudo-terminal: completion, history across runs, Ctrl-R, errors that
/// do not end the session, Ctrl-C and Ctrl-D. Each test has its own empty HOME.
final class TerminalTests: XCTestCase {
    private var home = ""

    override func setUpWithError() throws {
        home = FileManager.default.temporaryDirectory.appendingPathComponent("tune-term-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
    }

    private func start() throws -> TmuxTerminal {
        let term = try TmuxTerminal(command: try TuneBinary.url.path, environment: ["HOME": home, "TERM": "xterm"])
        term.waitForLastLine("tune>")
        return term
    }

    private var historyPath: String { home + "/.tune_history" }

    /// On the real default model: an answer streams, Ctrl-C stops it at the next token and the
    /// prompt comes back with the model still loaded; a chat keeps going after Ctrl-C.
    func testCtrlCStopsGenerationAndKeepsTheSession() throws {
        let term = try TmuxTerminal(command: try TuneBinary.url.path,
                                    environment: ["HOME": home, "TERM": "xterm", "MODELSCOPE_CACHE": TuneBinary.modelCache])
        term.waitForLastLine("tune>")
        try term.type("load model HuggingFaceTB/SmolLM2-135M-Instruct")
        try term.press("Enter")
        _ = term.wait("the model", seconds: 30) { $0.contains { $0.hasPrefix("model SmolLM2-135M-Instruct:") } && $0.last == "tune[SmolLM2-135M-Instruct]>" }
        Thread.sleep(forTimeInterval: 0.2)
        try term.type("ask --max_new_tokens 4000 --temperature 0.8 \"Write a very long story about a dragon.\"")
        try term.press("Enter")
        // Let it stream a little, then interrupt.
        _ = term.wait("streamed text", seconds: 20) { lines in lines.count >= 3 && lines.last != "tune[SmolLM2-135M-Instruct]>" && !(lines.last ?? "").isEmpty }
        Thread.sleep(forTimeInterval: 0.5)
        try term.press("C-c")
        _ = term.wait("the prompt after Ctrl-C", seconds: 10) { $0.last == "tune[SmolLM2-135M-Instruct]>" }
        Thread.sleep(forTimeInterval: 0.2)
        try term.type("ask --max_new_tokens 8 \"What is the capital of France?\"")
        try term.press("Enter")
        _ = term.wait("a second answer from the same session", seconds: 20) {
            $0.contains { $0.contains("The capital of France") } && $0.last == "tune[SmolLM2-135M-Instruct]>"
        }
        try term.press("C-d")
        _ = term.wait("exit") { $0.last == "[exit 0]" }
    }

    func testCompletionErrorsCtrlCAndCtrlD() throws {
        let term = try start()
        try term.type("se")
        try term.press("Tab")
        term.waitForLastLine("tune> set")
        try term.type("lora_ra")
        try term.press("Tab")
        term.waitForLastLine("tune> set lora_rank")
        try term.type("16")
        try term.press("Enter")
        term.waitForLastLine("tune>")

        // An argument's choices complete after its flag.
        try term.type("sft --train_type fu")
        try term.press("Tab")
        term.waitForLastLine("tune> sft --train_type full")
        // Ctrl-C drops the line: nothing runs.
        try term.press("C-c")
        term.waitForLastLine("tune>")

        try term.type("set lora_rnak 8")
        try term.press("Enter")
        _ = term.wait("the error") {
            $0.contains("<repl>:2:5: error: unknown argument 'lora_rnak'; did you mean 'lora_rank'?") && $0.last == "tune>"
        }
        try term.type("show args")
        try term.press("Enter")
        _ = term.wait("the table") { $0.contains("lora_rank  16     8        set") && $0.last == "tune>" }
        XCTAssertEqual(term.count("train_type"), 1, "the interrupted line did not run")

        try term.press("C-d")
        _ = term.wait("exit") { $0.last == "[exit 0]" }
        let history = try String(contentsOfFile: historyPath, encoding: .utf8)
        XCTAssertEqual(history, "# tune history v1\nset lora_rank 16\nset lora_rnak 8\nshow args\n")
    }

    func testHistoryIsRecalledInTheNextRunAndSearchable() throws {
        try "# tune history v1\nset lora_rank 16\nset lora_rnak 8\nshow args\n".write(toFile: historyPath, atomically: true, encoding: .utf8)
        let term = try start()
        try term.press("Up")
        term.waitForLastLine("tune> show args")
        try term.press("Up")
        term.waitForLastLine("tune> set lora_rnak 8")
        try term.press("Up")
        term.waitForLastLine("tune> set lora_rank 16")
        try term.press("Enter")
        term.waitForLastLine("tune>")

        // Ctrl-R finds an older entry by a piece of it; Enter runs it.
        try term.press("C-r")
        try term.type("rnak")
        _ = term.wait("the search") { $0.last?.contains("rnak") == true }
        try term.press("Enter")
        _ = term.wait("the recalled error") { $0.contains { $0.contains("error: unknown argument 'lora_rnak'") } && $0.last == "tune>" }

        try term.type("show args")
        try term.press("Enter")
        _ = term.wait("the table") { $0.contains("lora_rank  16     8        set") }
        try term.press("C-d")
        _ = term.wait("exit") { $0.last == "[exit 0]" }
    }

    func testACorruptHistoryFileIsSetAsideAndTheREPLStarts() throws {
        let garbage = Data([0x00, 0xFF, 0x13, 0x37, 0x0A])
        try garbage.write(to: URL(fileURLWithPath: historyPath))
        let term = try start()
        XCTAssertTrue(term.screen.contains("warning: history file \(historyPath) was set aside because it is not UTF-8 text"
            + " (now \(historyPath).corrupt); starting with an empty history"), term.screen)
        XCTAssertEqual(FileManager.default.contents(atPath: historyPath + ".corrupt"), garbage)
        try term.type("set lora_rank 2")
        try term.press("Enter")
        term.waitForLastLine("tune>")
        try term.press("C-d")
        _ = term.wait("exit") { $0.last == "[exit 0]" }
        XCTAssertEqual(try String(contentsOfFile: historyPath, encoding: .utf8), "# tune history v1\nset lora_rank 2\n")
    }

    func testMultiLineInputAndExit() throws {
        let term = try start()
        try term.type("set system 'one")
        try term.press("Enter")
        term.waitForLastLine("  ...")
        try term.type("two'")
        try term.press("Enter")
        term.waitForLastLine("tune>")
        try term.type("show args")
        try term.press("Enter")
        _ = term.wait("the value") { $0.contains { $0.hasPrefix("system") && $0.hasSuffix("'one\\ntwo'  None     set") } }
        try term.type("exit 4")
        try term.press("Enter")
        _ = term.wait("exit") { $0.last == "[exit 4]" }
    }
}

final class TerminalColourTests: XCTestCase {
    private func errorLine(environment: [String: String]) throws -> String {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("tune-colour-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        var env = environment
        env["HOME"] = home
        let term = try TmuxTerminal(command: try TuneBinary.url.path, environment: env)
        term.waitForLastLine("tune>")
        try term.type("frob")
        try term.press("Enter")
        _ = term.wait("the error") { $0.contains { $0.contains("unknown command 'frob'") } }
        let withEscapes = try term.tmux(["capture-pane", "-p", "-e", "-J", "-t", term.session], capture: true)
        return withEscapes.split(separator: "\n").map(String.init).first { $0.contains("unknown command 'frob'") } ?? ""
    }

    func testErrorsAreColouredOnATerminalUnlessNoColorIsSet() throws {
        let coloured = try errorLine(environment: ["TERM": "xterm"])
        // tmux re-encodes what it was sent: bold and red arrive as separate sequences.
        XCTAssertTrue(coloured.contains("\u{1B}[31merror:"), coloured.debugDescription)
        let plain = try errorLine(environment: ["TERM": "xterm", "NO_COLOR": "1"])
        XCTAssertFalse(plain.contains("\u{1B}["), plain.debugDescription)
        XCTAssertEqual(plain, "<repl>:1:1: error: unknown command 'frob' (type help for the list)")
    }
}
