import XCTest
@testable import Script

final class InterpreterArgumentTests: XCTestCase {
    func testSetInBothFormsAndProvenance() {
        let h = Harness()
        XCTAssertEqual(h.run("""
            set lora_rank 16
            set --lora_alpha 64 --dataset data/a.jsonl#200 'data/b c.csv' --max_length 512
            set model_name 小黄 'Xiao Huang'
            """), 0)
        let s = h.session
        XCTAssertEqual(s.value("lora_rank"), .int(16))
        XCTAssertEqual(s.value("lora_alpha"), .int(64))
        XCTAssertEqual(s.value("dataset"), .list([.string("data/a.jsonl#200"), .string("data/b c.csv")]))
        XCTAssertEqual(s.value("max_length"), .int(512))
        XCTAssertEqual(s.value("model_name"), .list([.string("小黄"), .string("Xiao Huang")]))
        XCTAssertEqual(s.settings["lora_alpha"]?.origin, .script(SourceLocation(file: "test.tune", line: 2, column: 1)))
        XCTAssertEqual(s.settingOrder, ["lora_rank", "lora_alpha", "dataset", "max_length", "model_name"])
    }

    func testSetAtThePromptIsMarkedSetAndAliasesStoreTheCanonicalName() {
        let h = Harness(interactive: true)
        h.type(["set tuner_type full", "set --lora-rank 4"])
        XCTAssertEqual(h.session.settings["train_type"], ArgumentSetting(value: .string("full"), origin: .set))
        XCTAssertEqual(h.session.value("lora_rank"), .int(4))
        XCTAssertEqual(h.output.errors, [])
    }

    func testShowArgsListsValueDefaultAndOrigin() {
        let h = Harness(interactive: true)
        h.session.set("learning_rate", .double(2e-4), origin: .commandLine)
        h.session.set("num_train_epochs", .int(1), origin: .argsJSON(path: "out/args.json"))
        h.type(["set lora_rank 16", "show args"])
        XCTAssertEqual(h.output.lines, [
            "argument          value   default                                         from",
            "learning_rate     0.0002  1e-5 when train_type is 'full', otherwise 1e-4  command line",
            "num_train_epochs  1       3.0                                             args.json out/args.json",
            "lora_rank         16      8                                               set",
        ])
    }

    func testShowArgsWithAFilterShowsDefaultsToo() {
        let h = Harness(interactive: true)
        h.type(["set lora_dropout 0.1", "show args lora_d"])
        XCTAssertEqual(h.output.lines, [
            // Prefix matches first, then names that contain the filter.
            "argument        value  default  from",
            "lora_dropout    0.1    0.05     set",
            "lora_dtype      None   None     default",
            "adalora_deltaT  1      1        default",
        ])
    }

    func testUnsetReturnsToDefault() {
        let h = Harness()
        XCTAssertEqual(h.run("set lora_rank 16\nset lora_alpha 8\nunset lora_rank\nshow args"), 0)
        XCTAssertNil(h.session.value("lora_rank"))
        XCTAssertEqual(h.output.lines, ["argument    value  default  from", "lora_alpha  8      32       script test.tune:2:1"])
    }

    func testArgumentErrorsCarryFileLineColumnAndSuggestions() {
        let h = Harness()
        XCTAssertEqual(h.run("set lora_rank 8\n  set --lora_rnak 8 --lora_dropout high\nset lora_rank 4"), 1)
        XCTAssertEqual(h.output.errors.map(\.description), [
            "test.tune:2:7: error: unknown argument 'lora_rnak'; did you mean 'lora_rank'?",
            "test.tune:2:36: error: lora_dropout expects a number, got 'high'",
        ])
        // The first error stops the script, and a failed set changes nothing.
        XCTAssertEqual(h.session.value("lora_rank"), .int(8))
        XCTAssertNil(h.session.value("lora_dropout"))
    }

