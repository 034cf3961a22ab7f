#!/usr/bin/env python3
"""PyTorch ground truth for training RMTs in Swift (issue 15): writes fixtures/training/ (see its README.md).

For a tiny decoder RMT (fresh GPT-2) and a tiny encoder RMT (fresh BertForSequenceClassification), both in the
project's RMT folder format, it writes training data (data.npz), the loss and per-parameter gradients of several
batches (full BPTT, k2 truncation, left padding; the encoder's last-step and sum_loss losses), and optimizer runs
(SGD, AdamW with chosen and default settings, clipping by global norm, freeze-backbone, a schedule) with the
parameters after every step. Everything is computed in float64 (model.double()) with the reference classes of
tools/rmt_reference.py and stored as float32 tensors (scalars as float64).

Before writing, it checks its own numbers: gradient entries against central finite differences (float64; for k2
the detached memories are held constant), every run against the README's formulas written out by hand
(AdamW, clipping, schedules), and measures how far torch in float32 lands from the float64 truth.

Pinned: torch==2.13.0+cpu, transformers==4.57.6, safetensors==0.7.0, numpy==2.4.6. Seeded; rerun with
    python3 tools/make_training_fixtures.py && python3 tools/update_manifest.py
"""
import copy
import json
import os
import shutil

import torch
from safetensors.torch import save_file

from training_reference import (batch_of, decoder_loss, decoder_loss_with_constant_memories, encoder_loss,
                                finite_difference_check, gradients, largest_entries, save_npz,
                                schedule_multiplier, tiny_decoder, tiny_encoder, torch_schedule_multipliers,
                                train_run, trainable)
from rmt_reference import split_ranges

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "fixtures", "training")

DECODER = dict(vocab=64, n_embd=16, n_head=4, n_layer=2, n_positions=16, n_inner=32, m=3, segment_size=4,
               max_n_segments=4)
ENCODER = dict(vocab=20, hidden=32, heads=4, layers=2, intermediate=16, max_positions=12, num_labels=3, m=3,
               input_size=12, K=3, special={"pad": 0, "cls": 1, "sep": 2})
ADAMW = dict(lr=1e-2, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.05)
FD_TOLERANCE = 1e-5


# ----------------------------------------------------------------------------------------------- data

def decoder_data():
    """N = 5 rows of T = 14 tokens: segments 4, 4, 4, 2. Rows 3 and 4 are left-padded (3 and 6 pads: row 4's
    first segment is all padding); some labels are -100; labels_mask hides the first positions of rows 2 and 4."""
    g = torch.Generator().manual_seed(31)
    V, N, T = DECODER["vocab"], 5, 14
    ids = torch.randint(0, V - 1, (N, T), generator=g)
    mask = torch.ones(N, T, dtype=torch.int64)
    mask[3, :3] = 0
    mask[4, :6] = 0
    ids[mask == 0] = V - 1                          # pads are eos, as the reference's LM data pads
    labels = ids.clone()
    labels[torch.rand(N, T, generator=g) < 0.15] = -100
    labels[mask == 0] = -100
    labels_mask = torch.ones(N, T, dtype=torch.bool)
    labels_mask[2, :7] = False
    labels_mask[4, :8] = False
    return {"input_ids": ids.numpy(), "attention_mask": mask.numpy(), "labels": labels.numpy(),
            "labels_mask": labels_mask.numpy()}


def encoder_data():
    """N = 5 tokenizer-style rows [CLS] content [SEP] [PAD]...; content lengths 16, 9, 5, 22, 12 give 3, 2, 1, 3
    (22 is truncated to 18) and 2 segments of 6, so steps with fewer samples lead."""
    g = torch.Generator().manual_seed(41)
    sp, lengths = ENCODER["special"], [16, 9, 5, 22, 12]
    T = max(lengths) + 2
    ids = torch.full((len(lengths), T), sp["pad"], dtype=torch.int64)
    mask = torch.zeros(len(lengths), T, dtype=torch.int64)
    for b, n in enumerate(lengths):
        ids[b, 0], ids[b, n + 1] = sp["cls"], sp["sep"]
        ids[b, 1:n + 1] = torch.randint(3, ENCODER["vocab"], (n,), generator=g)
        mask[b, :n + 2] = 1
    labels = torch.randint(0, ENCODER["num_labels"], (len(lengths),), generator=g)
    return {"input_ids": ids.numpy(), "attention_mask": mask.numpy(), "labels": labels.numpy()}


