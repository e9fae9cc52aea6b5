#!/usr/bin/env python3
"""Makes Tests/Fixtures/autograd/tiny_llama_training.json: the PyTorch reference for the
engine's autograd on the tiny Llama of Tests/Fixtures/tiny/llama.

Two sequences of different lengths (12 and 20 tokens) are trained as one padding-free batch:
each runs through the model on its own (no attention across them), the causal-LM loss is the
sum of token cross-entropies (labels shifted by one inside each sequence, -100 ignored) over
the number of counted tokens. Recorded: that loss, a summary of every parameter's gradient
(sum, sum of squares, largest |g|, 16 sampled entries), and 10 steps of AdamW on the same batch
as the HF Trainer runs them: full fine-tuning, lr 1e-3, betas (0.9, 0.95), eps 1e-8,
weight_decay 0.1 on every weight except norms and biases (HF's get_decay_parameter_names),
clip_grad_norm_ 1.0, constant learning rate.

Run: /root/.cache/tune/refvenv/bin/python Scripts/goldens/autograd_tiny_llama.py
"""
import json, os
import torch
import transformers
from transformers import LlamaForCausalLM

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.join(here, "..", "..", "Tests", "Fixtures")
torch.manual_seed(0)
torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)

model = LlamaForCausalLM.from_pretrained(os.path.join(root, "tiny", "llama"), attn_implementation="eager",
                                         dtype=torch.float32)
model.train()

sequences = [
    [1, 5, 9, 33, 2, 60, 17, 17, 42, 8, 3, 50],
    [1, 11, 0, 63, 7, 21, 34, 55, 4, 19, 28, 40, 12, 6, 61, 30, 45, 22, 14, 2],
]
# HF-style labels (same positions as input_ids; the shift happens in the loss): prompt parts masked.
labels = [list(s) for s in sequences]
for i in range(4):
    labels[0][i] = -100
for i in range(7):
    labels[1][i] = -100
labels[1][13] = -100


def batch_loss():
    total = torch.zeros((), dtype=torch.float32)
    count = 0
    for ids, lab in zip(sequences, labels):
        logits = model(torch.tensor([ids])).logits[0]
        target = torch.tensor(lab[1:] + [-100])
        total = total + torch.nn.functional.cross_entropy(logits, target, ignore_index=-100, reduction="sum")
        count += int((target != -100).sum())
    return total / count


def summary(g):
    flat = g.detach().reshape(-1).double()
    n = flat.numel()
    idx = [(i * 7919) % n for i in range(16)]
    return {"shape": list(g.shape), "sum": float(flat.sum()), "sum_squares": float((flat * flat).sum()),
            "max_abs": float(flat.abs().max()), "indices": idx, "values": [float(flat[i]) for i in idx]}


names = [n for n, _ in model.named_parameters()]
loss = batch_loss()
loss.backward()
grads = {n: summary(p.grad) for n, p in model.named_parameters()}
first_loss = float(loss)
model.zero_grad()

forbidden = ["bias", "layernorm", "rmsnorm", "norm"]
decay = [p for n, p in model.named_parameters() if not any(f in n for f in forbidden)]
no_decay = [p for n, p in model.named_parameters() if any(f in n for f in forbidden)]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                        lr=1e-3, betas=(0.9, 0.95), eps=1e-8)
losses, norms = [], []
for step in range(10):
    loss = batch_loss()
    loss.backward()
    norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)))
    opt.step()
    opt.zero_grad()
    losses.append(float(loss))

record = {
    "made_by": f"torch {torch.__version__}, transformers {transformers.__version__}",
    "model": "tiny/llama", "sequences": sequences, "labels": labels,
    "loss": first_loss, "gradients": grads,
    "adamw": {"lr": 1e-3, "betas": [0.9, 0.95], "eps": 1e-8, "weight_decay": 0.1, "max_grad_norm": 1.0,
              "no_decay": [n for n in names if any(f in n for f in forbidden)],
              "losses": losses, "grad_norms": norms},
}
out = os.path.join(root, "autograd", "tiny_llama_training.json")
os.makedirs(os.path.dirname(out), exist_ok=True)
with open(out, "w") as f:
    json.dump(record, f, indent=1)
print("loss", first_loss, "losses", losses)
