#!/usr/bin/env python3
"""Golden `logging.jsonl` lines (Tests/Fixtures/reports/logging.jsonl, logging_display.txt).

The figures of a short run (Tests/Fixtures/reports/logging_entries.json, written here) are
passed through the code ms-swift 4.6.0 and transformers 5.24.0 run when a training run logs:

- train steps: the logs dict `SwiftMixin._maybe_log_save_evaluate` builds (loss, grad_norm,
  learning_rate; that method cannot be called on its own, so the three keys are set here in
  its order), then `SwiftMixin.compute_custom_metrics` (its source, compiled from ms-swift's
  mixin.py, since importing that module needs every tuner's dependencies) on real `MeanMetric`s,
- evaluations: `eval_loss` (set by `evaluation_loop`) and the real `speed_metrics`,
- the end of training: the real `speed_metrics`, `total_flos`, `train_loss`,
- each then through the real `transformers.Trainer.log` (epoch, log_history) on a stand-in
  trainer, whose callback is ms-swift's real `PrinterCallbackNew` (`add_train_message`, then
  `append_to_jsonl` into logging.jsonl) and transformers' `ProgressCallback.on_log` rendering
  (what the terminal shows under the progress bar: floats as '%.4g' strings),
- the summary line as `SwiftSft._save_trainer_state` makes it (its dict is built here in that
  method's order) and written by the real `append_to_jsonl(..., strict=False)`, with
  `stat_array` and `get_model_parameter_info` (on a small torch module) run for real.
`time.time` in those modules and `get_max_reserved_memory` are patched so that the elapsed
times, runtimes and peak memory are the fixed figures of the entries file.

Environment: the reference venv /root/.cache/tune/refvenv (ms-swift 4.6.0 installed --no-deps,
transformers 5.24.0, torch 2.15.0); see Scripts/goldens/datasets.py for what `import swift` needs.
Run: /root/.cache/tune/refvenv/bin/python Scripts/goldens/training_logging.py
"""
import contextlib
import io
import json
import sys
import tempfile
import types
from pathlib import Path

# Scripts/goldens holds a datasets.py: keep the folder off the path so `import datasets` finds HF's.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import torch
import transformers.trainer_utils as trainer_utils
from transformers import Trainer
from transformers.trainer_callback import ProgressCallback, TrainerControl, TrainerState

import swift.trainers.patcher as patcher
from swift.metrics.utils import MeanMetric


def _mixin_compute_custom_metrics():
    """`SwiftMixin.compute_custom_metrics`, taken from ms-swift's source file and run as is
    (importing swift.trainers.mixin would pull in every tuner and their dependencies)."""
    import ast
    import torch.distributed as dist
    source = Path(patcher.__file__).with_name("mixin.py").read_text()
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef) and node.name == "SwiftMixin":
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "compute_custom_metrics":
                    item.decorator_list = []
                    namespace = {"dist": dist}
                    exec(compile(ast.Module(body=[item], type_ignores=[]), "mixin.py", "exec"), namespace)
                    return namespace["compute_custom_metrics"]
    raise RuntimeError("SwiftMixin.compute_custom_metrics not found")


SwiftMixin = types.SimpleNamespace(compute_custom_metrics=_mixin_compute_custom_metrics())
from swift.utils import append_to_jsonl, get_model_parameter_info, stat_array

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "Tests" / "Fixtures" / "reports"
MAX_STEPS = 30

# Each entry: what the Swift trainer hands TrainingLogEntry.
ENTRIES = [
    {"kind": "train", "global_step": 1, "elapsed": 1.4999, "memory": 0.0, "epoch": 0.03333333333333333,
     "loss": 2.345678912345, "grad_norm": 11.753214836120605, "learning_rate": 1e-05, "token_acc": [0.5, 0.25]},
    {"kind": "train", "global_step": 5, "elapsed": 7.5, "memory": 0.0, "epoch": 0.16666666666666666,
     "loss": 1.9999999949999, "grad_norm": 3.0, "learning_rate": 9.755282581475769e-05, "token_acc": [0.61]},
    {"kind": "eval", "global_step": 5, "elapsed": 9.0, "memory": 1.23456, "epoch": 0.16666666666666666,
     "eval_loss": 1.8765432109876, "eval_runtime": 1.50004999, "eval_samples": 20, "eval_steps": 3,
     "token_acc": [0.625, 0.6875]},
    {"kind": "train", "global_step": 10, "elapsed": 59.5, "memory": 1.5, "epoch": 0.3333333333333333,
     "loss": 0.000012345678, "grad_norm": None, "learning_rate": 0.0001, "token_acc": []},
    {"kind": "train", "global_step": 20, "elapsed": 3725.5, "memory": 1.5, "epoch": 0.6666666666666666,
     "loss": float("nan"), "grad_norm": float("inf"), "learning_rate": 5.000000000000001e-05, "token_acc": [1.0]},
    {"kind": "train", "global_step": 30, "elapsed": 90061.0, "memory": 2.0, "epoch": 1.0,
     "loss": 1234567.5, "grad_norm": 1e16, "learning_rate": 0.0, "token_acc": [0.75]},
    {"kind": "end", "global_step": 30, "elapsed": 90062.25, "memory": 2.0, "epoch": 1.0,
     "train_runtime": 90062.123456, "num_train_samples": 240, "total_flos": 2.1e16,
     "train_loss": 1.23456789},
]
SUMMARY = {"train_lengths": [10, 12, 15, 7, 9], "val_lengths": [11, 13],
           "last_model_checkpoint": "/out/v0-20251201-120000/checkpoint-30",
           "best_model_checkpoint": "/out/v0-20251201-120000/checkpoint-5", "best_metric": 1.8765432109876}