# ----------------------------------------------------------------------------------------------- folders

def write_json(path, value):
    with open(path, "w") as f:
        json.dump(value, f, indent=2, sort_keys=True)
        f.write("\n")


def write_folder(out, model, rmt_config, hf_config):
    """The project's RMT folder: config.json, rmt_config.json and model.safetensors with every state-dict key
    (tied lm_head.weight and the alias model.embeddings.weight as separate full copies, docs/RMT.md §5.7)."""
    os.makedirs(out)
    write_json(os.path.join(out, "config.json"), hf_config)
    write_json(os.path.join(out, "rmt_config.json"), rmt_config)
    save_file({k: v.detach().clone().contiguous() for k, v in model.state_dict().items()},
              os.path.join(out, "model.safetensors"), metadata={"format": "pt"})


def common_config(variant, written):
    return {"rmt_format_version": 1, "variant": variant, "state_dict_profile": "current",
            "written_by": "tools/make_training_fixtures.py", **written}


def hf_config_of(model):
    config = model.config.to_diff_dict()
    config.pop("_attn_implementation_autoset", None)
    return config


# ----------------------------------------------------------------------------------------------- gradients

def gradient_case(model64, model32, loss_fn, batch, fd_loss, fd_names):
    """Loss and float64 gradients of one batch, checked by finite differences; float32 torch for comparison."""
    loss, grads = gradients(model64, loss_fn, batch)
    loss32, grads32 = gradients(model32, loss_fn, batch)
    scale = max(float(g.abs().max()) for g in grads.values())
    dev = max(float((grads32[n].double() - g).abs().max()) for n, g in grads.items())
    checks = finite_difference_check(model64, lambda: fd_loss(batch), grads, largest_entries(grads, fd_names))
    worst = max(c[4] for c in checks)
    assert worst <= FD_TOLERANCE, f"finite differences disagree: {checks}"
    info = {"loss": float(loss), "loss_float32": float(loss32), "grad_max_abs": scale,
            "float32_torch_max_abs_dev": dev,
            "finite_difference": {"h": 1e-5, "floor": "1e-4 * grad_max_abs", "max_relative_error": worst, "entries": [
                {"name": n, "index": i, "autograd": a, "finite_difference": f, "relative_error": r}
                for n, i, a, f, r in checks]}}
    return info, grads, loss, loss32


def store_inputs(tensors, prefix, batch):
    for k, v in batch.items():
        tensors[f"{prefix}.{k}"] = v.contiguous()


# ----------------------------------------------------------------------------------------------- runs

def do_run(model, loss_fn, data, spec):
    """Runs `spec` from the initial weights in float64 with torch, again with the README's formulas by hand, and in
    float32 with torch; returns the float64 result and the two deviations."""
    result = train_run(copy.deepcopy(model).double(), loss_fn, data, spec)
    hand = train_run(copy.deepcopy(model).double(), loss_fn, data, spec, hand=True)
    f32 = train_run(copy.deepcopy(model).float(), loss_fn, data, spec)

    def dev(other):
        """(max abs difference over every step and parameter, the parameter where it is largest)."""
        return max((float((o[n].double() - s[n]).abs().max()), n)
                   for s, o in zip(result["states"], other["states"]) for n in s)
    hand_dev = dev(hand)[0]
    assert hand_dev <= 1e-10, f"{spec['name']}: the README's formulas differ from torch by {hand_dev}"
    assert max(abs(a - b) for a, b in zip(result["losses"], hand["losses"])) <= 1e-12
    if spec.get("clip_norm") is not None:
        assert min(result["grad_norms"]) > spec["clip_norm"], f"{spec['name']}: clipping must trigger every step"
    return result, hand_dev, dev(f32)


def run_entry(spec, result, hand_dev, f32_dev, n):
    """The run's settings with every optional field spelled out (AdamW's defaults filled in; k2 null = the folder's
    k2), the batches' rows, the losses, lrs and, when clipping, the global norms before clipping."""
    entry = {"clip_norm": None, "freeze_backbone": False, "k2": None, "schedule": None}
    if spec["optimizer"] == "adamw":
        entry.update(betas=[0.9, 0.999], eps=1e-8, weight_decay=1e-2)
    entry.update({k: (list(v) if isinstance(v, tuple) else v) for k, v in spec.items()})
    entry.update({"rows": [[(i * spec["batch_size"] + r) % n for r in range(spec["batch_size"])]
                           for i in range(spec["steps"])],
                  "stored": sorted(result["states"][0]), "losses": result["losses"], "lrs": result["lrs"],
                  "hand_formula_max_abs_dev": hand_dev, "float32_torch_max_abs_dev": f32_dev[0],
                  "float32_torch_max_abs_dev_at": f32_dev[1]})
    if result["grad_norms"]:
        entry["grad_norms_before_clipping"] = result["grad_norms"]
    return entry


