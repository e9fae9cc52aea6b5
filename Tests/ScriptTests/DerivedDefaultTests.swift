import XCTest
@testable import Script

final class DerivedDefaultTests: XCTestCase {
    let registry = ArgumentRegistry.shared

    private func value(_ name: String, _ command: Command = .sft, _ explicit: [String: ArgumentValue] = [:],
                       interactive: Bool = false) -> ArgumentValue? {
        registry.resolvedValue(name, command: command, explicit: explicit, interactive: interactive)
    }

    func testLearningRateFollowsTrainType() {
        XCTAssertEqual(value("learning_rate"), .double(1e-4), "train_type defaults to lora")
        XCTAssertEqual(value("learning_rate", .sft, ["train_type": "lora"]), .double(1e-4))
        XCTAssertEqual(value("learning_rate", .sft, ["train_type": "full"]), .double(1e-5))
        XCTAssertEqual(value("learning_rate", .pt, ["train_type": "vera"]), .double(1e-4))
        XCTAssertEqual(value("learning_rate", .sft, ["train_type": "full", "learning_rate": 3e-4]), .double(3e-4))
        XCTAssertEqual(value("learning_rate", .sft, ["learning_rate": .none]), .double(1e-4),
                       "an explicit None still gets the derived default")
    }

    func testGradientAccumulationReachesTotalBatch16() {
        XCTAssertEqual(value("gradient_accumulation_steps"), 16, "batch 1, one process")
        XCTAssertEqual(value("gradient_accumulation_steps", .sft, ["per_device_train_batch_size": 2]), 8)
        XCTAssertEqual(value("gradient_accumulation_steps", .sft, ["per_device_train_batch_size": 3]), 6, "ceil(16/3)")
        XCTAssertEqual(value("gradient_accumulation_steps", .sft, ["per_device_train_batch_size": 32]), 1)
        XCTAssertEqual(registry.resolvedValue("gradient_accumulation_steps", command: .sft,
                                              explicit: ["per_device_train_batch_size": 2], worldSize: 2), 4)
        XCTAssertEqual(value("gradient_accumulation_steps", .sft, ["gradient_accumulation_steps": 4]), 4)
    }

    func testEvalStrategyFollowsSaveStrategy() {
        XCTAssertEqual(value("eval_strategy"), "no", "no validation data and split_dataset_ratio 0")
        XCTAssertEqual(value("eval_strategy", .sft, ["split_dataset_ratio": 0.1]), "steps")
        XCTAssertEqual(value("eval_strategy", .sft, ["val_dataset": ["v.jsonl"], "save_strategy": "epoch"]), "epoch")
        XCTAssertEqual(value("eval_strategy", .sft, ["split_dataset_ratio": 0.1, "eval_strategy": "no"]), "no")
        XCTAssertEqual(value("eval_steps"), 500)
        XCTAssertEqual(value("eval_steps", .sft, ["save_steps": 40]), 40)
    }

    func testStreamIsOnWhenInteractive() {
        XCTAssertEqual(value("stream", .infer, interactive: true), true)
        XCTAssertEqual(value("stream", .infer, interactive: false), false)
        XCTAssertEqual(value("stream", .infer, ["stream": false], interactive: true), false)
    }

    func testOtherDerivedDefaults() {
        let model: [String: ArgumentValue] = ["model": "HuggingFaceTB/SmolLM2-135M-Instruct"]
        XCTAssertEqual(value("output_dir", .sft, model), "output/SmolLM2-135M-Instruct")
        XCTAssertEqual(value("output_dir", .sft, ["model": "/m/SmolLM2.Q4_1.gguf"]), "output/SmolLM2.Q4_1")
        XCTAssertEqual(value("logging_dir", .sft, model), "output/SmolLM2-135M-Instruct/runs")
        XCTAssertEqual(value("logging_dir", .sft, ["output_dir": "out"]), "out/runs")
        XCTAssertEqual(value("served_model_name", .deploy, model), "SmolLM2-135M-Instruct")
        XCTAssertEqual(value("metric_for_best_model"), "loss")
        XCTAssertEqual(value("metric_for_best_model", .sft, ["predict_with_generate": true]), "rouge-l")
        XCTAssertEqual(value("metric_for_best_model", .rlhf, ["rlhf_type": "grpo"]), "reward")
        XCTAssertEqual(value("greater_is_better"), false)
        XCTAssertEqual(value("greater_is_better", .sft, ["predict_with_generate": true]), true)
        XCTAssertEqual(value("beta", .rlhf), 0.1, "dpo")
        XCTAssertEqual(value("beta", .rlhf, ["rlhf_type": "simpo"]), 2.0)
        XCTAssertEqual(value("beta", .rlhf, ["rlhf_type": "grpo"]), 0.04)
        XCTAssertEqual(value("beta", .rlhf, ["rlhf_type": "gkd"]), 0.5)
        XCTAssertEqual(value("truncation_strategy", .rlhf, ["rlhf_type": "grpo"]), "left")
        XCTAssertEqual(value("truncation_strategy", .sft), "delete")
        XCTAssertEqual(value("padding_side", .rlhf, ["rlhf_type": "ppo"]), "left")
        XCTAssertEqual(value("remove_unused_columns", .rlhf, ["rlhf_type": "grpo"]), false)
        XCTAssertEqual(value("remove_unused_columns", .sft), true)
        XCTAssertEqual(value("loss_type", .rlhf, ["rlhf_type": "grpo"]), "grpo")
        XCTAssertEqual(value("metric"), "acc")
        XCTAssertEqual(value("metric", .sft, ["predict_with_generate": true]), "nlg")
        XCTAssertEqual(value("steps_per_generation", .rlhf, ["per_device_train_batch_size": 4]), 4)
        XCTAssertEqual(value("generation_batch_size", .rlhf, ["per_device_train_batch_size": 4]), 16)
        XCTAssertEqual(value("cosine_max_len", .rlhf), 512)
        XCTAssertEqual(value("dataloader_num_workers"), 1)
        XCTAssertEqual(value("dataloader_prefetch_factor"), 10)
        XCTAssertEqual(value("vit_lr", .sft, ["train_type": "full"]), .double(1e-5))
        XCTAssertNotNil(registry.spec("learning_rate")?.derivedDefault?.summary)
    }
}
