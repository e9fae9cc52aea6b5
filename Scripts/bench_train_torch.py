#!/usr/bin/env python3
"""PyTorch + PEFT's side of Scripts/bench-train: training steps on the same GGUF model
(dequantized to f32 by transformers' `gguf_file=` loader), the same text windows and batch, the
same optimizer settings as `tune-bench --train`, printed in the same line format.

    bench_train_torch.py MODEL.gguf TEXT --train lora|full [--checkpointing true|false]
                         [--batch 4] [--seq 256] [--steps 4] [--batches 1] [--lr X] [--rank 8] [--alpha 32]

Tokens/s are over the steps after the first (warm-up); peak memory is the process's VmHWM from
/proc/self/status, reset after loading the model (so it is the training's peak, as on our side;
Linux resets getrusage's ru_maxrss with it, printed beside it)."""
import argparse, os, resource, time

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer


def vm_hwm_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def reset_hwm():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("text", help="a text file, or with --token-ids a file of space-separated token ids")
    p.add_argument("--token-ids", action="store_true", help="TEXT holds token ids (tune-bench --save-tokens)")
    p.add_argument("--train", choices=["lora", "full"], required=True)
    p.add_argument("--checkpointing", default="false")
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--seq", type=int, default=256)
    p.add_argument("--steps", type=int, default=4)
    p.add_argument("--batches", type=int, default=1, help="distinct batches the steps cycle through")
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--rank", type=int, default=8)
    p.add_argument("--alpha", type=float, default=32)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    checkpointing = a.checkpointing.lower() in ("1", "true", "yes")
    lr = a.lr if a.lr is not None else (1e-3 if a.train == "lora" else 2e-5)
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)

    folder, name = os.path.split(os.path.abspath(a.model))
    tokenizer = None if a.token_ids else AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    model.config.use_cache = False
    with open(a.text, encoding="utf-8") as f:
        content = f.read()
    ids = [int(t) for t in content.split()] if a.token_ids else tokenizer(content, add_special_tokens=False)["input_ids"]
    windows = [ids[i:i + a.seq] for i in range(0, len(ids) - a.seq + 1, a.seq)]
    batches = [windows[i:i + a.batch] for i in range(0, len(windows) - a.batch + 1, a.batch)]
    assert batches, f"{len(ids)} tokens do not fill one batch of {a.batch}x{a.seq}"
    batches = batches[:max(1, a.batches)]
    print(f"data: {len(ids)} tokens, steps cycle through {len(batches)} batch(es) of {a.batch}x{a.seq}, id checksum {sum(ids)}")

    if a.train == "lora":
        from peft import LoraConfig, get_peft_model
        config = LoraConfig(r=a.rank, lora_alpha=a.alpha, lora_dropout=0.0, target_modules="all-linear",
                            bias="none", task_type="CAUSAL_LM")
        model = get_peft_model(model, config)
    if checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        if a.train == "lora":
            model.enable_input_require_grads()
    model.train()
    trainable = [(n, q) for n, q in model.named_parameters() if q.requires_grad]
    # HF Trainer's grouping: no weight decay on biases and norms.
    decay = [q for n, q in trainable if not ("bias" in n or "norm" in n)]
    no_decay = [q for n, q in trainable if "bias" in n or "norm" in n]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                                  lr=lr, betas=(0.9, 0.95), eps=1e-8)
    count = sum(q.numel() for _, q in trainable)
    print(f"train: {a.train}, checkpointing {str(checkpointing).lower()}, {count} trainable parameters, "
          f"lr {lr:g}, threads {torch.get_num_threads()}")

    reset_hwm()
    print(f"resident before the first step: {vm_hwm_mb():.0f} MB")
    times = []
    for step in range(a.steps):
        batch = torch.tensor(batches[step % len(batches)], dtype=torch.long)
        t0 = time.perf_counter()
        loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_([q for _, q in trainable], 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        seconds = time.perf_counter() - t0
        tokens = batch.numel()
        print(f"step {step + 1}: loss {loss.item():.4f}, {seconds:.2f} s, {tokens / seconds:.1f} tokens/s")
        if step > 0:
            times.append(seconds)
    tokens = a.batch * a.seq
    mean = tokens * len(times) / sum(times) if times else float("nan")
    best = tokens / min(times) if times else float("nan")
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"result: {mean:.1f} tokens/s (best step {best:.1f}), peak RSS {vm_hwm_mb():.0f} MB "
          f"(ru_maxrss {maxrss:.0f} MB)")


if __name__ == "__main__":
    main()
