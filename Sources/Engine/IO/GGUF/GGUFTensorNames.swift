/// The one mapping between GGUF tensor names and the HF names the engine uses.
public enum GGUFTensorNames {
    private static let global: [(gguf: String, hf: String)] = [
        ("token_embd", "model.embed_tokens"),
        ("output_norm", "model.norm"),
        ("output", "lm_head"),
    ]

    private static let perLayer: [(gguf: String, hf: String)] = [
        ("attn_norm", "input_layernorm"),
        ("ffn_norm", "post_attention_layernorm"),
        ("attn_q", "self_attn.q_proj"),
        ("attn_k", "self_attn.k_proj"),
        ("attn_v", "self_attn.v_proj"),
        ("attn_output", "self_attn.o_proj"),
        ("attn_q_norm", "self_attn.q_norm"),
        ("attn_k_norm", "self_attn.k_norm"),
        ("ffn_gate", "mlp.gate_proj"),
        ("ffn_up", "mlp.up_proj"),
        ("ffn_down", "mlp.down_proj"),
    ]

    private static let suffixes = ["weight", "bias"]

    /// `blk.3.attn_q.weight` → `model.layers.3.self_attn.q_proj.weight`; nil for names with no
    /// HF counterpart (for example `rope_freqs.weight`).
    public static func hfName(_ gguf: String) -> String? {
        let parts = gguf.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 2, suffixes.contains(parts[1]), let m = global.first(where: { $0.gguf == parts[0] }) {
            return "\(m.hf).\(parts[1])"
        }
        if parts.count == 4, parts[0] == "blk", let layer = Int(parts[1]), layer >= 0, String(layer) == parts[1],
           suffixes.contains(parts[3]), let m = perLayer.first(where: { $0.gguf == parts[2] }) {
            return "model.layers.\(layer).\(m.hf).\(parts[3])"
        }
        return nil
    }

    /// The inverse of `hfName`.
    public static func ggufName(_ hf: String) -> String? {
        guard let suffixDot = hf.lastIndex(of: ".") else { return nil }
        let suffix = String(hf[hf.index(after: suffixDot)...])
        let stem = String(hf[..<suffixDot])
        guard suffixes.contains(suffix) else { return nil }
        if let m = global.first(where: { $0.hf == stem }) { return "\(m.gguf).\(suffix)" }
        let prefix = "model.layers."
        guard stem.hasPrefix(prefix) else { return nil }
        let rest = stem.dropFirst(prefix.count)
        guard let dot = rest.firstIndex(of: "."), let layer = Int(rest[..<dot]), layer >= 0,
              String(layer) == rest[..<dot] else { return nil }
        let module = String(rest[rest.index(after: dot)...])
        guard let m = perLayer.first(where: { $0.hf == module }) else { return nil }
        return "blk.\(layer).\(m.gguf).\(suffix)"
    }
}
