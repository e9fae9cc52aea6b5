extension ArgumentRegistry {
    static let generationArguments: [ArgumentSpec] = {
        let s = RegistrySection("Generation Arguments", .base)
        return [
            s.arg("max_new_tokens", .int, .none,
                  "Most tokens to generate per answer; None means no limit beyond the context. When training with predict_with_generate it is 64.",
                  range: .positive, perCommand: [.pt: 64, .sft: 64, .rlhf: 64]),
            s.arg("temperature", .float, .none,
                  "Sampling temperature; 0 means greedy decoding. None takes it from generation_config.json.",
                  range: .nonNegative,
                  perCommand: [.pt: 0.0, .sft: 0.0, .rlhf: 0.9, .eval: 0.0, .sample: 1.0]),
            s.arg("top_k", .int, .none, "Sample only among the k most likely tokens; None reads generation_config.json.",
                  range: .nonNegative, perCommand: [.rlhf: 50]),
            s.arg("top_p", .float, .none,
                  "Nucleus sampling: sample from the smallest set of tokens whose probabilities add up to p; None reads generation_config.json.",
                  range: .unit, perCommand: [.rlhf: 0.9]),
            s.arg("repetition_penalty", .float, .none,
                  "Factor that makes already generated tokens less likely (1 means none); None reads generation_config.json.",
                  range: .positive, perCommand: [.rlhf: 1.0]),
            s.arg("num_beams", .int, 1, "Number of beams kept in beam search; 1 means no beam search.",
                  range: ValueRange(min: 1, max: nil)),
            s.arg("stream", .bool, .none,
                  "Print answers token by token as they are produced; None means yes when interactive and no for dataset runs.",
                  derived: DerivedDefault("true when interactive, false for batch inference over a dataset") { c in
                      .bool(c.interactive)
                  }),
            s.arg("stop_words", .list(of: .string), [],
                  "Extra strings that end generation besides the end-of-sequence token; unlike it they stay in the output."),
            s.arg("logprobs", .bool, false, "Return the log-probability of each generated token."),
            s.arg("top_logprobs", .int, .none, "Also return this many most likely alternatives per generated token.",
                  range: .nonNegative),
        ]
    }()
}
