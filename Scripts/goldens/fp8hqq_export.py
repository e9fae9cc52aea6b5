#!/usr/bin/env python3
"""Makes Tests/Fixtures/fp8hqq/export_check.json: transformers reading a directory that
`tune export --quant_method fp8 --torch_dtype float32` wrote from the default model, as a user's
`from_pretrained` would (on a CPU transformers dequantizes FP8 checkpoints on load).

Run:
    .build/release/tune export --model SmolLM2-135M-Instruct.Q4_1.gguf --quant_method fp8 \
        --torch_dtype float32 --output_dir /tmp/smol-fp8
    /root/.cache/tune/refvenv/bin/python Scripts/goldens/fp8hqq_export.py /tmp/smol-fp8

It checks the layout (float8_e4m3fn weights, float32 weight_scale_inv, quantization_config),
that each loaded linear weight is code x scale of its tile, and records the perplexity on the
first 4 chunks of 256 ids of Tests/Fixtures/eval/smollm2-perplexity.json (llama.cpp's method:
second half of each chunk scored) and a greedy answer.
"""
import json, math, os, sys
import numpy as np
import torch, transformers, safetensors
from safetensors import safe_open
from transformers import AutoModelForCausalLM, AutoTokenizer

path = sys.argv[1]
here = os.path.dirname(__file__)
fixtures = os.path.join(here, "..", "..", "Tests", "Fixtures")
config = json.load(open(os.path.join(path, "config.json")))
qc = config["quantization_config"]
assert qc["quant_method"] == "fp8", qc
tile = qc["weight_block_size"]

model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
params = dict(model.named_parameters())
checked = 0
with safe_open(os.path.join(path, "model.safetensors"), framework="pt") as f:
    for name in f.keys():
        if not name.endswith("weight_scale_inv"):
            continue
        wname = name.replace("weight_scale_inv", "weight")
        q, s = f.get_tensor(wname), f.get_tensor(name)
        assert q.dtype == torch.float8_e4m3fn and s.dtype == torch.float32, (wname, q.dtype, s.dtype)
        expect = q.float() * s.repeat_interleave(tile[0], 0).repeat_interleave(tile[1], 1)
        assert torch.equal(params[wname].detach(), expect), wname
        checked += 1

ids = json.load(open(os.path.join(fixtures, "eval", "smollm2-perplexity.json")))["ids"]
CTX, CHUNKS = 256, 4
nll, n = 0.0, 0
for c in range(CHUNKS):
    window = ids[c * CTX:(c + 1) * CTX]
    with torch.no_grad():
        lg = model(torch.tensor([window])).logits[0].numpy().astype(np.float64)
    for p in range(CTX // 2, CTX - 1):
        row = lg[p]
        m = row.max()
        nll -= row[window[p + 1]] - (m + math.log(np.exp(row - m).sum()))
        n += 1
ppl = math.exp(nll / n)

tok = AutoTokenizer.from_pretrained(path)
prompt = tok.apply_chat_template([{"role": "user", "content": "What is the capital of France? Answer in one sentence."}],
                                 tokenize=False, add_generation_prompt=True)
enc = tok(prompt, return_tensors="pt", add_special_tokens=False)
with torch.no_grad():
    out = model.generate(**enc, max_new_tokens=24, do_sample=False)
answer = tok.decode(out[0][enc["input_ids"].shape[1]:], skip_special_tokens=True)

result = {"made_by": f"transformers {transformers.__version__}, torch {torch.__version__}, safetensors {safetensors.__version__}",
          "weight_block_size": tile, "fp8_weights_checked": checked, "context": CTX, "chunks": CHUNKS, "scored_tokens": n,
          "perplexity": ppl, "answer": answer}
with open(os.path.join(fixtures, "fp8hqq", "export_check.json"), "w") as f:
    json.dump(result, f, indent=1)
print(result)
