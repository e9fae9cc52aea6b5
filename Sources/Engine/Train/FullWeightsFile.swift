/// The weights of a fully fine-tuned model in a checkpoint: `model.safetensors` with HF names
/// and HF's row layout (q/k rows of a `llama` GGUF base put back in rotate-half order), f32.
enum FullWeightsFile {
    static let fileName = "model.safetensors"

    /// For each HF row r of a q/k weight, the live model's row that holds it (identity for HF layouts).
    static func rowOrder(_ name: String, rows: Int, config: ModelConfig, style: RopeStyle) -> [Int]? {
        guard style == .interleaved else { return nil }
        if name.hasSuffix("self_attn.q_proj.weight") {
            return GGUFFile.llamaPermutedRowsForHF(rows: rows, headCount: config.headCount)
        }
        if name.hasSuffix("self_attn.k_proj.weight") {
            return GGUFFile.llamaPermutedRowsForHF(rows: rows, headCount: config.kvHeadCount)
        }
        return nil
    }

    static func write(_ parameters: [(name: String, variable: Variable)], config: ModelConfig, style: RopeStyle,
                      to directory: String) throws {
        var buffers: [[Float]] = []
        for (name, v) in parameters {
            var values = v.values
            if let order = rowOrder(name, rows: v.shape[0], config: config, style: style) {
                let width = v.count / v.shape[0]
                var hf = [Float](repeating: 0, count: v.count)
                for (r, source) in order.enumerated() {
                    hf[(r * width)..<((r + 1) * width)] = values[(source * width)..<((source + 1) * width)]
                }
                values = hf
            }
            buffers.append(values)
        }
        try withFloatBuffers(buffers) { pointers in
            let tensors = zip(parameters, pointers).map { p, bytes in
                SafetensorsWriter.Tensor(name: p.name, dtype: .f32, shape: p.variable.shape, bytes: bytes)
            }
            try SafetensorsWriter.write(tensors, metadata: ["format": "pt"], to: directory + "/" + fileName)
        }
    }

    /// Loads the values of every parameter from a checkpoint written by `write`.
    static func read(into parameters: [(name: String, variable: Variable)], config: ModelConfig, style: RopeStyle,
                     from directory: String) throws {
        let path = directory + "/" + fileName
        let file = try SafetensorsFile(path: path)
        for (name, v) in parameters {
            guard let info = file.info(name) else { throw FileError(path: path, problem: "has no tensor \(name)") }
            guard info.shape == v.shape, info.dtype == .f32 else {
                throw FileError(path: path, problem: "tensor \(name) is \(info.shape) \(info.dtype), the model needs \(v.shape) F32")
            }
            let values = try file.tensor(name).toFloat32()
            if let order = rowOrder(name, rows: v.shape[0], config: config, style: style) {
                let width = v.count / v.shape[0]
                for (r, target) in order.enumerated() {
                    for j in 0..<width { v.data[target * width + j] = values[r * width + j] }
                }
            } else {
                values.withUnsafeBufferPointer { v.data.update(from: $0.baseAddress!, count: v.count) }
            }
        }
    }
}

/// Runs `body` with raw views of several float arrays kept alive together.
func withFloatBuffers<R>(_ arrays: [[Float]], _ body: ([UnsafeRawBufferPointer]) throws -> R) rethrows -> R {
    func nest(_ i: Int, _ acc: [UnsafeRawBufferPointer]) throws -> R {
        if i == arrays.count { return try body(acc) }
        return try arrays[i].withUnsafeBytes { try nest(i + 1, acc + [$0]) }
    }
    return try nest(0, [])
}
