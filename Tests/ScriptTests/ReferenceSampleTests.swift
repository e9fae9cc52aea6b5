import XCTest
@testable import Script

/// Types, defaults and choices of a sample of arguments, written out by hand from the
/// reference (docs: ms-swift "Command Line Parameters"), one line per argument.
final class ReferenceSampleTests: XCTestCase {
    let registry = ArgumentRegistry.shared
    var checked = 0

    private func expect(
        _ name: String, _ type: ArgumentType?, _ value: ArgumentValue?,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        guard let spec = registry.spec(name) else {
            XCTFail("\(name) is not in the registry", file: file, line: line)
            return
        }
        if let type { XCTAssertEqual(spec.type, type, "type of \(name)", file: file, line: line) }
        XCTAssertEqual(spec.defaultValue, value, "default of \(name)", file: file, line: line)
        checked += 1
    }

    private func expect(
        _ name: String, for command: Command, _ value: ArgumentValue,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(registry.resolvedValue(name, command: command, explicit: [:]), value,
                       "default of \(name) for \(command.rawValue)", file: file, line: line)
    }

    func testSampleAgainstReference() {
        let none = ArgumentValue.none
        expect("tuner_backend", .choice(["peft", "unsloth"]), "peft")
        expect("train_type", .choice(["lora", "full", "longlora", "adalora", "llamapro", "adapter", "vera", "boft",
                                      "fourierft", "reft"]), "lora")
        expect("adapters", .list(of: .string), [])
        expect("seed", .int, 42)
        expect("model_kwargs", .json, none)
        expect("ddp_timeout", .int, 18000000)
        expect("ddp_backend", .choice(["nccl", "gloo", "mpi", "ccl", "hccl", "cncl", "mccl"]), none)
        expect("ignore_args_error", .bool, false)
        expect("task_type", .choice(["causal_lm", "seq_cls", "embedding"]), "causal_lm")
        expect("torch_dtype", .choice(["float16", "bfloat16", "float32"]), none)
        expect("attn_impl", .choice(["flash_attn", "sdpa", "eager"]), none)
        expect("init_strategy", .choice(["zero", "uniform", "normal", "xavier_uniform", "xavier_normal",
                                         "kaiming_uniform", "kaiming_normal", "orthogonal"]), none)
        expect("dataset", .list(of: .string), [])
        expect("split_dataset_ratio", .float, 0.0)
        expect("data_seed", .int, 42)
        expect("dataset_num_proc", .int, 1)
        expect("load_from_cache_file", .bool, true)
        expect("stopping_strategy", .choice(["first_exhausted", "all_exhausted"]), "first_exhausted")
        expect("shuffle_buffer_size", .int, 1000)
        expect("download_mode", .choice(["reuse_dataset_if_exists", "force_redownload"]), "reuse_dataset_if_exists")
        expect("columns", .json, none)
        expect("model_name", .list(of: .string), none)
        expect("truncation_strategy", .choice(["delete", "left", "right"]), "delete")
        expect("norm_bbox", .choice(["norm1000", "none"]), none)
        expect("use_chat_template", .bool, true)
        expect("padding_side", .choice(["left", "right"]), "right")
        expect("loss_scale", nil, "default")
        expect("sequence_parallel_size", .int, 1)
        expect("template_backend", .choice(["swift", "jinja"]), "swift")
        expect("max_new_tokens", .int, none)
        expect("num_beams", .int, 1)
        expect("stream", .bool, none)
        expect("stop_words", .list(of: .string), [])
        expect("logprobs", .bool, false)
        expect("bnb_4bit_quant_type", .choice(["fp4", "nf4"]), "nf4")
        expect("bnb_4bit_use_double_quant", .bool, true)
        expect("gradient_checkpointing", .bool, true)
        expect("per_device_train_batch_size", .int, 1)
        expect("weight_decay", .float, 0.1)
        expect("adam_beta2", .float, 0.95)
        expect("lr_scheduler_type", nil, "cosine")
        expect("report_to", nil, ["tensorboard"])
        expect("logging_first_step", .bool, true)
        expect("logging_steps", .int, 5)
        expect("num_train_epochs", .float, 3.0)
        expect("save_strategy", .choice(["no", "steps", "epoch"]), "steps")
        expect("save_steps", .int, 500)
        expect("max_steps", .int, -1)
        expect("warmup_ratio", .float, 0.0)
        expect("dataloader_pin_memory", .bool, true)
        expect("neftune_noise_alpha", .float, 0.0)
        expect("max_grad_norm", .float, 1.0)
        expect("freeze_vit", .bool, true)
        expect("target_modules", .list(of: .string), ["all-linear"])
        expect("freeze_parameters_ratio", .float, 0.0)
        expect("lora_rank", .int, 8)
        expect("lora_alpha", .int, 32)
        expect("lora_dropout", .float, 0.05)
        expect("lora_bias", .choice(["none", "all"]), "none")
        expect("lora_ga_direction", .choice(["ArBr", "A2rBr", "ArB2r", "random"]), "ArB2r")
        expect("lora_ga_scale", .choice(["gd", "unit", "stable", "weightS"]), "stable")
        expect("fourier_n_frequency", .int, 2000)
        expect("fourier_scaling", .float, 300.0)
        expect("vera_rank", .int, 256)
        expect("vera_d_initial", .float, 0.1)
        expect("galore_rank", .int, 128)
        expect("galore_cos_threshold", .float, 0.4)
        expect("lisa_step_interval", .int, 20)
        expect("adalora_init_r", .int, 12)
        expect("adalora_beta1", .float, 0.85)
        expect("reft_rank", .int, 4)
        expect("reft_intervention_type", .choice(["NoreftIntervention", "LoreftIntervention", "ConsreftIntervention",
                                                  "LobireftIntervention", "DireftIntervention", "NodireftIntervention"]),
               "LoreftIntervention")
        expect("vllm_gpu_memory_utilization", .float, 0.9)
        expect("vllm_max_num_seqs", .int, 256)
        expect("vllm_max_lora_rank", .int, 16)
        expect("sglang_kv_cache_dtype", nil, "auto")
        expect("lmdeploy_cache_max_entry_count", .float, 0.8)
        expect("max_shard_size", .string, "5GB")
        expect("acc_strategy", .choice(["seq", "token"]), "token")
        expect("rlhf_type", .choice(["dpo", "orpo", "simpo", "kto", "cpo", "rm", "ppo", "grpo", "gkd"]), "dpo")
        expect("max_completion_length", .int, 512)
        expect("kl_coef", .float, 0.05)
        expect("lam", .float, 0.95)
        expect("local_rollout_forward_batch_size", .int, 64)
        expect("num_generations", .int, 8)
        expect("completion_length_limit_scope", .choice(["total", "per_round"]), "per_round")
        expect("ref_model_sync_steps", .int, 512)
        expect("importance_sampling_level", .choice(["token", "sequence"]), "token")
        expect("cosine_min_len_value_wrong", .float, -0.5)
        expect("repetition_max_penalty", .float, -1.0)
        expect("infer_backend", .choice(["pt", "vllm", "sglang", "lmdeploy"]), "pt")
        expect("write_batch_size", .int, 1000)
        expect("host", .string, "0.0.0.0")
        expect("port", .int, 8000)
        expect("owned_by", .string, "swift")
        expect("log_interval", .int, 20)
        expect("max_logprobs", .int, 20)
        expect("server_port", .int, 7860)
        expect("lang", .choice(["zh", "en"]), "zh")
        expect("eval_backend", .choice(["Native", "OpenCompass", "VLMEvalKit"]), "Native")
        expect("eval_output_dir", .string, "eval_output")
        expect("eval_num_proc", .int, 16)
        expect("quant_n_samples", .int, 256)
        expect("group_size", .int, 128)
        expect("commit_message", .string, "update files")
        expect("sampler_engine", .choice(["pt", "lmdeploy", "vllm", "no"]), "pt")
        expect("num_return_sequences", .int, 64)
        expect("rollout_depth", .int, 5)
        expect("exploration_rate", .float, 0.5)
        expect("MAX_PIXELS", .int, .int(16384 * 28 * 28))
        expect("FPS", .float, 2.0)
        expect("MASTER_PORT", .int, 29500)
        XCTAssertGreaterThanOrEqual(checked, 50)
    }

