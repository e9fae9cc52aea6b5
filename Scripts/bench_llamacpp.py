#!/usr/bin/env python3
"""llama.cpp's side of Scripts/bench: prefill and decode tokens/s on a GGUF with llama-cpp-python,
measured the way tune-bench measures the engine (same prompt sizes, greedy decode, 2 threads,
best of N runs)."""
import sys, time, random
import numpy as np
import llama_cpp

path, sizes, decode, repeats = sys.argv[1], [int(s) for s in sys.argv[2].split(",")], int(sys.argv[3]), int(sys.argv[4])
llm = llama_cpp.Llama(model_path=path, n_ctx=1024, n_batch=512, n_ubatch=512, n_threads=2, n_threads_batch=2, verbose=False)
rng = random.Random(1)
def tokens(n): return [1000 + rng.randrange(20000) for _ in range(n)]
llm.reset(); llm.eval(tokens(16))
for n in sizes:
    best = float("inf")
    for _ in range(repeats):
        t = tokens(n)
        llm.reset()
        t0 = time.perf_counter(); llm.eval(t); best = min(best, time.perf_counter() - t0)
    print(f"prefill {n:4d} tokens: {n / best:8.1f} tokens/s")
best = float("inf")
for _ in range(repeats):
    llm.reset(); llm.eval(tokens(16))
    t0 = time.perf_counter()
    for _ in range(decode):
        tok = int(np.argmax(llm.scores[llm.n_tokens - 1]))
        llm.eval([tok])
    best = min(best, time.perf_counter() - t0)
print(f"decode  {decode:4d} tokens: {decode / best:8.1f} tokens/s")
