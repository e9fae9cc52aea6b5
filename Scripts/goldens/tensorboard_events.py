#!/usr/bin/env python3
"""Golden TensorBoard event file (Tests/Fixtures/reports/golden.tfevents).

Runs the writer transformers' TensorBoardCallback uses, `torch.utils.tensorboard.SummaryWriter`
(which writes through tensorboard's `EventFileWriter`), on the calls listed in
Tests/Fixtures/reports/tensorboard_calls.json, with every wall time fixed (the file-version event
takes `time.time()`, patched here), and copies the event file's bytes. The Swift test makes the
same calls on `TensorBoardEventWriter` and compares bytes. The file is also read back with
tensorboard's `EventAccumulator` (what ms-swift's `plot_images` reads) to check the scalars.

Environment: the reference venv /root/.cache/tune/refvenv (torch 2.15). The tensorboard package
is installed by this script when missing:
  /root/.cache/tune/refvenv/bin/pip install tensorboard   (2.21.0 when made)

Run: /root/.cache/tune/refvenv/bin/python Scripts/goldens/tensorboard_events.py
"""
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "Tests" / "Fixtures" / "reports"

try:
    import tensorboard  # noqa: F401
except ImportError:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "tensorboard"])

import numpy as np  # noqa: E402
import tensorboard.summary.writer.event_file_writer as efw  # noqa: E402
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402
from torch.utils.tensorboard import SummaryWriter  # noqa: E402

FILE_WALL_TIME = 1764592245.125

CALLS = [
    {"kind": "scalar", "tag": "train/zero", "value": 0.875, "step": 0, "wall_time": 0.0},
    {"kind": "text", "tag": "args", "text": '{\n  "output_dir": "out/v0-20251201",\n  "lr": 1e-4 \u00e9\n}',
     "step": 0, "wall_time": 1764592245.5},
    {"kind": "text", "tag": "model_config", "text": "", "step": 0, "wall_time": 1764592245.5},
    {"kind": "scalar", "tag": "train/loss", "value": 2.3456789, "step": 1, "wall_time": 1764592246.25},
    {"kind": "scalar", "tag": "train/grad_norm", "value": 11.75, "step": 1, "wall_time": 1764592246.25},
    {"kind": "scalar", "tag": "train/learning_rate", "value": 1e-05, "step": 1, "wall_time": 1764592246.25},
    {"kind": "scalar", "tag": "train/token_acc", "value": 0.0, "step": 1, "wall_time": 1764592246.25},
    {"kind": "scalar", "tag": "train/epoch", "value": 0.0333333333, "step": 1, "wall_time": 1764592246.25},
    {"kind": "scalar", "tag": "train/loss", "value": 1.5, "step": 5, "wall_time": 1764592250.0625},
    {"kind": "scalar", "tag": "eval/loss", "value": -0.25, "step": 5, "wall_time": 1764592251.0},
    {"kind": "scalar", "tag": "train/total_flos", "value": 2.1e16, "step": 300, "wall_time": 1764592400.0},
    {"kind": "scalar", "tag": "train/step_big", "value": 3.0, "step": 2**40 + 7, "wall_time": 1764592401.75},
]


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "tensorboard_calls.json").write_text(
        json.dumps({"file_wall_time": FILE_WALL_TIME, "calls": CALLS}, indent=1, ensure_ascii=False) + "\n")
    efw.time.time = lambda: FILE_WALL_TIME
    with tempfile.TemporaryDirectory() as d:
        w = SummaryWriter(log_dir=d)
        for c in CALLS:
            if c["kind"] == "scalar":
                w.add_scalar(c["tag"], c["value"], c["step"], walltime=c["wall_time"])
            else:
                w.add_text(c["tag"], c["text"], c["step"], walltime=c["wall_time"])
        w.close()
        files = list(Path(d).glob("events.out.tfevents.*"))
        assert len(files) == 1, files
        name = files[0].name
        assert name.startswith("events.out.tfevents.1764592245."), name
        data = files[0].read_bytes()
    (OUT / "golden.tfevents").write_bytes(data)

    ea = EventAccumulator(str(OUT / "golden.tfevents"))
    ea.Reload()
    for c in CALLS:
        # tensorboard keeps steps in increasing order: the calls are written that way.
        if c["kind"] != "scalar":
            continue
        got = [e for e in ea.Scalars(c["tag"]) if e.step == c["step"] and e.wall_time == c["wall_time"]]
        assert len(got) == 1 and got[0].value == float(np.float32(c["value"])), (c, got)
    print(f"wrote {len(data)} bytes; tensorboard reads back every scalar")


if __name__ == "__main__":
    main()
