import XCTest
@testable import Script

final class ArgumentParsingTests: XCTestCase {
    let registry = ArgumentRegistry.shared

    private func parse(
        _ name: String, _ words: [String], command: Command? = nil, checkSupport: Bool = true
    ) throws -> ArgumentValue {
        try registry.parse(name: name, words: words, command: command, checkSupport: checkSupport).value
    }

    private func message(_ name: String, _ words: [String], command: Command? = nil) -> String {
        do {
            let v = try parse(name, words, command: command)
            return "no error; parsed \(v)"
        } catch {
            return "\(error)"
        }
    }

    func testListsAreSpaceSeparatedWords() throws {
        XCTAssertEqual(try parse("dataset", ["a.jsonl", "b.jsonl#100"]), ["a.jsonl", "b.jsonl#100"])
        XCTAssertEqual(try parse("model_name", ["小黄", "Xiao Huang"]), ["小黄", "Xiao Huang"])
        XCTAssertEqual(try parse("target_modules", []), [])
        XCTAssertEqual(try parse("data_range", ["2", "3"]), [2, 3])
        XCTAssertEqual(try parse("reft_layers", ["1", "2", "3", "4"], checkSupport: false), [1, 2, 3, 4])
        XCTAssertEqual(try parse("target_modules", ["['q_proj', 'v_proj']"]), ["q_proj", "v_proj"])
        XCTAssertEqual(try parse("interleave_prob", ["0.3", "0.7"]), [0.3, 0.7])
    }

    func testDictsAreJSON() throws {
        XCTAssertEqual(try parse("model_kwargs", ["{\"fps_max_frames\": 12}"]),
                       .json(.object(["fps_max_frames": .int(12)])))
        XCTAssertEqual(try parse("columns", ["{\"text1\": \"query\", \"text2\": \"response\"}"]),
                       .json(.object(["text1": .string("query"), "text2": .string("response")])))
        // Python-literal dicts as people write them: single quotes, bare integer keys, True/None.
        XCTAssertEqual(try parse("max_memory", ["{0: \"20GB\", 1: \"20GB\"}"], checkSupport: false),
                       .json(.object(["0": .string("20GB"), "1": .string("20GB")])))
        XCTAssertEqual(try parse("eval_generation_config", ["{'max_tokens': 512, 'x': True, 'y': None}"]),
                       .json(.object(["max_tokens": .int(512), "x": .bool(true), "y": .null])))
        XCTAssertEqual(try parse("rope_scaling", ["{\"factor\":2.0,\"type\":\"yarn\"}"]),
                       .json(.object(["factor": .double(2.0), "type": .string("yarn")])))
        XCTAssertEqual(try parse("rope_scaling", ["yarn"]), "yarn")
        XCTAssertEqual(message("model_kwargs", ["{\"k\": 1"]), "model_kwargs expects a JSON object, got '{\"k\": 1'")
        XCTAssertEqual(message("model_kwargs", ["[1, 2]"]), "model_kwargs expects a JSON object, got '[1, 2]'")
    }

    func testBooleans() throws {
        for word in ["true", "True", "TRUE", "1"] { XCTAssertEqual(try parse("use_dora", [word]), true, word) }
        for word in ["false", "False", "0"] { XCTAssertEqual(try parse("use_dora", [word]), false, word) }
        XCTAssertEqual(try parse("use_dora", []), true, "a bare flag means true")
        XCTAssertEqual(message("use_dora", ["yes"]), "use_dora expects a boolean (true/false), got 'yes'")
    }

    func testNumbers() throws {
        XCTAssertEqual(try parse("learning_rate", ["1e-4"]), .double(1e-4))
        XCTAssertEqual(try parse("learning_rate", ["2E-5"]), .double(2e-5))
        XCTAssertEqual(try parse("learning_rate", ["5"]), .double(5))
        XCTAssertEqual(try parse("cpo_alpha", ["1."]), .double(1))
        XCTAssertEqual(try parse("lora_dropout", [".1"]), .double(0.1))
        XCTAssertEqual(try parse("cosine_min_len_value_wrong", ["-0.5"]), .double(-0.5))
        XCTAssertEqual(try parse("lora_rank", ["16"]), 16)
        XCTAssertEqual(try parse("max_steps", ["-1"]), -1)
        XCTAssertEqual(message("lora_rank", ["abc"]), "lora_rank expects an integer, got 'abc'")
        XCTAssertEqual(message("lora_rank", ["8.5"]), "lora_rank expects an integer, got '8.5'")
        XCTAssertEqual(message("learning_rate", ["nan"]), "learning_rate expects a number, got 'nan'")
        XCTAssertEqual(message("lora_rank", ["8", "16"]), "lora_rank expects one value (an integer), got '8 16'")
        XCTAssertEqual(message("lora_rank", []), "lora_rank expects one value (an integer), got nothing")
    }

