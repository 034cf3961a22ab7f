#!/usr/bin/env python3
"""Checks that an RMT folder written by `rmt-convert wrap` / `convert` loads into the reference classes with
strict=True and computes what rmt-convert computes.

Usage:  python3 tools/check_rmt_export.py RMT_FOLDER [SWIFT_OUTPUTS.safetensors INPUTS.safetensors]

Builds the reference wrapper of tools/rmt_reference.py (booydar/recurrent-memory-transformer, aaai24 semantics)
from the folder's config.json and rmt_config.json, loads the weights (model.safetensors, pytorch_model.bin with
torch.load(weights_only=True), or model_best.pth's model_state_dict) with load_state_dict(strict=True), and,
when given rmt-convert's `run` outputs and the inputs it ran on, compares logits and memory states (max abs
error <= 1e-4). Needs torch and transformers (not needed by CI).
"""
import json
import os
import sys

import torch
from safetensors.torch import load_file
from transformers import BertConfig, BertForSequenceClassification, GPT2Config, GPT2LMHeadModel

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rmt_reference import EncoderRMT, MemoryCell, RecurrentWrapper  # noqa: E402


def load_weights(folder):
    for name in ("model.safetensors", "pytorch_model.bin", "model_best.pth"):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            if name.endswith(".safetensors"):
                return load_file(path), name
            obj = torch.load(path, weights_only=True)
            return (obj["model_state_dict"] if "model_state_dict" in obj else obj), name
    raise SystemExit(f"{folder}: no weights file")


def build(folder):
    rmt = json.load(open(os.path.join(folder, "rmt_config.json")))
    hf = json.load(open(os.path.join(folder, "config.json")))
    m = rmt["num_mem_tokens"]
    if rmt["variant"] == "decoder":
        base = GPT2LMHeadModel(GPT2Config(**hf)).eval()
        model = RecurrentWrapper(MemoryCell(base, m), rmt["segment_size"], rmt["segment_alignment"],
                                 k2=rmt.get("k2", -1), max_n_segments=rmt.get("max_n_segments")).eval()
    else:
        hf = dict(hf, vocab_size=rmt["backbone_vocab_size"])      # build from V, then grow by m (docs/RMT.md §5.5)
        base = BertForSequenceClassification(BertConfig(**hf)).eval()
        special = rmt["special_token_ids"]
        model = EncoderRMT(base, m, rmt["input_size"], rmt["max_n_segments"], pad=special["pad"], cls=special["cls"],
                           sep=special["sep"], alignment=rmt["segment_alignment"],
                           sum_loss=bool(rmt.get("sum_loss", False))).eval()
    return model, rmt


def main():
    folder = sys.argv[1]
    model, rmt = build(folder)
    state, name = load_weights(folder)
    missing, unexpected = model.load_state_dict(state, strict=True)
    print(f"{name}: strict load OK ({len(state)} keys, variant {rmt['variant']})")
    if len(sys.argv) == 4:
        outputs, inputs = load_file(sys.argv[2]), load_file(sys.argv[3])
        with torch.no_grad():
            if rmt["variant"] == "decoder":
                logits, states, _ = model(inputs["input_ids"], inputs.get("attention_mask"))
            else:
                logits, states, _ = model(inputs["input_ids"])
        worst = 0.0
        for key, ref in (("logits", logits), ("memory_states", states)):
            err = (outputs[key] - ref).abs().max().item()
            worst = max(worst, err)
            print(f"{key}: shape {list(ref.shape)}, max abs error {err:.3e}")
        if worst > 1e-4:
            raise SystemExit("FAIL: outputs differ from the reference")
        print("PASS")


if __name__ == "__main__":
    main()
