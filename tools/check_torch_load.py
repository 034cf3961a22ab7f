#!/usr/bin/env python3
"""Checks that torch.load(weights_only=True) reads a torch file rmt-convert wrote (docs/FORMATS.md §5.6 acceptance).

Usage:  python3 tools/check_torch_load.py OUTPUT.bin [REFERENCE] [--key model_state_dict] [--tied a=b ...]
  OUTPUT      the file to check; loaded with torch.load(weights_only=True) (and mmap=True, as a second check)
  REFERENCE   optional: a .safetensors or torch file whose tensors OUTPUT must equal (names, dtypes, shapes,
              bytes); names REFERENCE lists as safetensors metadata aliases (alias → target) must share storage
  --key K     the state dict is OUTPUT[K] (nested checkpoints such as model_best.pth)
  --tied A=B  A and B must share storage in OUTPUT (repeatable)
Prints one line per tensor and exits non-zero on the first mismatch. Tested with torch 2.13.0+cpu.
"""
import argparse
import sys

import torch


def raw_bytes(t):
    """The tensor's contiguous bytes as a uint8 tensor (bitwise comparison: NaNs and -0.0 included)."""
    return t.contiguous().reshape(-1).view(torch.uint8)


def load_reference(path):
    if path.endswith(".safetensors"):
        from safetensors import safe_open
        from safetensors.torch import load_file
        with safe_open(path, "pt") as f:
            metadata = f.metadata() or {}
        tensors = load_file(path)
        aliases = {k: v for k, v in metadata.items() if k not in tensors and v in tensors}
        return tensors, aliases
    obj = torch.load(path, weights_only=True)
    return obj, {}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("output")
    parser.add_argument("reference", nargs="?")
    parser.add_argument("--key")
    parser.add_argument("--tied", action="append", default=[])
    args = parser.parse_args()

    loaded = torch.load(args.output, weights_only=True)
    mapped = torch.load(args.output, weights_only=True, mmap=True)
    if args.key:
        print(f"top-level keys: {list(loaded)}")
        loaded, mapped = loaded[args.key], mapped[args.key]
    failures = []
    for name, t in loaded.items():
        same = torch.equal(raw_bytes(t), raw_bytes(mapped[name]))
        print(f"{name}: {t.dtype} {list(t.shape)} stride {t.stride()} storage {t.untyped_storage().data_ptr():#x}")
        if not same:
            failures.append(f"{name}: mmap=True load differs")

    tied = [pair.split("=", 1) for pair in args.tied]
    if args.reference:
        reference, aliases = load_reference(args.reference)
        tied += list(aliases.items())
        expected_names = set(reference) | set(aliases)
        if set(loaded) != expected_names:
            failures.append(f"names differ: missing {sorted(expected_names - set(loaded))}, extra {sorted(set(loaded) - expected_names)}")
        for name, ref in reference.items():
            if name not in loaded:
                continue
            t = loaded[name]
            if t.dtype != ref.dtype or t.shape != ref.shape:
                failures.append(f"{name}: {t.dtype} {list(t.shape)} != reference {ref.dtype} {list(ref.shape)}")
            elif not torch.equal(raw_bytes(t), raw_bytes(ref)):
                failures.append(f"{name}: bytes differ from the reference")
    for a, b in tied:
        if loaded[a].untyped_storage().data_ptr() != loaded[b].untyped_storage().data_ptr():
            failures.append(f"{a} and {b} do not share storage")
        elif not torch.equal(loaded[a], loaded[b]):
            failures.append(f"{a} and {b} share storage but differ")
        else:
            print(f"tied: {a} shares storage with {b}")

    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print(f"OK: {len(loaded)} tensors load with weights_only=True" + (f" and equal {args.reference}" if args.reference else ""))


if __name__ == "__main__":
    main()
