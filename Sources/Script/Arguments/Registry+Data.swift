extension ArgumentRegistry {
    static let dataArguments: [ArgumentSpec] = {
        let s = RegistrySection("Data Arguments", .base)
        return [
            s.arg("dataset", .list(of: .string), [],
                  "Training data: dataset ids or local files/folders (jsonl, json, csv), each optionally `path:subset#count` to pick subsets and sample N rows."),
            s.arg("val_dataset", .list(of: .string), [], "Validation data, written the same way as dataset."),
            s.arg("split_dataset_ratio", .float, 0.0,
                  "Fraction of the training data held out for validation when no val_dataset is given; 0 holds out nothing.",
                  range: .unit),
            s.arg("data_seed", .int, 42, "Random seed for dataset sampling, shuffling and splitting."),
            s.arg("dataset_num_proc", .int, 1, "How many worker processes preprocess the data.",
                  range: ValueRange(min: 1, max: nil)),
            s.arg("load_from_cache_file", .bool, true,
                  "Reuse previously preprocessed data when it is cached; turn off while debugging preprocessing."),
            s.arg("dataset_shuffle", .bool, true, "Shuffle the training dataset before use."),
            s.arg("val_dataset_shuffle", .bool, false, "Shuffle the validation dataset before use."),
            s.arg("streaming", .bool, false,
                  "Read and preprocess the data lazily while training instead of up front; needs max_steps since the length is unknown."),
            s.arg("interleave_prob", .list(of: .float), .none,
                  "Mixing probabilities for drawing from several datasets alternately; None simply concatenates them.",
                  range: .unit),
            s.arg("stopping_strategy", .choice(["first_exhausted", "all_exhausted"]), "first_exhausted",
                  "When interleaving datasets, stop at the end of the shortest one or keep going until every one is used up."),
            s.arg("shuffle_buffer_size", .int, 1000, "Size of the buffer used to shuffle a streamed dataset.",
                  range: ValueRange(min: 1, max: nil)),
            s.arg("download_mode", .choice(["reuse_dataset_if_exists", "force_redownload"]), "reuse_dataset_if_exists",
                  "Whether to reuse a dataset already downloaded or fetch it again.",
                  support: .restricted(allowedChoices: ["reuse_dataset_if_exists"], reason: "no model hub connection",
                                       instead: "use 'reuse_dataset_if_exists' with local files")),
            s.arg("columns", .json, .none,
                  "Renames dataset columns (JSON object old -> new) so the rows match a format the preprocessor knows, e.g. query/response."),
            s.arg("strict", .bool, false, "Stop with an error on a malformed row instead of dropping it."),
            s.arg("remove_unused_columns", .bool, true,
                  "Drop dataset columns the template does not use; keep them to hand extra fields to a custom loss.",
                  derived: DerivedDefault("false for GRPO, true otherwise") { c in
                      c.command == .rlhf && c.string("rlhf_type") == "grpo" ? false : nil
                  }),
            s.arg("model_name", .list(of: .string), .none,
                  "For the self-cognition dataset: the model's name in Chinese and in English, filling its {{NAME}} placeholder."),
            s.arg("model_author", .list(of: .string), .none,
                  "For the self-cognition dataset: the author's name in Chinese and in English, filling its {{AUTHOR}} placeholder."),
            s.arg("custom_dataset_info", .list(of: .string), [],
                  "JSON files that register custom datasets by name."),
        ]
    }()

    static let templateArguments: [ArgumentSpec] = {
        let s = RegistrySection("Template Arguments", .base)
        return [
            s.arg("template", .string, .none,
                  "The chat template that turns conversations into tokens; None uses the model's own."),
            s.arg("system", .string, .none,
                  "System prompt (text or a .txt path) used when a row has none; None keeps the template's default."),
            s.arg("max_length", .int, .none,
                  "Longest tokenized sample allowed; None uses the model's context length. For export it bounds the calibration samples.",
                  range: .positive, perCommand: [.export: 2048, .mergeLora: 2048]),
            s.arg("truncation_strategy", .choice(["delete", "left", "right"]), "delete",
                  "What to do with a sample longer than max_length: drop it, or cut tokens from the left or the right.",
                  derived: DerivedDefault("'left' for GRPO") { c in
                      c.command == .rlhf && c.string("rlhf_type") == "grpo" ? "left" : nil
                  }),
            s.arg("max_pixels", .int, .none, "Upper bound on image size (height x width) for multimodal models; larger images are scaled down.",
                  range: .positive, support: Unsupported.multimodal),
            s.arg("agent_template", .openChoice(["react_en", "hermes", "glm4", "qwen_en", "toolbench"]), .none,
                  "Format for tool descriptions, tool calls and tool results in agent data; None picks the model's."),
            s.arg("norm_bbox", .choice(["norm1000", "none"]), .none,
                  "Whether bounding-box coordinates are rescaled to thousandths for grounding tasks.",
                  support: Unsupported.multimodal),
            s.arg("use_chat_template", .bool, true,
                  "Format samples with the chat template; off uses plain generation formatting (the default for pt).",
                  perCommand: [.pt: false]),
            s.arg("padding_free", .bool, false,
                  "Concatenate the samples of a batch into one row instead of padding them."),
            s.arg("padding_side", .choice(["left", "right"]), "right",
                  "Which side training batches are padded on when they hold more than one sample.",
                  derived: DerivedDefault("'left' for PPO and GKD") { c in
                      guard c.command == .rlhf, let t = c.string("rlhf_type") else { return nil }
                      return t == "ppo" || t == "gkd" ? "left" : nil
                  }),
            s.arg("loss_scale",
                  .choice(["default", "last_round", "all", "ignore_empty_think", "react", "hermes", "qwen",
                           "agentflan", "alpha_umi"]), "default",
                  "Which tokens carry training loss and with what weight: every assistant turn, the last one, everything, or agent-specific weightings.",
                  perCommand: [.rlhf: "last_round"]),
            s.arg("sequence_parallel_size", .int, 1, "Split long sequences across this many devices.",
                  range: ValueRange(min: 1, max: nil), support: Unsupported.distributed),
            s.arg("response_prefix", .string, .none,
                  "Text placed at the start of every response (e.g. an opening think tag); None uses the model's setting."),
            s.arg("template_backend", .choice(["swift", "jinja"]), "swift",
                  "Apply templates with ms-swift's own code or with the tokenizer's Jinja chat template (inference only)."),
        ]
    }()
}
