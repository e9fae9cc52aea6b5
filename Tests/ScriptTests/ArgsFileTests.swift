import XCTest
@testable import Script

final class ArgsFileTests: XCTestCase {
    let registry = ArgumentRegistry.shared

    func testResolvedArgumentsUseMSSwiftNames() throws {
        let json = registry.argsJSON(command: .sft, explicit: [
            "model": "HuggingFaceTB/SmolLM2-135M-Instruct", "tuner_type": "lora", "per_device_train_batch_size": 2,
            "dataset": ["d.jsonl#100"],
        ])
        guard case .object(let args) = json else { return XCTFail("args.json is not an object") }
        XCTAssertEqual(args["train_type"], .string("lora"), "aliases are written under the documented name")
        XCTAssertNil(args["tuner_type"])
        XCTAssertEqual(args["learning_rate"], .double(1e-4))
        XCTAssertEqual(args["gradient_accumulation_steps"], .int(8))
        XCTAssertEqual(args["eval_strategy"], .string("no"))
        XCTAssertEqual(args["output_dir"], .string("output/SmolLM2-135M-Instruct"))
        XCTAssertEqual(args["dataset"], .array([.string("d.jsonl#100")]))
        XCTAssertEqual(args["max_length"], .null)
        XCTAssertNil(args["infer_backend"], "sft does not take infer_backend")
        XCTAssertEqual(args.count, registry.specs(for: .sft).count)
    }

    func testArgsJSONReadsBack() {
        let text: JSONValue = .object([
            "tuner_type": .string("full"), "learning_rate": .int(1), "num_train_epochs": .int(2),
            "model_kwargs": .object(["k": .int(1)]), "target_modules": .array([.string("q_proj")]),
            "max_length": .null, "some_future_key": .bool(true), "rope_scaling": .object(["factor": .double(2)]),
        ])
        let (values, unknown) = registry.arguments(fromArgsJSON: text)
        XCTAssertEqual(unknown, ["some_future_key"])
        XCTAssertEqual(values["train_type"], "full")
        XCTAssertEqual(values["learning_rate"], .double(1))
        XCTAssertEqual(values["num_train_epochs"], .double(2))
        XCTAssertEqual(values["model_kwargs"], .json(.object(["k": .int(1)])))
        XCTAssertEqual(values["rope_scaling"], .json(.object(["factor": .double(2)])))
        XCTAssertEqual(values["target_modules"], ["q_proj"])
        XCTAssertEqual(values["max_length"], ArgumentValue.none)
    }
}
