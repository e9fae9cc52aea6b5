#!/usr/bin/env python3
"""Makes Tests/Fixtures/lora/lora_variants.json: PEFT (and ms-swift) references for the
engine's LoRA tuner options on the tiny models of Tests/Fixtures/tiny.

Variants (PEFT `get_peft_model` over the f32 HF model, lora_dropout 0, model.train()):
  lora    tiny/llama, r 4, alpha 8, all seven linear layers
  rslora  tiny/llama, r 4, alpha 8, use_rslora, target_modules q_proj, v_proj, down_proj
  dora    tiny/llama, r 4, alpha 8, use_dora, all seven linear layers; plus one AdamW step
          with ms-swift's LoRA+ parameter groups (lorap_lr_ratio 16)
  qwen2   tiny/qwen2, r 2, alpha 4, target_modules regex over q/v, bias "all",
          modules_to_save lm_head
Each is built with init_lora_weights=False and then given explicit A and B values (uniform in
±0.3 from numpy's RandomState(seed)); DoRA's magnitude is then recomputed by PEFT's own
`DoraLinearLayer.update_layer` (‖W + scale·B·A‖ per row). Recorded: the trainable parameters
in PEFT's order under the names of PEFT's saved files (no `base_model.model.`, no adapter name),
their values, the loss of the padding-free batch of Scripts/goldens/autograd_tiny_llama.py and
every trainable gradient.

PiSSA: PEFT's init_lora_weights="pissa" (r 4, alpha 8) on tiny/llama q_proj and down_proj:
the product B·A per module (sign-free) and numpy's singular values of the original weights.

Freeze rules: ms-swift 4.6's freeze_parameters + activate_parameters (swift/utils/
transformers_utils.py) run on tiny/llama, tiny/llama-tied and tiny/qwen3 for several rule
sets; recorded: named_parameters (name, numel) and the names left trainable.

Run: /root/.cache/tune/refvenv/bin/python Scripts/goldens/lora_variants.py
"""
import json, os, sys

here = os.path.dirname(os.path.abspath(__file__))
# This folder holds datasets.py, which would shadow the `datasets` package ms-swift imports.
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != here]
import numpy as np
import torch
import transformers
import peft
from peft import get_peft_model
from transformers import AutoModelForCausalLM

import swift
from swift.tuners.peft import LoraConfig  # ms-swift's LoraConfig (lorap_lr_ratio) and its PeftModel patches
from swift.utils.transformers_utils import freeze_parameters, activate_parameters

root = os.path.join(here, "..", "..", "Tests", "Fixtures")
torch.manual_seed(0)
torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)

sequences = [
    [1, 5, 9, 33, 2, 60, 17, 17, 42, 8, 3, 50],
    [1, 11, 0, 63, 7, 21, 34, 55, 4, 19, 28, 40, 12, 6, 61, 30, 45, 22, 14, 2],
]
labels = [list(s) for s in sequences]
for i in range(4):
    labels[0][i] = -100
for i in range(7):
    labels[1][i] = -100
labels[1][13] = -100

ALL = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def load(name):
    return AutoModelForCausalLM.from_pretrained(os.path.join(root, "tiny", name), attn_implementation="eager",
                                                dtype=torch.float32)


def batch_loss(model):
    total = torch.zeros((), dtype=torch.float32)
    count = 0
    for ids, lab in zip(sequences, labels):
        logits = model(input_ids=torch.tensor([ids])).logits[0]
        target = torch.tensor(lab[1:] + [-100])
        total = total + torch.nn.functional.cross_entropy(logits, target, ignore_index=-100, reduction="sum")
        count += int((target != -100).sum())
    return total / count


def saved_name(n):
    """PEFT in-memory name -> the name in PEFT's adapter file, without base_model.model."""
    n = n.removeprefix("base_model.model.")
    n = n.replace(".base_layer", "").replace(".modules_to_save.default", "").replace(".default", "")
    return n.removesuffix(".weight") if n.endswith("lora_magnitude_vector.weight") else n


def flat(t):
    # 9 significant digits: every f32 value exactly, half the file size of repr(double).
    return [float(f"{float(x):.9g}") for x in t.detach().reshape(-1).double()]


def variant(model_name, seed, **config):
    model = get_peft_model(load(model_name), LoraConfig(init_lora_weights=False, lora_dropout=0.0, **config))
    model.train()
    rng = np.random.RandomState(seed)
    with torch.no_grad():
        for name, module in model.named_modules():
            if hasattr(module, "lora_A") and "default" in module.lora_A:
                for lin in (module.lora_A["default"], module.lora_B["default"]):
                    lin.weight.copy_(torch.tensor(rng.uniform(-0.3, 0.3, size=tuple(lin.weight.shape)), dtype=torch.float32))
                if module.lora_magnitude_vector:
                    module.lora_magnitude_vector["default"].update_layer(
                        base_layer=module.get_base_layer(), lora_A=module.lora_A["default"].weight,
                        lora_B=module.lora_B["default"].weight, scaling=module.scaling["default"])
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    values = {saved_name(n): {"shape": list(p.shape), "values": flat(p)} for n, p in trainable}
    loss = batch_loss(model)
    loss.backward()
    grads = {saved_name(n): flat(p.grad) for n, p in trainable}
    record = {"model": model_name, "config": {k: v for k, v in config.items()},
              "order": [saved_name(n) for n, _ in trainable], "parameters": values,
              "loss": float(loss), "gradients": grads}
    return model, record


