extension ArgumentRegistry {
    /// The last path component of the model, without a file extension (`output/<model_name>`).
    static func modelStem(_ model: String?) -> String? {
        guard let model, !model.isEmpty else { return nil }
        var last = Substring(model)
        while last.hasSuffix("/") { last = last.dropLast() }
        if let slash = last.lastIndex(of: "/") { last = last[last.index(after: slash)...] }
        if last.hasSuffix(".gguf") { last = last.dropLast(5) }
        return last.isEmpty ? nil : String(last)
    }

    static func hasEvaluationData(_ c: DefaultContext) -> Bool {
        let val = c.value("val_dataset")?.listValue ?? []
        let ratio = c.value("split_dataset_ratio")?.doubleValue ?? 0
        return !val.isEmpty || ratio > 0
    }

    static let trainerArguments: [ArgumentSpec] = {
        let s = RegistrySection("Seq2SeqTrainer Arguments", .training)
        let hubCommands: Set<Command> = .export
        return [
            s.arg("output_dir", .string, .none,
                  "Directory that receives checkpoints, logs and args.json (training), the exported model (export) or the samples (sample).",
                  derived: DerivedDefault("output/<model_name> for training; a name derived from the model for export") { c in
                      guard Set<Command>.training.contains(c.command), let stem = modelStem(c.string("model"))
                      else { return nil }
                      return .string("output/" + stem)
                  },
                  perCommand: [.sample: "sample_output"], extraCommands: Set<Command>.export.union([.sample])),
            s.arg("gradient_checkpointing", .bool, true,
                  "Recompute activations during the backward pass instead of storing them, trading time for memory."),
            s.arg("vit_gradient_checkpointing", .bool, .none,
                  "Gradient checkpointing for the vision tower of a multimodal model; None follows gradient_checkpointing.",
                  support: Unsupported.multimodal,
                  derived: DerivedDefault("same as gradient_checkpointing") { $0.value("gradient_checkpointing") }),
            s.arg("deepspeed", .openChoice(["zero0", "zero1", "zero2", "zero3", "zero2_offload", "zero3_offload"]), .none,
                  "A DeepSpeed ZeRO preset (or config file) for sharding training state over GPUs.",
                  support: Unsupported.deepspeed),
            s.arg("zero_hpz_partition_size", .int, .none,
                  "ZeRO++ hierarchical partitioning: shard the model within a node and the data across nodes.",
                  support: Unsupported.deepspeed),
            s.arg("per_device_train_batch_size", .int, 1,
                  "Samples per training step on each device (for GRPO: completions per step).",
                  range: ValueRange(min: 1, max: nil)),
            s.arg("per_device_eval_batch_size", .int, 1, "Samples per evaluation step on each device.",
                  range: ValueRange(min: 1, max: nil)),
            s.arg("gradient_accumulation_steps", .int, .none,
                  "Steps whose gradients are summed before each optimizer update; None picks enough for a total batch of at least 16.",
                  range: ValueRange(min: 1, max: nil),
                  derived: DerivedDefault("ceil(16 / (per_device_train_batch_size x world size)), at least 1") { c in
                      let batch = max(1, c.int("per_device_train_batch_size") ?? 1) * max(1, c.worldSize)
                      return .int(max(1, (16 + batch - 1) / batch))
                  }),
            s.arg("weight_decay", .float, 0.1, "Strength of the decoupled weight decay applied by the optimizer.",
                  range: .nonNegative),
            s.arg("adam_beta2", .float, 0.95, "Decay rate of Adam's running average of squared gradients.",
                  range: .unit),
            s.arg("learning_rate", .float, .none,
                  "Peak step size of the optimizer; None means 1e-4 for LoRA and other tuners and 1e-5 for full fine-tuning.",
                  range: .positive,
                  derived: DerivedDefault("1e-5 when train_type is 'full', otherwise 1e-4") { c in
                      .double(c.string("train_type") == "full" ? 1e-5 : 1e-4)
                  }),
            s.arg("vit_lr", .float, .none, "Separate learning rate for the vision tower; None uses learning_rate.",
                  range: .positive, support: Unsupported.multimodal,
                  derived: DerivedDefault("same as learning_rate") { $0.value("learning_rate") }),
            s.arg("aligner_lr", .float, .none, "Separate learning rate for the multimodal aligner; None uses learning_rate.",
                  range: .positive, support: Unsupported.multimodal,
                  derived: DerivedDefault("same as learning_rate") { $0.value("learning_rate") }),
            s.arg("lr_scheduler_type",
                  .openChoice(["linear", "cosine", "cosine_with_restarts", "polynomial", "constant",
                               "constant_with_warmup", "inverse_sqrt", "cosine_with_min_lr", "warmup_stable_decay"]),
                  "cosine", "Shape of the learning-rate schedule over training."),
            s.arg("lr_scheduler_kwargs", .json, .none, "Extra settings for the learning-rate schedule, as a JSON object."),
            s.arg("gradient_checkpointing_kwargs", .json, .none,
                  "Options passed to the gradient-checkpointing machinery, e.g. {\"use_reentrant\": false}."),
            s.arg("full_determinism", .bool, false, "Make training bit-for-bit reproducible at some cost in speed."),
            s.arg("report_to", .list(of: .openChoice(["tensorboard", "wandb", "swanlab", "all", "none"])), ["tensorboard"],
                  "Where training metrics are logged: tensorboard, wandb, swanlab, several of them, all or none.",
                  support: .restricted(allowedChoices: ["tensorboard", "none"], reason: "no network experiment trackers",
                                       instead: "use 'tensorboard' (events under output_dir/runs) or 'none'")),
            s.arg("logging_first_step", .bool, true, "Also log the metrics of the very first step."),
            s.arg("logging_steps", .int, 5, "Log training metrics every this many steps.", range: ValueRange(min: 1, max: nil)),
            s.arg("logging_dir", .string, .none, "Directory for TensorBoard event files; None means output_dir/runs.",
                  derived: DerivedDefault("<output_dir>/runs") { c in
                      c.string("output_dir").map { .string($0 + "/runs") }
                  }),
            s.arg("predict_with_generate", .bool, false,
                  "During evaluation, generate answers and score them instead of only computing the loss."),
            s.arg("metric_for_best_model", .string, .none,
                  "Which evaluation metric decides the best checkpoint; None means loss, rouge-l with generation, reward for GRPO.",
                  derived: DerivedDefault("'loss'; 'rouge-l' with predict_with_generate; 'reward' for GRPO; unset for PPO") { c in
                      if c.command == .rlhf {
                          let t = c.string("rlhf_type")
                          if t == "grpo" { return "reward" }
                          if t == "ppo" { return nil }
                      }
                      return c.bool("predict_with_generate") == true ? "rouge-l" : "loss"
                  }),
            s.arg("greater_is_better", .bool, .none,
                  "Whether a larger metric_for_best_model is better; None means false for losses and true otherwise.",
                  derived: DerivedDefault("false when metric_for_best_model contains 'loss', else true") { c in
                      guard let m = c.string("metric_for_best_model") else { return nil }
                      return .bool(!m.contains("loss"))
                  }),
            s.arg("max_epochs", .int, .none,
                  "Stop after this many epochs even if steps remain, then evaluate and save (useful with streaming).",
                  range: ValueRange(min: 1, max: nil)),
            s.arg("num_train_epochs", .float, 3.0, "How many passes over the training data to make.", range: .positive),
            s.arg("save_strategy", .choice(["no", "steps", "epoch"]), "steps",
                  "When checkpoints are written: never, every save_steps steps, or at the end of each epoch."),
            s.arg("save_steps", .int, 500, "Write a checkpoint every this many steps (with save_strategy 'steps').",
                  range: ValueRange(min: 1, max: nil)),
            s.arg("eval_strategy", .choice(["no", "steps", "epoch"]), .none,
                  "When to evaluate; None follows save_strategy, or 'no' when there is no validation data.",
                  derived: DerivedDefault("save_strategy, or 'no' without val_dataset and with split_dataset_ratio 0") { c in
                      hasEvaluationData(c) ? c.value("save_strategy") : "no"
                  }),
            s.arg("eval_steps", .int, .none, "Evaluate every this many steps; None uses save_steps.",
                  range: ValueRange(min: 1, max: nil),
                  derived: DerivedDefault("same as save_steps") { $0.value("save_steps") }),
            s.arg("save_total_limit", .int, .none, "Keep at most this many checkpoints, deleting the oldest; None keeps all.",
                  range: ValueRange(min: 1, max: nil)),
            s.arg("max_steps", .int, -1, "Total optimizer steps to run; -1 means decide from num_train_epochs.",
                  range: .minusOneOrMore),
            s.arg("warmup_ratio", .float, 0.0, "Fraction of training spent ramping the learning rate up from zero.",
                  range: .unit),
            s.arg("save_on_each_node", .bool, false, "In multi-node training, write checkpoints on every node.",
                  support: Unsupported.distributed),
            s.arg("save_only_model", .bool, false,
                  "Checkpoints hold only the weights, not optimizer, scheduler and random state (so they cannot resume exactly)."),
            s.arg("resume_from_checkpoint", .string, .none,
                  "Continue an interrupted run from this checkpoint directory, restoring weights, optimizer state and position."),
            s.arg("resume_only_model", .bool, false,
                  "With resume_from_checkpoint, restore only the weights and start the optimizer afresh."),
            s.arg("ignore_data_skip", .bool, false,
                  "When resuming only the model, start again from step 0 instead of skipping the data already trained on."),
            s.arg("ddp_find_unused_parameters", .bool, .none,
                  "Let distributed training cope with parameters that get no gradient.", support: Unsupported.distributed),
            s.arg("dataloader_num_workers", .int, .none, "Worker processes that load batches; None means 1 (0 on Windows).",
                  range: .nonNegative, derived: DerivedDefault("1 (this is not Windows)") { _ in 1 }),
            s.arg("dataloader_pin_memory", .bool, true, "Put batches in page-locked memory for faster copies to a GPU.",
                  support: Unsupported.gpu),
            s.arg("dataloader_persistent_workers", .bool, false, "Keep data-loading workers alive between epochs."),
            s.arg("dataloader_prefetch_factor", .int, .none,
                  "Batches each loading worker prepares ahead; None means 10 when there are workers.",
                  range: ValueRange(min: 1, max: nil),
                  derived: DerivedDefault("10 when dataloader_num_workers > 0") { c in
                      (c.int("dataloader_num_workers") ?? 0) > 0 ? 10 : nil
                  }),
            s.arg("train_dataloader_shuffle", .bool, true,
                  "Shuffle the order in which training batches are drawn (not for streamed data)."),
            s.arg("neftune_noise_alpha", .float, 0.0,
                  "Scale of the random noise NEFTune adds to embeddings during training; 0 turns it off.",
                  range: .nonNegative),
            s.arg("use_liger_kernel", .bool, false, "Use the Liger fused GPU kernels to save memory and time.",
                  support: Unsupported.gpu),
            s.arg("average_tokens_across_devices", .bool, false,
                  "Count tokens over all devices so the loss is normalised globally.", support: Unsupported.distributed),
            s.arg("max_grad_norm", .float, 1.0, "Clip the gradient norm to this value before each update.",
                  range: .nonNegative),
            s.arg("push_to_hub", .bool, false, "Upload checkpoints or the exported model to the model hub.",
                  support: Unsupported.hub, extraCommands: hubCommands),
            s.arg("hub_model_id", .string, .none, "Repository id to upload to.", support: Unsupported.hub,
                  extraCommands: hubCommands),
            s.arg("hub_private_repo", .bool, false, "Create the hub repository as private.", support: Unsupported.hub,
                  extraCommands: hubCommands),
        ]
    }()

