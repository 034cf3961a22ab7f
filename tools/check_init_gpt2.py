#!/usr/bin/env python3
"""Checks that transformers opens what `rmt-convert init-gpt2` writes, and pins the verdict as a fixture.

For each setting below, runs the built binary (`--binary`, default .build/debug/rmt-convert) into a temporary folder
and checks with transformers 4.57.6 / torch 2.13.0+cpu / safetensors 0.7.0:

  - `GPT2LMHeadModel.from_pretrained(folder, output_loading_info=True)` reports no missing, unexpected or
    mismatched keys and no error messages, and `lm_head.weight` is tied to `transformer.wte.weight`;
  - config.json is what `save_pretrained` writes for `GPT2Config` with the same fields (key for key, value for value;
    only `transformers_version`, which rmt-convert does not write, may differ);
  - model.safetensors holds exactly the keys `save_pretrained` writes for that model (no `lm_head.weight`), with the
    same shapes and dtypes, and metadata {"format": "pt"}: its header is byte-identical to save_pretrained's;
  - every tensor has the initialisation's distribution: LayerNorm weights 1, biases 0, embeddings and Conv1D weights
    mean 0 and std initializer_range, `c_proj.weight` std initializer_range / sqrt(2 n_layer), within 5 standard
    errors.

The first setting's folder is kept as fixtures/models/init-gpt2 (config.json, model.safetensors) with
`transformers_check.json`: the loading info of every setting and transformers' logits of the kept model on fixed ids,
which the Swift tests compare with `run` (tolerance 1e-4) and with a fresh `init-gpt2` (byte for byte). Rerun with

    swift build && python3 tools/check_init_gpt2.py && python3 tools/update_manifest.py
"""
import argparse
import json
import math
import os
import shutil
import subprocess
import tempfile

import torch
import transformers
from safetensors import safe_open
from transformers import GPT2Config, GPT2LMHeadModel

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
FIXTURE = os.path.join(ROOT, "fixtures", "models", "init-gpt2")

# (flags of init-gpt2, the GPT2Config fields they set); the first is kept as the fixture.
SETTINGS = [
    (["--layers", "2", "--hidden", "16", "--heads", "2", "--vocab", "12", "--positions", "12", "--seed", "7"],
     dict(n_layer=2, n_embd=16, n_head=2, vocab_size=12, n_positions=12)),
    (["--layers", "3", "--hidden", "24", "--heads", "4", "--vocab", "20", "--positions", "16", "--inner", "40",
      "--activation", "relu", "--initializer-range", "0.05", "--seed", "3"],
     dict(n_layer=3, n_embd=24, n_head=4, vocab_size=20, n_positions=16, n_inner=40, activation_function="relu",
          initializer_range=0.05)),
    (["--layers", "2", "--hidden", "128", "--heads", "4", "--vocab", "12", "--positions", "12", "--seed", "0"],
     dict(n_layer=2, n_embd=128, n_head=4, vocab_size=12, n_positions=12)),
]
INPUT_IDS = [[3, 7, 1, 0, 11, 5, 5, 2, 9, 4], [10, 2, 6, 8, 1, 1, 0, 3, 7, 11]]


def expected_std(name, config):
    if name.endswith("c_proj.weight"):
        return config.initializer_range / math.sqrt(2 * config.n_layer)
    if name.endswith(("wte.weight", "wpe.weight", "c_attn.weight", "c_fc.weight")):
        return config.initializer_range
    return None


def header(path):
    """The 8-byte length and the JSON header of a safetensors file: names, dtypes, shapes, offsets, metadata."""
    with open(path, "rb") as f:
        prefix = f.read(8)
        return prefix + f.read(int.from_bytes(prefix, "little"))


def check(binary, flags, fields, folder):
    subprocess.run([binary, "init-gpt2", "--output", folder, *flags], check=True, capture_output=True)
    config = GPT2Config(**fields)

    model, info = GPT2LMHeadModel.from_pretrained(folder, output_loading_info=True)
    info = {k: sorted(map(str, v)) for k, v in info.items()}
    assert all(not v for v in info.values()), info
    tied = model.lm_head.weight.data_ptr() == model.transformer.wte.weight.data_ptr()
    assert tied

    reference = tempfile.mkdtemp()
    try:
        GPT2LMHeadModel(config).save_pretrained(reference)
        with open(os.path.join(reference, "config.json")) as f:
            want = json.load(f)
        with open(os.path.join(folder, "config.json")) as f:
            got = json.load(f)
        want.pop("transformers_version")
        assert got == want, {k: (got.get(k), want.get(k)) for k in set(got) | set(want) if got.get(k) != want.get(k)}
        assert header(os.path.join(folder, "model.safetensors")) == header(os.path.join(reference, "model.safetensors"))
        with safe_open(os.path.join(reference, "model.safetensors"), "pt") as r, \
                safe_open(os.path.join(folder, "model.safetensors"), "pt") as g:
            assert list(g.keys()) == list(r.keys()), (list(g.keys()), list(r.keys()))
            assert g.metadata() == r.metadata() == {"format": "pt"}, g.metadata()
            statistics = {}
            for name in g.keys():
                t, ref = g.get_tensor(name), r.get_tensor(name)
                assert t.shape == ref.shape and t.dtype == ref.dtype == torch.float32, name
                x = t.double()
                std = expected_std(name, config)
                if std is None:
                    value = 1.0 if ".ln_" in name and name.endswith(".weight") else 0.0
                    assert bool((x == value).all()), name
                else:
                    n = x.numel()
                    mean_error = abs(float(x.mean())) / (std / math.sqrt(n))
                    std_error = abs(float(x.std()) - std) / (std / math.sqrt(2 * (n - 1)))
                    assert mean_error < 5 and std_error < 5, (name, mean_error, std_error)
                statistics[name] = {"mean": float(x.mean()), "std": float(x.std()), "expected_std": std}
    finally:
        shutil.rmtree(reference)
    return model, {"flags": flags, "loading_info": info, "lm_head_tied_to_wte": tied, "config_matches": True,
                   "safetensors_header_matches_save_pretrained": True, "statistics": statistics}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--binary", default=os.path.join(ROOT, ".build", "debug", "rmt-convert"))
    args = p.parse_args()
    torch.manual_seed(0)
    results = []
    work = tempfile.mkdtemp()
    try:
        for i, (flags, fields) in enumerate(SETTINGS):
            folder = os.path.join(work, f"setting{i}")
            model, result = check(args.binary, flags, fields, folder)
            results.append(result)
            print(f"ok: init-gpt2 {' '.join(flags)}")
            if i == 0:
                with torch.no_grad():
                    logits = model(torch.tensor(INPUT_IDS)).logits
                kept = {"input_ids": INPUT_IDS, "logits": logits.tolist()}
                if os.path.exists(FIXTURE):
                    shutil.rmtree(FIXTURE)
                os.makedirs(FIXTURE)
                for name in ("config.json", "model.safetensors"):
                    shutil.copy(os.path.join(folder, name), os.path.join(FIXTURE, name))
    finally:
        shutil.rmtree(work)
    report = {"made_by": "tools/check_init_gpt2.py", "transformers": transformers.__version__,
              "torch": torch.__version__, "kept": kept, "settings": results}
    with open(os.path.join(FIXTURE, "transformers_check.json"), "w") as f:
        json.dump(report, f, indent=1)
        f.write("\n")
    print(f"wrote {os.path.relpath(FIXTURE, ROOT)}")


if __name__ == "__main__":
    main()