    /// Where a later section of the reference overrides a default for its command.
    func testPerCommandDefaults() {
        expect("loss_scale", for: .sft, "default")
        expect("loss_scale", for: .rlhf, "last_round")
        expect("temperature", for: .rlhf, 0.9)
        expect("temperature", for: .sft, 0.0)
        expect("temperature", for: .eval, 0.0)
        expect("temperature", for: .sample, 1.0)
        XCTAssertEqual(registry.resolvedValue("temperature", command: .infer, explicit: [:]), ArgumentValue.none,
                       "infer reads temperature from generation_config.json")
        expect("top_k", for: .rlhf, 50)
        expect("top_p", for: .rlhf, 0.9)
        expect("max_new_tokens", for: .sft, 64)
        expect("max_length", for: .export, 2048)
        expect("use_chat_template", for: .pt, false)
        expect("use_chat_template", for: .sft, true)
        expect("load_args", for: .sft, false)
        expect("load_args", for: .infer, true)
        expect("load_args", for: .export, true)
        expect("merge_lora", for: .mergeLora, true)
        expect("merge_lora", for: .export, false)
        expect("lang", for: .app, "en")
        expect("lang", for: .webUI, "zh")
        expect("verbose", for: .deploy, true)
        expect("verbose", for: .app, false)
        expect("api_key", for: .sample, "EMPTY")
        expect("output_dir", for: .sample, "sample_output")
        expect("eval_generation_config", for: .sft, .json(.object(["max_tokens": .int(512)])))
        expect("vllm_use_async_engine", for: .deploy, true)
        expect("vllm_use_async_engine", for: .infer, false)
    }
}
