"""Goldens for the GPTQ / AWQ packed HF layouts (Tests/Fixtures/gptq_awq_layout/).

Input: the directories `gptq4/`, `gptq8/`, `gptq4-zero/`, `gptq4-g64/`, `awq4/` that the Swift test
`HFPackedQuantizationTests` writes from Tests/Fixtures/export/tiny.gguf when run with
TUNE_WRITE_PACKED_FIXTURE=Tests/Fixtures/gptq_awq_layout (round to nearest on each grid,
exported with `HFModelExport` and `packedQuantization`).

1. `unpacked.safetensors`: every packed linear layer unpacked the way the upstream loaders
   do it, written independently here from their documented bit order:
   - GPTQ (AutoGPTQ `qlinear_cuda_old` / gptqmodel `dequantize_weight`, checkpoint format
     "gptq" = v1): code j of a qweight word (j = 0 in the lowest bits) is input row
     k·(32/bits)+j; qzeros is packed the same way along the outputs and stores zero − 1;
     W[in, out] = scales[g_idx] · (q − (qzeros + 1)[g_idx]).
   - AWQ GEMM (AutoAWQ `unpack_awq` + `reverse_awq_order`, AWQ_REVERSE_ORDER
     [0, 4, 1, 5, 2, 6, 3, 7]): shifts 0, 4, …, 28 along each int32, then the reverse order
     inside each group of 8 outputs; W[in, out] = (q − zeros[g]) · scales[g].
   Stored transposed, as the [out, in] weight the engine compares with its own.
2. `logits.json`: each directory loaded with transformers' `AutoModelForCausalLM` on CPU
   (gptqmodel's torch kernels, through transformers' GPTQ / AWQ integrations), the logits of a
   fixed token sequence; when a load fails, the error text instead.

Run: PYTHONPATH=<gptqmodel target dir> /root/.cache/tune/refvenv/bin/python Scripts/goldens/gptq_awq_layout.py
"""
import json
import os
import sys

# This folder holds a datasets.py, which would shadow the `datasets` package gptqmodel imports.
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import numpy as np  # noqa: E402
from safetensors.numpy import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "Tests", "Fixtures", "gptq_awq_layout")
VARIANTS = ["gptq4", "gptq8", "gptq4-zero", "gptq4-g64", "awq4"]
IDS = [0, 17, 250, 3, 999, 1201, 42, 7, 640, 100, 5, 812]
AWQ_REVERSE_ORDER = [0, 4, 1, 5, 2, 6, 3, 7]


def unpack_along_last(words, bits):
    """[..., m] int32 -> [..., m * 32/bits] codes, code j of a word from bits j*bits."""
    u = words.astype(np.uint32)
    per = 32 // bits
    shifts = np.arange(0, 32, bits, dtype=np.uint32)
    codes = (u[..., None] >> shifts) & np.uint32((1 << bits) - 1)
    return codes.reshape(*words.shape[:-1], words.shape[-1] * per).astype(np.int64)


def gptq_weight(t, prefix, bits):
    qweight, qzeros = t[prefix + "qweight"], t[prefix + "qzeros"]
    scales, g_idx = t[prefix + "scales"].astype(np.float32), t[prefix + "g_idx"].astype(np.int64)
    # qweight packs along the inputs (rows): unpack the transposed array along its last axis.
    q = unpack_along_last(qweight.T, bits).T            # [in, out]
    zeros = unpack_along_last(qzeros, bits) + 1         # v1 stores zero - 1
    w = scales[g_idx] * (q - zeros[g_idx]).astype(np.float32)
    return w.T.copy()


def awq_weight(t, prefix, group_size):
    qweight, qzeros, scales = t[prefix + "qweight"], t[prefix + "qzeros"], t[prefix + "scales"].astype(np.float32)
    q = unpack_along_last(qweight, 4)
    z = unpack_along_last(qzeros, 4)
    order = np.arange(q.shape[-1]).reshape(-1, 8)[:, AWQ_REVERSE_ORDER].reshape(-1)
    q, z = q[:, order], z[:, order]
    g = np.arange(q.shape[0]) // group_size
    w = (q - z[g]).astype(np.float32) * scales[g]
    return w.T.copy()


def unpack_all():
    out = {}
    for v in VARIANTS:
        d = os.path.join(OUT, v)
        config = json.load(open(os.path.join(d, "config.json")))
        qc = config["quantization_config"]
        t = load_file(os.path.join(d, "model.safetensors"))
        prefixes = sorted({k[: -len("qweight")] for k in t if k.endswith(".qweight")})
        assert len(prefixes) == 14, (v, len(prefixes))
        for p in prefixes:
            if qc["quant_method"] == "gptq":
                w = gptq_weight(t, p, qc["bits"])
            else:
                assert qc["version"] == "gemm" and qc["zero_point"] and qc["bits"] == 4
                w = awq_weight(t, p, qc["group_size"])
            out[f"{v}/{p}weight"] = w.astype(np.float32)
        print(v, qc, len(prefixes), "layers unpacked")
    save_file(out, os.path.join(OUT, "unpacked.safetensors"))


def transformers_logits():
    import torch
    import transformers

    result = {"ids": IDS, "variants": {}, "versions": {"torch": torch.__version__, "transformers": transformers.__version__}}
    try:
        import gptqmodel
        result["versions"]["gptqmodel"] = gptqmodel.__version__
    except Exception as e:  # noqa: BLE001
        result["versions"]["gptqmodel"] = f"not importable: {e}"
    for v in VARIANTS:
        try:
            m = transformers.AutoModelForCausalLM.from_pretrained(os.path.join(OUT, v), device_map="cpu")
            m.eval()
            with torch.no_grad():
                logits = m(torch.tensor([IDS])).logits[0].float().numpy()
            result["variants"][v] = [[round(float(x), 5) for x in row] for row in logits]
            print(v, "loaded:", type(m).__name__, "logits", logits.shape)
        except Exception as e:  # noqa: BLE001
            result["variants"][v] = f"{type(e).__name__}: {e}"
            print(v, "load failed:", result["variants"][v][:300])
    with open(os.path.join(OUT, "logits.json"), "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    unpack_all()
    if "--no-transformers" not in sys.argv:
        transformers_logits()
