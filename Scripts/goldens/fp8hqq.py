#!/usr/bin/env python3
"""Goldens for FP8 (E4M3) and HQQ quantization: Tests/Fixtures/fp8hqq/.

Run with the reference venv (Scripts/reference-env) after installing hqq without its CUDA kernels:
    DISABLE_CUDA=1 /root/.cache/tune/refvenv/bin/pip install --no-deps --no-build-isolation hqq==0.2.8.post1
    /root/.cache/tune/refvenv/bin/pip install termcolor
    /root/.cache/tune/refvenv/bin/python Scripts/goldens/fp8hqq.py

Files (little-endian raw arrays):
  e4m3_decode.f32        the 256 codes as torch.float8_e4m3fn -> float32
  e4m3_encode_in.f32     float32 inputs: every E4M3 value, the midpoints between neighbours and
                         one float32 ulp either side, subnormals, values past 448, inf, nan, random
  e4m3_encode_out.u8     torch's cast of those inputs to float8_e4m3fn (round to nearest even;
                         torch 2.15 saturates finite values and infinities to +-448, NaN -> 0x7F)
  fp8_w{T}.f32           a weight [R, C] (heavy-tailed, seeded)
  fp8_w{T}_codes.u8      transformers' Fp8Quantize (FineGrainedFP8Config weight_block_size T x T)
  fp8_w{T}_scales.f32    its weight_scale_inv [R/T, C/T]
  hqq_w.f32              a weight [96, 256] (heavy-tailed, seeded)
  hqq{B}_codes.u8        hqq.core.quantize.Quantizer.quantize(nbits=B, group_size=64, axis=1,
  hqq{B}_scales.f32      optimize=True, round_zero=(B == 4), device='cpu', bitpack=False):
  hqq{B}_zeros.f32       W_q, meta['scale'], meta['zero'] per group of 64
  hqq{B}_dequant.f32     Quantizer.dequantize of the same (compute dtype float32)
"""
import os
import sys

import numpy as np
import torch

import hqq
from hqq.core.quantize import Quantizer, BaseQuantizeConfig
import transformers
from transformers import FineGrainedFP8Config
from transformers.integrations.finegrained_fp8 import Fp8Quantize

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "Fixtures", "fp8hqq")
os.makedirs(OUT, exist_ok=True)


def save(name, array):
    np.ascontiguousarray(array).tofile(os.path.join(OUT, name))


# E4M3 decode and encode
codes = torch.arange(256, dtype=torch.int32).to(torch.uint8)
values = codes.view(torch.float8_e4m3fn).to(torch.float32)
save("e4m3_decode.f32", values.numpy().astype("<f4"))

finite = np.sort(np.unique(values.numpy()[np.isfinite(values.numpy())]))
mid = (finite[1:] + finite[:-1]) / 2
inputs = [finite, mid, np.nextafter(mid, np.float32(np.inf)), np.nextafter(mid, np.float32(-np.inf)),
          np.array([448, 449, 463.9, 464, 464.1, 479.9, 480, 481, 1e4, 3e38, np.inf, -np.inf, np.nan,
                    2.0 ** -6, 2.0 ** -7, 2.0 ** -9, 2.0 ** -10, 2.0 ** -10 * 1.0001, 3 * 2.0 ** -11, 1e-30, 0.0, -0.0],
                   dtype=np.float32)]
rng = np.random.default_rng(7)
inputs.append((rng.standard_normal(4000) * np.exp(rng.uniform(-12, 7, 4000))).astype(np.float32))
enc_in = np.concatenate([a.astype(np.float32) for a in inputs])
enc_out = torch.from_numpy(enc_in).to(torch.float8_e4m3fn).view(torch.uint8).numpy()
save("e4m3_encode_in.f32", enc_in.astype("<f4"))
save("e4m3_encode_out.u8", enc_out)


def heavy(rows, cols, seed):
    g = np.random.default_rng(seed)
    return (g.standard_t(4, size=(rows, cols)) * 0.02).astype(np.float32)


# FP8 tile quantization, as transformers quantizes a Linear weight on load
class _Quantizer:
    def __init__(self, tile):
        self.quantization_config = FineGrainedFP8Config(weight_block_size=(tile, tile))


for tile, (rows, cols) in [(64, (128, 192)), (128, (256, 384))]:
    w = heavy(rows, cols, tile)
    w[:tile, :tile] = 0  # an all-zero tile keeps scale 1
    w[tile, 5] = 3.0     # an outlier sets its tile's scale
    out = Fp8Quantize(_Quantizer(tile)).convert({"layer.weight": torch.from_numpy(w)})
    q, s = out["layer.weight"], out["layer.weight_scale_inv"]
    assert q.dtype == torch.float8_e4m3fn and s.shape == (rows // tile, cols // tile)
    save(f"fp8_w{tile}.f32", w.astype("<f4"))
    save(f"fp8_w{tile}_codes.u8", q.view(torch.uint8).numpy())
    save(f"fp8_w{tile}_scales.f32", s.numpy().astype("<f4"))

# HQQ with transformers' HqqConfig settings (BaseQuantizeConfig: group_size 64, axis 1)
w = heavy(96, 256, 11)
save("hqq_w.f32", w.astype("<f4"))
for bits in (4, 8):
    cfg = BaseQuantizeConfig(nbits=bits, group_size=64, axis=1)
    assert cfg["weight_quant_params"]["round_zero"] == (bits == 4)
    p = dict(cfg["weight_quant_params"])
    p.pop("view_as_float", None)
    W_q, meta = Quantizer.quantize(torch.from_numpy(w), device="cpu", bitpack=False, **p)
    save(f"hqq{bits}_codes.u8", W_q.reshape(-1).to(torch.uint8).numpy())
    save(f"hqq{bits}_scales.f32", meta["scale"].reshape(-1).float().numpy().astype("<f4"))
    save(f"hqq{bits}_zeros.f32", meta["zero"].reshape(-1).float().numpy().astype("<f4"))
    meta["compute_dtype"] = torch.float32
    deq = Quantizer.dequantize(W_q.float(), meta)
    save(f"hqq{bits}_dequant.f32", deq.reshape(-1).numpy().astype("<f4"))

print("torch", torch.__version__, "transformers", transformers.__version__, "hqq", hqq.__version__ if hasattr(hqq, "__version__") else "0.2.8.post1",
      "numpy", np.__version__, file=sys.stderr)
