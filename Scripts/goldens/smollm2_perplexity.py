#!/usr/bin/env python3
"""Makes Tests/Fixtures/eval/smollm2-perplexity.json: the default model's perplexity on the GPL-3
licence text (Tests/Fixtures/tokenizer/corpus/GPL-3.txt), computed the way llama.cpp's perplexity
tool does (chunks of 256 tokens, only the second half of each chunk scored), by HF transformers
on the GGUF dequantized to float32, and by llama.cpp (llama-cpp-python) on the GGUF as it is.
Ids come from llama.cpp's tokenizer (no BOS, as the GGUF asks).
Run: $(Scripts/reference-env) Scripts/goldens/smollm2_perplexity.py MODEL.gguf
"""
import json, math, os, sys
import numpy as np
import torch, transformers, llama_cpp
from transformers import AutoModelForCausalLM

path = sys.argv[1]
here = os.path.dirname(__file__)
text = open(os.path.join(here, "..", "..", "Tests", "Fixtures", "tokenizer", "corpus", "GPL-3.txt")).read()
CTX, CHUNKS = 256, 8
llm = llama_cpp.Llama(model_path=path, n_ctx=CTX, n_batch=CTX, n_threads=2, logits_all=True, verbose=False)
ids = llm.tokenize(text.encode(), add_bos=False, special=False)[: CTX * CHUNKS]

def score(logits_of_chunk):
    nll, n = 0.0, 0
    for c in range(CHUNKS):
        window = ids[c * CTX:(c + 1) * CTX]
        lg = logits_of_chunk(window).astype(np.float64)
        for p in range(CTX // 2, CTX - 1):
            row = lg[p]
            m = row.max()
            lse = m + math.log(np.exp(row - m).sum())
            nll -= row[window[p + 1]] - lse
            n += 1
    return math.exp(nll / n), n

def llamacpp_logits(window):
    llm.reset()
    llm.eval(window)
    return np.array(llm.scores[:len(window)])

model = AutoModelForCausalLM.from_pretrained(os.path.dirname(path), gguf_file=os.path.basename(path), dtype=torch.float32).eval()
def hf_logits(window):
    with torch.no_grad():
        return model(torch.tensor([window])).logits[0].numpy()

ppl_hf, n = score(hf_logits)
ppl_cpp, _ = score(llamacpp_logits)
out = os.path.join(here, "..", "..", "Tests", "Fixtures", "eval")
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "smollm2-perplexity.json"), "w") as f:
    json.dump({"made_by": f"transformers {transformers.__version__}, torch {torch.__version__}, llama-cpp-python {llama_cpp.__version__}",
               "context": CTX, "chunks": CHUNKS, "ids": ids, "scored_tokens": n,
               "perplexity_transformers": ppl_hf, "perplexity_llamacpp": ppl_cpp}, f)
print("scored", n, "ppl transformers", ppl_hf, "llama.cpp", ppl_cpp)
