#!/usr/bin/env python3
"""Extract the documented argument and environment-variable names from ms-swift's
command-line argument reference (a text rendering of the docs page).

Usage: Scripts/gen-registry.py REFERENCE.txt > Tests/Fixtures/registry/names.txt
       Scripts/gen-registry.py --sections REFERENCE.txt   (name, section, raw first sentence)
       Scripts/gen-registry.py --check-help REFERENCE.txt Sources/Script/Arguments/Registry+*.swift
           (lists help strings sharing a run of 7 or more consecutive words with the reference)

A documented entry is a list item `- name: ...` (optionally marked with the fire emoji,
optionally `- name (default: X): ...`); the text dump sometimes glues an item to the end
of the previous one as `... - name: ...`. `Note`/`Tip` items are remarks, not names.
The Swift registry itself is written by hand from this list (help texts are our own words)."""
import re
import sys

ITEM = re.compile(r'(?:^|\s)- (?:\U0001F525)?([A-Za-z_][A-Za-z0-9_]*)(?: \(default[^)]*\))?:')
NOT_NAMES = {"Note", "Tip"}
HEADINGS = {
    "Base Arguments", "Model Arguments", "Data Arguments", "Template Arguments",
    "Generation Arguments", "Quantization Arguments", "Seq2SeqTrainer Arguments",
    "Tuner Arguments", "Full Arguments", "LoRA", "LoRA-GA", "FourierFt", "BOFT", "Vera",
    "GaLore", "LISA", "UNSLOTH", "LLAMAPRO", "AdaLoRA", "ReFT", "vLLM Arguments",
    "SGLang Arguments", "LMDeploy Arguments", "Merge Arguments", "Training Arguments",
    "SWANLAB", "RLHF Arguments", "Reward/Teacher Model Parameters", "PPO Arguments",
    "GRPO Arguments", "Inference Arguments", "Deployment Arguments", "Rollout Arguments",
    "Web-UI Arguments", "App Arguments", "Evaluation Arguments", "Export Arguments",
    "Sampling Parameters", "MCTS", "Specific Model Arguments", "Other Environment Variables",
}


def entries(path):
    section = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.strip() in HEADINGS:
                section = line.strip()
                continue
            for m in ITEM.finditer(line):
                if m.group(1) not in NOT_NAMES:
                    yield m.group(1), section, line[m.end():].strip()


def words(text):
    return re.findall(r"[a-z0-9_]+", text.lower())


def check_help(reference, swift_files, run=7):
    ref = words(open(reference, encoding="utf-8").read())
    grams = {tuple(ref[i:i + run]) for i in range(len(ref) - run + 1)}
    found = 0
    for path in swift_files:
        for literal in re.findall(r'"((?:[^"\\]|\\.){30,})"', open(path, encoding="utf-8").read()):
            w = words(literal)
            hits = [" ".join(w[i:i + run]) for i in range(len(w) - run + 1) if tuple(w[i:i + run]) in grams]
            if hits:
                found += 1
                print(f"{path}: {literal[:80]}... shares: {hits[0]}")
    print(f"{found} help strings share {run}-word runs with the reference")


def main():
    args = sys.argv[1:]
    if args and args[0] == "--check-help":
        check_help(args[1], args[2:])
        return
    if args and args[0] == "--sections":
        for name, section, text in entries(args[1]):
            print(f"{name}\t{section}\t{text[:110]}")
        return
    names = sorted({name for name, _, _ in entries(args[0])})
    print("\n".join(names))


if __name__ == "__main__":
    main()
