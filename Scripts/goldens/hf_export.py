"""Goldens for `HFModelExport` (Tests/Fixtures/export/).

Stage `gguf` (run first): writes `tiny.gguf`, a seeded 2-layer llama (hidden 32, 4 query heads
over 2 key-value heads, head size 8) with the llama3_style tokenizer of Tests/Fixtures/tokenizer
and a Llama 3 style chat template. Weights are made with transformers' LlamaForCausalLM under
`torch.manual_seed(4321)`, converted as llama.cpp's convert_hf_to_gguf.py does (q/k rows
permuted for interleaved RoPE); the attention q and MLP matrices are stored as Q8_0.

Stage `check` (after the Swift test `HFModelExportTests` has written `tiny-hf/` from `tiny.gguf`):
loads `tiny-hf/` with `AutoModelForCausalLM.from_pretrained` and `AutoTokenizer.from_pretrained`;
asserts its logits equal those of a model built straight from `tiny.gguf` by the `gguf` package
(dequantized, q/k rows un-permuted) and that the tokenizer gives llama.cpp's ids (from
llama-cpp-python on `tiny.gguf`); writes both into `expected.json` for the Swift test.

Run: /root/.cache/tune/refvenv/bin/python Scripts/goldens/hf_export.py gguf|check
"""
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "Tests", "Fixtures", "export")
TOKENIZER_GGUF = os.path.join(HERE, "..", "..", "Tests", "Fixtures", "tokenizer", "llama3_style.gguf")
HEADS, KV_HEADS, HIDDEN, FFN, LAYERS = 4, 2, 32, 64, 2
IDS = [0, 17, 250, 3, 999, 1201, 42, 7, 640, 100, 5, 812]
TEXTS = ["Hello world", "The licence 2024, version 3.", "  spaced\n\nlines\t tab", "ZZqqZZ and 12345"]
TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}<|start_header_id|>{{ message['role'] }}<|end_header_id|>\n\n"
    "{{ message['content'] | trim }}<|eot_id|>{% endfor %}"
    "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}"
)


