extension ArgumentRegistry {
    /// vLLM, SGLang and LMDeploy settings: GPU inference engines this engine does not have.
    static let backendArguments: [ArgumentSpec] = {
        let vllm = RegistrySection("vLLM Arguments", Set<Command>.inference.union([.rlhf]))
        let sg = RegistrySection("SGLang Arguments", .inference)
        let lmd = RegistrySection("LMDeploy Arguments", .inference)
        let (v, s, l) = (Unsupported.vllm, Unsupported.sglang, Unsupported.lmdeploy)
        let atLeastOne = ValueRange(min: 1, max: nil)
        return [
            vllm.arg("vllm_gpu_memory_utilization", .float, 0.9, "Share of GPU memory vLLM may claim (0 to 1).",
                     aliases: ["gpu_memory_utilization"], range: .unit, support: v),
            vllm.arg("vllm_tensor_parallel_size", .int, 1, "GPUs each layer is split across in vLLM.",
                     aliases: ["tensor_parallel_size"], range: atLeastOne, support: v),
            vllm.arg("vllm_pipeline_parallel_size", .int, 1, "GPUs the layers are distributed over in vLLM.",
                     aliases: ["pipeline_parallel_size"], range: atLeastOne, support: v),
            vllm.arg("vllm_data_parallel_size", .int, 1, "Independent vLLM replicas serving requests (infer and rollout).",
                     aliases: ["data_parallel_size"], range: atLeastOne, support: v),
            vllm.arg("vllm_enable_expert_parallel", .bool, false, "Spread mixture-of-experts layers over GPUs by expert.",
                     support: v),
            vllm.arg("vllm_max_num_seqs", .int, 256, "Most sequences vLLM schedules in one iteration.",
                     aliases: ["max_num_seqs"], range: atLeastOne, support: v),
            vllm.arg("vllm_max_model_len", .int, .none, "Context length vLLM plans for; None reads config.json.",
                     range: atLeastOne, support: v),
            vllm.arg("vllm_disable_custom_all_reduce", .bool, true,
                     "Use NCCL's all-reduce instead of vLLM's own kernel.", aliases: ["disable_custom_all_reduce"],
                     support: v),
            vllm.arg("vllm_enforce_eager", .bool, false, "Run vLLM eagerly instead of capturing CUDA graphs.",
                     aliases: ["enforce_eager"], support: v),
            vllm.arg("vllm_limit_mm_per_prompt", .json, .none,
                     "Most images, videos, ... vLLM accepts per prompt, as a JSON object.",
                     aliases: ["limit_mm_per_prompt"], support: v),
            vllm.arg("vllm_max_lora_rank", .int, 16, "Largest LoRA rank vLLM reserves room for.", range: atLeastOne,
                     support: v),
            vllm.noDefault("vllm_quantization", .string, "Quantization scheme vLLM applies while loading.", support: v),
            vllm.arg("vllm_enable_prefix_caching", .bool, false, "Let vLLM reuse the KV cache of shared prompt prefixes.",
                     aliases: ["enable_prefix_caching"], support: v),
            vllm.arg("vllm_use_async_engine", .bool, false,
                     "Drive vLLM through its asynchronous engine (the default when deploying).",
                     aliases: ["use_async_engine"], support: v,
                     perCommand: [.deploy: true, .rollout: true, .app: true, .eval: true]),
            sg.arg("sglang_tp_size", .int, 1, "SGLang tensor-parallel size.", range: atLeastOne, support: s),
            sg.arg("sglang_pp_size", .int, 1, "SGLang pipeline-parallel size.", range: atLeastOne, support: s),
            sg.arg("sglang_dp_size", .int, 1, "SGLang data-parallel size.", range: atLeastOne, support: s),
            sg.arg("sglang_ep_size", .int, 1, "SGLang expert-parallel size.", range: atLeastOne, support: s),
            sg.arg("sglang_enable_ep_moe", .bool, false, "Let SGLang run mixture-of-experts layers expert-parallel.",
                   support: s),
            sg.arg("sglang_mem_fraction_static", .float, .none,
                   "Share of GPU memory SGLang sets aside for weights and the KV cache.", range: .unit, support: s),
            sg.arg("sglang_context_length", .int, .none, "Context length SGLang plans for; None reads config.json.",
                   range: atLeastOne, support: s),
            sg.arg("sglang_disable_cuda_graph", .bool, false, "Turn off SGLang's CUDA graph capture.", support: s),
            sg.arg("sglang_quantization", .string, .none, "Quantization scheme SGLang applies.", support: s),
            sg.arg("sglang_kv_cache_dtype", .openChoice(["auto", "fp8_e5m2", "fp8_e4m3"]), "auto",
                   "Number format of SGLang's KV cache; 'auto' matches the model.", support: s),
            sg.arg("sglang_enable_dp_attention", .bool, false,
                   "SGLang: data-parallel attention with tensor-parallel feed-forward layers.", support: s),
            sg.arg("sglang_disable_custom_all_reduce", .bool, true, "Use NCCL's all-reduce instead of SGLang's own kernel.",
                   support: s),
            lmd.arg("lmdeploy_tp", .int, 1, "LMDeploy tensor-parallel size.", range: atLeastOne, support: l),
            lmd.arg("lmdeploy_session_len", .int, .none, "Longest session LMDeploy keeps.", range: atLeastOne, support: l),
            lmd.arg("lmdeploy_cache_max_entry_count", .float, 0.8, "Share of GPU memory LMDeploy uses for the KV cache.",
                    range: .unit, support: l),
            lmd.arg("lmdeploy_quant_policy", .int, 0, "LMDeploy KV-cache quantization: 0 off, 4 or 8 bits.",
                    range: ValueRange(min: 0, max: 8), support: l),
            lmd.arg("lmdeploy_vision_batch_size", .int, 1, "Batch size of LMDeploy's vision encoder.",
                    range: atLeastOne, support: l),
        ]
    }()

    static let mergeArguments: [ArgumentSpec] = {
        let s = RegistrySection("Merge Arguments", Set<Command>.inference.union(Set<Command>.export))
        return [
            s.arg("merge_lora", .bool, false,
                  "Fold the LoRA (or LLaMA-Pro, LongLoRA) adapter into the base weights and write a plain model.",
                  perCommand: [.mergeLora: true]),
            s.arg("safe_serialization", .bool, true, "Write weights as safetensors files rather than pickled PyTorch files.",
                  support: .restricted(allowedChoices: ["true"], reason: "no pickled PyTorch weight files",
                                       instead: "use true (safetensors)")),
            s.arg("max_shard_size", .string, "5GB", "Largest size of one weight file before the model is split into shards."),
        ]
    }()
}
