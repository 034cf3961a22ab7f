#!/usr/bin/env python3
"""Reference RMT forward in PyTorch, re-implemented from docs/RMT.md, and the RMT fixtures it writes.

It mirrors the reference classes of booydar/recurrent-memory-transformer (branch aaai24): the decoder's
MemoryCell + RecurrentWrapper around GPT2LMHeadModel and the encoder wrapper around
BertForSequenceClassification, with the reference's state-dict names. The classes also train as the reference
does: the decoder's `k2` BPTT truncation (docs/RMT.md §2.7) and its shifted loss (§2.6), the encoder's per-step
losses combined by `sum_loss` (§3.5); tools/make_training_fixtures.py builds on them. For the tiny checkpoints in
fixtures/models/ it writes, under fixtures/rmt/:

  decoder/  model_best.pth           horovod-era family: {'model_state_dict', 'optimizer_state_dict', 'iteration', 'epoch'}
            model_best/model.safetensors   accelerate-era family (tied lm_head.weight dropped)
            config.json              the backbone's Hugging Face config
            rmt_config.json          the settings (docs/RMT.md §5.7)
            cases.safetensors        inputs and expected outputs for every case in cases.json
            cases.json               the cases: alignment, shapes, what is expected
  encoder/  the same for the encoder variant.

Pinned: torch==2.13.0+cpu, transformers==4.57.6, safetensors==0.7.0. Seeded; rerun with
    python3 tools/rmt_reference.py && python3 tools/update_manifest.py
"""
import json
import math
import os
import shutil

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from transformers import BertForSequenceClassification, GPT2LMHeadModel

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "fixtures", "rmt")


# ----------------------------------------------------------------------------------------------- segmentation

def split_ranges(length, n, alignment):
    """docs/RMT.md §2.3."""
    if alignment == "left":
        b = list(range(0, length, n)) + [length]
    elif alignment == "right":
        b = (list(range(length, 0, -n)) + [0])[::-1]
    else:
        k = math.ceil(length / n)
        c = math.ceil(length / k)
        b = [i * c for i in range(k)] + [length]
    return list(zip(b, b[1:]))


# ----------------------------------------------------------------------------------------------- decoder

def lm_loss(logits, labels, labels_mask=None):
    """docs/RMT.md §2.6: position t predicts labels[t+1]; -100 is ignored; labels_mask[b, t] (indexed by the predicting
    position) selects what counts; the mean over the counted set C (NaN when C is empty, as in the reference)."""
    shift_labels = labels[..., 1:].reshape(-1)
    shift_logits = logits[..., :-1, :].reshape(-1, logits.shape[-1])
    if labels_mask is not None:
        keep = labels_mask[..., :-1].reshape(-1).bool()
        shift_labels, shift_logits = shift_labels[keep], shift_logits[keep]
    return F.cross_entropy(shift_logits, shift_labels)


class MemoryCell(torch.nn.Module):
    """The reference's MemoryCell: [memory | tokens | memory], next memory = write block after ln_f."""

    def __init__(self, base_model, num_mem_tokens):
        super().__init__()
        self.model = base_model
        self.num_mem_tokens = num_mem_tokens
        wte = base_model.get_input_embeddings().weight.data
        self.register_parameter("memory", torch.nn.Parameter(torch.randn(num_mem_tokens, wte.shape[1]) * wte.std()))

    def forward(self, input_ids, memory_state, attention_mask=None):
        m = self.num_mem_tokens
        embeds = self.model.get_input_embeddings()(input_ids)
        embeds = torch.cat([memory_state, embeds, memory_state], dim=1)
        kwargs = dict(inputs_embeds=embeds, output_hidden_states=True)
        if attention_mask is not None:
            mask = torch.ones(embeds.shape[:2], dtype=torch.int64)
            mask[:, m:-m] = attention_mask
            kwargs["attention_mask"] = mask
        out = self.model(**kwargs)
        return out.logits[:, m:-m], out.hidden_states[-1][:, -m:]

    def generate(self, input_ids, memory_state, attention_mask, **generate_kwargs):
        """The last segment with read memory only (no write block), decoded by Hugging Face generate."""
        embeds = torch.cat([memory_state, self.model.get_input_embeddings()(input_ids)], dim=1)
        mask = torch.ones(embeds.shape[:2], dtype=torch.int64)
        mask[:, self.num_mem_tokens:] = attention_mask
        return self.model.generate(inputs_embeds=embeds, attention_mask=mask, **generate_kwargs)