class Model(torch.nn.Module):
    """1,009,000 parameters, 8,000 of them trainable, and 100 buffer elements."""

    def __init__(self):
        super().__init__()
        self.base = torch.nn.Linear(1000, 1000)          # 1,001,000 frozen
        self.lora = torch.nn.Linear(1000, 8, bias=False)  # 8,000 trainable
        self.register_buffer("inv_freq", torch.zeros(100))
        self.base.requires_grad_(False)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    clock = {"now": 0.0}
    patcher.time.time = lambda: clock["now"]
    trainer_utils.time.time = lambda: clock["now"]
    memory = {"now": 0.0}
    patcher.get_max_reserved_memory = lambda: memory["now"]

    with tempfile.TemporaryDirectory() as d:
        args = types.SimpleNamespace(output_dir=d, include_num_input_tokens_seen="no")
        state = TrainerState(max_steps=MAX_STEPS)
        state.is_world_process_zero = True
        state.is_local_process_zero = True
        printer = patcher.PrinterCallbackNew()
        printer.on_train_begin(args, state, TrainerControl())   # start_time = 0, start_step = 0
        progress = ProgressCallback()
        display = []

        class Bar:
            def write(self, text):
                display.append(text)

        progress.training_bar = Bar()

        class Handler:
            def on_log(self, args, state, control, logs):
                printer_out = io.StringIO()
                with contextlib.redirect_stdout(printer_out):
                    printer.on_log(args, state, control, logs)
                # PrinterCallbackNew popped total_flos before printing; the progress callback
                # renders the same dict.
                progress.on_log(args, state, control, logs)
                return control

        trainer = types.SimpleNamespace(state=state, args=args, control=TrainerControl(), callback_handler=Handler())
        for e in ENTRIES:
            state.global_step = e["global_step"]
            state.epoch = e["epoch"]
            memory["now"] = e["memory"]
            metrics = {}
            for v in e.get("token_acc", []):
                metrics.setdefault("token_acc", MeanMetric(nan_value=None, device="cpu")).update(torch.tensor(v))
            if metrics:
                # What the Swift trainer hands over: the mean as ms-swift computes it (float32 items).
                e["token_acc_value"] = metrics["token_acc"].compute()["value"]
            if e["kind"] == "train":
                logs = {"loss": e["loss"]}
                if e["grad_norm"] is not None:
                    logs["grad_norm"] = e["grad_norm"]
                logs["learning_rate"] = e["learning_rate"]
                logs.update(SwiftMixin.compute_custom_metrics(metrics, ""))
            elif e["kind"] == "eval":
                logs = {"eval_loss": e["eval_loss"]}
                clock["now"] = e["eval_runtime"]
                logs.update(trainer_utils.speed_metrics("eval", 0.0, num_samples=e["eval_samples"],
                                                        num_steps=e["eval_steps"]))
                logs.update(SwiftMixin.compute_custom_metrics(metrics, "eval_"))
                e["eval_samples_per_second"] = e["eval_samples"] / e["eval_runtime"]
                e["eval_steps_per_second"] = e["eval_steps"] / e["eval_runtime"]
            else:
                clock["now"] = e["train_runtime"]
                steps = state.global_step
                samples = e["num_train_samples"] * steps / max(MAX_STEPS, 1)
                logs = trainer_utils.speed_metrics("train", 0.0, num_samples=samples, num_steps=steps)
                logs["total_flos"] = e["total_flos"]
                logs["train_loss"] = e["train_loss"]
                e["train_samples_per_second"] = samples / e["train_runtime"]
                e["train_steps_per_second"] = steps / e["train_runtime"]
                logs.update(SwiftMixin.compute_custom_metrics(metrics, ""))
            clock["now"] = e["elapsed"]
            Trainer.log(trainer, logs)

        model_info = get_model_parameter_info(Model(), "PeftModelForCausalLM")
        train_msg = {"train_dataset": stat_array(SUMMARY["train_lengths"])[1],
                     "val_dataset": stat_array(SUMMARY["val_lengths"])[1],
                     "model_parameter_info": model_info}
        state.last_model_checkpoint = SUMMARY["last_model_checkpoint"]
        state.best_model_checkpoint = SUMMARY["best_model_checkpoint"]
        state.best_metric = SUMMARY["best_metric"]
        train_msg.update({
            'last_model_checkpoint': state.last_model_checkpoint,
            'best_model_checkpoint': state.best_model_checkpoint,
            'best_metric': state.best_metric,
            'global_step': state.global_step,
            'log_history': state.log_history,
            'memory': getattr(state, 'max_memory', None),
        })
        append_to_jsonl(str(Path(d) / "logging.jsonl"), train_msg, strict=False)
        jsonl = (Path(d) / "logging.jsonl").read_text()

    (OUT / "logging.jsonl").write_text(jsonl)
    (OUT / "logging_display.txt").write_text("".join(line + "\n" for line in display))
    inputs = {"max_steps": MAX_STEPS, "entries": ENTRIES,
              "summary": dict(SUMMARY, model_parameters=1_009_000, model_trainable=8_000, model_buffers=100,
                              model_name="PeftModelForCausalLM", model_parameter_info=model_info)}
    # json writes NaN/Infinity bare, which Foundation reads only as strings: spell them so.
    def spell(x):
        if isinstance(x, float) and (x != x or x in (float("inf"), float("-inf"))):
            return {"nonfinite": repr(x)}
        if isinstance(x, dict):
            return {k: spell(v) for k, v in x.items()}
        if isinstance(x, list):
            return [spell(v) for v in x]
        return x
    (OUT / "logging_entries.json").write_text(json.dumps(spell(inputs), indent=1) + "\n")
    print(jsonl)
    print("\n".join(display))


if __name__ == "__main__":
    main()
