#!/usr/bin/env python3
"""Golden for GPTQ on one linear layer (Tests/Fixtures/gptq/single_layer.json).

A port of GPTQ's Algorithm 1 (Frantar et al. 2022) as AutoGPTQ's `GPTQ.fasterquant` runs it
(lazy batches of 128 columns, damping by damp_percent * mean(diag H), dead inputs zeroed,
act-order with static groups), in torch float64, quantizing onto tune's GGUF-compatible grid:
a group's scale (and offset = -zero*scale) are rounded to float16 *before* the codes are
chosen, so the error feedback sees the stored values. The quantizer's parameters follow
AutoGPTQ's `Quantizer.find_params` (range always includes 0; symmetric zero = 2^(bits-1)).

Run: /root/.cache/tune/refvenv/bin/python Scripts/goldens/gptq_reference.py
"""
import json
import os
import sys

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "Fixtures", "gptq", "single_layer.json")
ROWS, COLS, TOKENS = 24, 96, 160


def f16(x):
    return x.to(torch.float16).to(torch.float64)


def find_params(x, bits, sym):
    """AutoGPTQ Quantizer.find_params (per row) for a [rows, n] slice; f16-rounded."""
    maxq = 2 ** bits - 1
    zero_t = torch.zeros(x.shape[0], dtype=x.dtype)
    xmin = torch.minimum(x.min(1).values, zero_t)
    xmax = torch.maximum(x.max(1).values, zero_t)
    if sym:
        xmax = torch.maximum(xmin.abs(), xmax)
        neg = xmin < 0
        xmin[neg] = -xmax[neg]
    both = (xmin == 0) & (xmax == 0)
    xmin[both] = -1
    xmax[both] = 1
    scale = (xmax - xmin) / maxq
    zero = torch.full_like(scale, (maxq + 1) / 2) if sym else torch.round(-xmin / scale)
    d = f16(scale)
    m = f16(-zero * d)
    return d, m


def quantize(x, d, m, bits):
    maxq = 2 ** bits - 1
    q = torch.clamp(torch.round((x - m) / d), 0, maxq)
    return q, d * q + m


def gptq(W, H, bits, group, sym, damp_percent, act_order, blocksize=128):
    W = W.clone()
    H = H.clone()
    rows, cols = W.shape
    dead = torch.diag(H) == 0
    H[dead, dead] = 1
    W[:, dead] = 0
    groups = (cols + group - 1) // group
    D = torch.zeros(rows, groups, dtype=W.dtype)
    M = torch.zeros(rows, groups, dtype=W.dtype)
    if act_order:  # static groups from the original weights
        for g in range(groups):
            D[:, g], M[:, g] = find_params(W[:, g * group:(g + 1) * group], bits, sym)
        perm = torch.argsort(torch.diag(H), descending=True, stable=True)
        W = W[:, perm]
        H = H[perm][:, perm]
    else:
        perm = torch.arange(cols)
    damp = damp_percent * torch.mean(torch.diag(H))
    H[range(cols), range(cols)] += damp
    L = torch.linalg.cholesky(H)
    Hinv = torch.cholesky_inverse(L)
    U = torch.linalg.cholesky(Hinv, upper=True)
    Q = torch.zeros_like(W)
    C = torch.zeros_like(W)
    for i1 in range(0, cols, blocksize):
        i2 = min(i1 + blocksize, cols)
        W1 = W[:, i1:i2].clone()
        Err1 = torch.zeros_like(W1)
        U1 = U[i1:i2, i1:i2]
        for i in range(i2 - i1):
            col = i1 + i
            if act_order:
                g = int(perm[col]) // group
            else:
                g = col // group
                if col % group == 0:
                    D[:, g], M[:, g] = find_params(W[:, col:col + group], bits, sym)
            w = W1[:, i]
            q, v = quantize(w, D[:, g], M[:, g], bits)
            C[:, col] = q
            Q[:, col] = v
            err = (w - v) / U1[i, i]
            W1[:, i:] -= err.unsqueeze(1).matmul(U1[i, i:].unsqueeze(0))
            Err1[:, i] = err
        W[:, i2:] -= Err1.matmul(U[i1:i2, i2:])
    if act_order:
        inv = torch.argsort(perm)
        Q = Q[:, inv]
        C = C[:, inv]
    return C, Q, D, M


def rtn(W, bits, group, sym):
    rows, cols = W.shape
    C = torch.zeros_like(W)
    Q = torch.zeros_like(W)
    for g in range(0, cols, group):
        d, m = find_params(W[:, g:g + group], bits, sym)
        c, v = quantize(W[:, g:g + group], d.unsqueeze(1), m.unsqueeze(1), bits)
        C[:, g:g + group] = c
        Q[:, g:g + group] = v
    return C, Q


def layer_error(W, Q, H):
    D = Q - W
    return float(torch.einsum("ri,ij,rj->", D, H, D))


def main():
    rng = np.random.default_rng(20221031)
    W = rng.standard_normal((ROWS, COLS)).astype(np.float32) * 0.05
    W[:, 7] *= 6  # a column of large weights
    X = rng.standard_normal((TOKENS, COLS)).astype(np.float32)
    X[:, 3] *= 8  # outlier input channels, as LLM activations have
    X[:, 40] *= 5
    X[:, 61] = 0  # a dead input
    X += 0.5 * rng.standard_normal((TOKENS, 1)).astype(np.float32)  # correlated channels
    X[:, 61] = 0
    W64 = torch.tensor(W, dtype=torch.float64)
    X64 = torch.tensor(X, dtype=torch.float64)
    H = 2.0 * X64.T @ X64  # 2/N sum x x^T with N = 1 sequence
    cases = []
    for name, bits, group, sym, act in [("q4_0 group 32", 4, 32, True, False),
                                         ("q4_1 group 64 act-order", 4, 64, False, True),
                                         ("q4_1 group 64", 4, 64, False, False),
                                         ("q8_0 group 96", 8, 96, True, False)]:
        C, Q, D, M = gptq(W64, H, bits, group, sym, 0.1, act)
        _, R = rtn(W64, bits, group, sym)
        cases.append({
            "name": name, "bits": bits, "group_size": group, "symmetric": sym, "act_order": act,
            "damp_percent": 0.1,
            "codes": C.to(torch.int64).flatten().tolist(),
            "scales": D.flatten().tolist(), "offsets": M.flatten().tolist(),
            "layer_error": layer_error(W64, Q, H),
            "rtn_layer_error": layer_error(W64, R, H),
        })
    doc = {
        "about": "GPTQ on one linear layer; see Tests/Fixtures/gptq/README.md",
        "torch": torch.__version__, "numpy": np.__version__, "python": sys.version.split()[0],
        "rows": ROWS, "columns": COLS, "tokens": TOKENS,
        "weight": [float(v) for v in W.flatten()],
        "inputs": [float(v) for v in X.flatten()],
        "cases": cases,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(doc, f)
    for c in cases:
        print(c["name"], "gptq", c["layer_error"], "rtn", c["rtn_layer_error"])


if __name__ == "__main__":
    main()
