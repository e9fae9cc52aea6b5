extension ArgumentRegistry {
    static let inferenceArguments: [ArgumentSpec] = {
        let s = RegistrySection("Inference Arguments", .inference)
        return [
            s.arg("infer_backend", .choice(["pt", "vllm", "sglang", "lmdeploy"]), "pt",
                  "Which engine generates: 'pt' is the built-in one; vllm, sglang and lmdeploy are GPU serving engines.",
                  support: .restricted(allowedChoices: ["pt"], reason: "no GPU inference backends",
                                       instead: "use 'pt' (tune's own engine)")),
            s.arg("max_batch_size", .int, 1, "How many prompts the built-in engine answers together; -1 means no limit.",
                  range: .minusOneOrMore),
            s.arg("result_path", .string, .none,
                  "JSONL file that receives the inference results (appended to if it exists); None picks a path and prints it."),
            s.arg("write_batch_size", .int, 1000, "Results are written to result_path in chunks of this many; -1 means all at once.",
                  range: .minusOneOrMore),
            s.arg("val_dataset_sample", .int, .none, "Infer on only this many rows of the dataset.", range: .nonNegative),
        ]
    }()

    static let deploymentArguments: [ArgumentSpec] = {
        let s = RegistrySection("Deployment Arguments", .deployment)
        let web = RegistrySection("Web-UI Arguments", [.webUI, .app])
        let app = RegistrySection("App Arguments", [.app])
        return [
            s.arg("host", .string, "0.0.0.0", "Network address the server listens on."),
            s.arg("port", .int, 8000, "TCP port the server listens on.", range: ValueRange(min: 0, max: 65535)),
            s.arg("api_key", .string, .none,
                  "Key clients must send to use the server (for sampling through a client engine, the key sent to it).",
                  perCommand: [.sample: "EMPTY"], extraCommands: [.sample]),
            s.arg("owned_by", .string, "swift", "Owner reported for the model in the server's model list."),
            s.arg("served_model_name", .string, .none, "Name clients use for the model; None uses the last part of the model path.",
                  derived: DerivedDefault("the last path component of model") { c in
                      modelStem(c.string("model")).map { .string($0) }
                  }),
            s.arg("verbose", .bool, true, "Log every request and response in detail.",
                  perCommand: [.app: false, .eval: false]),
            s.arg("log_interval", .int, 20, "Seconds between throughput (tokens/s) reports; -1 turns them off.",
                  range: .minusOneOrMore),
            s.arg("max_logprobs", .int, 20, "Most log-probabilities a client may ask for per token.", range: .nonNegative),
            s.arg("multi_turn_scheduler", .string, .none,
                  "Plugin that drives multi-turn rollouts (decides the next turn from the last answer).",
                  support: Unsupported.plugins, extraCommands: [.rlhf]),
            s.arg("max_turns", .int, .none, "Most turns of a multi-turn rollout; None means no limit.",
                  range: ValueRange(min: 1, max: nil), extraCommands: [.rlhf]),
            web.arg("server_name", .string, "0.0.0.0", "Network address the web UI listens on."),
            web.arg("server_port", .int, 7860, "TCP port the web UI listens on.", range: ValueRange(min: 0, max: 65535)),
            web.arg("share", .bool, false, "Publish the web UI through a public share link.",
                    support: Unsupported.absent("no public share links", instead: "serve on server_name/server_port")),
            web.arg("lang", .choice(["zh", "en"]), "zh", "Language of the web UI (Chinese or English).",
                    perCommand: [.app: "en"]),
            app.arg("base_url", .string, .none,
                    "URL of an already running OpenAI-compatible server to use instead of deploying locally (for sampling: the client engine's URL).",
                    perCommand: [.sample: "https://dashscope.aliyuncs.com/compatible-mode/v1"], extraCommands: [.sample]),
            app.arg("studio_title", .string, .none, "Title shown on the app page; None uses the model name.",
                    derived: DerivedDefault("the model name") { c in modelStem(c.string("model")).map { .string($0) } }),
            app.arg("is_multimodal", .bool, .none, "Serve the image-and-text flavour of the app; None decides from the model.",
                    support: Unsupported.multimodal, derived: DerivedDefault("false for text models") { _ in false }),
        ]
    }()

    static let evaluationArguments: [ArgumentSpec] = {
        let s = RegistrySection("Evaluation Arguments", [.eval])
        return [
            s.arg("eval_backend", .choice(["Native", "OpenCompass", "VLMEvalKit"]), "Native",
                  "Which evaluation framework runs the benchmarks.",
                  support: .restricted(allowedChoices: ["Native"], reason: "no OpenCompass or VLMEvalKit",
                                       instead: "use 'Native'")),
            s.arg("eval_output_dir", .string, "eval_output", "Directory that receives the evaluation reports."),
            s.arg("eval_num_proc", .int, 16, "Most evaluation requests in flight at once.", range: ValueRange(min: 1, max: nil)),
            s.arg("eval_url", .string, .none,
                  "URL of an OpenAI-compatible server to evaluate; None evaluates the local model."),
            s.arg("extra_eval_args", .json, .json(.object([:])),
                  "Further settings for Native evaluation, as a JSON object."),
            s.arg("local_dataset", .bool, false,
                  "Download the extra data packages some benchmarks need into ./data and use them from there.",
                  support: Unsupported.hub),
        ]
    }()
}