    func testRanges() {
        XCTAssertEqual(message("split_dataset_ratio", ["1.5"]), "split_dataset_ratio expects a value in [0, 1], got '1.5'")
        XCTAssertEqual(message("lora_dropout", ["-0.1"]), "lora_dropout expects a value in [0, 1], got '-0.1'")
        XCTAssertEqual(message("lora_rank", ["0"]), "lora_rank expects a value >= 1, got '0'")
        XCTAssertEqual(message("max_steps", ["-2"]), "max_steps expects a value >= -1, got '-2'")
        XCTAssertEqual(message("learning_rate", ["0"]), "learning_rate expects a value > 0, got '0'")
        XCTAssertEqual(message("port", ["70000"]), "port expects a value in [0, 65535], got '70000'")
    }

    func testNoneWhereTheDefaultIsNone() throws {
        XCTAssertEqual(try parse("max_length", ["None"]), ArgumentValue.none)
        XCTAssertEqual(try parse("learning_rate", ["None"]), ArgumentValue.none, "derived defaults accept None")
        XCTAssertEqual(try parse("model_name", ["None"]), ArgumentValue.none)
        XCTAssertEqual(message("lora_rank", ["None"]), "lora_rank expects an integer, got 'None'")
        // 'none' is a real choice of lora_bias, not Python's None.
        XCTAssertEqual(try parse("lora_bias", ["none"]), "none")
        XCTAssertEqual(try parse("norm_bbox", ["none"], checkSupport: false), "none")
    }

    func testChoices() throws {
        XCTAssertEqual(try parse("save_strategy", ["epoch"]), "epoch")
        XCTAssertEqual(message("save_strategy", ["epochs"]),
                       "save_strategy expects one of 'no', 'steps', 'epoch', got 'epochs'")
        XCTAssertEqual(message("lora_bias", ["None"]), "lora_bias expects one of 'none', 'all', got 'None'")
        // Choices are exact: case matters.
        XCTAssertEqual(message("padding_side", ["Left"]), "padding_side expects one of 'left', 'right', got 'Left'")
        // quant_method offers export methods only to export.
        XCTAssertEqual(try parse("quant_method", ["q4_k"], command: .export), "q4_k")
        XCTAssertTrue(message("quant_method", ["gptq"], command: .sft).hasPrefix("quant_method expects one of 'bnb', 'hqq'"))
        XCTAssertFalse(message("quant_method", ["gptq"], command: .sft).contains("'awq'"), "export-only choices")
    }

