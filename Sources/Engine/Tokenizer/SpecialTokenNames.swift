/// Token texts that llama.cpp recognizes by name when it loads a GGUF vocabulary
/// (llama-vocab.cpp, as of the llama.cpp vendored in llama-cpp-python 0.3.36). A token with one of
/// these texts is treated as a control token whatever its stored type, and the end-of-generation
/// set is built from them.
enum SpecialTokenNames {
    /// End of turn / end of text: these end generation.
    static let endOfGeneration: [String] = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
        "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
        "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
        "<｜end▁of▁sentence｜>", "[e~[",
    ]

    /// Fill-in-the-middle padding, repository and file-separator markers: also end generation.
    static let fimEndOfGeneration: [String] = [
        "<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]",
        "<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>",
        "<|file_sep|>",
    ]

    /// Fill-in-the-middle prefix / suffix / middle markers: control, but generation goes on.
    static let fimOther: [String] = [
        "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>", "<|prefix|>",
        "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>", "<|suffix|>",
        "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>", "<|middle|>",
    ]

    static let endOfGenerationBytes: Set<[UInt8]> = Set((endOfGeneration + fimEndOfGeneration).map { Array($0.utf8) })
    static let forcedControlBytes: Set<[UInt8]> = endOfGenerationBytes.union((fimOther).map { Array($0.utf8) })
}