def store_run(tensors, spec, result):
    for i, state in enumerate(result["states"]):
        for name, value in state.items():
            tensors[f"{spec['name']}.step{i}.{name}"] = value.float().contiguous()


# ----------------------------------------------------------------------------------------------- decoder

def decoder_fixtures():
    out = os.path.join(OUT, "decoder")
    d = DECODER
    model = tiny_decoder(50, d["vocab"], d["n_embd"], d["n_head"], d["n_layer"], d["n_positions"], d["n_inner"],
                         d["m"], d["segment_size"], k2=-1, max_n_segments=d["max_n_segments"])
    base = model.memory_cell.model
    write_folder(out, model, common_config("decoder", {
        "num_mem_tokens": d["m"], "segment_size": d["segment_size"], "input_size": d["segment_size"] + 2 * d["m"],
        "max_n_segments": d["max_n_segments"], "segment_alignment": "left", "k2": -1,
        "backbone_model_type": "gpt2", "backbone_architecture": "GPT2LMHeadModel", "backbone_vocab_size": d["vocab"],
        "memory_init": {"method": "randn_x_wte_std", "std": float(base.transformer.wte.weight.detach().std()),
                        "seed": 50, "rng": "torch.randn"},
        "reference": {"repository": "booydar/recurrent-memory-transformer", "branch": "aaai24",
                      "classes": ["MemoryCell", "RecurrentWrapper"]}}), hf_config_of(base))
    data = decoder_data()
    save_npz(os.path.join(out, "data.npz"), data)
    m64, m32 = copy.deepcopy(model).double(), copy.deepcopy(model).float()
    fd_names = ["memory_cell.memory", "memory_cell.model.transformer.wte.weight",
                "memory_cell.model.transformer.wpe.weight", "memory_cell.model.transformer.h.0.ln_1.weight",
                "memory_cell.model.transformer.h.0.attn.c_attn.weight",
                "memory_cell.model.transformer.h.0.attn.c_proj.bias",
                "memory_cell.model.transformer.h.1.mlp.c_fc.weight",
                "memory_cell.model.transformer.h.1.mlp.c_proj.weight", "memory_cell.model.transformer.ln_f.bias"]
    tensors, cases = {}, []
    T = data["input_ids"].shape[1]
    for name, rows, k2 in [("full_bptt", [0, 1, 2], -1), ("k2_1", [0, 1, 2], 1), ("k2_3", [0, 1, 2], 3),
                           ("left_padding", [2, 3, 4], -1)]:
        m64.k2 = m32.k2 = k2
        segments = split_ranges(T, d["segment_size"], "left")
        detached = [j for j in range(len(segments)) if m64.detaches(j)]
        batch = batch_of(data, rows)
        with torch.no_grad():
            _, states, _ = m64(batch["input_ids"], batch["attention_mask"])
        constants = {j: states[j] for j in detached}
        info, grads, loss, loss32 = gradient_case(
            m64, m32, decoder_loss, batch,
            lambda b: decoder_loss_with_constant_memories(m64, b, constants), fd_names)
        store_inputs(tensors, name, batch)
        tensors[f"{name}.loss"] = loss.reshape(())
        tensors[f"{name}.loss_float32"] = loss32.reshape(())
        for n, g in grads.items():
            tensors[f"{name}.grad.{n}"] = g.float().contiguous()
        cases.append({"name": name, "rows": rows, "k2": k2, "max_n_segments": d["max_n_segments"],
                      "segments": [b - a for a, b in segments], "detached_memories": detached, **info})
    m64.k2 = m32.k2 = -1
    save_file(tensors, os.path.join(out, "gradients.safetensors"), metadata={"format": "pt"})

    specs = [
        dict(name="sgd", optimizer="sgd", lr=0.1, steps=1, batch_size=2),
        dict(name="sgd_clip", optimizer="sgd", lr=0.1, steps=2, batch_size=2, clip_norm=0.5),
        dict(name="adamw", optimizer="adamw", **ADAMW, steps=5, batch_size=2),
        dict(name="adamw_defaults", optimizer="adamw", lr=1e-3, steps=3, batch_size=2),
        dict(name="freeze_backbone", optimizer="adamw", **ADAMW, steps=5, batch_size=2, freeze_backbone=True),
        dict(name="freeze_backbone_k2_1_linear_warmup", optimizer="adamw", **ADAMW, steps=5, batch_size=2,
             freeze_backbone=True, k2=1, schedule={"kind": "linear", "warmup": 2, "total": 5}),
    ]
    runs, run_tensors = [], {}
    for spec in specs:
        result, hand_dev, f32_dev = do_run(model, decoder_loss, data, spec)
        store_run(run_tensors, spec, result)
        runs.append(run_entry(spec, result, hand_dev, f32_dev, len(data["input_ids"])))
        print(f"decoder run {spec['name']}: losses {[round(x, 5) for x in result['losses']]}, "
              f"float32 torch dev {f32_dev[0]:.2e} at {f32_dev[1]}")
    save_file(run_tensors, os.path.join(out, "runs.safetensors"), metadata={"format": "pt"})
    write_json(os.path.join(out, "expected.json"), expected_json("decoder", model, cases, runs, data, {
        "memory_cell.model.lm_head.weight": "memory_cell.model.transformer.wte.weight"}))
    for c in cases:
        print(f"decoder {c['name']}: loss {c['loss']:.6f}, max FD rel err {c['finite_difference']['max_relative_error']:.2e}, "
              f"float32 torch grad dev {c['float32_torch_max_abs_dev'] / c['grad_max_abs']:.2e} of scale")


