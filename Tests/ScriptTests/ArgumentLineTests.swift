import XCTest
@testable import Script

final class ArgumentLineTests: XCTestCase {
    let registry = ArgumentRegistry.shared

    func testAnMSSwiftLineParses() {
        let line = ["--model", "HuggingFaceTB/SmolLM2-135M-Instruct", "--tuner_type", "lora",
                    "--dataset", "a.jsonl", "b.jsonl#100", "--learning_rate", "1e-4", "--use_dora",
                    "--model_kwargs", "{\"k\": 1}", "--cosine_min_len_value_wrong", "-0.5", "--max_length", "None"]
        let parsed = registry.parseArguments(line, command: .rlhf)
        XCTAssertEqual(parsed.errors, [])
        XCTAssertEqual(parsed.order, ["model", "train_type", "dataset", "learning_rate", "use_dora", "model_kwargs",
                                      "cosine_min_len_value_wrong", "max_length"])
        XCTAssertEqual(parsed.values["dataset"], ["a.jsonl", "b.jsonl#100"])
        XCTAssertEqual(parsed.values["use_dora"], true)
        XCTAssertEqual(parsed.values["cosine_min_len_value_wrong"], .double(-0.5))
        XCTAssertEqual(parsed.values["max_length"], ArgumentValue.none)
    }

    func testEveryErrorIsReported() {
        let parsed = registry.parseArguments(
            ["stray", "--lora_rnak", "8", "--lora_rank", "abc", "--infer_backend", "vllm", "--seed", "1"],
            command: .sft)
        XCTAssertEqual(parsed.errors.map { "\($0)" }, [
            "arguments expects a --name before each value, got 'stray'",
            "unknown argument 'lora_rnak'; did you mean 'lora_rank'?",
            "lora_rank expects an integer, got 'abc'",
            "infer_backend is not an argument of 'sft' (taken by: infer, deploy, app, eval, rollout)",
        ])
        XCTAssertEqual(parsed.values, ["seed": 1])
    }

    func testDefaultDescriptionsForHelp() {
        XCTAssertEqual(registry.spec("lora_rank")?.defaultDescription(), "8")
        XCTAssertEqual(registry.spec("learning_rate")?.defaultDescription(), "1e-5 when train_type is 'full', otherwise 1e-4")
        XCTAssertEqual(registry.spec("loss_scale")?.defaultDescription(), "default (last_round for rlhf)")
        XCTAssertEqual(registry.spec("loss_scale")?.defaultDescription(for: .rlhf), "last_round")
        XCTAssertEqual(registry.spec("max_length")?.defaultDescription(), "None (2048 for export, 2048 for merge-lora)")
        XCTAssertNil(registry.spec("create_checkpoint_symlink")?.defaultDescription())
    }
}
