#!/usr/bin/env python3
"""An independent check of AWQ against round to nearest on the default model, in torch.

AutoAWQ itself needs CUDA, so this is a fresh implementation of its algorithm (Lin et al. 2023,
as casper-hansen/AutoAWQ's AwqQuantizer runs it on a Llama decoder layer), written from its
description, not its code:
  per decoder layer, with the inputs of every linear recorded from the layer's original weights,
  1. scale searches on the original weights, each over ratios a = 0, 1/20, ..., 19/20 with duo
     scaling s = x_mean^a / (w_mean^(1-a) + 1e-4), clamped >= 1e-4, normalised by
     sqrt(max s * min s); x_mean = mean |x| per input channel over all calibration tokens,
     w_mean = |w| / (max |w| of its group + 1e-6), averaged over the rows of the layers scaled;
     each candidate scored by the mean squared error of the block's output with only the
     scaled layers pseudo-quantized (Q(W s) / s):
       q/k/v from input_layernorm, scored on self_attn's output;
       o from v only when v_proj and o_proj have the same shape (not with GQA, as here);
       gate/up from post_attention_layernorm, scored on the MLP's output;
       down from up, scored on its own output;
  2. the scales folded in (norm weight / s, previous linear's rows / s, the layers' columns * s)
     and divided out of the recorded inputs;
  3. the clipping search on every linear but q and k: per (row, group), the shrink
     1 - i/20 (i < 10) of max |w| whose quantized group gives the least mean squared group
     output on 512 tokens sampled evenly from the recorded inputs;
  4. round to nearest on the zero-point grid (w4, min/max per group: AutoAWQ's default).
  The next layer reads this layer's outputs with its original weights (AutoAWQ), or with
  --propagation quantized, its outputs once quantized (GPTQ's way, what tune defaults to).

Data as tune's CalibratedQuantizationTests uses it: calibration = the first 16 x 256 tokens of
Debian's Apache-2.0, MPL-2.0 and Artistic licence texts joined by blank lines; held out = GPL-3,
scored as llama.cpp's perplexity tool does (256-token chunks, second half scored), on the first
4 chunks (the test's measure) and on every chunk of the text.

A row's last group may be shorter than the group size (576 = 4 x 128 + 64), as tune's grid
allows; AutoAWQ would refuse group 128 on this model (576 is not a multiple of 128).

Measured 2026-12-01 (torch 2.15.0 CPU, transformers 5.24.0, one thread; held-out perplexity on
the first 4 chunks / on all 29 chunks, 508 / 3683 scored tokens), group 128, propagation fp:
  f32 (dequantized Q4_1)  19.331 / 20.832
  RTN zero-point g128     22.343 / 27.175
  AWQ zero-point g128     23.177 / 25.084   (AWQ search, clipping and quantization: 269 s)
  AWQ, --propagation quantized  24.186 / 25.840
so AWQ beats round to nearest on the whole held-out text (by 7.7%), while the first 4 chunks
alone rank it behind, as they do tune's AWQ; passing each layer's quantized outputs on (GPTQ's
way) is worse than AutoAWQ's full-precision ones, as in tune.

Run (about 7 min on one core):
  /root/.cache/tune/refvenv/bin/python Scripts/awq_check.py [--group 128] [--propagation fp|quantized]
      [--calibration-blocks 16] [--no-clip] [MODEL.gguf]
"""
import argparse
import math
import os
import time

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

torch.set_num_threads(1)
torch.manual_seed(0)