variants = {}
_, variants["lora"] = variant("llama", 1, r=4, lora_alpha=8, target_modules=ALL)
_, variants["rslora"] = variant("llama", 2, r=4, lora_alpha=8, use_rslora=True,
                                target_modules=["q_proj", "v_proj", "down_proj"])
dora_model, variants["dora"] = variant("llama", 3, r=4, lora_alpha=8, use_dora=True, target_modules=ALL,
                                       lorap_lr_ratio=16.0)
_, variants["qwen2"] = variant("qwen2", 4, r=2, lora_alpha=4, target_modules=r"model\.layers\.\d+\.self_attn\.(q|v)_proj",
                               bias="all", modules_to_save=["lm_head"])

# One AdamW step of the DoRA variant with ms-swift's LoRA+ groups (the gradients are those above).
lr, wd = 1e-3, 0.1
groups = dora_model.create_optimizer_param_groups(lr=lr, weight_decay=wd)
optimizer = torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.95), eps=1e-8)
names_by_id = {id(p): saved_name(n) for n, p in dora_model.named_parameters()}
group_summary = [{"lr": g["lr"], "weight_decay": g["weight_decay"], "names": [names_by_id[id(p)] for p in g["params"]]}
                 for g in groups]
grad_norm = float(torch.nn.utils.clip_grad_norm_([p for n, p in dora_model.named_parameters() if p.requires_grad], 1.0))
optimizer.step()
variants["dora"]["lorap_step"] = {
    "lr": lr, "weight_decay": wd, "betas": [0.9, 0.95], "eps": 1e-8, "max_grad_norm": 1.0, "lorap_lr_ratio": 16.0,
    "grad_norm": grad_norm, "groups": group_summary,
    "after": {saved_name(n): flat(p) for n, p in dora_model.named_parameters() if p.requires_grad},
}

# PiSSA.
pissa_model = get_peft_model(load("llama"), LoraConfig(r=4, lora_alpha=8, init_lora_weights="pissa",
                                                       target_modules=["q_proj", "down_proj"]))
original = load("llama")
pissa = {}
for name, module in pissa_model.named_modules():
    if hasattr(module, "lora_A") and "default" in module.lora_A:
        key = saved_name(name)
        w = dict(original.named_parameters())[key + ".weight"].detach().double().numpy()
        ba = (module.lora_B["default"].weight @ module.lora_A["default"].weight).detach()
        pissa[key] = {"shape": list(w.shape), "scaling": module.scaling["default"], "ba": flat(ba),
                      "singular_values": [float(s) for s in np.linalg.svd(w, compute_uv=False)[:8]]}

# ms-swift freeze rules.
rule_sets = [
    dict(ratio=0.3),
    dict(ratio=0.5, freeze=["model.layers.1"]),
    dict(freeze=["model.embed_tokens", "lm_head"], trainable=["model.layers.0.mlp"]),
    dict(freeze_regex=r"self_attn\.(q|k)_proj", trainable_regex=r"layers\.1\..*q_proj"),
    dict(ratio=1.0, trainable=["model.norm"]),
    dict(ratio=0.999, freeze_regex=r"norm"),
    dict(ratio=0.05, trainable_regex=r"^lm_head"),
]
freeze = {}
for model_name in ["llama", "llama-tied", "qwen3"]:
    model = load(model_name)
    cases = []
    for rules in rule_sets:
        model.requires_grad_(True)
        freeze_parameters(model, rules.get("ratio", 0.0), rules.get("freeze", []), rules.get("freeze_regex"))
        if rules.get("trainable") or rules.get("trainable_regex"):
            activate_parameters(model, rules.get("trainable", []), rules.get("trainable_regex"))
        cases.append({"rules": rules, "trainable": [n for n, p in model.named_parameters() if p.requires_grad]})
    freeze[model_name] = {"parameters": [[n, p.numel()] for n, p in model.named_parameters()], "cases": cases}

record = {
    "made_by": f"torch {torch.__version__}, transformers {transformers.__version__}, peft {peft.__version__}, "
               f"ms-swift {swift.__version__}",
    "sequences": sequences, "labels": labels, "variants": variants, "pissa": pissa, "freeze_rules": freeze,
}
out = os.path.join(root, "lora", "lora_variants.json")
os.makedirs(os.path.dirname(out), exist_ok=True)
with open(out, "w") as f:
    json.dump(record, f)
print({k: v["loss"] for k, v in variants.items()}, "grad norm", grad_norm)
