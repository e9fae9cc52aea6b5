import Foundation
import XCTest
@testable import Script

final class SessionFlowTests: XCTestCase {
    func testRunNestsWithRelativePathsAndStopsAtTheLimit() throws {
        let dir = try temporaryDirectory()
        try "set lora_rank 4\nrun inner/second.tune\n".write(toFile: dir + "/first.tune", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: dir + "/inner", withIntermediateDirectories: true)
        try "set lora_alpha 8\n".write(toFile: dir + "/inner/second.tune", atomically: true, encoding: .utf8)
        let h = Harness()
        XCTAssertEqual(h.run("run \(dir)/first.tune"), 0, h.output.errors.description)
        XCTAssertEqual(h.session.value("lora_alpha"), .int(8))
        XCTAssertEqual(h.session.settings["lora_alpha"]?.origin,
                       .script(SourceLocation(file: dir + "/inner/second.tune", line: 1, column: 1)))

        try "run loop.tune\n".write(toFile: dir + "/loop.tune", atomically: true, encoding: .utf8)
        let h2 = Harness()
        XCTAssertEqual(h2.run("run \(dir)/loop.tune\nset lora_rank 1"), 1)
        XCTAssertEqual(h2.output.errors.map(\.description),
                       ["\(dir)/loop.tune:1:5: error: run is nested more than 16 deep (does a script run itself?)"])
        XCTAssertNil(h2.session.value("lora_rank"))
    }

    func testAnErrorInANestedScriptStopsTheOuterOneWithItsOwnPlace() throws {
        let dir = try temporaryDirectory()
        try "set lora_rank 4\nset lora_rank four\nset lora_alpha 1\n".write(toFile: dir + "/bad.tune", atomically: true, encoding: .utf8)
        let h = Harness()
        XCTAssertEqual(h.run("run \(dir)/bad.tune\nset lora_dropout 0.2"), 1)
        XCTAssertEqual(h.output.errors.map(\.description), ["\(dir)/bad.tune:2:15: error: lora_rank expects an integer, got 'four'"])
        XCTAssertNil(h.session.value("lora_alpha"))
        XCTAssertNil(h.session.value("lora_dropout"))
    }

    func testSaveThenReplayGivesTheSameSession() throws {
        let dir = try temporaryDirectory()
        try "set lora_dropout 0.1\n".write(toFile: dir + "/part.tune", atomically: true, encoding: .utf8)
        let h = Harness(interactive: true)
        h.type([
            "set --lora_rank 16 --dataset a.jsonl#20 'b c.jsonl'",
            "set system 'It'\\''s \"tune\"'",
            "help lora_rank",
            "set lora_alpha oops",
            "load model m.gguf as base",
            "load adapter ad as mine",
            "run \(dir)/part.tune",
            "use base",
            "unset lora_rank",
            "set lora_rank 8",
            "ask hello",
            "save \(dir)/saved.tune",
        ])
        XCTAssertEqual(h.output.errors.count, 1)
        let saved = try String(contentsOfFile: dir + "/saved.tune", encoding: .utf8)
        XCTAssertFalse(saved.contains("help"))
        XCTAssertFalse(saved.contains("oops"))

        let replay = Harness()
        XCTAssertEqual(replay.run(saved, file: dir + "/saved.tune"), 0, replay.output.errors.description)
        XCTAssertEqual(replay.session.explicitValues, h.session.explicitValues)
        XCTAssertEqual(replay.session.settingOrder, h.session.settingOrder)
        XCTAssertEqual(replay.session.models, h.session.models)
        XCTAssertEqual(replay.session.adapters, h.session.adapters)
        XCTAssertEqual(replay.session.liveModel, h.session.liveModel)
        XCTAssertEqual(replay.session.liveAdapter, h.session.liveAdapter)
        XCTAssertEqual(replay.backend.generations.map(\.messages), h.backend.generations.map(\.messages))
        XCTAssertEqual(h.session.value("system"), .string("It's \"tune\""))
    }

