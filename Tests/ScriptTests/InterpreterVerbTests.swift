import Foundation
import XCTest
@testable import Script

final class InterpreterVerbTests: XCTestCase {
    func testHelpForAnArgumentShowsTypeDefaultChoicesAndCommands() {
        let h = Harness(interactive: true)
        h.type(["set lora_rank 32", "?lora_rank"])
        XCTAssertEqual(h.output.lines, [
            "lora_rank  (argument, LoRA)",
            "  Rank r of the low-rank update: the inner size of the two LoRA matrices.",
            "  type:     an integer",
            "  range:    a value >= 1",
            "  default:  8",
            "  taken by: pt sft rlhf",
            "  session:  32  (from set)",
        ])
    }

    func testHelpNamesTheAliasAndTheEngineRestriction() {
        let h = Harness()
        h.run("help tuner_type")
        XCTAssertEqual(h.output.lines[1], "  'tuner_type' is another name for 'train_type'")
        XCTAssertTrue(h.output.lines.contains("  default:  lora"))
        XCTAssertTrue(h.output.lines.contains { $0.hasPrefix("  note:     this engine takes only lora, full") })
    }

    func testHelpForAVerbAndForACommand() {
        let h = Harness()
        h.run("help load\nhelp sft")
        XCTAssertEqual(h.output.lines[0], "usage: load model|adapter|dataset PATH [as NAME]")
        let sft = h.output.lines.first { $0.hasPrefix("takes ") }!
        let count = ArgumentRegistry.shared.specs(for: .sft).count
        XCTAssertTrue(sft.hasPrefix("takes \(count) arguments, from: Base Arguments, Model Arguments"), sft)
    }

    func testHelpWithAPartialNameListsMatchesAndUnknownSuggests() {
        let h = Harness()
        h.run("help lora_alp")
        XCTAssertEqual(h.output.lines.map { String($0.prefix { $0 != " " }) }, ["lora_alpha"])
        let h2 = Harness()
        XCTAssertEqual(h2.run("help lroa_rank"), 1)
        XCTAssertEqual(h2.output.errors.map(\.description), ["test.tune:1:6: error: nothing is called 'lroa_rank'; did you mean 'lora_rank'?"])
    }

    func testHelpOverviewListsEveryVerbGroup() {
        let h = Harness()
        h.run("help")
        for heading in ["Arguments:", "Models, adapters, datasets:", "Generation:", "ms-swift commands:", "Session:"] {
            XCTAssertTrue(h.output.lines.contains(heading), heading)
        }
        XCTAssertTrue(h.output.lines.contains("  pt sft rlhf infer deploy app eval export sample merge-lora web-ui rollout merge quantize continue"))
    }

    func testLoadUseAndUnloadObjects() {
        let h = Harness()
        XCTAssertEqual(h.run("""
            load model models/small.gguf
            load adapter out/v0/checkpoint-40 as mine
            load dataset data/train.jsonl#500 as train
            load dataset data/train.jsonl
            use base
            models
            adapters
            datasets
            """), 0, h.output.errors.description)
        XCTAssertEqual(h.session.liveModel, "small")
        XCTAssertNil(h.session.liveAdapter)
        XCTAssertEqual(h.session.datasets.map(\.name), ["train", "train-2"])
        XCTAssertTrue(h.output.lines.contains("*  small  models/small.gguf  fake model"), h.output.text)
        XCTAssertTrue(h.output.lines.contains("   mine  out/v0/checkpoint-40  fake adapter"))
        h.run("use adapter mine\nunload mine\nunload small")
        XCTAssertEqual(h.output.errors, [])
        XCTAssertNil(h.session.liveAdapter)
        XCTAssertNil(h.session.liveModel)
        XCTAssertEqual(h.backend.loaded.values.sorted(), ["data/train.jsonl", "data/train.jsonl#500"])
    }