    func testIgnoreArgsErrorTurnsArgumentErrorsIntoWarnings() {
        let h = Harness()
        XCTAssertEqual(h.run("""
            set ignore_args_error true
            set --lora_rnak 8 --lora_alpha 16
            set lora_rank x
            set lora_rank 4
            """), 0)
        XCTAssertEqual(h.output.errors, [])
        XCTAssertEqual(h.output.warnings.map(\.description), [
            "test.tune:2:5: warning: unknown argument 'lora_rnak'; did you mean 'lora_rank'?",
            "test.tune:3:15: warning: lora_rank expects an integer, got 'x'",
        ])
        XCTAssertEqual(h.session.value("lora_alpha"), .int(16))
        XCTAssertEqual(h.session.value("lora_rank"), .int(4))
    }

    func testIgnoreArgsErrorDoesNotHideOtherErrors() {
        let h = Harness()
        XCTAssertEqual(h.run("set ignore_args_error true\nfrobnicate\nset lora_rank 4"), 1)
        XCTAssertEqual(h.output.errors.map(\.description), ["test.tune:2:1: error: unknown command 'frobnicate' (type help for the list)"])
        XCTAssertNil(h.session.value("lora_rank"))
    }

    func testUnsupportedValuesSayWhatIsSupported() {
        let h = Harness()
        h.run("infer --infer_backend vllm")
        XCTAssertEqual(h.output.errors.count, 1)
        let message = h.output.errors[0].description
        XCTAssertTrue(message.hasPrefix("test.tune:1:23: error: infer_backend 'vllm' is not available in this engine"), message)
    }

    func testUnknownVerbSuggestsTheNearest() {
        let h = Harness()
        h.run("lod model x.gguf")
        XCTAssertEqual(h.output.errors.map(\.description), ["test.tune:1:1: error: unknown command 'lod'; did you mean 'load'?"])
        let h2 = Harness()
        h2.run("lora_rank 8")
        XCTAssertEqual(h2.output.errors.map(\.message),
                       ["'lora_rank' is an argument, not a command; to change it write: set lora_rank 8"])
    }

    func testInterpolationFromSessionAndEnvironment() throws {
        setenv("TUNE_TEST_DIR", "/data/sets", 1)
        let h = Harness()
        XCTAssertEqual(h.run("""
            set lora_rank 16
            set --lora_alpha ${lora_rank} --dataset "${TUNE_TEST_DIR}/a.jsonl" $TUNE_TEST_DIR/b.jsonl
            set dataset ${dataset} c.jsonl
            """), 0)
        XCTAssertEqual(h.session.value("lora_alpha"), .int(16))
        // An unquoted ${NAME} holding a list stays a list.
        XCTAssertEqual(h.session.value("dataset"),
                       .list([.string("/data/sets/a.jsonl"), .string("/data/sets/b.jsonl"), .string("c.jsonl")]))
    }

    func testUnknownVariableIsAnErrorAtItsPlace() {
        let h = Harness()
        XCTAssertEqual(h.run("set output_dir \"out/${NO_SUCH_THING_9}\""), 1)
        XCTAssertEqual(h.output.errors.map(\.description), [
            "test.tune:1:21: error: '${NO_SUCH_THING_9}' is not set: no session argument or environment variable has that name",
        ])
    }

    func testCheckModeReportsEveryErrorAndRunsNothing() {
        let h = Harness()
        h.interpreter.checkOnly = true
        let failures = h.run("""
            set lora_rnak 8
            load model m.gguf
            ask hello
            sft --num_train_epochs x
            frob
            set lora_rank 4
            """)
        XCTAssertEqual(failures, 3)
        XCTAssertEqual(h.output.errors.map { $0.location!.line }, [1, 4, 5])
        XCTAssertEqual(h.backend.generations.count, 0)
        XCTAssertEqual(h.backend.requests.count, 0)
        XCTAssertEqual(h.backend.loaded.count, 0)
    }
}
