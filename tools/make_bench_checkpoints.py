#!/usr/bin/env python3
"""Creates the checkpoints `make bench` needs under .cache/bench/ (never committed):

  gpt2-124m/   GPT2LMHeadModel(GPT2Config()) — the 124M GPT-2 shape with random weights, float32
               (model.safetensors ≈ 498 MB, lm_head tied to wte so stored once), config.json.

The all-MiniLM-L6-v2 BERT comes from tools/fetch-minilm.sh (.cache/minilm/model). The RMT folders are made by
tools/bench_reference.py with `rmt-convert wrap`. Seeded; rerunning is a no-op once the files exist.
With transformers + torch (pinned: torch==2.13.0+cpu, transformers==4.57.6) the model is built by
`GPT2LMHeadModel(GPT2Config()).save_pretrained(...)`; without them, the same tensors are drawn with numpy
(normal(0, 0.02), LayerNorm weights 1, biases 0) and written as safetensors by hand, so the Swift side can be
benchmarked on a machine without torch.

    python3 tools/make_bench_checkpoints.py [--out .cache/bench]
"""
import argparse
import json
import os
import shutil
import struct
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")

GPT2_CONFIG = {
    "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "activation_function": "gelu_new",
    "vocab_size": 50257, "n_positions": 1024, "n_ctx": 1024, "n_embd": 768, "n_layer": 12, "n_head": 12,
    "n_inner": None, "layer_norm_epsilon": 1e-5, "bos_token_id": 50256, "eos_token_id": 50256,
    "initializer_range": 0.02, "scale_attn_weights": True, "tie_word_embeddings": True,
}


def gpt2_with_transformers(dest):
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel
    torch.manual_seed(0)
    GPT2LMHeadModel(GPT2Config()).save_pretrained(dest, safe_serialization=True)


def gpt2_with_numpy(dest):
    import numpy as np
    rng = np.random.default_rng(0)
    c, layers, vocab, positions = 768, 12, 50257, 1024
    tensors = {"transformer.wte.weight": (vocab, c), "transformer.wpe.weight": (positions, c)}
    for i in range(layers):
        p = f"transformer.h.{i}."
        tensors.update({p + "ln_1.weight": (c,), p + "ln_1.bias": (c,), p + "attn.c_attn.weight": (c, 3 * c),
                        p + "attn.c_attn.bias": (3 * c,), p + "attn.c_proj.weight": (c, c), p + "attn.c_proj.bias": (c,),
                        p + "ln_2.weight": (c,), p + "ln_2.bias": (c,), p + "mlp.c_fc.weight": (c, 4 * c),
                        p + "mlp.c_fc.bias": (4 * c,), p + "mlp.c_proj.weight": (4 * c, c), p + "mlp.c_proj.bias": (c,)})
    tensors.update({"transformer.ln_f.weight": (c,), "transformer.ln_f.bias": (c,)})
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, shape in sorted(tensors.items()):
        n = int(np.prod(shape)) * 4
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + n]}
        offset += n
    blob = json.dumps(header, separators=(",", ":")).encode()
    blob += b" " * (-len(blob) % 8)
    with open(os.path.join(dest, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(blob)) + blob)
        for name, shape in sorted(tensors.items()):
            if name.endswith(".bias"):
                values = np.zeros(shape, np.float32)
            elif "ln_" in name:
                values = np.ones(shape, np.float32)
            else:
                values = (rng.standard_normal(shape, dtype=np.float32) * 0.02).astype(np.float32)
            f.write(values.tobytes())
    with open(os.path.join(dest, "config.json"), "w") as f:
        json.dump(GPT2_CONFIG, f, indent=2)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.path.join(ROOT, ".cache", "bench"))
    args = parser.parse_args()
    dest = os.path.join(args.out, "gpt2-124m")
    if os.path.exists(os.path.join(dest, "model.safetensors")):
        return
    staging = dest + ".partial"
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    try:
        gpt2_with_transformers(staging)
        how = "transformers"
    except ImportError:
        gpt2_with_numpy(staging)
        how = "numpy (transformers/torch not installed)"
    os.rename(staging, dest)
    print(f"GPT-2 124M (float32, built with {how}) in {dest}", file=sys.stderr)


if __name__ == "__main__":
    main()
