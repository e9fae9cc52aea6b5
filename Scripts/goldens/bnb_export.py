"""Checks an HF directory tune wrote with `export --quant_method bnb` against bitsandbytes and
transformers, and writes what they read from it: Tests/Fixtures/bnb/export_check.json.

    TUNE_BNB_EXPORT_DIR=/tmp/bnbexp/nf4 swift test -c release --filter BNBExportTests   # writes the directory
    /root/.cache/tune/refvenv/bin/python Scripts/goldens/bnb_export.py /tmp/bnbexp/nf4

For three weights: bitsandbytes' dequantize_4bit of the saved packed codes with the quant state
rebuilt from the saved tensors (QuantState.from_dict, as transformers does); the first rows in
full and every row's sum. Then transformers loads the directory on the CPU (bitsandbytes
Linear4bit layers) and its logits for a fixed text are kept — the argmax at every position and
the first 32 logits — from an f32 forward over the weights it loaded (see below), with the
argmax of bitsandbytes' own CPU matmul beside them.
"""
import json, os, sys
import torch
import bitsandbytes as bnb
import bitsandbytes.functional as F
import transformers
from safetensors import safe_open
from transformers import AutoModelForCausalLM, AutoTokenizer

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "Fixtures", "bnb", "export_check.json")
CHECKED = ["model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.k_proj.weight",
           "model.layers.29.mlp.down_proj.weight"]
TEXT = "The capital of France is Paris. The capital of Italy is"


def main(directory):
    out = {"bitsandbytes": bnb.__version__, "transformers": transformers.__version__, "torch": torch.__version__, "tensors": {}}
    with safe_open(os.path.join(directory, "model.safetensors"), "pt") as f:
        names = list(f.keys())
        for name in CHECKED:
            parts = {k[len(name) + 1:]: f.get_tensor(k) for k in names if k.startswith(name + ".")}
            state = F.QuantState.from_dict(parts, device=torch.device("cpu"))
            w = F.dequantize_4bit(f.get_tensor(name), state).float()
            out["tensors"][name] = {"shape": list(w.shape), "rows": w[:2].tolist(),
                                    "row_sums": w.double().sum(dim=1).tolist()}
    tok = AutoTokenizer.from_pretrained(directory)
    ids = tok(TEXT, add_special_tokens=False)["input_ids"]
    model = AutoModelForCausalLM.from_pretrained(directory, device_map="cpu", dtype=torch.float32)
    kinds = sorted({type(m).__name__ for m in model.modules() if "4bit" in type(m).__name__})
    with torch.no_grad():
        # bitsandbytes' CPU matmul rounds on the way (its logits differ from an f32 forward by
        # ~1e-2) and repacks the weights on its first call; for the comparison a second copy's
        # Linear4bit layers are replaced by f32 Linears holding dequantize_4bit of the loaded
        # weight and quant state.
        bnb_logits = model(torch.tensor([ids])).logits[0].float()
        model = AutoModelForCausalLM.from_pretrained(directory, device_map="cpu", dtype=torch.float32)
        for parent in list(model.modules()):
            for child_name, child in list(parent.named_children()):
                if isinstance(child, bnb.nn.Linear4bit):
                    w = F.dequantize_4bit(child.weight.data, child.weight.quant_state).float()
                    lin = torch.nn.Linear(w.shape[1], w.shape[0], bias=child.bias is not None)
                    lin.weight.data = w
                    if child.bias is not None:
                        lin.bias.data = child.bias.data.float()
                    setattr(parent, child_name, lin)
        logits = model(torch.tensor([ids])).logits[0].float()
    out.update({"ids": ids, "linear_classes": kinds, "argmax": logits.argmax(dim=-1).tolist(),
                "bnb_matmul_argmax": bnb_logits.argmax(dim=-1).tolist(),
                "bnb_matmul_max_logit_difference": float((bnb_logits - logits).abs().max()),
                "logits_head": logits[:, :32].tolist()})
    with open(OUT, "w") as fh:
        json.dump(out, fh)
    print("wrote", OUT, "layers:", kinds, "argmax:", out["argmax"])


if __name__ == "__main__":
    main(sys.argv[1])