def permute(w, n_head):
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def unpermute(w, n_head):
    return w.reshape(n_head, w.shape[0] // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def make_gguf():
    import gguf
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = gguf.GGUFReader(TOKENIZER_GGUF)
    tokens = [bytes(tok.fields["tokenizer.ggml.tokens"].parts[i]).decode() for i in tok.fields["tokenizer.ggml.tokens"].data]
    types = [int(tok.fields["tokenizer.ggml.token_type"].parts[i][0]) for i in tok.fields["tokenizer.ggml.token_type"].data]
    merges = [bytes(tok.fields["tokenizer.ggml.merges"].parts[i]).decode() for i in tok.fields["tokenizer.ggml.merges"].data]
    bos = int(tok.fields["tokenizer.ggml.bos_token_id"].parts[-1][0])
    eos = int(tok.fields["tokenizer.ggml.eos_token_id"].parts[-1][0])

    torch.manual_seed(4321)
    cfg = LlamaConfig(vocab_size=len(tokens), hidden_size=HIDDEN, intermediate_size=FFN, num_hidden_layers=LAYERS,
                      num_attention_heads=HEADS, num_key_value_heads=KV_HEADS, max_position_embeddings=256,
                      rms_norm_eps=1e-5, rope_theta=10000.0, bos_token_id=bos, eos_token_id=eos)
    model = LlamaForCausalLM(cfg)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1 + 0.1 * torch.randn_like(p))
            else:
                p.copy_(0.2 * torch.randn_like(p))
    sd = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}

    w = gguf.GGUFWriter(os.path.join(OUT, "tiny.gguf"), "llama")
    w.add_name("tiny-export")
    w.add_block_count(LAYERS)
    w.add_context_length(256)
    w.add_embedding_length(HIDDEN)
    w.add_feed_forward_length(FFN)
    w.add_head_count(HEADS)
    w.add_head_count_kv(KV_HEADS)
    w.add_rope_dimension_count(HIDDEN // HEADS)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(len(tokens))
    w.add_file_type(7)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("llama-bpe")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(bos)
    w.add_eos_token_id(eos)
    w.add_chat_template(TEMPLATE)

    def add(name, arr, quant=False):
        if quant:
            q = gguf.quants.quantize(arr, gguf.GGMLQuantizationType.Q8_0)
            w.add_tensor(name, q, raw_shape=q.shape, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
        else:
            w.add_tensor(name, arr)

    add("token_embd.weight", sd["model.embed_tokens.weight"])
    for i in range(LAYERS):
        p = f"model.layers.{i}."
        add(f"blk.{i}.attn_norm.weight", sd[p + "input_layernorm.weight"])
        add(f"blk.{i}.attn_q.weight", permute(sd[p + "self_attn.q_proj.weight"], HEADS), quant=True)
        add(f"blk.{i}.attn_k.weight", permute(sd[p + "self_attn.k_proj.weight"], KV_HEADS))
        add(f"blk.{i}.attn_v.weight", sd[p + "self_attn.v_proj.weight"])
        add(f"blk.{i}.attn_output.weight", sd[p + "self_attn.o_proj.weight"])
        add(f"blk.{i}.ffn_norm.weight", sd[p + "post_attention_layernorm.weight"])
        add(f"blk.{i}.ffn_gate.weight", sd[p + "mlp.gate_proj.weight"], quant=True)
        add(f"blk.{i}.ffn_up.weight", sd[p + "mlp.up_proj.weight"], quant=True)
        add(f"blk.{i}.ffn_down.weight", sd[p + "mlp.down_proj.weight"], quant=True)
    add("output_norm.weight", sd["model.norm.weight"])
    add("output.weight", sd["lm_head.weight"])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def reference_from_gguf():
    """LlamaForCausalLM with the GGUF's weights, read by the gguf package (not by tune)."""
    import gguf
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    r = gguf.GGUFReader(os.path.join(OUT, "tiny.gguf"))
    vocab = len(r.fields["tokenizer.ggml.tokens"].data)
    t = {}
    for x in r.tensors:
        shape = [int(d) for d in reversed(x.shape)]
        t[x.name] = gguf.quants.dequantize(x.data, x.tensor_type).reshape(shape).astype(np.float32)
    cfg = LlamaConfig(vocab_size=vocab, hidden_size=HIDDEN, intermediate_size=FFN, num_hidden_layers=LAYERS,
                      num_attention_heads=HEADS, num_key_value_heads=KV_HEADS, max_position_embeddings=256,
                      rms_norm_eps=1e-5, rope_theta=10000.0)
    sd = {"model.embed_tokens.weight": t["token_embd.weight"], "model.norm.weight": t["output_norm.weight"],
          "lm_head.weight": t["output.weight"]}
    for i in range(LAYERS):
        p, b = f"model.layers.{i}.", f"blk.{i}."
        sd[p + "input_layernorm.weight"] = t[b + "attn_norm.weight"]
        sd[p + "self_attn.q_proj.weight"] = unpermute(t[b + "attn_q.weight"], HEADS)
        sd[p + "self_attn.k_proj.weight"] = unpermute(t[b + "attn_k.weight"], KV_HEADS)
        sd[p + "self_attn.v_proj.weight"] = t[b + "attn_v.weight"]
        sd[p + "self_attn.o_proj.weight"] = t[b + "attn_output.weight"]
        sd[p + "post_attention_layernorm.weight"] = t[b + "ffn_norm.weight"]
        sd[p + "mlp.gate_proj.weight"] = t[b + "ffn_gate.weight"]
        sd[p + "mlp.up_proj.weight"] = t[b + "ffn_up.weight"]
        sd[p + "mlp.down_proj.weight"] = t[b + "ffn_down.weight"]
    m = LlamaForCausalLM(cfg)
    m.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd.items()})
    return m.eval()


def check():
    import torch
    import transformers
    from llama_cpp import Llama
    from transformers import AutoModelForCausalLM, AutoTokenizer

    d = os.path.join(OUT, "tiny-hf")
    model = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32).eval()
    with torch.no_grad():
        got = model(torch.tensor([IDS])).logits[0].numpy()
        want = reference_from_gguf()(torch.tensor([IDS])).logits[0].numpy()
    err = float(np.abs(got - want).max())
    assert err < 1e-5, f"exported model's logits differ from the GGUF's by {err}"

    tok = AutoTokenizer.from_pretrained(d)
    llama = Llama(model_path=os.path.join(OUT, "tiny.gguf"), vocab_only=True, verbose=False)
    cases = []
    for text in TEXTS:
        hf_ids = tok(text)["input_ids"]
        cpp_ids = llama.tokenize(text.encode(), add_bos=True, special=True)
        assert hf_ids == cpp_ids, f"{text!r}: transformers {hf_ids} vs llama.cpp {cpp_ids}"
        cases.append({"text": text, "ids": hf_ids})
    messages = [{"role": "user", "content": "Hi there"}]
    prompt = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    expected = {
        "ids": IDS,
        "logits": [[round(float(x), 6) for x in row] for row in got],
        "max_error_vs_gguf": err,
        "tokenizer": cases,
        "chat_prompt": prompt,
        "versions": {"transformers": transformers.__version__, "torch": torch.__version__},
    }
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
    print("ok: max |logit error| vs GGUF", err)


if __name__ == "__main__":
    {"gguf": make_gguf, "check": check}[sys.argv[1]]()
