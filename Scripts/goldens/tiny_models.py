#!/usr/bin/env python3
"""Makes the tiny-model fixtures under Tests/Fixtures/tiny/.

For each variant a seeded, randomly initialised HF model (LlamaForCausalLM, Qwen2ForCausalLM,
Qwen3ForCausalLM) is saved as an HF directory (config.json + model.safetensors, float32), and
HF transformers' own forward gives the reference logits of a fixed token sequence
(logits.json: every position). The Swift tests load the same directory with the engine and
compare.

Run: Scripts/goldens/tiny_models.py   with $(Scripts/reference-env)
"""
import json, os, sys
import torch
import transformers
from transformers import AutoConfig, AutoModelForCausalLM

root = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "Fixtures", "tiny")
tokens = [1, 5, 9, 33, 2, 60, 17, 17, 42, 8, 3, 50, 11, 0, 63, 7, 21, 34, 55, 4]

base = dict(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
            rms_norm_eps=1e-5, rope_theta=10000.0, bos_token_id=1, eos_token_id=2,
            tie_word_embeddings=False, torch_dtype="float32")

variants = {
    "llama": dict(model_type="llama", architectures=["LlamaForCausalLM"]),
    "llama-tied": dict(model_type="llama", architectures=["LlamaForCausalLM"], tie_word_embeddings=True),
    "llama-linear": dict(model_type="llama", architectures=["LlamaForCausalLM"],
                         rope_scaling={"rope_type": "linear", "factor": 2.0}),
    "llama-dynamic": dict(model_type="llama", architectures=["LlamaForCausalLM"], max_position_embeddings=8,
                          rope_scaling={"rope_type": "dynamic", "factor": 2.0}),
    "llama-yarn": dict(model_type="llama", architectures=["LlamaForCausalLM"],
                       rope_scaling={"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32}),
    "llama3-rope": dict(model_type="llama", architectures=["LlamaForCausalLM"],
                        rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                      "high_freq_factor": 4.0, "original_max_position_embeddings": 16}),
    "qwen2": dict(model_type="qwen2", architectures=["Qwen2ForCausalLM"]),
    "qwen3": dict(model_type="qwen3", architectures=["Qwen3ForCausalLM"], head_dim=16),
}

for name, extra in variants.items():
    torch.manual_seed(1234)
    cfg_dict = dict(base)
    cfg_dict.update(extra)
    model_type = cfg_dict.pop("model_type")
    cfg = AutoConfig.for_model(model_type, **cfg_dict)
    model = AutoModelForCausalLM.from_config(cfg, attn_implementation="eager").float().eval()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.2)
        for n, p in model.named_parameters():
            if "norm" in n:
                p.copy_(1 + 0.1 * torch.randn_like(p))
        logits = model(torch.tensor([tokens])).logits[0]
    out_dir = os.path.join(root, name)
    os.makedirs(out_dir, exist_ok=True)
    model.save_pretrained(out_dir, safe_serialization=True)
    for extra_file in ("generation_config.json",):
        p = os.path.join(out_dir, extra_file)
        if os.path.exists(p):
            os.remove(p)
    record = {"tokens": tokens, "logits": [[round(float(v), 6) for v in row] for row in logits],
              "made_by": f"transformers {transformers.__version__}, torch {torch.__version__}"}
    if name == "llama":
        # HF generate on a short prompt: greedy, and beam search (length_penalty 1, early_stopping
        # false, eos 2), for the generation tests.
        prompt = torch.tensor([[1, 5, 9, 33]])
        with torch.no_grad():
            greedy = model.generate(prompt, max_new_tokens=12, do_sample=False, eos_token_id=2, pad_token_id=0)
            beams = {}
            for width in (2, 3, 4):
                out = model.generate(prompt, max_new_tokens=12, do_sample=False, num_beams=width, eos_token_id=2,
                                     pad_token_id=0, length_penalty=1.0, early_stopping=False)
                beams[str(width)] = [int(t) for t in out[0][prompt.shape[1]:]]
        record["generate"] = {"prompt": [1, 5, 9, 33], "max_new_tokens": 12, "eos": 2,
                              "greedy": [int(t) for t in greedy[0][prompt.shape[1]:]], "beams": beams}
    with open(os.path.join(out_dir, "logits.json"), "w") as f:
        json.dump(record, f)
    print(name, "ok")
