extension ArgumentRegistry {
    static let exportArguments: [ArgumentSpec] = {
        let s = RegistrySection("Export Arguments", .export)
        let m = Unsupported.megatron
        return [
            s.arg("exist_ok", .bool, false, "Write into output_dir even if it already exists, replacing what is there."),
            s.arg("quant_n_samples", .int, 256, "Calibration samples drawn from the dataset for calibration-based quantization.",
                  range: ValueRange(min: 1, max: nil)),
            s.arg("quant_batch_size", .int, 1, "Batch size used while running the calibration samples.",
                  range: ValueRange(min: 1, max: nil)),
            s.arg("group_size", .int, 128, "Weights that share one set of quantization scales (gptq and awq: a multiple of 32; a GGUF type fixes its own).",
                  range: ValueRange(min: 1, max: nil)),
            s.arg("to_ollama", .bool, false, "Also write the Modelfile Ollama needs to import the model."),
            s.arg("to_gguf", .bool, false,
                  "tune's addition: write the model as one GGUF file (tensor type from quant_method, e.g. q4_k, q8_0, f16) that llama.cpp loads; an output_dir ending in .gguf asks for it too."),
            s.arg("to_mcore", .bool, false, "Convert Hugging Face weights to Megatron-Core format.", support: m),
            s.arg("to_hf", .bool, false, "Convert Megatron-Core weights back to Hugging Face format.", support: m),
            s.arg("mcore_model", .string, .none, "Path of a Megatron-Core model to convert.", support: m),
            s.arg("thread_count", .int, .none, "Number of shards written when converting to Megatron-Core; None sizes them automatically.",
                  range: ValueRange(min: 1, max: nil), support: m),
            s.arg("test_convert_precision", .bool, false, "Measure the numeric error of a Hugging Face <-> Megatron conversion.",
                  support: m),
            s.arg("commit_message", .string, "update files", "Commit message used when pushing to the hub.",
                  support: Unsupported.hub),
        ]
    }()

    static let samplingArguments: [ArgumentSpec] = {
        let s = RegistrySection("Sampling Parameters", [.sample])
        let mcts = RegistrySection("MCTS", [.sample])
        let noMCTS = Unsupported.absent("MCTS sampling is not implemented", instead: "use sampler_type 'sample'")
        let atLeastOne = ValueRange(min: 1, max: nil)
        return [
            s.noDefault("prm_model", .string, "Process reward model: a model id run with the built-in engine, or a plugin key."),
            s.noDefault("orm_model", .string, "Outcome reward model, usually a plugin that checks the final answer."),
            s.noDefault("sampler_type", .choice(["sample", "mcts"]), "How candidates are produced: plain sampling or tree search.",
                        support: .restricted(allowedChoices: ["sample"], reason: "MCTS sampling is not implemented",
                                             instead: "use 'sample'")),
            s.arg("sampler_engine", .choice(["pt", "lmdeploy", "vllm", "no"]), "pt",
                  "Engine that generates the samples; 'no' reuses cache_files instead of generating.",
                  support: .restricted(allowedChoices: ["pt", "no"], reason: "no GPU inference backends",
                                       instead: "use 'pt' (tune's own engine)")),
            s.arg("output_file", .string, .none, "File name (JSONL, no directory) for the samples; None uses a timestamp."),
            s.noDefault("override_exist_file", .bool, "Replace output_file if it already exists."),
            s.noDefault("num_sampling_per_gpu_batch_size", .int, "Prompts per sampling batch.", range: atLeastOne),
            s.noDefault("num_sampling_per_gpu_batches", .int, "Number of sampling batches to run.", range: atLeastOne),
            s.noDefault("n_best_to_keep", .int, "How many of the best candidates to keep per prompt.", range: atLeastOne),
            s.noDefault("data_range", .list(of: .int),
                        "Which part of the dataset this process handles: 'i n' means part i of n (for running several in parallel).",
                        range: .nonNegative),
            s.arg("prm_threshold", .float, 0.0, "Candidates whose process reward is below this are dropped."),
            s.arg("easy_query_threshold", .float, .none,
                  "Drop a prompt when more than this share of its candidates are judged correct (too easy); None keeps all.",
                  range: .unit),
            s.noDefault("engine_kwargs", .json, "Extra settings for the sampler engine, as a JSON object."),
            s.arg("num_return_sequences", .int, 64, "Candidates generated per prompt.", range: atLeastOne),
            s.noDefault("cache_files", .list(of: .string),
                        "Sample files from an earlier run to score instead of generating again (with sampler_engine 'no')."),
            mcts.arg("rollout_depth", .int, 5, "MCTS: deepest level a rollout goes to.", range: atLeastOne, support: noMCTS),
            mcts.arg("rollout_start_depth", .int, 3, "MCTS: depth from which rollouts start; shallower nodes are only expanded.",
                     range: .nonNegative, support: noMCTS),
            mcts.arg("max_iterations", .int, 100, "MCTS: most search iterations.", range: atLeastOne, support: noMCTS),
            mcts.arg("process_reward_rate", .float, 0.0, "MCTS: share of the process reward in a node's value; 0 ignores it.",
                     range: .unit, support: noMCTS),
            mcts.arg("exploration_rate", .float, 0.5, "MCTS: UCT exploration weight; larger favours rarely visited nodes.",
                     range: .nonNegative, support: noMCTS),
        ]
    }()
}
