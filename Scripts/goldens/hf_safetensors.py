#!/usr/bin/env python3
"""Makes the safetensors golden files in Tests/Fixtures/hf/ with the reference `safetensors`
package (and `huggingface_hub` for the sharding rule). See Tests/Fixtures/hf/README.md.

Run:  python3 -m venv /tmp/stvenv && /tmp/stvenv/bin/pip install safetensors numpy huggingface_hub
      /tmp/stvenv/bin/python Scripts/goldens/hf_safetensors.py
(or with /root/.cache/tune/refvenv/bin/python when that venv has the three packages).
"""
import json
import os
import struct
import sys

import numpy as np
import safetensors
from safetensors import TensorSpec, serialize_file
from safetensors.numpy import save_file
import huggingface_hub
from huggingface_hub.serialization._base import split_state_dict_into_shards_factory

# One-time check that a file our Swift writer produced reads back in the reference library:
#   python Scripts/goldens/hf_safetensors.py --check FILE
if len(sys.argv) == 3 and sys.argv[1] == "--check":
    with open(sys.argv[2], "rb") as fh:
        for name, t in safetensors.deserialize(fh.read()):
            print(name, t["dtype"], t["shape"], len(t["data"]))
    sys.exit(0)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "Fixtures", "hf")
rng = np.random.default_rng(20261201)
expected = {}


def to_bf16_bytes(values):
    """float32 -> bfloat16 bits, round to nearest even; returns (bytes, exact float values)."""
    bits = np.asarray(values, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)
    back = (rounded.astype(np.uint32) << 16).view(np.float32)
    return rounded.tobytes(), [float(v) for v in back]


_keep_alive = []
NUMPY_NAMES = {"F32": "float32", "F16": "float16", "BF16": "bfloat16", "F64": "float64", "I64": "int64",
               "I32": "int32", "U8": "uint8", "BOOL": "bool", "F8_E4M3": "float8_e4m3fn"}


def spec(dtype, shape, data):
    """A raw-bytes tensor for serialize_file (the reference's own front end, any dtype)."""
    buf = np.frombuffer(bytes(data), dtype=np.uint8).copy()
    _keep_alive.append(buf)
    return TensorSpec(dtype=NUMPY_NAMES[dtype], shape=list(shape), data_ptr=buf.ctypes.data, data_len=buf.nbytes)


def specs(d):
    return {k: spec(v["dtype"], v["shape"], v["data"]) for k, v in d.items()}


def record(file, tensors, metadata):
    expected[file] = {"metadata": metadata or {}, "tensors": tensors}


def describe(arr, dtype):
    return {"dtype": dtype, "shape": list(arr.shape), "values": [float(v) for v in arr.ravel()]}


# 1. F32 with metadata, written through the numpy front end.
w = rng.standard_normal((2, 3)).astype(np.float32)
b = np.array([0.5, -1.25, 3.0], dtype=np.float32)
save_file({"weight": w, "bias": b}, os.path.join(ROOT, "f32.safetensors"), metadata={"format": "np"})
record("f32.safetensors", {"weight": describe(w, "F32"), "bias": describe(b, "F32")}, {"format": "np"})

# 2. F16.
e = rng.standard_normal((4, 2)).astype(np.float16)
save_file({"embed": e}, os.path.join(ROOT, "f16.safetensors"))
record("f16.safetensors", {"embed": describe(e, "F16")}, None)

# 3. BF16 (numpy has no bfloat16; the raw-bytes front end writes it).
raw, vals = to_bf16_bytes(rng.standard_normal(8).astype(np.float32) * 10)
serialize_file(specs({"w": {"dtype": "BF16", "shape": [2, 4], "data": raw}}), os.path.join(ROOT, "bf16.safetensors"))
record("bf16.safetensors", {"w": {"dtype": "BF16", "shape": [2, 4], "values": vals}}, None)

