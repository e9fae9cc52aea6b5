#!/usr/bin/env python3
"""Makes Tests/Fixtures/lora_inference/: PEFT's answers for LoRA adapters on the tiny HF models
of Tests/Fixtures/tiny, for the engine's adapted (unmerged) and merged models.

For each variant a PEFT LoraConfig with init_lora_weights=False (A and B both non-zero, so the
adapter changes the logits) wraps the tiny model; DoRA magnitudes and trained biases are then
perturbed so that they matter too. Written per variant:
  <variant>.safetensors  the adapter's matrices in float32 under the module's HF name:
                         <module>.lora_A [r, in], <module>.lora_B [out, r],
                         <module>.lora_magnitude [out] (DoRA), <module>.bias [out] (bias "all"),
                         and whole saved modules (modules_to_save) under their HF tensor name.
  <variant>.json         the config (r, alpha, rslora, dora, base), PEFT's logits at every
                         position of two token sequences, HF greedy generation, and the logits
                         of the same sequences after merge_and_unload().

Run: /root/.cache/tune/refvenv/bin/python Scripts/goldens/lora_inference.py
"""
import json, os
import torch
import peft
import transformers
from peft import LoraConfig, get_peft_model
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM

here = os.path.dirname(os.path.abspath(__file__))
fixtures = os.path.join(here, "..", "..", "Tests", "Fixtures")
out_dir = os.path.join(fixtures, "lora_inference")
os.makedirs(out_dir, exist_ok=True)
torch.set_num_threads(1)

sequences = [[1, 5, 9, 33, 2, 60, 17, 17, 42, 8, 3, 50], [7, 21, 34, 55, 4, 0, 63, 11]]
prompt = [1, 5, 9, 33]
all_linear = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]

variants = {
    # Plain LoRA on every linear layer, with the output head trained whole (modules_to_save).
    "lora": dict(base="llama", r=4, alpha=8, targets=all_linear, rslora=False, dora=False, bias="none",
                 save=["lm_head"]),
    "rslora": dict(base="llama", r=4, alpha=8, targets=all_linear, rslora=True, dora=False, bias="none", save=[]),
    "dora": dict(base="llama", r=4, alpha=8, targets=all_linear, rslora=False, dora=True, bias="none", save=[]),
    # Qwen2 has q/k/v biases: bias "all" trains them, the adapter keeps the trained copies.
    "qwen2-bias": dict(base="qwen2", r=2, alpha=4, targets=["q_proj", "k_proj", "v_proj", "down_proj"],
                       rslora=False, dora=False, bias="all", save=[]),
}


def logits_of(model, seqs):
    with torch.no_grad():
        return [[[round(float(v), 6) for v in row] for row in model(torch.tensor([s])).logits[0]] for s in seqs]


for name, v in variants.items():
    torch.manual_seed(4321)
    base = AutoModelForCausalLM.from_pretrained(os.path.join(fixtures, "tiny", v["base"]), attn_implementation="eager",
                                                dtype=torch.float32).eval()
    cfg = LoraConfig(r=v["r"], lora_alpha=v["alpha"], target_modules=v["targets"], lora_dropout=0.0,
                     use_rslora=v["rslora"], use_dora=v["dora"], bias=v["bias"], init_lora_weights=False,
                     modules_to_save=v["save"] or None)
    model = get_peft_model(base, cfg).eval()
    tensors = {}
    with torch.no_grad():
        for mod_name, mod in model.named_modules():
            if not hasattr(mod, "lora_A") or "default" not in mod.lora_A:
                continue
            hf = mod_name.removeprefix("base_model.model.")
            if v["dora"]:
                m = mod.lora_magnitude_vector["default"].weight
                m.mul_(1 + 0.2 * torch.randn_like(m))
                tensors[hf + ".lora_magnitude"] = m.detach().clone()
            if v["bias"] == "all" and mod.base_layer.bias is not None:
                b = mod.base_layer.bias
                b.add_(0.3 * torch.randn_like(b))
                tensors[hf + ".bias"] = b.detach().clone()
            tensors[hf + ".lora_A"] = mod.lora_A["default"].weight.detach().clone()
            tensors[hf + ".lora_B"] = mod.lora_B["default"].weight.detach().clone()
        for saved in v["save"]:
            wrapper = dict(model.named_modules())["base_model.model." + saved]
            w = wrapper.modules_to_save["default"].weight
            w.add_(0.2 * torch.randn_like(w))
            tensors[saved + ".weight"] = w.detach().clone()
    adapted = logits_of(model, sequences)
    with torch.no_grad():
        greedy = model.generate(input_ids=torch.tensor([prompt]), max_new_tokens=12, do_sample=False, eos_token_id=2,
                                pad_token_id=0)
    merged_model = model.merge_and_unload().eval()
    merged = logits_of(merged_model, sequences)
    save_file({k: t.contiguous() for k, t in tensors.items()}, os.path.join(out_dir, name + ".safetensors"))
    record = {
        "base": "tiny/" + v["base"], "rank": v["r"], "alpha": v["alpha"], "use_rslora": v["rslora"],
        "use_dora": v["dora"], "bias": v["bias"], "target_modules": v["targets"], "modules_to_save": v["save"],
        "sequences": sequences, "logits": adapted,
        "generate": {"prompt": prompt, "max_new_tokens": 12, "eos": 2,
                     "greedy": [int(t) for t in greedy[0][len(prompt):]]},
        "merged_logits": merged,
        "made_by": f"peft {peft.__version__}, transformers {transformers.__version__}, torch {torch.__version__}",
    }
    with open(os.path.join(out_dir, name + ".json"), "w") as f:
        json.dump(record, f)
    print(name, "ok", len(tensors), "tensors")
