#!/usr/bin/env python3
"""Makes the quantizer fixtures that need ggml itself (Tests/Fixtures/gguf/kquant_*), and checks
that ggml's own dequantizers agree bit for bit with the gguf-py fixtures made by gguf_quants.py.

Reference: ggml's reference quantizers (quantize_row_*_ref) and dequantize_row_*, called through
ctypes in the libggml-base.so that ships inside the PyPI package llama-cpp-python (gguf-py
cannot quantize K-quants or Q8_1).

Usage: /root/.cache/tune/refvenv/bin/python Scripts/goldens/gguf_ggml_quants.py
       (run gguf_quants.py first for the dequantization cross-check)
Needs: llama-cpp-python, numpy
"""
import ctypes
import glob
import os

import numpy as np
import llama_cpp

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "Fixtures", "gguf")
LIB = ctypes.CDLL(glob.glob(os.path.join(os.path.dirname(llama_cpp.__file__), "lib", "libggml-base.so"))[0])
# type name -> (values per block, bytes per block, ggml function suffix)
TYPES = {
    "q2_k": (256, 84, "q2_K"), "q3_k": (256, 110, "q3_K"), "q4_k": (256, 144, "q4_K"),
    "q5_k": (256, 176, "q5_K"), "q6_k": (256, 210, "q6_K"), "q8_k": (256, 292, "q8_K"),
    "q8_1": (32, 36, "q8_1"),
}
DEQUANT = ["q4_0", "q4_1", "q5_0", "q5_1", "q8_0", "q2_k", "q3_k", "q4_k", "q5_k", "q6_k", "q8_k"]
SUFFIX = {"q2_k": "q2_K", "q3_k": "q3_K", "q4_k": "q4_K", "q5_k": "q5_K", "q6_k": "q6_K", "q8_k": "q8_K"}


def c_function(name):
    fn = getattr(LIB, name)
    fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
    fn.restype = None
    return fn


def reference_quantize(name, x):
    block, size, suffix = TYPES[name]
    out = np.zeros(len(x) // block * size, dtype=np.uint8)
    c_function(f"quantize_row_{suffix}_ref")(x.ctypes.data, out.ctypes.data, len(x))
    return out


def check_dequantizers():
    for name in DEQUANT:
        raw = np.fromfile(os.path.join(OUT, f"dequant_{name}.blocks"), dtype=np.uint8)
        expected = np.fromfile(os.path.join(OUT, f"dequant_{name}.f32"), dtype=np.float32)
        got = np.zeros(len(expected), dtype=np.float32)
        c_function(f"dequantize_row_{SUFFIX.get(name, name)}")(raw.ctypes.data, got.ctypes.data, len(expected))
        assert np.array_equal(got.view(np.uint32), expected.view(np.uint32)), f"ggml and fixture disagree on {name}"
    print("ggml dequantizers agree bit for bit with the gguf-py fixtures:", ", ".join(DEQUANT))


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
    for name in TYPES:
        q = reference_quantize(name, x)
        q.tofile(os.path.join(OUT, f"kquant_{name}.bin"))
        print(f"kquant_{name}.bin: {q.nbytes} bytes")
    if os.path.exists(os.path.join(OUT, "dequant_q4_0.blocks")):
        check_dequantizers()
    print("llama-cpp-python", llama_cpp.__version__, "numpy", np.__version__)


if __name__ == "__main__":
    main()
