extension LlamaModel {
    /// A model over the tensors of a GGUF file (weights stay in the file's map).
    public convenience init(gguf file: GGUFFile) throws {
        let config = try ModelConfig(gguf: file)
        let style: RopeStyle = file.ropeStyle == .halves ? .halves : .interleaved
        try self.init(config: config, ropeStyle: style) { name in
            GGUFTensorNames.ggufName(name).flatMap { file.tensor($0) }
        }
    }

    /// A model over an HF directory's safetensors (HF layout: rotate-half RoPE).
    public convenience init(hfDirectory dir: HFModelDirectory) throws {
        try self.init(config: dir.config, ropeStyle: .halves) { name in try? dir.tensor(name) }
    }
}
