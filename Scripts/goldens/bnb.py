"""Goldens for bitsandbytes 4-bit quantization (NF4 / FP4, blocksize 64, double quantization).

The 4-bit codes, absmax and dequantized values come from bitsandbytes itself (quantize_4bit /
dequantize_4bit on the CPU). For the nested (double) quantization of the absmax values the
CPU build's quantize_blockwise picks, for some values, a code that is not the nearest one
(about 0.2% of them; e.g. 0.0 goes to 7.75e-6); the documented rule, which the CUDA kernel
follows, is the nearest map value. So the nested codes here come from a numpy port of that
rule (`nested_nearest`), and are dequantized with bitsandbytes' own dequantize_4bit; the CPU
build's nested state is kept too (`*.dq.bnb_cpu.*`) to check the format's arithmetic.

Run with the reference venv (bitsandbytes installed there; it quantizes on the CPU):
    /root/.cache/tune/refvenv/bin/pip install bitsandbytes
    /root/.cache/tune/refvenv/bin/python Scripts/goldens/bnb.py
Writes Tests/Fixtures/bnb/bnb_goldens.safetensors.
"""
import os, sys
import numpy as np
import torch
import bitsandbytes as bnb
import bitsandbytes.functional as F
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "Fixtures", "bnb", "bnb_goldens.safetensors")


def fixture_weight():
    g = torch.Generator().manual_seed(7)
    # 40 rows of 448 (7 blocks of 64 a row, 280 blocks: two nested blocks of 256, the second partial).
    w = torch.randn(40, 448, generator=g) * 0.05
    w[3] *= 20                      # a row with large values
    w[5] = 0                        # an all-zero row (absmax 0)
    w[7, :64] = torch.linspace(-1, 1, 64)   # one block on an even grid, including exact 0 and ±1
    w[9, 5] = 0.9                   # an outlier in a block of small values
    w[11, :16] = torch.tensor([-0.001, 0.001, 0.0, -0.0, 1e-6, -1e-6, 0.003, -0.003,
                               0.25, -0.25, 0.5, -0.5, 0.75, -0.75, 1.0, -1.0])
    return w.contiguous()


def nested_nearest(absmax):
    """Double quantization by the documented rule: offset = mean (an f32 sum divided by the
    count); per block of 256 the max |a - offset|; each (a - offset) / max to the nearest value
    of the signed dynamic map (searched with its first entry set to -1, as bitsandbytes does;
    a tie to the lower index)."""
    a = absmax.astype(np.float32)
    offset = np.float32(np.float32(a.astype(np.float64).sum()) / np.float32(len(a)))
    search = F.create_dynamic_map(signed=True).numpy().copy()
    search[0] = -1
    codes, nested = [], []
    for start in range(0, len(a), 256):
        x = (a[start:start + 256] - offset).astype(np.float32)
        m = np.float32(np.abs(x).max())
        nested.append(m)
        for v in (x / m).astype(np.float32):
            lo = max(int(np.searchsorted(search, v, side="right")) - 1, 0)
            if lo < 255 and abs(v - search[lo + 1]) < abs(v - search[lo]):
                lo += 1
            codes.append(lo)
    return np.array(codes, dtype=np.uint8), np.array(nested, dtype=np.float32), offset


def main():
    w = fixture_weight()
    tensors = {"input": w, "dynamic_map": F.create_dynamic_map(signed=True)}
    for qt in ("nf4", "fp4"):
        for dq in (False, True):
            q, s = F.quantize_4bit(w, blocksize=64, quant_type=qt, compress_statistics=dq)
            key = f"{qt}.{'dq' if dq else 'plain'}"
            tensors[key + ".packed"] = q.reshape(-1).contiguous()
            d32 = F.dequantize_4bit(q, s).float()
            tensors[key + ".dequantized"] = d32.contiguous()
            tensors[key + ".dequantized_f16"] = F.dequantize_4bit(q, s).float().to(torch.float16)
            tensors[key + ".dequantized_bf16"] = F.dequantize_4bit(q, s).float().to(torch.bfloat16)
            tensors[qt + ".code"] = s.code.float().contiguous()
            if dq:
                cpu = key + ".bnb_cpu"
                tensors[cpu + ".absmax"] = s.absmax.contiguous()            # uint8 codes of absmax - offset
                tensors[cpu + ".nested_absmax"] = s.state2.absmax.contiguous()
                tensors[cpu + ".offset"] = torch.tensor([float(s.offset)], dtype=torch.float32)
                # The absmax each 4-bit block is dequantized with.
                tensors[cpu + ".effective_absmax"] = (F.dequantize_blockwise(s.absmax, s.state2) + s.offset).float()
                tensors[cpu + ".dequantized"] = d32.contiguous()
                # The same 4-bit codes with the nearest-rule nested state, dequantized by bitsandbytes.
                _, plain = F.quantize_4bit(w, blocksize=64, quant_type=qt, compress_statistics=False)
                codes, nested, offset = nested_nearest(plain.absmax.float().numpy())
                s.absmax = torch.from_numpy(codes)
                s.state2.absmax = torch.from_numpy(nested)
                s.offset = torch.tensor(offset)
                tensors[key + ".absmax"] = s.absmax
                tensors[key + ".nested_absmax"] = s.state2.absmax
                tensors[key + ".offset"] = torch.tensor([float(offset)], dtype=torch.float32)
                tensors[key + ".effective_absmax"] = (F.dequantize_blockwise(s.absmax, s.state2) + s.offset).float()
                tensors[key + ".dequantized"] = F.dequantize_4bit(q, s).float().contiguous()
                tensors[key + ".dequantized_f16"] = tensors[key + ".dequantized"].to(torch.float16)
                tensors[key + ".dequantized_bf16"] = tensors[key + ".dequantized"].to(torch.bfloat16)
            else:
                tensors[key + ".absmax"] = s.absmax.float().contiguous()
    save_file(tensors, OUT, metadata={"bitsandbytes": bnb.__version__, "torch": torch.__version__})
    print("wrote", OUT, "bitsandbytes", bnb.__version__, "torch", torch.__version__)


def swift_dynamic_map():
    """The Swift literal of bitsandbytes' signed dynamic map (Sources/Engine/Quant/BNBDynamicMap.swift)."""
    m = F.create_dynamic_map(signed=True).tolist()
    lines = ["        " + ", ".join(float(v).hex() for v in m[i:i + 4]) + "," for i in range(0, 256, 4)]
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--swift-dynamic-map":
        print(swift_dynamic_map())
    else:
        main()
