#!/usr/bin/env python3
"""Makes the PEFT adapter fixtures under Tests/Fixtures/peft/ and checks the one tune wrote.

1. PEFT -> tune. For each case, `get_peft_model` on a tiny seeded HF model (Tests/Fixtures/tiny)
   with init_lora_weights=False (A and B non-zero); DoRA magnitudes, trainable biases and
   modules_to_save copies are then perturbed so they differ from the base. `save_pretrained`
   writes <case>/ (adapter_config.json, adapter_model.safetensors; the model card is removed).
   golden/<case>.json holds PEFT's merged weights (`merge_and_unload`) of a few modules and
   the adapted model's logits (PeftModel forward, every position) on a fixed token sequence.

2. tune -> PEFT. written-by-tune/ is the directory tune's PEFTAdapterFiles.write produced
   (PEFTAdapterFilesTests.testWriterOutputIsTheCommittedFixture makes it, from an adapter
   whose values are a formula, on the tiny llama loaded as a llama GGUF with q/k rows
   permuted). This script loads it into PEFT on the HF tiny llama and asserts: no missing or
   unexpected adapter keys; lora_B of q/k equals the formula's values with llama.cpp's q/k
   row permutation undone; merged weights equal W + DoRA/rsLoRA of the formula.

Run: Scripts/goldens/peft_adapters.py   with the venv of Scripts/reference-env
"""
import copy, json, math, os
import numpy as np
import torch
import peft, transformers, safetensors
from peft import LoraConfig, PeftModel, get_peft_model, set_peft_model_state_dict
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM

here = os.path.dirname(os.path.abspath(__file__))
fixtures = os.path.join(here, "..", "..", "Tests", "Fixtures")
root = os.path.join(fixtures, "peft")
tokens = [1, 5, 9, 33, 2, 60, 17, 42]
made_by = f"peft {peft.__version__}, transformers {transformers.__version__}, torch {torch.__version__}"


def base(name):
    return AutoModelForCausalLM.from_pretrained(os.path.join(fixtures, "tiny", name), dtype=torch.float32).eval()


cases = {
    "llama-lora": dict(model="llama", golden_modules=["model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.k_proj",
                                                      "model.layers.1.self_attn.k_proj", "model.layers.0.mlp.down_proj",
                                                      "model.layers.1.mlp.gate_proj"],
                       config=dict(r=4, lora_alpha=8, target_modules="all-linear", modules_to_save=["lm_head"])),
    "llama-rslora-dora": dict(model="llama", golden_modules=["model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.k_proj",
                                                             "model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.v_proj"],
                              config=dict(r=2, lora_alpha=4, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
                                          use_rslora=True, use_dora=True)),
    "qwen2-bias": dict(model="qwen2", golden_modules=["model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.k_proj",
                                                      "model.layers.0.self_attn.v_proj", "model.layers.1.self_attn.o_proj"],
                       config=dict(r=2, lora_alpha=16, target_modules=["q_proj", "k_proj", "o_proj"], bias="all",
                                   modules_to_save=["embed_tokens"])),
}

os.makedirs(os.path.join(root, "golden"), exist_ok=True)
for case, spec in cases.items():
    torch.manual_seed(4321)
    model = get_peft_model(base(spec["model"]), LoraConfig(task_type="CAUSAL_LM", init_lora_weights=False, **spec["config"]))
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "lora_magnitude_vector" in n or "modules_to_save" in n or n.endswith(".bias"):
                p.add_(0.05 * torch.randn_like(p))
        logits = model(torch.tensor([tokens])).logits[0]
    out_dir = os.path.join(root, case)
    model.peft_config["default"].base_model_name_or_path = "Tests/Fixtures/tiny/" + spec["model"]
    # target_modules is a set; sorted so that reruns write the same file.
    model.peft_config["default"].target_modules = sorted(model.peft_config["default"].target_modules)
    model.save_pretrained(out_dir)
    readme = os.path.join(out_dir, "README.md")
    if os.path.exists(readme):
        os.remove(readme)
    merged = copy.deepcopy(model).merge_and_unload()
    state = merged.state_dict()
    weights = {m: {"shape": list(state[m + ".weight"].shape),
                   "values": [round(float(v), 7) for v in state[m + ".weight"].flatten()]} for m in spec["golden_modules"]}
    biases = {k: [round(float(v), 7) for v in t] for k, t in state.items() if k.endswith(".bias") and "layers.0" in k}
    record = {"tokens": tokens, "logits": [[round(float(v), 6) for v in row] for row in logits],
              "merged_weights": weights, "merged_biases": biases, "made_by": made_by}
    with open(os.path.join(root, "golden", case + ".json"), "w") as f:
        json.dump(record, f)
    print(case, "written")


