#!/usr/bin/env python3
"""Makes Tests/Fixtures/smollm2/transformers-prompt.json. Reference: HF transformers loading the
default model's GGUF (`gguf_file=`, weights dequantized to float32, activations in float32),
on the prompt ids of llamacpp-prompt.json (run smollm2_llamacpp.py first).

Same layout as llamacpp-prompt.json: last-position logits for the whole vocabulary, and per
position the logits of the same 256 sampled ids and the top 8.
Run: $(Scripts/reference-env) Scripts/goldens/smollm2_transformers.py MODEL.gguf
"""
import json, os, sys
import numpy as np
import torch
import transformers
from transformers import AutoModelForCausalLM

path = sys.argv[1]
fixtures = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "Fixtures", "smollm2")
base = json.load(open(os.path.join(fixtures, "llamacpp-prompt.json")))
ids, sample_ids = base["ids"], base["sample_ids"]
model = AutoModelForCausalLM.from_pretrained(os.path.dirname(path), gguf_file=os.path.basename(path),
                                             dtype=torch.float32).eval()
with torch.no_grad():
    logits = model(torch.tensor([ids])).logits[0].numpy()
with open(os.path.join(fixtures, "transformers-prompt.json"), "w") as f:
    json.dump({
        "made_by": f"transformers {transformers.__version__}, torch {torch.__version__}, float32",
        "ids": ids,
        "last_logits": [round(float(v), 4) for v in logits[-1]],
        "sample_ids": sample_ids,
        "positions": [{"top": [int(i) for i in np.argsort(-row)[:8]],
                       "top_logits": [round(float(row[i]), 4) for i in np.argsort(-row)[:8]],
                       "sample_logits": [round(float(row[i]), 4) for i in sample_ids]} for row in logits],
    }, f)
print("ok", logits.shape)