class RecurrentWrapper(torch.nn.Module):
    """The reference's RecurrentWrapper: segments in order, memory carried, BPTT truncated by the `k2` rule."""

    def __init__(self, memory_cell, segment_size, alignment, k2=-1, max_n_segments=None):
        super().__init__()
        self.memory_cell = memory_cell
        self.segment_size = segment_size
        self.alignment = alignment
        self.k2 = k2
        self.max_n_segments = max_n_segments

    def detaches(self, j):
        """docs/RMT.md §2.7 (aaai24 `manage_gradients`): M_j is detached iff j >= 1, k2 is set and != -1, and
        j + k2 <= K (the configured max_n_segments). framework_accel's no-op is not copied."""
        return j >= 1 and self.k2 not in (-1, None) and j + self.k2 <= self.max_n_segments

    def forward(self, input_ids, attention_mask=None, labels=None, labels_mask=None):
        """Returns (logits [B, T, V], memory_states [S, B, m, H], loss or None). The loss is the one
        `rmt-convert run --labels` reports (docs/RMT.md §2.6): shifted cross-entropy over the concatenated logits,
        labels -100 ignored, labels_mask indexed by the predicting position, mean over the counted set."""
        B, T = input_ids.shape
        memory = self.memory_cell.memory.repeat(B, 1, 1)
        logits, states = [], []
        for j, (a, b) in enumerate(split_ranges(T, self.segment_size, self.alignment)):
            seg_mask = None if attention_mask is None else attention_mask[:, a:b]
            seg_logits, memory = self.memory_cell(input_ids[:, a:b], memory, seg_mask)
            logits.append(seg_logits)
            states.append(memory)
            if self.detaches(j):
                memory = memory.detach()
        full = torch.cat(logits, dim=1)
        loss = None if labels is None else lm_loss(full, labels, labels_mask)
        return full, torch.stack(states), loss

    def generate(self, input_ids, attention_mask, **generate_kwargs):
        """docs/RMT.md §2.8: earlier segments write memory; the last one is read with it; memory stays fixed."""
        B, T = input_ids.shape
        memory = self.memory_cell.memory.repeat(B, 1, 1)
        ranges = split_ranges(T, self.segment_size, self.alignment)
        for a, b in ranges[:-1]:
            _, memory = self.memory_cell(input_ids[:, a:b], memory, attention_mask[:, a:b])
        a, b = ranges[-1]
        return self.memory_cell.generate(input_ids[:, a:b], memory, attention_mask[:, a:b], **generate_kwargs)