    func testHistoryListsWhatWasTyped() {
        let h = Harness(interactive: true)
        h.type(["set lora_rank 4", "bogus", "ask 'two", "lines'", "history"])
        XCTAssertEqual(h.output.lines, ["1  set lora_rank 4", "2  bogus", "3  ask 'two", "   lines'", "4  history"])
    }

    func testExitStopsAScriptWithItsCode() {
        let h = Harness()
        XCTAssertEqual(h.run("set lora_rank 1\nexit 3\nset lora_rank 2"), 0)
        XCTAssertEqual(h.interpreter.exitCode, 3)
        XCTAssertEqual(h.session.value("lora_rank"), .int(1))
        let h2 = Harness()
        h2.run("exit 300")
        XCTAssertEqual(h2.output.errors.map(\.message), ["exit takes a number from 0 to 255, got '300'"])
    }

    func testInputLoopReadsContinuationsAndKeepsGoingAfterErrorsAtThePrompt() {
        let h = Harness(interactive: true)
        let reader = ScriptedReader([.line("set --lora_rank 4 \\"), .line("  --lora_alpha 9"), .line("set bad 1"),
                                     .line("set system 'a"), .interrupted, .line("set lora_dropout 0.5"), .end])
        let loop = InputLoop(interpreter: h.interpreter, reader: reader, file: "<repl>", stopsAtError: false, failureExitCode: 0)
        XCTAssertEqual(loop.run(), 0)
        XCTAssertEqual(reader.prompts, ["tune> ", "  ... ", "tune> ", "tune> ", "  ... ", "tune> ", "tune> "])
        XCTAssertEqual(h.session.value("lora_alpha"), .int(9))
        XCTAssertEqual(h.session.value("lora_dropout"), .double(0.5))
        XCTAssertNil(h.session.value("system"), "Ctrl-C dropped the unfinished quote")
        XCTAssertEqual(h.output.errors.map(\.description), ["<repl>:3:5: error: unknown argument 'bad'"])
        XCTAssertEqual(reader.remembered, ["set --lora_rank 4 \\\n  --lora_alpha 9", "set bad 1", "set lora_dropout 0.5"])
    }

    func testInputLoopOnStandardInputStopsAtTheFirstError() {
        let h = Harness()
        let reader = ScriptedReader([.line("set lora_rank 4"), .line("set lora_rank x"), .line("set lora_alpha 2")])
        let loop = InputLoop(interpreter: h.interpreter, reader: reader, file: "<stdin>", stopsAtError: true, failureExitCode: 1)
        XCTAssertEqual(loop.run(), 1)
        XCTAssertNil(h.session.value("lora_alpha"))
        XCTAssertEqual(h.output.errors.map(\.description), ["<stdin>:2:15: error: lora_rank expects an integer, got 'x'"])
    }

    func testChatKeepsTheConversationAndHandlesItsCommands() {
        let h = Harness(interactive: true)
        h.session.set("system", "Be kind.", origin: .set)
        let reader = ScriptedReader([
            .line("chat"), .line("hello"), .line("two \\"), .line("lines"), .line("/system Be terse."), .line("again"),
            .line("/clear"), .line("after clear"), .line("/reset"), .line("/shout"), .interrupted, .line("/exit"),
            .line("set lora_rank 4"),
        ])
        h.interpreter.input = reader
        let loop = InputLoop(interpreter: h.interpreter, reader: reader, file: "<repl>", stopsAtError: false, failureExitCode: 0)
        h.run("load model m.gguf")
        XCTAssertEqual(loop.run(), 0)
        let sent = h.backend.generations.map(\.messages)
        XCTAssertEqual(sent.count, 4)
        XCTAssertEqual(sent[0], [ChatMessage(role: "system", content: "Be kind."), ChatMessage(role: "user", content: "hello")])
        XCTAssertEqual(sent[1].last, ChatMessage(role: "user", content: "two \nlines"))
        XCTAssertEqual(sent[1].count, 4, "the first exchange is kept")
        XCTAssertEqual(sent[2], [ChatMessage(role: "system", content: "Be terse."), ChatMessage(role: "user", content: "again")])
        XCTAssertEqual(sent[3], [ChatMessage(role: "system", content: "Be terse."), ChatMessage(role: "user", content: "after clear")])
        XCTAssertEqual(h.session.conversation, [ChatMessage(role: "system", content: "Be kind.")])
        XCTAssertEqual(h.output.errors.map(\.message), ["unknown chat command '/shout'; chat knows /exit /clear /system /reset"])
        XCTAssertEqual(h.session.value("lora_rank"), .int(4), "the REPL goes on after /exit")
        XCTAssertTrue(reader.prompts.contains("chat> ") && reader.prompts.contains("...> "))
    }