    func testObjectErrors() {
        let h = Harness()
        h.run("load adapter a")
        XCTAssertEqual(h.output.errors.map(\.message), ["no model is loaded; load one first with: load model PATH"])
        let h2 = Harness()
        h2.run("load model m.gguf as small\nuse model smal")
        XCTAssertEqual(h2.output.errors.map(\.description), ["test.tune:2:11: error: nothing loaded is called 'smal'; did you mean 'small'?"])
        let h3 = Harness()
        h3.run("load modle m.gguf")
        XCTAssertEqual(h3.output.errors.map(\.message), ["load takes model, adapter or dataset, not 'modle'; did you mean 'model'?"])
        let h4 = Harness()
        h4.run("load model missing.gguf")
        XCTAssertEqual(h4.output.errors.map(\.description), ["test.tune:1:1: error: missing.gguf: no such file"])
    }

    func testAskStreamsAndTakesGenerationFlagsForOneCall() {
        let h = Harness()
        XCTAssertEqual(h.run("""
            set system 'Be brief.'
            load model m.gguf
            ask --temperature 0 --max_new_tokens 5 "Who are you?"
            ask again
            """), 0, h.output.errors.description)
        XCTAssertEqual(h.output.streamed, "echo: Who are you?\necho: again\n")
        let first = h.backend.generations[0]
        XCTAssertEqual(first.messages, [ChatMessage(role: "system", content: "Be brief."),
                                        ChatMessage(role: "user", content: "Who are you?")])
        XCTAssertEqual(first.arguments.double("temperature"), 0)
        XCTAssertEqual(first.arguments.int("max_new_tokens"), 5)
        // The flags were for that call only.
        XCTAssertNil(h.backend.generations[1].arguments.explicit["temperature"])
        XCTAssertNil(h.session.value("temperature"))
    }

    func testTokenizeAndRender() {
        let h = Harness()
        h.run("load model m.gguf\ntokenize hello big world\nrender hi there")
        XCTAssertEqual(h.output.lines, [
            "model m: fake model",
            "id   piece", "100  hello", "101  big", "102  world", "3 tokens",
            "<user>hi there", "tokens (| between tokens, [..] carries loss):", "<user>|hi there",
            "2 tokens, 0 carry loss (loss_scale default)",
        ])
    }

    func testRenderADatasetRowMarksTheLossTokens() {
        let h = Harness()
        XCTAssertEqual(h.run("load model m.gguf\nload dataset d.jsonl as train\nrender dataset train 2"), 0,
                       h.output.errors.description)
        XCTAssertEqual(Array(h.output.lines.suffix(4)), [
            "<user>q2<assistant>a2", "tokens (| between tokens, [..] carries loss):", "<user>|q2|<assistant>|[a2]",
            "4 tokens, 1 carry loss (loss_scale default)",
        ])
        h.run("render dataset trian")
        XCTAssertEqual(h.output.errors.map(\.description), ["test.tune:1:16: error: no dataset is called 'trian'; did you mean 'train'?"])
    }

    func testCommandFlagsOverrideForOneCallAndArgsJSONIsWritten() throws {
        let dir = try temporaryDirectory()
        let h = Harness()
        h.backend.outputDir = dir
        XCTAssertEqual(h.run("""
            set --lora_rank 16 --temperature 0.3
            load model m.gguf
            load dataset d.jsonl
            sft --lora_rank 4 --output_dir \(dir)
            """), 0, h.output.errors.description)
        let request = try XCTUnwrap(h.backend.requests.first)
        XCTAssertEqual(request.kind, .swift(.sft))
        XCTAssertEqual(request.arguments.int("lora_rank"), 4)
        XCTAssertEqual(request.arguments.string("model"), "m.gguf")
        // temperature is an sft argument too (generation during eval); it passes through.
        XCTAssertEqual(request.arguments.double("temperature"), 0.3)
        XCTAssertEqual(request.datasets.map(\.spec), ["d.jsonl"])
        XCTAssertEqual(h.session.value("lora_rank"), .int(16))
        XCTAssertEqual(h.session.liveAdapter, "checkpoint-2")
        // args.json holds every sft argument, resolved, in ms-swift's names.
        let saved = try ArgsJSONFile.read(path: dir + "/args.json")
        XCTAssertEqual(saved.unknownKeys, [])
        XCTAssertEqual(saved.values["lora_rank"], .int(4))
        XCTAssertEqual(saved.values["learning_rate"], .double(1e-4))
        XCTAssertEqual(saved.values["model"], .string("m.gguf"))
        XCTAssertEqual(saved.values.count, ArgumentRegistry.shared.specs(for: .sft).count)
        XCTAssertEqual(h.output.events, [ProgressEvent(task: "loading", completed: 1, total: 1),
                                         ProgressEvent(task: "sft", completed: 1, total: 2, metrics: ["loss": 1.5])])
    }