def decoder_fixtures():
    torch.manual_seed(10)
    base = GPT2LMHeadModel.from_pretrained(os.path.join(ROOT, "fixtures/models/tiny-gpt2"), attn_implementation="eager").eval()
    m, n = 2, 5
    cell = MemoryCell(base, m)
    wrapper = RecurrentWrapper(cell, n, "left").eval()
    out = fresh("decoder")
    sd = wrapper.state_dict()
    # Family (a): a torch zip pickle of the training dict, loaded strictly by the fine-tuning scripts.
    torch.save({"model_state_dict": sd, "optimizer_state_dict": {"state": {}, "param_groups": []}, "iteration": 7, "epoch": 1},
               os.path.join(out, "model_best.pth"))
    # Family (b): accelerate's save_model with safetensors drops the tied lm_head.weight.
    os.makedirs(os.path.join(out, "model_best"))
    save_file({k: v.contiguous() for k, v in sd.items() if k != "memory_cell.model.lm_head.weight"},
              os.path.join(out, "model_best", "model.safetensors"), metadata={"format": "pt"})
    shutil.copy(os.path.join(ROOT, "fixtures/models/tiny-gpt2/config.json"), os.path.join(out, "config.json"))
    write_json(os.path.join(out, "rmt_config.json"), {
        "rmt_format_version": 1, "variant": "decoder", "num_mem_tokens": m, "segment_size": n, "input_size": n + 2 * m,
        "max_n_segments": None, "segment_alignment": "left", "k2": -1,
        "backbone_model_type": "gpt2", "backbone_architecture": "GPT2LMHeadModel", "backbone_vocab_size": base.config.vocab_size,
        "memory_init": {"method": "randn_x_wte_std", "std": float(base.transformer.wte.weight.std()), "seed": 10, "rng": "torch.randn"},
        "state_dict_profile": "current",
        "reference": {"repository": "booydar/recurrent-memory-transformer", "branch": "aaai24",
                      "classes": ["MemoryCell", "RecurrentWrapper"]},
        "written_by": "tools/rmt_reference.py",
    })
    g = torch.Generator().manual_seed(11)
    V = base.config.vocab_size
    tensors, cases = {}, []
    specs = [("left_three_segments", "left", 12, False, False), ("right_short_first", "right", 12, False, False),
             ("center_even", "center", 12, False, False), ("left_padding_labels_mask", "left", 13, True, True),
             ("one_short_segment", "left", 3, False, False)]
    for name, alignment, T, pad, use_mask in specs:
        wrapper.alignment = alignment
        ids = torch.randint(0, V, (2, T), generator=g)
        mask = torch.ones(2, T, dtype=torch.int64)
        if pad:
            mask[1, :4] = 0          # left padding, as the reference's LM data pads
            ids[1, :4] = base.config.eos_token_id
        labels = ids.clone()
        labels[mask == 0] = -100
        labels_mask = None
        if use_mask:
            labels_mask = torch.zeros(2, T, dtype=torch.bool)
            labels_mask[:, T // 2:] = True
        with torch.no_grad():
            logits, states, loss = wrapper(ids, mask if pad else None, labels, labels_mask)
        p = name + "."
        tensors[p + "input_ids"] = ids
        if pad:
            tensors[p + "attention_mask"] = mask
        tensors[p + "labels"] = labels
        if labels_mask is not None:
            tensors[p + "labels_mask"] = labels_mask
        tensors[p + "logits"] = logits.contiguous()
        tensors[p + "memory_states"] = states.contiguous()
        tensors[p + "loss"] = loss.reshape(()).to(torch.float64)
        cases.append({"name": name, "segment_alignment": alignment,
                      "segments": [b - a for a, b in split_ranges(T, n, alignment)]})
    # Greedy generation (docs/RMT.md §2.8): several segments, and left padding inside the last segment.
    for name, alignment, T, pad in [("generate_three_segments", "left", 12, False), ("generate_padded", "right", 8, True)]:
        wrapper.alignment = alignment
        ids = torch.randint(0, V, (2, T), generator=g)
        mask = torch.ones(2, T, dtype=torch.int64)
        if pad:
            mask[1, :4] = 0
            ids[1, :4] = base.config.eos_token_id
        with torch.no_grad():
            new = wrapper.generate(ids, mask, max_new_tokens=4, do_sample=False, pad_token_id=base.config.eos_token_id)
        tensors[name + ".input_ids"] = ids
        tensors[name + ".attention_mask"] = mask
        tensors[name + ".generated_ids"] = new[:, -4:].contiguous()
        cases.append({"name": name, "segment_alignment": alignment, "max_new_tokens": 4,
                      "segments": [b - a for a, b in split_ranges(T, n, alignment)]})
    save_file(tensors, os.path.join(out, "cases.safetensors"), metadata={"format": "pt"})
    write_json(os.path.join(out, "cases.json"), {"variant": "decoder", "tolerance": 1e-4, "cases": cases})


# ----------------------------------------------------------------------------------------------- encoder

class EncoderRMT(torch.nn.Module):
    """The reference encoder wrapper around BertForSequenceClassification (docs/RMT.md §3)."""

    def __init__(self, model, m, input_size, max_n_segments, pad=0, cls=101, sep=102, alignment="right",
                 sum_loss=False):
        super().__init__()
        V = model.config.vocab_size
        self.V, self.m, self.input_size, self.K, self.alignment = V, m, input_size, max_n_segments, alignment
        self.sum_loss = sum_loss
        self.register_buffer("cls_token", torch.tensor([cls]))
        self.register_buffer("sep_token", torch.tensor([sep]))
        self.register_buffer("mem_token_ids", torch.arange(V, V + m))
        model.resize_token_embeddings(V + m, mean_resizing=False)
        with torch.no_grad():   # transformers <= 4.45 behaviour: normal(0, initializer_range)
            model.bert.embeddings.word_embeddings.weight[V:] = torch.randn(m, model.config.hidden_size) * model.config.initializer_range
        self.model = model
        self.model.embeddings = model.bert.embeddings.word_embeddings   # the alias the wrapper registers
        self.pad, self.cls, self.sep = pad, cls, sep
        self.segment_size = input_size - m - 3

    def steps(self, ids):
        special = {self.pad, self.cls, self.sep}
        per_sample = []
        for row in ids.tolist():
            content = [t for t in row if t not in special][: self.segment_size * self.K]
            pieces = [content[a:b] for a, b in split_ranges(len(content), self.segment_size, self.alignment)]
            per_sample.append([None] * (self.K - len(pieces)) + pieces)
        steps = []
        for j in range(self.K):
            step = []
            for pieces in per_sample:
                p = pieces[j]
                if p is None:
                    step.append(None)
                else:
                    row = [self.cls] + list(range(self.V, self.V + self.m)) + [self.sep] + p + [self.sep]
                    step.append(row + [self.pad] * (self.input_size - len(row)))
            if any(s is not None for s in step):
                steps.append(step)
        return steps

    def forward(self, ids, labels=None):
        """Returns (logits of the last processed step [B, num_labels], memory_states [S, B, m, H], the per-step
        losses loss_j over each step's samples; empty without labels). Full BPTT (docs/RMT.md §3.6)."""
        B = ids.shape[0]
        table = self.model.bert.embeddings.word_embeddings.weight
        memory = table[self.V:].unsqueeze(0).repeat(B, 1, 1).clone()
        states, losses, logits = [], [], None
        for step in self.steps(ids):
            active = [b for b, s in enumerate(step) if s is not None]
            I = torch.tensor([step[b] for b in active])
            E = table[I].clone()
            E[:, 1:1 + self.m] = memory[active]
            out = self.model(inputs_embeds=E, attention_mask=(I != self.pad).long(), output_hidden_states=True)
            memory = memory.clone()
            memory[active] = out.hidden_states[-1][:, 1:1 + self.m]
            states.append(memory.clone())
            logits = out.logits
            if labels is not None:
                losses.append(F.cross_entropy(out.logits, labels[active]))
        return logits, torch.stack(states), losses

    def loss(self, losses):
        """docs/RMT.md §3.5: with sum_loss the unweighted mean of the per-step losses, else the last step's."""
        return torch.stack(losses).mean() if self.sum_loss else losses[-1]


def encoder_fixtures():
    torch.manual_seed(20)
    base = BertForSequenceClassification.from_pretrained(os.path.join(ROOT, "fixtures/models/tiny-bert"), attn_implementation="eager").eval()
    V = base.config.vocab_size
    m, input_size, K = 3, 16, 4
    rmt = EncoderRMT(base, m, input_size, K, pad=0, cls=101 % V, sep=102 % V).eval()
    out = fresh("encoder")
    sd = rmt.state_dict()
    torch.save({"model_state_dict": sd, "optimizer_state_dict": {"state": {}, "param_groups": []}, "iteration": 3, "epoch": 0},
               os.path.join(out, "model_best.pth"))
    os.makedirs(os.path.join(out, "model_best"))
    save_file({k: v.contiguous() for k, v in sd.items() if k != "model.embeddings.weight"},
              os.path.join(out, "model_best", "model.safetensors"), metadata={"format": "pt"})
    config = json.load(open(os.path.join(ROOT, "fixtures/models/tiny-bert/config.json")))
    config["vocab_size"] = V + m
    write_json(os.path.join(out, "config.json"), config)
    write_json(os.path.join(out, "rmt_config.json"), {
        "rmt_format_version": 1, "variant": "encoder", "num_mem_tokens": m, "segment_size": rmt.segment_size,
        "input_size": input_size, "max_n_segments": K, "segment_alignment": "right", "bptt_depth": -1, "sum_loss": False,
        "backbone_model_type": "bert", "backbone_architecture": "BertForSequenceClassification", "backbone_vocab_size": V,
        "mem_token_ids": list(range(V, V + m)), "memory_positions": list(range(1, m + 1)),
        "special_token_ids": {"pad": 0, "cls": 101 % V, "sep": 102 % V},
        "memory_init": {"method": "normal_initializer_range", "std": base.config.initializer_range, "seed": 20, "rng": "torch.randn"},
        "state_dict_profile": "current",
        "reference": {"repository": "booydar/recurrent-memory-transformer", "branch": "aaai24",
                      "classes": ["RMTEncoderForSequenceClassification"]},
        "written_by": "tools/rmt_reference.py",
    })
    g = torch.Generator().manual_seed(21)
    tensors, cases = {}, []
    # Content tokens avoid the special ids 0, cls and sep.
    def content(n):
        return torch.randint(3, 100, (n,), generator=g)
    specs = [
        ("two_samples_leading_empty", [25, 7]),      # sample 1 has fewer segments: leading empty steps
        ("truncated", [50, 12]),                     # 50 > 10·4: the end is dropped
        ("one_segment", [9, 4]),
    ]
    for name, lengths in specs:
        T = max(lengths) + 2
        ids = torch.zeros(2, T, dtype=torch.int64)
        for b, L in enumerate(lengths):
            ids[b, 0] = rmt.cls
            ids[b, 1:1 + L] = content(L)
            ids[b, 1 + L] = rmt.sep
        labels = torch.randint(0, base.config.num_labels, (2,), generator=g)
        with torch.no_grad():
            logits, states, losses = rmt(ids, labels)
        p = name + "."
        tensors[p + "input_ids"] = ids
        tensors[p + "labels"] = labels
        tensors[p + "logits"] = logits.contiguous()
        tensors[p + "memory_states"] = states.contiguous()
        tensors[p + "losses"] = torch.stack(losses).to(torch.float64)
        cases.append({"name": name, "lengths": lengths, "steps": len(losses)})
    save_file(tensors, os.path.join(out, "cases.safetensors"), metadata={"format": "pt"})
    write_json(os.path.join(out, "cases.json"), {"variant": "encoder", "tolerance": 1e-4, "cases": cases})


# ----------------------------------------------------------------------------------------------- helpers

def fresh(name):
    path = os.path.join(OUT, name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def write_json(path, value):
    with open(path, "w") as f:
        json.dump(value, f, indent=2, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    decoder_fixtures()
    encoder_fixtures()
