#!/usr/bin/env python3
"""Makes the GGUF quantization fixtures in Tests/Fixtures/gguf/ (see README.md there).

Reference: gguf-py (PyPI package `gguf`), whose gguf.quants module has numpy (de)quantizers
written to match ggml bit for bit. Q8_K has no gguf-py implementation, so its reference is
the short numpy transcription of ggml's formulas below.

Usage: python gguf_quants.py [path/to/SmolLM2-135M-Instruct.Q4_1.gguf]
Needs: pip install gguf numpy
"""
import os
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T
from gguf.quants import quantize, dequantize

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "Fixtures", "gguf")
rng = np.random.default_rng(20261201)


def save(name, array):
    path = os.path.join(OUT, name)
    np.ascontiguousarray(array).tofile(path)
    print(f"{name}: {os.path.getsize(path)} bytes")


def random_half_scales(n):
    """Finite f16 scale values of varied magnitude and sign."""
    mags = 10.0 ** rng.uniform(-4, 0, n)
    signs = rng.choice([-1.0, 1.0], n)
    return (mags * signs).astype(np.float16)


# Byte offsets of the f16 scale fields of each block type (ggml-common.h block structs).
HALF_FIELDS = {
    T.Q4_0: [0], T.Q4_1: [0, 2], T.Q5_0: [0], T.Q5_1: [0, 2], T.Q8_0: [0],
    T.Q2_K: [80, 82], T.Q3_K: [108], T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208],
}


def random_blocks(qtype, n_blocks):
    block_size, type_size = gguf.GGML_QUANT_SIZES[qtype]
    raw = rng.integers(0, 256, size=(n_blocks, type_size), dtype=np.uint8)
    for off in HALF_FIELDS[qtype]:
        raw[:, off:off + 2] = random_half_scales(n_blocks).view(np.uint8).reshape(n_blocks, 2)
    return raw


def q8k_dequantize(raw):
    d = raw[:, 0:4].copy().view(np.float32)
    qs = raw[:, 4:260].copy().view(np.int8).astype(np.float32)
    return (qs * d).reshape(-1)


def q8k_quantize(x):
    """ggml quantize_row_q8_K: iscale = -127/max (max = signed value of largest |x|),
    codes = min(127, round-half-even(iscale*x)), d = 1/iscale, bsums = sums of 16 codes."""
    out = []
    for blk in x.reshape(-1, 256).astype(np.float32):
        i = int(np.argmax(np.abs(blk)))
        amax, mx = abs(blk[i]), blk[i]
        if amax == 0:
            out.append(np.zeros(292, dtype=np.uint8))
            continue
        iscale = np.float32(-127.0) / mx
        q = np.minimum(127, np.rint(iscale * blk)).astype(np.int8)
        bsums = q.astype(np.int16).reshape(16, 16).sum(axis=1).astype(np.int16)
        d = np.array([np.float32(1.0) / iscale], dtype=np.float32)
        out.append(np.concatenate([d.view(np.uint8), q.view(np.uint8), bsums.view(np.uint8)]))
    return np.stack(out)


def dequant_fixtures():
    for qtype, n_blocks in [(T.Q4_0, 8), (T.Q4_1, 8), (T.Q5_0, 8), (T.Q5_1, 8), (T.Q8_0, 8),
                            (T.Q2_K, 2), (T.Q3_K, 2), (T.Q4_K, 2), (T.Q5_K, 2), (T.Q6_K, 2)]:
        raw = random_blocks(qtype, n_blocks)
        values = dequantize(raw, qtype).astype(np.float32).reshape(-1)
        name = qtype.name.lower()
        save(f"dequant_{name}.blocks", raw)
        save(f"dequant_{name}.f32", values)

    # Q8_K: random codes, a float scale per block.
    raw = rng.integers(0, 256, size=(2, 292), dtype=np.uint8)
    raw[:, 0:4] = np.array([0.0123, -0.5], dtype=np.float32).view(np.uint8).reshape(2, 4)
    save("dequant_q8_k.blocks", raw)
    save("dequant_q8_k.f32", q8k_dequantize(raw).astype(np.float32))

    # F16 / BF16: random finite bit patterns plus specials (zeros, infinities, subnormals).
    f16 = rng.integers(0, 1 << 16, size=256, dtype=np.uint16)
    f16 = f16[(f16 & 0x7C00) != 0x7C00][:200]
    f16 = np.concatenate([f16, np.array([0x0000, 0x8000, 0x7C00, 0xFC00, 0x0001, 0x83FF, 0x3C00, 0xC000],
                                        dtype=np.uint16)])
    save("dequant_f16.blocks", f16)
    save("dequant_f16.f32", f16.view(np.float16).astype(np.float32))
    bf = rng.integers(0, 1 << 16, size=256, dtype=np.uint16)
    bf = bf[(bf & 0x7F80) != 0x7F80][:200]
    bf = np.concatenate([bf, np.array([0x0000, 0x8000, 0x7F80, 0xFF80, 0x0001, 0x3F80], dtype=np.uint16)])
    save("dequant_bf16.blocks", bf)
    save("dequant_bf16.f32", dequantize(bf.view(np.uint8), T.BF16).astype(np.float32).reshape(-1))