def expected_json(variant, model, cases, runs, data, aliases):
    return {"variant": variant, "dropout": "off (model.eval()); config.json keeps transformers' default rates",
            "data": {"file": "data.npz", "arrays": {k: {"dtype": str(v.dtype), "shape": list(v.shape)}
                                                     for k, v in data.items()}},
            "parameters": [{"name": n, "shape": list(p.shape)} for n, p in trainable(model)],
            "same_tensor_as": aliases, "gradient_cases": cases, "runs": runs}


# ----------------------------------------------------------------------------------------------- encoder

def encoder_fixtures():
    out = os.path.join(OUT, "encoder")
    e = ENCODER
    model = tiny_encoder(60, e["vocab"], e["hidden"], e["heads"], e["layers"], e["intermediate"], e["max_positions"],
                         e["num_labels"], e["m"], e["input_size"], e["K"], e["special"])
    V, m = e["vocab"], e["m"]
    write_folder(out, model, common_config("encoder", {
        "num_mem_tokens": m, "segment_size": model.segment_size, "input_size": e["input_size"],
        "max_n_segments": e["K"], "segment_alignment": "right", "bptt_depth": -1, "sum_loss": False,
        "backbone_model_type": "bert", "backbone_architecture": "BertForSequenceClassification",
        "backbone_vocab_size": V, "mem_token_ids": list(range(V, V + m)), "memory_positions": list(range(1, m + 1)),
        "special_token_ids": e["special"],
        "memory_init": {"method": "normal_initializer_range", "std": 0.02, "seed": 60, "rng": "torch.randn"},
        "reference": {"repository": "booydar/recurrent-memory-transformer", "branch": "aaai24",
                      "classes": ["RMTEncoderForSequenceClassification"]}}), hf_config_of(model.model))
    data = encoder_data()
    save_npz(os.path.join(out, "data.npz"), data)
    m64, m32 = copy.deepcopy(model).double(), copy.deepcopy(model).float()
    fd_names = ["model.bert.embeddings.word_embeddings.weight", "model.bert.embeddings.position_embeddings.weight",
                "model.bert.embeddings.LayerNorm.bias", "model.bert.encoder.layer.0.attention.self.query.weight",
                "model.bert.encoder.layer.0.attention.output.dense.weight",
                "model.bert.encoder.layer.1.intermediate.dense.weight",
                "model.bert.encoder.layer.1.output.LayerNorm.weight", "model.bert.pooler.dense.weight",
                "model.classifier.bias"]
    tensors, cases = {}, []
    for name, sum_loss in [("last_step_loss", False), ("sum_loss", True)]:
        m64.sum_loss = m32.sum_loss = sum_loss
        batch = batch_of(data, [0, 1, 2, 3])
        info, grads, loss, loss32 = gradient_case(m64, m32, encoder_loss, batch,
                                                  lambda b: encoder_loss(m64, b), fd_names)
        # The memory rows V..V+m-1 of the table must be checked too, not only the largest entry.
        table = grads["model.bert.embeddings.word_embeddings.weight"]
        pick = [("model.bert.embeddings.word_embeddings.weight", V * e["hidden"] + int(table[V:].abs().argmax()))]
        extra = finite_difference_check(m64, lambda: encoder_loss(m64, batch), grads, pick)
        assert extra[0][4] <= FD_TOLERANCE, extra
        info["finite_difference"]["entries"] += [
            {"name": n, "index": i, "autograd": a, "finite_difference": f, "relative_error": r}
            for n, i, a, f, r in extra]
        with torch.no_grad():
            _, _, losses = m64(batch["input_ids"], batch["labels"])
        store_inputs(tensors, name, batch)
        tensors[f"{name}.losses"] = torch.stack(losses).contiguous()
        tensors[f"{name}.loss"] = loss.reshape(())
        tensors[f"{name}.loss_float32"] = loss32.reshape(())
        for n, g in grads.items():
            tensors[f"{name}.grad.{n}"] = g.float().contiguous()
        cases.append({"name": name, "rows": [0, 1, 2, 3], "sum_loss": sum_loss,
                      "steps": [sum(1 for s in step if s is not None) for step in m64.steps(batch["input_ids"])],
                      "losses": [float(x) for x in losses], **info})
        print(f"encoder {name}: loss {info['loss']:.6f}, max FD rel err "
              f"{info['finite_difference']['max_relative_error']:.2e}")
    save_file(tensors, os.path.join(out, "gradients.safetensors"), metadata={"format": "pt"})

    specs = [
        dict(name="sgd", optimizer="sgd", lr=0.1, steps=1, batch_size=2),
        dict(name="freeze_backbone", optimizer="adamw", **ADAMW, steps=5, batch_size=2, freeze_backbone=True),
    ]
    runs, run_tensors = [], {}
    for spec in specs:
        result, hand_dev, f32_dev = do_run(model, encoder_loss, data, spec)
        if spec.get("freeze_backbone"):
            table = model.model.bert.embeddings.word_embeddings.weight.detach().double()
            for state in result["states"]:
                assert torch.equal(state["model.bert.embeddings.word_embeddings.weight"][:V], table[:V])
        store_run(run_tensors, spec, result)
        runs.append(run_entry(spec, result, hand_dev, f32_dev, len(data["input_ids"])))
        print(f"encoder run {spec['name']}: losses {[round(x, 5) for x in result['losses']]}, "
              f"float32 torch dev {f32_dev[0]:.2e} at {f32_dev[1]}")
    save_file(run_tensors, os.path.join(out, "runs.safetensors"), metadata={"format": "pt"})
    write_json(os.path.join(out, "expected.json"), expected_json("encoder", model, cases, runs, data, {
        "model.embeddings.weight": "model.bert.embeddings.word_embeddings.weight"}))


