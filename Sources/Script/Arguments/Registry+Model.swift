import Engine

extension ArgumentRegistry {
    static let baseArguments: [ArgumentSpec] = {
        let s = RegistrySection("Base Arguments", .every)
        return [
            s.arg("tuner_backend", .choice(["peft", "unsloth"]), "peft",
                  "Which library attaches the tuner modules; PEFT-format adapters are what tune reads and writes.",
                  support: .restricted(allowedChoices: ["peft"], reason: "no Unsloth kernels",
                                       instead: "use 'peft' (tune writes PEFT-compatible adapters)")),
            s.arg("train_type",
                  .choice(["lora", "full", "longlora", "adalora", "llamapro", "adapter", "vera", "boft",
                           "fourierft", "reft"]), "lora",
                  "The fine-tuning method: a LoRA-style adapter, another parameter-efficient tuner, or updating every weight ('full').",
                  aliases: ["tuner_type"],
                  support: .restricted(allowedChoices: ["lora", "full"],
                                       reason: "only LoRA and full fine-tuning are implemented",
                                       instead: "use 'lora' or 'full'")),
            s.arg("adapters", .list(of: .string), [],
                  "Adapter checkpoints (ids or directories) to load on top of the base model, for inference, export or continued training."),
            s.arg("external_plugins", .list(of: .string), [],
                  "Python files whose plugins (rewards, losses, metrics) would be registered before the run.",
                  support: Unsupported.plugins),
            s.arg("seed", .int, 42, "Random seed for everything that is not the dataset (initialisation, dropout, sampling)."),
            s.arg("model_kwargs", .json, .none,
                  "Extra model-specific settings as a JSON object; the same keys can be given as environment variables."),
            s.arg("load_args", .bool, true,
                  "Whether to read the saved args.json of the checkpoint, model or adapter being loaded and reuse its settings.",
                  perCommand: [.pt: false, .sft: false, .rlhf: false]),
            s.arg("load_data_args", .bool, false,
                  "Also take the data settings (datasets, split ratio, ...) from the loaded args.json, e.g. to infer on the same validation split."),
            s.arg("use_hf", .bool, false,
                  "Fetch models and datasets from Hugging Face instead of ModelScope.",
                  support: Unsupported.hub),
            s.arg("hub_token", .string, .none, "Access token for the model hub.", support: Unsupported.hub),
            s.arg("custom_register_path", .list(of: .string), [],
                  "Python files that register custom models, templates or datasets.",
                  support: Unsupported.plugins),
            s.arg("ddp_timeout", .int, 18000000,
                  "How long, in seconds, distributed processes wait for each other before giving up.",
                  range: .nonNegative, support: Unsupported.distributed),
            s.arg("ddp_backend", .choice(["nccl", "gloo", "mpi", "ccl", "hccl", "cncl", "mccl"]), .none,
                  "Communication library for distributed training; None picks one automatically.",
                  support: Unsupported.distributed),
            s.arg("ignore_args_error", .bool, false,
                  "Turn argument errors into warnings and carry on (meant for notebooks)."),
        ]
    }()

    static let modelArguments: [ArgumentSpec] = {
        let s = RegistrySection("Model Arguments", .base)
        return [
            s.arg("model", .string, .none, "The model to load: a ModelScope id or a local directory or file."),
            s.arg("model_type", .string, .none,
                  "ms-swift's name for the model family (architecture, loader and template together); guessed from the model when None."),
            s.arg("model_revision", .string, .none, "A specific revision (branch, tag or commit) of the model on the hub."),
            s.arg("task_type", .choice(["causal_lm", "seq_cls", "embedding"]), "causal_lm",
                  "What the model is trained for: next-token generation, sequence classification or embeddings.",
                  support: .restricted(allowedChoices: ["causal_lm"], reason: "only causal language-model heads",
                                       instead: "use 'causal_lm'")),
            s.arg("torch_dtype", .choice(["float16", "bfloat16", "float32"]), .none,
                  "Precision in which the weights are held; None keeps what config.json says."),
            s.arg("attn_impl", .choice(["flash_attn", "sdpa", "eager"]), .none,
                  "Which attention implementation to use; None follows config.json.",
                  support: .restricted(allowedChoices: ["sdpa", "eager"], reason: "FlashAttention needs a CUDA GPU",
                                       instead: "use 'sdpa' or 'eager' (both run tune's CPU attention)")),
            s.arg("new_special_tokens", .list(of: .string), [],
                  "Tokens to add to the vocabulary as special tokens; a .txt path lists one per line."),
            s.arg("num_labels", .int, .none, "Number of classes of a sequence-classification model.",
                  range: .positive,
                  support: Unsupported.absent("only causal language-model heads", instead: "leave it unset")),
            s.arg("problem_type",
                  .choice(["regression", "single_label_classification", "multi_label_classification"]), .none,
                  "Kind of classification loss for a seq_cls model; None decides from the labels.",
                  support: Unsupported.absent("only causal language-model heads", instead: "leave it unset")),
            s.arg("rope_scaling", .either(.choice(["linear", "dynamic", "yarn"]), .json), .none,
                  "Stretch the rotary position encoding for longer contexts: a scaling kind (with max_model_len) or a full JSON rope_scaling object."),
            s.arg("max_model_len", .int, .none,
                  "Target context length used to compute the RoPE scaling factor when rope_scaling names a kind.",
                  range: .positive),
            s.arg("device_map", .either(.json, .string), .none,
                  "Where each part of the model is placed ('auto', 'cpu', a JSON map or a JSON file).",
                  support: .restricted(allowedChoices: ["auto", "cpu"], reason: "it runs on the CPU of one machine, without GPUs",
                                       instead: "use 'cpu' or 'auto' (both mean this machine's CPU)")),
            s.arg("max_memory", .json, .none,
                  "Per-device memory budget used when the model is spread over several devices.",
                  support: Unsupported.gpu),
            s.arg("local_repo_path", .string, .none,
                  "A local clone of the GitHub code some models need in order to load.",
                  support: Unsupported.absent("no Python model code", instead: "leave it unset")),
            s.arg("init_strategy",
                  .choice(["zero", "uniform", "normal", "xavier_uniform", "xavier_normal", "kaiming_uniform",
                           "kaiming_normal", "orthogonal"]), .none,
                  "How to fill any weights the checkpoint does not provide; None leaves them as the loader made them."),
        ]
    }()

