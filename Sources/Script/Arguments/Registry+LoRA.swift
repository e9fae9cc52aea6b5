extension ArgumentRegistry {
    static let tunerArguments: [ArgumentSpec] = {
        let s = RegistrySection("Tuner Arguments", .training)
        let full = RegistrySection("Full Arguments", .training)
        // A text model has no towers to unfreeze: only `true` (the default) is meaningful.
        let textOnlyFrozen = EngineSupport.restricted(
            allowedChoices: ["true"], reason: "text-only models; no vision or audio towers",
            instead: "use a text model; these options have no effect on one")
        return [
            s.arg("freeze_llm", .bool, false,
                  "Multimodal models only: keep the language-model part frozen (full) or give it no adapters (LoRA).",
                  support: Unsupported.multimodal),
            s.arg("freeze_vit", .bool, true,
                  "Multimodal models only: keep the vision/audio towers frozen or free of adapters.",
                  support: textOnlyFrozen),
            s.arg("freeze_aligner", .bool, true,
                  "Multimodal models only: keep the aligner (projector between tower and LLM) frozen or free of adapters.",
                  support: textOnlyFrozen),
            s.arg("target_modules", .list(of: .string), ["all-linear"],
                  "Which modules get tuner layers: module names, or 'all-linear' for every linear layer except the output head."),
            s.arg("target_regex", .string, .none,
                  "A regular expression over module names choosing where tuner layers go; when set, target_modules is ignored."),
            s.arg("init_weights", .either(.bool, .openChoice(["gaussian", "pissa", "pissa_niter_16", "bat"])), true,
                  "How new tuner weights start: true (the standard init), false, 'gaussian', or SVD-based 'pissa'/'pissa_niter_N' (LoRA), 'bat' (Bone).",
                  support: .restricted(allowedChoices: ["true", "false", "gaussian"],
                                       reason: "PiSSA and Bone initialisations are not implemented",
                                       instead: "use true, false or 'gaussian'")),
            s.arg("modules_to_save", .list(of: .string), [],
                  "Original modules (e.g. embeddings or the output head) that are trained fully and saved alongside the tuner."),
            full.arg("freeze_parameters", .list(of: .string), [],
                     "Full training: parameter-name prefixes to keep frozen."),
            full.arg("freeze_parameters_regex", .string, .none,
                     "Full training: a regular expression over parameter names to keep frozen."),
            full.arg("freeze_parameters_ratio", .float, 0.0,
                     "Full training: freeze this fraction of the parameters, counting from the bottom layer up; 1 freezes everything.",
                     range: .unit),
            full.arg("trainable_parameters", .list(of: .string), [],
                     "Parameter-name prefixes that stay trainable even if the freeze settings would freeze them."),
            full.arg("trainable_parameters_regex", .string, .none,
                     "A regular expression over parameter names that stay trainable whatever the freeze settings say."),
        ]
    }()

    static let loraArguments: [ArgumentSpec] = {
        let s = RegistrySection("LoRA", .training)
        let ga = RegistrySection("LoRA-GA", .training)
        let noGA = Unsupported.absent("LoRA-GA initialisation is not implemented",
                                              instead: "use init_weights true or 'gaussian'")
        return [
            s.arg("lora_rank", .int, 8, "Rank r of the low-rank update: the inner size of the two LoRA matrices.",
                  range: ValueRange(min: 1, max: nil)),
            s.arg("lora_alpha", .int, 32, "LoRA scaling numerator: the update is multiplied by alpha / r (alpha / sqrt(r) with rsLoRA).",
                  range: .positive),
            s.arg("lora_dropout", .float, 0.05, "Dropout probability applied to the input of the LoRA branch.",
                  range: .unit),
            s.arg("lora_bias", .choice(["none", "all"]), "none",
                  "Whether the biases of the model are trained too ('all') or left frozen ('none')."),
            s.arg("lora_dtype", .choice(["float16", "bfloat16", "float32"]), .none,
                  "Precision of the LoRA weights; None matches the model."),
            s.arg("use_dora", .bool, false,
                  "Use DoRA: split each weight into magnitude and direction and adapt the direction with LoRA."),
            s.arg("use_rslora", .bool, false, "Use rank-stabilised scaling alpha / sqrt(r) instead of alpha / r."),
            s.arg("lorap_lr_ratio", .float, .none,
                  "LoRA+: train the B matrices with this multiple of the learning rate (around 10 to 16 is typical); None is plain LoRA.",
                  range: .positive),
            ga.arg("lora_ga_batch_size", .int, 2, "LoRA-GA: batch size of the gradient estimate made before training.",
                   range: ValueRange(min: 1, max: nil), support: noGA),
            ga.arg("lora_ga_iters", .int, 2, "LoRA-GA: number of batches averaged for the gradient estimate.",
                   range: ValueRange(min: 1, max: nil), support: noGA),
            ga.arg("lora_ga_max_length", .int, 1024, "LoRA-GA: longest sample used for the gradient estimate.",
                   range: ValueRange(min: 1, max: nil), support: noGA),
            ga.arg("lora_ga_direction", .choice(["ArBr", "A2rBr", "ArB2r", "random"]), "ArB2r",
                   "LoRA-GA: which singular vectors of the estimated gradient initialise A and B.", support: noGA),
            ga.arg("lora_ga_scale", .choice(["gd", "unit", "stable", "weightS"]), "stable",
                   "LoRA-GA: how the initial A and B are scaled.", support: noGA),
            ga.arg("lora_ga_stable_gamma", .int, 16, "LoRA-GA: the gamma used by the 'stable' scaling.", support: noGA),
        ]
    }()
}