def quant_fixtures():
    # 16 blocks of 32 = 2 super-blocks of 256, with varied scales, a zero block, a constant
    # block, a block whose largest magnitude is negative, and one with exact .5 boundaries.
    x = rng.standard_normal(512).astype(np.float32)
    x = (x.reshape(16, 32) * (10.0 ** rng.uniform(-3, 1, (16, 1)))).astype(np.float32)
    x[3] = 0
    x[5] = 0.25
    x[7, 9] = -40.0
    x[9] = (np.arange(32, dtype=np.float32) - 16) * 0.5
    x = x.reshape(-1)
    save("quant_input.f32", x)
    for qtype in [T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0, T.BF16]:
        save(f"quant_{qtype.name.lower()}.bin", quantize(x, qtype))
    save("quant_f16.bin", x.astype(np.float16))
    save("quant_q8_k.bin", q8k_quantize(x))


def model_fixtures(path):
    reader = gguf.GGUFReader(path)
    tensors = {t.name: t for t in reader.tensors}
    emb = tensors["token_embd.weight"]
    rows = dequantize(emb.data[[0, 1000]], emb.tensor_type).astype(np.float32)
    save("smollm2_token_embd_rows_0_1000.f32", rows)
    q = tensors["blk.0.attn_q.weight"]
    save("smollm2_blk0_attn_q_row_5.f32", dequantize(q.data[[5]], q.tensor_type).astype(np.float32))
    print("types:", emb.tensor_type.name, q.tensor_type.name)


def writer_fixture():
    """A small GGUF v3 file written by gguf-py's GGUFWriter: every value type, a nested array,
    and tensors of several types, for the Swift reader to parse."""
    path = os.path.join(OUT, "gguf_py_writer.gguf")
    w = gguf.GGUFWriter(path, "llama")
    w.add_uint8("t.u8", 200)
    w.add_int8("t.i8", -100)
    w.add_uint16("t.u16", 60000)
    w.add_int16("t.i16", -30000)
    w.add_uint32("t.u32", 4000000000)
    w.add_int32("t.i32", -2000000000)
    w.add_uint64("t.u64", 18000000000000000000)
    w.add_int64("t.i64", -9000000000000000000)
    w.add_float32("t.f32", 1.5)
    w.add_float64("t.f64", -2.25e300)
    w.add_bool("t.bool", True)
    w.add_string("t.str", "héllo ✓")
    w.add_array("t.arr_i32", [1, -2, 3])
    w.add_array("t.arr_str", ["a", "bc", ""])
    w.add_array("t.arr_nested", [[1, 2], [3]])
    w.add_tensor("a.weight", np.arange(8, dtype=np.float32).reshape(2, 4))
    w.add_tensor("b.weight", np.arange(64, dtype=np.float16).reshape(2, 32))
    q = quantize(np.linspace(-1, 1, 96, dtype=np.float32).reshape(3, 32), T.Q8_0)
    w.add_tensor("c.weight", q, raw_dtype=T.Q8_0)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(f"gguf_py_writer.gguf: {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    writer_fixture()
    dequant_fixtures()
    quant_fixtures()
    model = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.environ.get("MODELSCOPE_CACHE", os.path.expanduser("~/.cache/modelscope/hub")),
        "models/HuggingFaceTB/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
    model_fixtures(model)
    print("gguf", getattr(gguf, "__version__", "?"), "numpy", np.__version__)
