#!/usr/bin/env python3
"""Writes the safetensors fixtures under fixtures/safetensors/ with the official safetensors library.

Pinned: safetensors==0.7.0, numpy==2.4.6, torch==2.13.0+cpu (only for bfloat16, which numpy lacks).
Rerun:  python3 tools/make_safetensors_fixtures.py && python3 tools/update_manifest.py
Every file is deterministic: the same versions give the same bytes.
"""
import json
import os

import numpy as np
import torch
from safetensors.numpy import save_file as save_np
from safetensors.torch import save_file as save_torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "safetensors")


def out(name):
    os.makedirs(ROOT, exist_ok=True)
    return os.path.join(ROOT, name)


def main():
    # docs/FORMATS.md §1.8 vectors S1-S4, written by the official writer.
    save_np({}, out("s1_empty.safetensors"))
    save_np({}, out("s2_metadata_only.safetensors"), metadata={"format": "pt"})
    save_np({"x": np.array([1.0, -2.0], dtype=np.float32)}, out("s3_x.safetensors"), metadata={"format": "pt"})
    save_np(
        {
            "b": np.array([1, 2, 3], dtype=np.uint8),
            "a": np.array(1.0, dtype=np.float16),
            "w": np.array([[0.5, 2.0]], dtype=np.float32),
        },
        out("s4_order.safetensors"),
        metadata={"format": "pt"},
    )
    # Every dtype rmt-convert converts, plus a scalar and an empty tensor of each rank-changing kind.
    rng = np.random.default_rng(1234)
    t = {
        "f64": torch.from_numpy(rng.standard_normal((2, 3))),
        "f32": torch.from_numpy(rng.standard_normal((3, 4)).astype(np.float32)),
        "f16": torch.from_numpy(rng.standard_normal((5,)).astype(np.float16)),
        "bf16": torch.from_numpy(rng.standard_normal((2, 2)).astype(np.float32)).to(torch.bfloat16),
        "i64": torch.tensor([-(2**40), 0, 2**40], dtype=torch.int64),
        "i32": torch.tensor([[-7, 8], [9, -10]], dtype=torch.int32),
        "i16": torch.tensor([-300, 300], dtype=torch.int16),
        "i8": torch.tensor([-128, 127], dtype=torch.int8),
        "u8": torch.tensor([0, 255, 7], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True]),
        "scalar_f32": torch.tensor(3.5, dtype=torch.float32),
        "empty_f32": torch.zeros((0, 4), dtype=torch.float32),
        "empty_i64": torch.zeros((0,), dtype=torch.int64),
        "nested/name.with.dots": torch.arange(6, dtype=torch.float32).reshape(2, 3),
    }
    save_torch(t, out("all_dtypes.safetensors"), metadata={"format": "pt"})
    # Expected values of all_dtypes, as JSON, so tests compare decoded numbers and not only bytes.
    expected = {}
    for k, v in t.items():
        expected[k] = {
            "dtype": str(v.dtype).replace("torch.", ""),
            "shape": list(v.shape),
            "values": v.to(torch.float64).flatten().tolist() if v.dtype != torch.bool else v.int().flatten().tolist(),
        }
    with open(out("all_dtypes.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")
    # Multi-entry metadata (order is random in the official writer; tests compare parsed values only).
    save_np({"z": np.zeros(2, np.float32)}, out("metadata_multi.safetensors"),
            metadata={"format": "pt", "lm_head.weight": "z", "note": "a/b \"quoted\" \u00e9"})
    # Names needing JSON escapes and non-ASCII, compared byte for byte after re-saving.
    save_np({"tab\tname": np.ones(1, np.float32), "slash/and\\back": np.ones(1, np.int8),
             "caf\u00e9": np.ones(1, np.int16), "ctl\x01": np.ones(1, np.uint8)},
            out("escaped_names.safetensors"), metadata={"format": "pt"})


if __name__ == "__main__":
    main()
