import Foundation
import XCTest
@testable import Engine

/// Tiny models for the PEFT adapter tests, in HF layout or in llama.cpp's GGUF layout, and
/// a scalar reference merge of an adapter into them.
enum PEFTTestModels {
    enum Layout: CaseIterable { case hf, gguf }

    static func directory(_ name: String) throws -> HFModelDirectory {
        try HFModelDirectory(path: TestPaths.fixture("tiny/\(name)"), requireTokenizer: false)
    }

    /// llama.cpp's `convert_hf_to_gguf` q/k permutation, written from its numpy form
    /// `w.reshape(heads, 2, rows/heads/2, ...).swapaxes(1, 2)`: HF row h·d + s·d/2 + j goes to
    /// GGUF row h·d + 2j + s.
    static func ggufRows(fromHF values: [Float], rows: Int, heads: Int) -> [Float] {
        moveRows(values, rows: rows, heads: heads, toGGUF: true)
    }

    static func hfRows(fromGGUF values: [Float], rows: Int, heads: Int) -> [Float] {
        moveRows(values, rows: rows, heads: heads, toGGUF: false)
    }

    private static func moveRows(_ values: [Float], rows: Int, heads: Int, toGGUF: Bool) -> [Float] {
        let width = values.count / rows, headDim = rows / heads, half = headDim / 2
        var out = values
        for h in 0..<heads {
            for s in 0..<2 {
                for j in 0..<half {
                    let hfRow = h * headDim + s * half + j, ggufRow = h * headDim + 2 * j + s
                    let (from, to) = toGGUF ? (hfRow, ggufRow) : (ggufRow, hfRow)
                    for c in 0..<width { out[to * width + c] = values[from * width + c] }
                }
            }
        }
        return out
    }

    /// Heads of a q/k weight or bias, nil for every other tensor.
    static func qkHeads(_ name: String, _ config: ModelConfig) -> Int? {
        if name.contains(".self_attn.q_proj.") || name.hasSuffix(".self_attn.q_proj") { return config.headCount }
        if name.contains(".self_attn.k_proj.") || name.hasSuffix(".self_attn.k_proj") { return config.kvHeadCount }
        return nil
    }

    /// A base tensor of the tiny model `name` in `layout` (q/k rows permuted for GGUF).
    static func baseValues(_ dir: HFModelDirectory, _ tensor: String, _ layout: Layout) -> (shape: [Int], values: [Float])? {
        guard let t = try? dir.tensor(tensor) else { return nil }
        var v = t.toFloat32()
        if layout == .gguf, let heads = qkHeads(tensor, dir.config) { v = ggufRows(fromHF: v, rows: t.shape[0], heads: heads) }
        return (t.shape, v)
    }

    static func model(_ name: String, _ layout: Layout) throws -> LlamaModel {
        try merged(name, layout, adapter: nil)
    }

    /// The tiny model with `adapter` (rows in `layout`) folded in by `mergedWeight`, its biases
    /// and saved whole tensors put in place.
    static func merged(_ name: String, _ layout: Layout, adapter: LoRAAdapter?) throws -> LlamaModel {
        let dir = try directory(name)
        let store = TensorStore()
        return try LlamaModel(config: dir.config, ropeStyle: layout == .gguf ? .interleaved : .halves) { tensor in
            if let saved = adapter?.savedTensors[tensor] { return store.tensor(tensor, saved.shape, saved.values) }
            if tensor.hasSuffix(".weight"), let a = adapter, let m = a.modules[String(tensor.dropLast(7))],
               let base = baseValues(dir, tensor, layout) {
                return store.tensor(tensor, base.shape, mergedWeight(base.values, m, scale: a.config.scale))
            }
            if tensor.hasSuffix(".bias"), let bias = adapter?.modules[String(tensor.dropLast(5))]?.bias {
                return store.tensor(tensor, [bias.count], bias)
            }
            return baseValues(dir, tensor, layout).map { store.tensor(tensor, $0.shape, $0.values) }
        }
    }

    /// W + scale·B·A, and with DoRA each row then scaled to magnitude m / ‖row‖ (Double sums).
    static func mergedWeight(_ w: [Float], _ m: LoRAModuleWeights, scale: Float) -> [Float] {
        let out = m.outFeatures, inF = m.inFeatures, r = m.rank
        var v = [Double](repeating: 0, count: out * inF)
        for o in 0..<out {
            for i in 0..<inF {
                var d = 0.0
                for k in 0..<r { d += Double(m.b[o * r + k]) * Double(m.a[k * inF + i]) }
                v[o * inF + i] = Double(w[o * inF + i]) + Double(scale) * d
            }
            if let mag = m.magnitude {
                let norm = (0..<inF).reduce(0.0) { $0 + v[o * inF + $1] * v[o * inF + $1] }.squareRoot()
                for i in 0..<inF { v[o * inF + i] *= Double(mag[o]) / norm }
            }
        }
        return v.map { Float($0) }
    }

    /// Test values both this file and Scripts/goldens/peft_adapters.py compute.
    static func formula(_ seed: Int, _ count: Int, offset: Double = 0) -> [Float] {
        (0..<count).map { Float(offset + 0.1 * sin(0.37 * Double($0) + 0.013 * Double(seed))) }
    }
}

/// Keeps the memory of test tensors alive for as long as a model points into it.
final class TensorStore {
    private var buffers: [UnsafeMutableRawBufferPointer] = []
    deinit { for b in buffers { b.deallocate() } }

    func tensor(_ name: String, _ shape: [Int], _ values: [Float]) -> RawTensor {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(values.count * 4, 4), alignment: 64)
        values.withUnsafeBytes { buffer.copyMemory(from: $0) }
        buffers.append(buffer)
        return RawTensor(name: name, type: .f32, shape: shape,
                         bytes: UnsafeRawBufferPointer(rebasing: buffer[0..<(values.count * 4)]), owner: self)
    }
}
