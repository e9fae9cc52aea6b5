#!/usr/bin/env python3
"""Makes the K-quant quantizer fixtures in Tests/Fixtures/gguf/ from ggml itself.

Reference: ggml's own reference quantizers (quantize_row_q{2,4,5,6,8}_K_ref), called through
ctypes in the libggml-base.so that ships inside the PyPI package llama-cpp-python (gguf-py
cannot quantize K-quants).

Usage: /root/.cache/tune/refvenv/bin/python Scripts/goldens/gguf_kquants.py
Needs: llama-cpp-python, numpy
"""
import ctypes
import glob
import os

import numpy as np
import llama_cpp

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "Fixtures", "gguf")
LIB = ctypes.CDLL(glob.glob(os.path.join(os.path.dirname(llama_cpp.__file__), "lib", "libggml-base.so"))[0])
BLOCK_BYTES = {"q2_k": 84, "q4_k": 144, "q5_k": 176, "q6_k": 210, "q8_k": 292}


def reference_quantize(name, x):
    fn = getattr(LIB, f"quantize_row_{name[:-1]}K_ref")
    fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
    fn.restype = None
    out = np.zeros(len(x) // 256 * BLOCK_BYTES[name], dtype=np.uint8)
    fn(x.ctypes.data, out.ctypes.data, len(x))
    return out


def main():
    rng = np.random.default_rng(20261202)
    blocks = [
        rng.standard_normal(256) * 0.02,                  # weight-like
        rng.uniform(0.5, 2.0, 256),                       # all positive: the min clamps to 0
        rng.standard_t(2, 256),                           # heavy tails and outliers
        np.concatenate([np.zeros(32), np.full(32, 0.25), rng.standard_normal(192) * 5]),
        np.zeros(256),                                    # all zero
        np.linspace(-3, 1, 256),
    ]
    x = np.concatenate(blocks).astype(np.float32)
    x.tofile(os.path.join(OUT, "kquant_input.f32"))
    for name in BLOCK_BYTES:
        q = reference_quantize(name, x)
        q.tofile(os.path.join(OUT, f"kquant_{name}.bin"))
        print(f"kquant_{name}.bin: {q.nbytes} bytes")
    print("llama-cpp-python", llama_cpp.__version__, "numpy", np.__version__)


if __name__ == "__main__":
    main()