    func testEngineRestrictions() {
        XCTAssertEqual(message("infer_backend", ["vllm"]),
                       "infer_backend 'vllm' is not available in this engine (no GPU inference backends); use 'pt' (tune's own engine)")
        XCTAssertEqual(message("deepspeed", ["zero3"]),
                       "deepspeed 'zero3' is not available in this engine (no DeepSpeed or other sharded training); leave it unset; tune trains in one process on the CPU")
        XCTAssertEqual(message("attn_impl", ["flash_attn"]),
                       "attn_impl 'flash_attn' is not available in this engine (FlashAttention needs a CUDA GPU); use 'sdpa' or 'eager' (both run tune's CPU attention)")
        XCTAssertEqual(message("push_to_hub", ["true"]),
                       "push_to_hub 'true' is not available in this engine (no model hub connection); write to a local output_dir and upload it yourself")
        XCTAssertEqual(message("report_to", ["tensorboard", "wandb"]),
                       "report_to 'wandb' is not available in this engine (no network experiment trackers); use 'tensorboard' (events under output_dir/runs) or 'none'")
        XCTAssertEqual(message("quant_method", ["fp8"], command: .export),
                       "quant_method 'fp8' is not available in this engine (hqq, eetq, quanto and fp8 need GPU kernels; tune uses GGUF block formats (gptq and awq are stored in them)); use a GGUF type such as 'q4_k' or 'q8_0', or gptq / awq / bnb")
        XCTAssertEqual(message("quant_method", ["gptq"], command: .export), "no error; parsed gptq")
        XCTAssertEqual(message("freeze_vit", ["false"]),
                       "freeze_vit 'false' is not available in this engine (text-only models; no vision or audio towers); use a text model; these options have no effect on one")
        // Switched-off values and the documented defaults are fine.
        XCTAssertEqual(message("infer_backend", ["pt"]), "no error; parsed pt")
        XCTAssertEqual(message("deepspeed", ["None"]), "no error; parsed None")
        XCTAssertEqual(message("use_vllm", ["false"]), "no error; parsed false")
        XCTAssertEqual(message("vllm_gpu_memory_utilization", ["0.9"]), "no error; parsed 0.9")
        XCTAssertEqual(message("freeze_vit", ["true"]), "no error; parsed true")
        XCTAssertEqual(message("max_memory", ["{0: \"20GB\"}"]),
                       "max_memory '{\"0\": \"20GB\"}' is not available in this engine (it runs on the CPU of one machine, without GPUs); leave it unset; tune uses all CPU cores of this machine")
        XCTAssertEqual(message("init_weights", ["pissa"]),
                       "init_weights 'pissa' is not available in this engine (PiSSA and Bone initialisations are not implemented); use true, false or 'gaussian'")
        XCTAssertEqual(message("init_weights", ["gaussian"]), "no error; parsed gaussian")
        // The check can be left out (for `--check`-style linting of the types alone).
        XCTAssertNoThrow(try registry.parse(["vllm"], for: registry.spec("infer_backend")!, checkSupport: false))
    }

    func testUnknownNamesSuggestNearest() {
        XCTAssertEqual(message("lora_rnak", ["8"]), "unknown argument 'lora_rnak'; did you mean 'lora_rank'?")
        XCTAssertEqual(message("--learning_rat", ["1e-4"]), "unknown argument 'learning_rat'; did you mean 'learning_rate'?")
        XCTAssertEqual(message("zzzzqqq", []), "unknown argument 'zzzzqqq'")
        XCTAssertEqual(registry.suggestions(for: "lora_rnak").first, "lora_rank")
        XCTAssertEqual(registry.suggestions(for: "num_train_epoch").first, "num_train_epochs")
        XCTAssertEqual(registry.suggestions(for: "LORA_RANK").first, "lora_rank")
        XCTAssertEqual(registry.suggestions(for: "MAX_PIXEL").first, "MAX_PIXELS")
        XCTAssertEqual(registry.suggestions(for: "tunner_type"), ["tuner_type"])
        XCTAssertLessThanOrEqual(registry.suggestions(for: "lora_alhpa").count, 3)
        XCTAssertEqual(registry.suggestions(for: "x"), [])
    }

    func testAliasesResolve() throws {
        XCTAssertEqual(registry.spec("tuner_type")?.name, "train_type")
        XCTAssertEqual(registry.spec("--tuner_type")?.name, "train_type")
        XCTAssertEqual(registry.spec("gpu_memory_utilization")?.name, "vllm_gpu_memory_utilization")
        XCTAssertEqual(registry.spec("tensor_parallel_size")?.name, "vllm_tensor_parallel_size")
        XCTAssertEqual(registry.spec("--lora_rank")?.name, "lora_rank")
        XCTAssertEqual(registry.spec("--lora-rank")?.name, "lora_rank", "HF-style dashed spelling")
        XCTAssertEqual(registry.spec("--tuner-type")?.name, "train_type")
        XCTAssertEqual(registry.spec("merge-lora")?.name, "merge_lora")
        XCTAssertEqual(try parse("tuner_type", ["full"]), "full")
        XCTAssertEqual(registry.resolvedValue("learning_rate", command: .sft, explicit: ["tuner_type": "full"]),
                       .double(1e-5), "a value given under the alias counts for the argument")
    }

    func testSearch() {
        let names = registry.search("lora_r").map(\.name)
        XCTAssertEqual(Array(names.prefix(1)), ["lora_rank"])
        XCTAssertTrue(registry.search("rank").map(\.name).contains("vera_rank"))
        XCTAssertTrue(registry.search("--tuner").map(\.name).contains("train_type"), "aliases are searched")
        XCTAssertEqual(registry.search("no_such_thing_here").map(\.name), [])
    }
}