    func testCommandRejectsArgumentsItDoesNotTake() {
        let h = Harness()
        h.run("export --lora_rank 8")
        XCTAssertEqual(h.output.errors.map(\.description),
                       ["test.tune:1:8: error: lora_rank is not an argument of 'export' (taken by: pt, sft, rlhf)"])
    }

    func testMergeNeedsAnAdapterAndMakesANewLiveModel() {
        let h = Harness()
        h.run("load model m.gguf\nmerge")
        XCTAssertEqual(h.output.errors.map(\.message), ["merge needs a live adapter; load adapter PATH or use adapter NAME first"])
        let h2 = Harness()
        XCTAssertEqual(h2.run("load model m.gguf\nload adapter a\nmerge"), 0)
        XCTAssertEqual(h2.session.liveModel, "merged")
        XCTAssertEqual(h2.backend.requests.first?.adapter?.path, "a")
    }

    func testUnwiredBackendSaysSoAndCheckStillValidates() {
        let output = RecordingOutput()
        let interp = Interpreter(backend: UnwiredBackend(), output: output)
        // sft loads the model its --model names first, and says which part is missing.
        XCTAssertEqual(interp.runScript("sft --model m --dataset d --lora_rank 8", file: "x.tune"), 1)
        XCTAssertEqual(output.errors.map(\.description), [
            "x.tune:1:1: error: 'load model' is not available in this build yet (no engine for it is wired in)",
        ])
        let checkOut = RecordingOutput()
        let checker = Interpreter(backend: UnwiredBackend(), output: checkOut)
        checker.checkOnly = true
        XCTAssertEqual(checker.runScript("sft --model m --dataset d --lora_rank 8\nexport --quant_method q4_k", file: "x.tune"), 0)
        XCTAssertEqual(checkOut.diagnostics, [])
    }

    func testLoadArgsReadsTheCheckpointArgsJSON() throws {
        let run = try temporaryDirectory()
        let ckpt = run + "/checkpoint-40"
        try FileManager.default.createDirectory(atPath: ckpt, withIntermediateDirectories: true)
        let trained = ResolvedArguments(command: .sft, explicit: [
            "model": "base-model", "train_type": "full", "system": "You are tune.", "dataset": ["d.jsonl"],
            "max_length": 512,
        ], interactive: false)
        try ArgsJSONFile.write(trained, toDirectory: run)
        let h = Harness()
        XCTAssertEqual(h.run("infer --adapters \(ckpt) --val_dataset v.jsonl\ninfer --adapters \(ckpt) --system Other --load_data_args true"), 0,
                       h.output.errors.description)
        guard h.backend.requests.count == 2 else { return XCTFail("expected two infer runs") }
        let first = h.backend.requests[0].arguments
        XCTAssertEqual(first.string("model"), "base-model")
        XCTAssertEqual(first.string("train_type"), "full")
        XCTAssertEqual(first.string("system"), "You are tune.")
        XCTAssertEqual(first.strings("dataset"), [])
        let second = h.backend.requests[1].arguments
        XCTAssertEqual(second.string("system"), "Other")
        XCTAssertEqual(second.strings("dataset"), ["d.jsonl"])
    }

    func testCommandTakesAJSONFileOfArguments() throws {
        let dir = try temporaryDirectory()
        let path = dir + "/cfg.json"
        try Data(#"{"lora_rank": 4, "learning_rate": 5e-5, "not_a_known_key": 1}"#.utf8).write(to: URL(fileURLWithPath: path))
        let h = Harness()
        XCTAssertEqual(h.run("load model m.gguf\nsft \(path) --lora_rank 2"), 0, h.output.errors.description)
        guard !h.backend.requests.isEmpty else { return XCTFail("sft made no request") }
        let args = h.backend.requests[0].arguments
        XCTAssertEqual(args.int("lora_rank"), 2)
        XCTAssertEqual(args.double("learning_rate"), 5e-5)
    }
}
