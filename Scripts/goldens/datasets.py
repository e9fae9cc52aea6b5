#!/usr/bin/env python3
"""Golden file for the dataset layer (Tests/Fixtures/datasets/golden/ms_swift_load.json).

Loads the hand-written fixtures in Tests/Fixtures/datasets/ with ms-swift's own
`swift.dataset.load_dataset` (which reads local files through HF `datasets`) with
`shuffle=False`, so that the result does not depend on NumPy's random generator, and writes
each case's training and validation conversations as [role, content] pairs.

Only cases where `tune` means to behave as ms-swift does are recorded; the deliberate
differences are listed in Tests/Fixtures/datasets/README.md. Content is written with str():
HF's pandas fallback turns a numeric string such as "9" into a number in some files, which is
an artefact of reading, not of ms-swift's rules.

Environment: the reference venv /root/.cache/tune/refvenv (Python 3.11, transformers 5.24,
torch 2.15 already there). ms-swift pins an older transformers, so it is installed without its
dependencies, adding only what `import swift.dataset` needs:

  /root/.cache/tune/refvenv/bin/pip install --no-deps ms-swift==4.6.0 datasets==5.2.0 pyarrow \
      pandas dill==0.4.1 multiprocess xxhash python-dateutil tzdata modelscope modelscope_hub addict \
      binpacking json_repair dacite sortedcontainers simplejson zstandard pillow cryptography cffi \
      pycparser aiohttp multidict attrs yarl propcache aiohappyeyeballs aiosignal frozenlist

Run: /root/.cache/tune/refvenv/bin/python Scripts/goldens/datasets.py
"""
import json
import os
import sys
import tempfile
from pathlib import Path

# This file is named datasets.py: keep its folder off the path so `import datasets` finds HF's.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "Tests" / "Fixtures" / "datasets"
OUT = FIXTURES / "golden" / "ms_swift_load.json"

os.environ.setdefault("MODELSCOPE_CACHE", tempfile.mkdtemp(prefix="tune-msswift-"))

import datasets  # noqa: E402
import swift  # noqa: E402
from swift.dataset import load_dataset  # noqa: E402

CASES = [
    {"datasets": ["messages.jsonl"]},
    {"datasets": ["sharegpt.jsonl"]},
    {"datasets": ["sharegpt_pairs.jsonl"]},
    {"datasets": ["alpaca.json"]},
    {"datasets": ["query_response.jsonl"]},
    {"datasets": ["aliases.jsonl"]},
    {"datasets": ["text_only.jsonl"]},
    {"datasets": ["columns.csv"], "columns": {"text1": "query", "text2": "response"}},
    {"datasets": ["numbered.jsonl#4"]},
    {"datasets": ["numbered.jsonl#13"]},
    {"datasets": ["numbered.jsonl#3", "alpaca.json"]},
    {"datasets": ["numbered.jsonl"], "split_dataset_ratio": 0.2},
    {"datasets": ["numbered.jsonl#5"], "split_dataset_ratio": 0.2},
    {"datasets": ["numbered.jsonl#4"], "streaming": True},
    {"datasets": ["numbered.jsonl#6"], "streaming": True, "split_dataset_ratio": 0.5},
]


def pairs(ds):
    if ds is None:
        return None
    return [[[m["role"], str(m["content"])] for m in row["messages"]] for row in ds]


def main():
    out = {"ms_swift": swift.__version__, "datasets": datasets.__version__, "cases": []}
    for case in CASES:
        kwargs = {k: v for k, v in case.items() if k != "datasets"}
        train, val = load_dataset([str(FIXTURES / d) for d in case["datasets"]], shuffle=False, **kwargs)
        out["cases"].append({**case, "train": pairs(train), "validation": pairs(val)})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n")
    print(f"wrote {OUT} ({len(out['cases'])} cases)")


if __name__ == "__main__":
    main()