    /// GGUF block formats tune can write (`export --quant_method q4_k`), named as llama.cpp names them.
    static let ggufQuantTypes: [String] = GGMLType.allCases
        .filter { $0.isGGUFType && $0 != .q8_1 && $0 != .q8_K }.map(\.name)

    static let quantizationArguments: [ArgumentSpec] = {
        let s = RegistrySection("Quantization Arguments", .base)
        let atLoad = ["bnb", "hqq", "eetq", "quanto", "fp8"]
        // hqq is not an ms-swift export method; tune's `quantize` verb (export's arguments) takes it.
        let atExport = ["gptq", "awq", "bnb", "fp8", "hqq"]
        var union = atLoad
        for m in atExport + ggufQuantTypes where !union.contains(m) { union.append(m) }
        var perCommand: [Command: [String]] = [:]
        for c in Command.allCases {
            perCommand[c] = (Set<Command>.export.contains(c) ? atExport : atLoad) + ggufQuantTypes
        }
        return [
            s.arg("quant_method", .choice(union), .none,
                  "Quantization scheme: applied while loading for training and inference, or written out by export. tune adds the GGUF types (q4_k, q8_0, ...).",
                  support: .restricted(
                      allowedChoices: ggufQuantTypes + ["gptq", "awq", "bnb", "fp8", "hqq"],
                      reason: "tune has no EETQ or optimum-quanto kernels",
                      instead: "use hqq (quant_bits 4 or 8), bnb, fp8 or a GGUF type such as 'q4_k' or 'q8_0'"),
                  choicesPerCommand: perCommand),
            s.arg("quant_bits", .int, .none, "Bit width of the quantized weights (gptq: 4 or 8, awq: 4, bnb: 4, hqq: 4 or 8); fp8 and a GGUF type fix their own.",
                  range: .positive),
            s.arg("hqq_axis", .int, .none, "Axis along which HQQ groups weights: 1 (the default) groups 64 weights along a row; 0 is refused (see the error)."),
            s.arg("bnb_4bit_compute_dtype", .choice(["float16", "bfloat16", "float32"]), .none,
                  "quant_method bnb: each dequantized weight is rounded to this dtype, as bitsandbytes does; products and sums stay f32 here. None: torch_dtype, else float32.",
                  derived: DerivedDefault("same as torch_dtype") { $0.value("torch_dtype") }),
            s.arg("bnb_4bit_quant_type", .choice(["fp4", "nf4"]), "nf4",
                  "quant_method bnb: the 16 levels of a 4-bit weight, scaled by its block of 64's absmax. nf4: normal-distribution quantiles (closer for trained weights); fp4: a 1-2-1 bit float."),
            s.arg("bnb_4bit_use_double_quant", .bool, true,
                  "quant_method bnb: store the blocks' absmax scales in 8 bits too (0.37 bit a weight less on disk); in memory tune keeps the scales they decode to as f32."),
            s.arg("bnb_4bit_quant_storage", .string, .none, "Storage dtype for packed bitsandbytes weights.",
                  support: Unsupported.absent("packed weights are always stored as uint8 here", instead: "leave it unset")),
        ]
    }()
}