# ----------------------------------------------------------------------------------------------- schedules

def schedule_fixtures():
    entries = []
    for warmup, total in [(3, 10), (0, 4)]:
        for kind in ("constant", "linear", "cosine"):
            values = torch_schedule_multipliers(kind, warmup, total)
            assert values == [schedule_multiplier(kind, i, warmup, total) for i in range(total)], kind
            entries.append({"kind": kind, "warmup": warmup, "total": total, "num_cycles": 0.5 if kind == "cosine"
                            else None, "multipliers": values})
    write_json(os.path.join(OUT, "schedules.json"), {
        "what": "lr multiplier of steps 0..total-1 (step i trains with lr * multipliers[i])",
        "functions": {"constant": "transformers.get_constant_schedule_with_warmup",
                      "linear": "transformers.get_linear_schedule_with_warmup",
                      "cosine": "transformers.get_cosine_schedule_with_warmup"},
        "schedules": entries})


if __name__ == "__main__":
    torch.set_num_threads(2)
    for name in ("decoder", "encoder", "schedules.json"):
        path = os.path.join(OUT, name)
        if os.path.isdir(path):
            shutil.rmtree(path)
        elif os.path.exists(path):
            os.remove(path)
    os.makedirs(OUT, exist_ok=True)
    decoder_fixtures()
    encoder_fixtures()
    schedule_fixtures()
