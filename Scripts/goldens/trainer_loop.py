#!/usr/bin/env python3
"""Makes Tests/Fixtures/trainer/hf_trainer_runs.json: the HF Trainer's own training loop on
the tiny Llama (Tests/Fixtures/tiny/llama), full fine-tuning, as the reference for the engine's
trainer (step arithmetic, loss normalisation over gradient accumulation, clipping, AdamW,
learning-rate schedules, logged figures).

Each run trains the same 7 samples (token ids with masked prompt labels) in dataset order
(the sampler is replaced by a sequential one, as the engine's `train_dataloader_shuffle false`),
with AdamW betas (0.9, 0.95), weight_decay 0.1, max_grad_norm 1 and logging_steps 1, and records
per step: loss, grad_norm, learning_rate, epoch — plus the learning-rate factor of every
schedule the engine offers over 20 steps (from transformers' get_scheduler).

Run: /root/.cache/tune/refvenv/bin/python -P Scripts/goldens/trainer_loop.py
(-P: this folder has a datasets.py that would shadow the datasets package.)
"""
import json, os, tempfile
import torch
import transformers
from transformers import LlamaForCausalLM, get_scheduler
from transformers.trainer import Trainer
from transformers.training_args import TrainingArguments

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.join(here, "..", "..", "Tests", "Fixtures")
torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)

samples = [
    ([1, 5, 9, 33, 2, 60, 17, 17, 42, 8, 3, 50], 4),
    ([1, 11, 0, 63, 7, 21, 34, 55, 4, 19, 28, 40, 12, 6, 61, 30, 45, 22, 14, 2], 7),
    ([1, 3, 3, 9, 27, 44, 2], 2),
    ([1, 40, 41, 42, 43, 44, 45, 46, 47, 48], 5),
    ([1, 8, 16, 24, 32, 40, 48, 56, 2, 9, 10, 11, 12, 13, 14], 3),
    ([1, 60, 50, 40, 30, 20], 1),
    ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24], 10),
]


class Data(torch.utils.data.Dataset):
    def __len__(self):
        return len(samples)

    def __getitem__(self, i):
        ids, masked = samples[i]
        labels = [-100] * masked + ids[masked:]
        return {"input_ids": ids, "labels": labels}


def collate(rows):
    width = max(len(r["input_ids"]) for r in rows)
    ids = [r["input_ids"] + [0] * (width - len(r["input_ids"])) for r in rows]
    labels = [r["labels"] + [-100] * (width - len(r["labels"])) for r in rows]
    mask = [[1] * len(r["input_ids"]) + [0] * (width - len(r["input_ids"])) for r in rows]
    return {"input_ids": torch.tensor(ids), "labels": torch.tensor(labels), "attention_mask": torch.tensor(mask)}


class SequentialTrainer(Trainer):
    def _get_train_sampler(self, *args, **kwargs):
        return torch.utils.data.SequentialSampler(self.train_dataset)


def run(name, batch, accumulation, epochs, scheduler, warmup_ratio, lr, max_steps=-1):
    model = LlamaForCausalLM.from_pretrained(os.path.join(root, "tiny", "llama"), attn_implementation="eager",
                                             dtype=torch.float32)
    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(output_dir=out, per_device_train_batch_size=batch,
                                 gradient_accumulation_steps=accumulation, num_train_epochs=epochs, max_steps=max_steps,
                                 learning_rate=lr, lr_scheduler_type=scheduler, warmup_steps=warmup_ratio,  # transformers 5: a float below 1 is a ratio
                                 weight_decay=0.1, adam_beta1=0.9, adam_beta2=0.95, adam_epsilon=1e-8,
                                 max_grad_norm=1.0, logging_steps=1, save_strategy="no", report_to=[],
                                 use_cpu=True, seed=0, dataloader_drop_last=False, remove_unused_columns=False)
        trainer = SequentialTrainer(model=model, args=args, train_dataset=Data(), data_collator=collate)
        trainer.train()
        logs = [h for h in trainer.state.log_history if "loss" in h]
        return {"name": name, "batch": batch, "accumulation": accumulation, "epochs": epochs,
                "scheduler": scheduler, "warmup_ratio": warmup_ratio, "learning_rate": lr, "max_steps": max_steps,
                "total_steps": trainer.state.max_steps,
                "steps": [{"step": h["step"], "loss": h["loss"], "grad_norm": float(h["grad_norm"]),
                           "learning_rate": h["learning_rate"], "epoch": h["epoch"]} for h in logs]}


runs = [
    run("batch1-accum3-cosine-warmup", 1, 3, 2, "cosine", 0.2, 1e-3),
    run("batch2-accum2-linear", 2, 2, 2, "linear", 0.0, 2e-3),
    run("batch3-accum1-constant-maxsteps", 3, 1, 1, "constant", 0.0, 1e-3, max_steps=5),
]

# Schedules alone: factor of the base rate after each step, 20 steps, 4 warm-up steps.
schedules = {}
for kind, kwargs in [("linear", {}), ("cosine", {}), ("cosine_with_restarts", {}), ("polynomial", {}),
                     ("constant", {}), ("constant_with_warmup", {}), ("inverse_sqrt", {}),
                     ("cosine_with_min_lr", {"min_lr_rate": 0.1}),
                     ("warmup_stable_decay", {"num_decay_steps": 6})]:
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=1.0)
    sched = get_scheduler(kind, opt, num_warmup_steps=4, num_training_steps=20, scheduler_specific_kwargs=kwargs)
    factors = []
    for _ in range(21):
        factors.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    schedules[kind] = {"kwargs": kwargs, "factors": factors}

out = {"transformers": transformers.__version__, "torch": torch.__version__,
       "samples": [{"ids": ids, "masked": m} for ids, m in samples], "runs": runs, "schedules": schedules}
path = os.path.join(root, "trainer", "hf_trainer_runs.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
print("wrote", path)
for r in runs:
    print(r["name"], r["total_steps"], [round(s["loss"], 4) for s in r["steps"]])