    func testCtrlCStopsTheAnswerNotTheChat() {
        let h = Harness(interactive: true)
        h.backend.cancelAfterPieces = 2
        let reader = ScriptedReader([.line("first question here"), .line("second")])
        h.interpreter.input = reader
        XCTAssertEqual(h.run("load model m.gguf\nchat"), 0, h.output.errors.description)
        // The first answer stops after two pieces; the next turn starts with the flag lowered.
        XCTAssertEqual(h.output.streamed, "echo: first\necho: second\n")
        XCTAssertEqual(h.output.lines.filter { $0 == "[stopped]" }.count, 1)
        XCTAssertEqual(h.session.conversation.map(\.content), ["first question here", "echo: first", "second", "echo: second"])
    }

    func testChatNeedsSomewhereToReadFrom() {
        let h = Harness()
        h.run("load model m.gguf\nchat")
        XCTAssertEqual(h.output.errors.map(\.message), ["chat needs a terminal or standard input to read from; in a script file use ask"])
    }

    func testInferWithoutADatasetIsAConversation() {
        let h = Harness()
        h.interpreter.input = ScriptedReader([.line("hi"), .line("/exit")])
        XCTAssertEqual(h.run("infer --model m.gguf --adapters out/ckpt --temperature 0"), 0, h.output.errors.description)
        XCTAssertEqual(h.session.liveModel, "m")
        XCTAssertEqual(h.session.liveAdapter, "ckpt")
        XCTAssertEqual(h.backend.generations.count, 1)
        XCTAssertEqual(h.backend.generations[0].arguments.double("temperature"), 0)
        XCTAssertEqual(h.output.streamed, "echo: hi\n")
        XCTAssertEqual(h.backend.requests.count, 0)
        XCTAssertNil(h.session.value("temperature"), "the call's flags stay with the call")
    }

    func testInferOverADatasetGoesToTheEngine() {
        let h = Harness()
        XCTAssertEqual(h.run("load model m.gguf\ninfer --val_dataset test.jsonl --metric acc"), 0, h.output.errors.description)
        XCTAssertEqual(h.backend.requests.map(\.kind), [.swift(.infer)])
        XCTAssertEqual(h.backend.requests[0].arguments.strings("val_dataset"), ["test.jsonl"])
        XCTAssertEqual(h.backend.generations.count, 0)
    }

    func testInferNeedsAModelAndSomewhereToRead() {
        let h = Harness()
        h.interpreter.input = ScriptedReader([])
        h.run("infer")
        XCTAssertEqual(h.output.errors.map(\.message), ["infer needs --model (or a loaded model), or --val_dataset to answer a dataset"])
        let h2 = Harness()
        h2.run("infer --model m.gguf")
        XCTAssertEqual(h2.output.errors.map(\.message), ["infer without --val_dataset is a conversation: it needs a terminal or standard input"])
    }

    func testThePromptNamesTheLiveModelAndAdapter() {
        let h = Harness(interactive: true)
        let reader = ScriptedReader([.line("load model m.gguf as small"), .line("load adapter a as mine"), .line("use base")])
        let loop = InputLoop(interpreter: h.interpreter, reader: reader, file: "<repl>", stopsAtError: false, failureExitCode: 0)
        let session = h.session
        loop.prompt = { InputLoop.prompt(for: session) }
        XCTAssertEqual(loop.run(), 0)
        XCTAssertEqual(reader.prompts, ["tune> ", "tune[small]> ", "tune[small+mine]> ", "tune[small]> "])
    }
}