    static let trainingArguments: [ArgumentSpec] = {
        let s = RegistrySection("Training Arguments", .training)
        let swan = RegistrySection("SWANLAB", .training)
        return [
            s.arg("add_version", .bool, true,
                  "Put each run in a fresh '<version>-<timestamp>' subdirectory of output_dir so nothing is overwritten."),
            s.arg("check_model", .bool, true,
                  "Check the local model files for corruption or changes before training (needs the hub; turn off offline)."),
            s.noDefault("create_checkpoint_symlink", .bool,
                        "Also create output_dir/best and output_dir/last links to the best and the latest checkpoint."),
            s.arg("loss_type", .openChoice(["channel_loss", "grpo", "bnpo", "dr_grpo"]), .none,
                  "Which loss to train with; None uses the model's own. For GRPO it picks the normalisation (grpo, bnpo, dr_grpo).",
                  derived: DerivedDefault("'grpo' for GRPO") { c in
                      c.command == .rlhf && c.string("rlhf_type") == "grpo" ? "grpo" : nil
                  }),
            s.arg("channels", .list(of: .string), .none,
                  "Names of the data channels, for reporting the loss of each channel separately (with loss_type channel_loss)."),
            s.arg("packing", .bool, false,
                  "Pack several samples into each sequence of max_length to waste less compute on padding."),
            s.arg("packing_cache", .string, .none, "Directory for the packing cache; None uses $MODELSCOPE_CACHE."),
            s.arg("lazy_tokenize", .bool, .none,
                  "Tokenize samples as batches are drawn instead of all before training; None means no for text models.",
                  derived: DerivedDefault("false for text models") { _ in false }),
            s.arg("use_logits_to_keep", .bool, .none,
                  "Compute logits only at positions that carry loss, saving memory; None decides automatically."),
            s.arg("acc_strategy", .choice(["seq", "token"]), "token",
                  "Whether accuracy during training is counted per token or per whole sequence."),
            s.arg("optimizer", .string, .none, "Name of a custom optimizer (from the plugins) to use instead of AdamW."),
            s.arg("metric", .openChoice(["acc", "rouge", "nlg"]), .none,
                  "How results are scored: for training a plugin metric (acc, or nlg with generation); for infer 'acc' or 'rouge'.",
                  derived: DerivedDefault("training: 'nlg' with predict_with_generate, else 'acc'; infer: no scoring") { c in
                      guard Set<Command>.training.contains(c.command) else { return nil }
                      return c.bool("predict_with_generate") == true ? "nlg" : "acc"
                  },
                  extraCommands: .inference),
            s.arg("eval_use_evalscope", .bool, false, "Run EvalScope benchmarks during training.",
                  support: Unsupported.absent("no EvalScope", instead: "evaluate with infer --metric on a val_dataset")),
            s.noDefault("eval_dataset", .list(of: .string),
                        "Benchmark datasets to evaluate on (EvalScope during training; the eval command's datasets).",
                        extraCommands: [.eval]),
            s.noDefault("eval_dataset_args", .json, "Per-benchmark settings for eval_dataset, as a JSON object."),
            s.arg("eval_limit", .int, .none, "Use at most this many samples of each evaluation dataset.",
                  range: ValueRange(min: 1, max: nil), extraCommands: [.eval]),
            s.arg("eval_generation_config", .json, .none,
                  "Generation settings used while evaluating, as a JSON object.",
                  perCommand: [.pt: .json(.object(["max_tokens": .int(512)])),
                               .sft: .json(.object(["max_tokens": .int(512)])),
                               .rlhf: .json(.object(["max_tokens": .int(512)]))],
                  extraCommands: [.eval]),
            swan.noDefault("swanlab_token", .string, "API key for SwanLab.", support: Unsupported.remoteLogging),
            swan.noDefault("swanlab_project", .string, "SwanLab project to log into.", support: Unsupported.remoteLogging),
            swan.arg("swanlab_workspace", .string, .none, "SwanLab workspace; None uses the key owner's.",
                     support: Unsupported.remoteLogging),
            swan.noDefault("swanlab_exp_name", .string, "Name of the SwanLab experiment; empty uses output_dir.",
                           support: Unsupported.remoteLogging,
                           derived: DerivedDefault("same as output_dir") { $0.value("output_dir") }),
            swan.arg("swanlab_lark_webhook_url", .string, .none, "Lark webhook that SwanLab posts results to.",
                     support: Unsupported.remoteLogging),
            swan.arg("swanlab_lark_secret", .string, .none, "Secret for the Lark webhook.",
                     support: Unsupported.remoteLogging),
            swan.noDefault("swanlab_mode", .choice(["cloud", "local"]), "Log to the SwanLab cloud or keep logs local.",
                           support: Unsupported.remoteLogging),
        ]
    }()
}