# 2. The directory tune wrote. The formula must match formulaValue in PEFTAdapterFilesTests.swift.
def formula(seed, count, offset=0.0):
    return np.array([offset + 0.1 * math.sin(0.37 * i + 0.013 * seed) for i in range(count)], dtype=np.float32)


def unpermute(w, heads):
    """Inverse of llama.cpp's convert_hf_to_gguf permute(w, n_head): GGUF row order -> HF."""
    rows = w.shape[0]
    return w.reshape(heads, rows // heads // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


written = os.path.join(root, "written-by-tune")
if os.path.isdir(written):
    hf = base("llama")
    cfg = LoraConfig.from_pretrained(written)
    assert cfg.r == 2 and cfg.use_dora and cfg.use_rslora, cfg
    model = get_peft_model(copy.deepcopy(hf), cfg)
    state = load_file(os.path.join(written, "adapter_model.safetensors"))
    result = set_peft_model_state_dict(model, state)
    adapter_missing = [k for k in result.missing_keys if "lora_" in k or "modules_to_save" in k]
    assert not result.unexpected_keys, result.unexpected_keys
    assert not adapter_missing, adapter_missing
    # Every LoRA parameter PEFT created was filled from the file.
    created = {n for n, _ in model.named_parameters() if "lora_" in n}
    assert len(created) == len([k for k in state if "lora_" in k]), (len(created), len(state))
    c = hf.config
    heads = {"q_proj": c.num_attention_heads, "k_proj": c.num_key_value_heads}
    names = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    scale = cfg.lora_alpha / math.sqrt(cfg.r)
    merged = copy.deepcopy(model).merge_and_unload().state_dict()
    base_state = hf.state_dict()
    worst = 0.0
    for layer in range(c.num_hidden_layers):
        for mi, short in enumerate(names):
            group = "self_attn" if mi < 4 else "mlp"
            name = f"model.layers.{layer}.{group}.{short}"
            W = base_state[name + ".weight"].numpy()
            out_f, in_f = W.shape
            seed = layer * 100 + mi * 10
            A = formula(seed, cfg.r * in_f).reshape(cfg.r, in_f)
            B = formula(seed + 1, out_f * cfg.r).reshape(out_f, cfg.r)
            m = formula(seed + 2, out_f, offset=1.0)
            if short in heads:  # tune wrote from the GGUF layout: the formula is in GGUF row order
                B, m = unpermute(B, heads[short]), unpermute(m, heads[short])
            got_b = model.base_model.model.get_submodule(name).lora_B["default"].weight.detach().numpy()
            assert np.allclose(got_b, B, atol=1e-6), f"{name}: PEFT's lora_B is not the formula in HF order"
            V = W.astype(np.float64) + scale * B.astype(np.float64) @ A.astype(np.float64)
            expect = (m[:, None] / np.linalg.norm(V, axis=1, keepdims=True)) * V
            worst = max(worst, float(np.abs(merged[name + ".weight"].numpy() - expect).max()))
    head = merged["lm_head.weight"].numpy()
    assert np.allclose(head, formula(999, head.size).reshape(head.shape), atol=1e-6), "lm_head modules_to_save"
    assert worst < 1e-5, f"merged weights differ by {worst}"
    print("written-by-tune: PEFT loads it; largest |merged - expected| =", worst)
else:
    print("written-by-tune/ missing: run swift test -c release --filter PEFTAdapterFiles and copy it in (see README)")