# 4. Many dtypes in one file, with one metadata entry: the layout-order / byte-identity golden.
f32 = np.array([1.0, -2.0, 0.25], dtype=np.float32)
f16 = np.array([[0.5, 1.5], [-3.0, 65504.0]], dtype=np.float16)
braw, bvals = to_bf16_bytes([1.0, -0.5, 256.0, 3.140625])
f64 = np.array([1.0 / 3.0, -1e-3], dtype=np.float64)
i64 = np.array([1, -2, 3], dtype=np.int64)
u8 = np.array([0, 1, 2, 254, 255], dtype=np.uint8)
i32 = np.array([7, -7], dtype=np.int32)
mixed = {
    "z.f32": {"dtype": "F32", "shape": [3], "data": f32.tobytes()},
    "a.f16": {"dtype": "F16", "shape": [2, 2], "data": f16.tobytes()},
    "m.bf16": {"dtype": "BF16", "shape": [4], "data": braw},
    "b.f64": {"dtype": "F64", "shape": [2], "data": f64.tobytes()},
    "c.i64": {"dtype": "I64", "shape": [3], "data": i64.tobytes()},
    "d.u8": {"dtype": "U8", "shape": [5], "data": u8.tobytes()},
    "e.bool": {"dtype": "BOOL", "shape": [2], "data": bytes([1, 0])},
    "f.f8": {"dtype": "F8_E4M3", "shape": [4], "data": bytes([0x38, 0x40, 0xB8, 0x00])},
    "g.i32": {"dtype": "I32", "shape": [2], "data": i32.tobytes()},
    "h.scalar": {"dtype": "F32", "shape": [], "data": np.array(42.5, dtype=np.float32).tobytes()},
    "i.empty": {"dtype": "F32", "shape": [0, 3], "data": b""},
}
serialize_file(specs(mixed), os.path.join(ROOT, "mixed.safetensors"), metadata={"format": "pt"})
record("mixed.safetensors", {
    "z.f32": describe(f32, "F32"),
    "a.f16": describe(f16, "F16"),
    "m.bf16": {"dtype": "BF16", "shape": [4], "values": bvals},
    "b.f64": describe(f64, "F64"),
    "c.i64": {"dtype": "I64", "shape": [3], "values": [int(v) for v in i64]},
    "d.u8": {"dtype": "U8", "shape": [5], "values": [int(v) for v in u8]},
    "e.bool": {"dtype": "BOOL", "shape": [2], "values": [1, 0]},
    "f.f8": {"dtype": "F8_E4M3", "shape": [4], "values": []},
    "g.i32": {"dtype": "I32", "shape": [2], "values": [int(v) for v in i32]},
    "h.scalar": {"dtype": "F32", "shape": [], "values": [42.5]},
    "i.empty": {"dtype": "F32", "shape": [0, 3], "values": []},
}, {"format": "pt"})

# 5. Sharded: huggingface_hub's split rule at max_shard_size 200 bytes, transformers' file naming
#    and index layout (json.dumps(index, indent=2, sort_keys=True) + "\n").
shard_dir = os.path.join(ROOT, "sharded")
os.makedirs(shard_dir, exist_ok=True)
for f in os.listdir(shard_dir):
    os.remove(os.path.join(shard_dir, f))
state = {
    "model.embed_tokens.weight": rng.standard_normal((8, 4)).astype(np.float32),      # 128 B
    "model.layers.0.input_layernorm.weight": np.ones(4, dtype=np.float32),           # 16 B
    "model.layers.0.mlp.up_proj.weight": rng.standard_normal((16, 4)).astype(np.float32),  # 256 B > limit
    "model.layers.0.self_attn.q_proj.weight": rng.standard_normal((4, 4)).astype(np.float16),  # 32 B
    "model.norm.weight": np.full(4, 0.5, dtype=np.float32),                         # 16 B
    "lm_head.weight": rng.standard_normal((8, 4)).astype(np.float32),                # 128 B
}
split = split_state_dict_into_shards_factory(
    state, get_storage_size=lambda a: a.nbytes, filename_pattern="model{suffix}.safetensors", max_shard_size=200)
for filename, names in split.filename_to_tensors.items():
    save_file({n: state[n] for n in names}, os.path.join(shard_dir, filename), metadata={"format": "pt"})
index = {"metadata": {"total_size": split.metadata["total_size"]}, "weight_map": split.tensor_to_filename}
with open(os.path.join(shard_dir, "model.safetensors.index.json"), "w") as fh:
    fh.write(json.dumps(index, indent=2, sort_keys=True) + "\n")
record("sharded", {n: describe(a, "F16" if a.dtype == np.float16 else "F32") for n, a in state.items()}, None)
expected["sharded"]["order"] = list(state.keys())
expected["sharded"]["files"] = sorted(split.filename_to_tensors.keys())
expected["sharded"]["max_shard_size"] = 200

# 6. A tiny HF model directory (config, weights, tokenizer files) for HFModelDirectory.
tiny = os.path.join(ROOT, "tiny-llama")
os.makedirs(tiny, exist_ok=True)
emb_raw, emb_vals = to_bf16_bytes(rng.standard_normal(6 * 4).astype(np.float32))
norm = np.ones(4, dtype=np.float32)
serialize_file(specs({
    "model.embed_tokens.weight": {"dtype": "BF16", "shape": [6, 4], "data": emb_raw},
    "model.norm.weight": {"dtype": "F32", "shape": [4], "data": norm.tobytes()},
}), os.path.join(tiny, "model.safetensors"), metadata={"format": "pt"})
record("tiny-llama/model.safetensors", {
    "model.embed_tokens.weight": {"dtype": "BF16", "shape": [6, 4], "values": emb_vals},
    "model.norm.weight": describe(norm, "F32"),
}, {"format": "pt"})

expected["_versions"] = {
    "python": sys.version.split()[0], "safetensors": safetensors.__version__,
    "numpy": np.__version__, "huggingface_hub": huggingface_hub.__version__,
}
with open(os.path.join(ROOT, "expected.json"), "w") as fh:
    json.dump(expected, fh, indent=1, sort_keys=True)
    fh.write("\n")