DEFAULT_MODEL = os.path.join(os.environ.get("MODELSCOPE_CACHE", os.path.expanduser("~/.cache/modelscope/hub")),
                             "models/HuggingFaceTB/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
N_GRID = 20
MAX_SHRINK = 0.5
CLIP_TOKENS = 512


def groups(columns, gs):
    return [(s, min(s + gs, columns)) for s in range(0, columns, gs)]


def fake_quant(w, gs, bits=4):
    """Zero-point min/max round to nearest per (row, group): (clamp(round(w/d) + z) - z) d."""
    out = torch.empty_like(w)
    max_int = 2 ** bits - 1
    for s, e in groups(w.shape[1], gs):
        g = w[:, s:e]
        hi = g.amax(dim=1, keepdim=True)
        lo = g.amin(dim=1, keepdim=True)
        d = (hi - lo).clamp(min=1e-5) / max_int
        z = (-torch.round(lo / d)).clamp(0, max_int)
        out[:, s:e] = (torch.clamp(torch.round(g / d) + z, 0, max_int) - z) * d
    return out


def w_mean_of(weights, gs):
    w = torch.cat(weights, dim=0).abs()
    rel = torch.empty_like(w)
    for s, e in groups(w.shape[1], gs):
        g = w[:, s:e]
        rel[:, s:e] = g / (g.amax(dim=1, keepdim=True) + 1e-6)
    return rel.mean(0)


def candidate(ratio, x_mean, w_mean):
    s = (x_mean.pow(ratio) / (w_mean.pow(1 - ratio) + 1e-4)).clamp(min=1e-4)
    s = s / (s.max() * s.min()).sqrt()
    s[torch.isinf(s) | torch.isnan(s)] = 1
    return s


def search_scales(linears, x, block, gs):
    """The candidate s with the least MSE of block(x) when `linears` hold Q(W s)/s."""
    x_mean = x.abs().reshape(-1, x.shape[-1]).mean(0)
    w_mean = w_mean_of([l.weight for l in linears], gs)
    originals = [l.weight.data.clone() for l in linears]
    reference = block(x)
    best = (math.inf, None, None)
    for i in range(N_GRID):
        ratio = i / N_GRID
        s = candidate(ratio, x_mean, w_mean)
        for l, w in zip(linears, originals):
            l.weight.data = fake_quant(w * s, gs) / s
        err = (block(x) - reference).pow(2).mean().item()
        if err < best[0]:
            best = (err, ratio, s.clone())
        for l, w in zip(linears, originals):
            l.weight.data = w.clone()
    return best[2], best[1]


def clip(linear, x, gs):
    """AutoAWQ's clipping search on `linear` (weights already scaled) over `x` (tokens x in)."""
    x = x.reshape(-1, x.shape[-1])
    x = x[::max(1, x.shape[0] // CLIP_TOKENS)]
    w = linear.weight.data
    clipped = w.clone()
    for s, e in groups(w.shape[1], gs):
        wg, xg = w[:, s:e], x[:, s:e]
        reference = xg @ wg.T
        amax = wg.abs().amax(dim=1, keepdim=True)
        best_err = torch.full((w.shape[0],), math.inf)
        best_max = amax.clone()
        for i in range(int(MAX_SHRINK * N_GRID)):
            m = amax * (1 - i / N_GRID)
            q = fake_quant(torch.clamp(wg, -m, m), gs)
            err = (xg @ q.T - reference).pow(2).mean(0)
            better = err < best_err
            best_err[better] = err[better]
            best_max[better] = m[better]
        clipped[:, s:e] = torch.clamp(wg, -best_max, best_max)
    linear.weight.data = clipped


def decoder_layers(model):
    return model.model.layers


def linears_of(layer):
    a, m = layer.self_attn, layer.mlp
    return {"q": a.q_proj, "k": a.k_proj, "v": a.v_proj, "o": a.o_proj, "gate": m.gate_proj, "up": m.up_proj, "down": m.down_proj}


def rtn(model, gs):
    for layer in decoder_layers(model):
        for l in linears_of(layer).values():
            l.weight.data = fake_quant(l.weight.data, gs)


def awq(model, hidden, position_embeddings, gs, propagation, do_clip, log):
    for li, layer in enumerate(decoder_layers(model)):
        started = time.time()
        lin = linears_of(layer)
        feats = {}
        hooks = [lin[n].register_forward_hook(lambda mod, inp, out, n=n: feats.__setitem__(n, inp[0].detach()))
                 for n in ("q", "o", "gate", "down")]
        with torch.no_grad():
            fp_out = layer(hidden, attention_mask=None, position_embeddings=position_embeddings)
            fp_out = fp_out[0] if isinstance(fp_out, tuple) else fp_out
        for h in hooks:
            h.remove()

        def attention(x):
            out = layer.self_attn(hidden_states=x, attention_mask=None, position_embeddings=position_embeddings)
            return out[0]

        with torch.no_grad():
            s_attn, r_attn = search_scales([lin["q"], lin["k"], lin["v"]], feats["q"], attention, gs)
            s_o = r_o = None
            if lin["v"].weight.shape == lin["o"].weight.shape:
                s_o, r_o = search_scales([lin["o"]], feats["o"], lin["o"], gs)
            s_mlp, r_mlp = search_scales([lin["gate"], lin["up"]], feats["gate"], layer.mlp, gs)
            s_down, r_down = search_scales([lin["down"]], feats["down"], lin["down"], gs)

            layer.input_layernorm.weight.div_(s_attn)
            for n in ("q", "k", "v"):
                lin[n].weight.mul_(s_attn.view(1, -1))
            feats["q"] = feats["q"] / s_attn
            if s_o is not None:
                lin["v"].weight.div_(s_o.view(-1, 1))
                lin["o"].weight.mul_(s_o.view(1, -1))
                feats["o"] = feats["o"] / s_o
            layer.post_attention_layernorm.weight.div_(s_mlp)
            for n in ("gate", "up"):
                lin[n].weight.mul_(s_mlp.view(1, -1))
            feats["gate"] = feats["gate"] / s_mlp
            lin["up"].weight.div_(s_down.view(-1, 1))
            lin["down"].weight.mul_(s_down.view(1, -1))
            feats["down"] = feats["down"] / s_down

            if do_clip:
                for n, f in (("v", "q"), ("o", "o"), ("gate", "gate"), ("up", "gate"), ("down", "down")):
                    clip(lin[n], feats[f], gs)
            for l in lin.values():
                l.weight.data = fake_quant(l.weight.data, gs)

            if propagation == "fp":
                hidden = fp_out
            else:
                out = layer(hidden, attention_mask=None, position_embeddings=position_embeddings)
                hidden = out[0] if isinstance(out, tuple) else out
        log(f"layer {li}: ratios attn {r_attn} o {r_o} mlp {r_mlp} down {r_down} ({time.time() - started:.0f} s)")


def perplexity(model, ids, ctx=256, max_chunks=None):
    chunks = len(ids) // ctx
    if max_chunks:
        chunks = min(chunks, max_chunks)
    nll, n = 0.0, 0
    with torch.no_grad():
        for c in range(chunks):
            window = torch.tensor([ids[c * ctx:(c + 1) * ctx]])
            logp = torch.log_softmax(model(window).logits[0].double(), dim=-1)
            for p in range(ctx // 2, ctx - 1):
                nll -= logp[p, window[0, p + 1]].item()
                n += 1
    return math.exp(nll / n), n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", nargs="?", default=DEFAULT_MODEL)
    ap.add_argument("--group", type=int, default=128)
    ap.add_argument("--propagation", choices=["fp", "quantized"], default="fp")
    ap.add_argument("--calibration-blocks", type=int, default=16)
    ap.add_argument("--no-clip", action="store_true")
    ap.add_argument("--skip-rtn", action="store_true")
    args = ap.parse_args()

    def load():
        return AutoModelForCausalLM.from_pretrained(os.path.dirname(args.model), gguf_file=os.path.basename(args.model),
                                                    dtype=torch.float32, attn_implementation="sdpa").eval()

    tok = AutoTokenizer.from_pretrained(os.path.dirname(args.model), gguf_file=os.path.basename(args.model))
    lic = "/usr/share/common-licenses/"
    calib_text = "\n\n".join(open(lic + n, encoding="utf-8").read() for n in ("Apache-2.0", "MPL-2.0", "Artistic"))
    held_out = open(lic + "GPL-3", encoding="utf-8").read()
    calib_ids = tok(calib_text, add_special_tokens=False)["input_ids"]
    ids = tok(held_out, add_special_tokens=False)["input_ids"]
    blocks = args.calibration_blocks
    assert len(calib_ids) >= 256 * blocks, f"{len(calib_ids)} calibration tokens"
    calibration = torch.tensor([calib_ids[b * 256:(b + 1) * 256] for b in range(blocks)])

    def report(label, model):
        p4, n4 = perplexity(model, ids, max_chunks=4)
        pall, nall = perplexity(model, ids)
        print(f"{label}: ppl {p4:.3f} ({n4} tokens, 4 chunks) | {pall:.3f} ({nall} tokens, all chunks)", flush=True)
        return p4, pall

    print(f"group {args.group}, 4 bits zero-point, calibration {blocks}x256 tokens, propagation {args.propagation}, "
          f"clip {not args.no_clip}", flush=True)
    model = load()
    report("f32 (dequantized Q4_1)", model)
    if not args.skip_rtn:
        rtn(model, args.group)
        report(f"RTN zero-point g{args.group}", model)
        model = load()
    started = time.time()
    with torch.no_grad():
        hidden = model.model.embed_tokens(calibration)
        positions = torch.arange(calibration.shape[1]).unsqueeze(0).expand(blocks, -1)
        position_embeddings = model.model.rotary_emb(hidden, positions)
    awq(model, hidden, position_embeddings, args.group, args.propagation, not args.no_clip, print)
    print(f"AWQ took {time.time() - started:.0f} s", flush=True)
    report(f"AWQ zero-point g{args.group}", model)


if __name__ == "__main__":
    main()
