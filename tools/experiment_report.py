#!/usr/bin/env python3
"""Prints the tables and curve excerpts of EXPERIMENTS.md from what tools/experiments.sh left in OUT: every run's
`rmt-convert train --json` output (OUT/<run>.jsonl), /usr/bin/time -v's report (OUT/<run>.time) and, when present,
the PyTorch reference's losses on the copy run (OUT/copy-reference.jsonl, tools/train_reference.py).

    python3 tools/experiment_report.py out/experiments

Standard library only.
"""
import json
import os
import statistics
import sys

RUNS = ["copy-bptt", "copy-detached", "reverse-bptt", "reverse-detached", "copy3-bptt", "copy3-detached",
        "minilm-frozen"]


def records(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def time_report(path):
    """Wall time (s) and peak RSS (MiB) from /usr/bin/time -v."""
    wall, rss = None, None
    if not os.path.exists(path):
        return wall, rss
    for line in open(path):
        key, _, value = line.strip().rpartition(": ")
        if key.startswith("Elapsed (wall clock) time"):
            parts = [float(p) for p in value.split(":")]
            wall = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
        elif key == "Maximum resident set size (kbytes)":
            rss = int(value) / 1024
    return wall, rss


def table(out):
    print("| run | steps | eval accuracy first → last | eval loss first → last | train s | wall s | tokens/s | peak RSS MiB |")
    print("|---|---|---|---|---|---|---|---|")
    for run in RUNS:
        path = os.path.join(out, run + ".jsonl")
        if not os.path.exists(path):
            continue
        rs = records(path)
        evals = [r for r in rs if r["type"] == "eval"]
        summary = next(r for r in rs if r["type"] == "summary")
        wall, rss = time_report(os.path.join(out, run + ".time"))
        print(f"| {run} | {summary['steps']} | {evals[0]['accuracy']:.3f} → {evals[-1]['accuracy']:.3f} | "
              f"{evals[0]['loss']:.3f} → {evals[-1]['loss']:.3f} | {summary['seconds']:.0f} | "
              f"{wall:.0f} | {summary['tokens_per_second']:,.0f} | {rss:.0f} |")


def curves(out):
    for run in RUNS:
        path = os.path.join(out, run, "metrics.jsonl")
        if not os.path.exists(path):
            continue
        rs = records(path)
        train = {r["step"]: r["loss"] for r in rs if r["type"] == "train"}
        print(f"\n{run} (metrics.jsonl): step, mean train loss of the steps since the previous evaluation, "
              "eval loss, eval accuracy")
        last = 0
        for e in (r for r in rs if r["type"] == "eval"):
            window = [train[s] for s in range(last + 1, e["step"] + 1) if s in train]
            mean = f"{statistics.mean(window):.4f}" if window else "—"
            print(f"  {e['step']:>5}  {mean:>7}  {e['loss']:.4f}  {e['accuracy']:.3f}")
            last = e["step"]


def reference(out):
    path = os.path.join(out, "copy-reference.jsonl")
    if not os.path.exists(path):
        return
    torch_losses = {r["step"] + 1: r["loss"] for r in records(path) if "step" in r}
    torch_seconds = [r["seconds"] for r in records(path) if "step" in r]
    swift = [r for r in records(os.path.join(out, "copy-bptt", "metrics.jsonl")) if r["type"] == "train"]
    swift_losses = {r["step"]: r["loss"] for r in swift}
    steps = sorted(set(torch_losses) & set(swift_losses))
    diffs = {s: abs(torch_losses[s] - swift_losses[s]) for s in steps}
    print("\ncopy-bptt beside the PyTorch reference (same folder, data, batches and settings):")
    for s in steps[:5]:
        print(f"  step {s}: Swift {swift_losses[s]:.9f}  PyTorch {torch_losses[s]:.9f}  |Δ| {diffs[s]:.1e}")
    for limit in (1e-5, 1e-4, 1e-3, 1e-2, 1e-1):
        first = next((s for s in steps if diffs[s] > limit), None)
        print(f"  first step with |Δ| > {limit:g}: {first if first is not None else 'none'}")
    for end in range(250, steps[-1] + 1, 250):
        window = [s for s in steps if end - 250 < s <= end]
        sw = statistics.mean(swift_losses[s] for s in window)
        to = statistics.mean(torch_losses[s] for s in window)
        print(f"  steps {end - 249}–{end}: mean loss Swift {sw:.4f}  PyTorch {to:.4f}")
    print(f"  median seconds per step: Swift {statistics.median(r['seconds'] for r in swift):.4f}  "
          f"PyTorch {statistics.median(torch_seconds):.4f}")
    wall, rss = time_report(os.path.join(out, "copy-reference.time"))
    if wall is not None:
        print(f"  PyTorch run: wall {wall:.0f} s, peak RSS {rss:.0f} MiB")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "out/experiments"
    table(out)
    curves(out)
    reference(out)


if __name__ == "__main__":
    main()
