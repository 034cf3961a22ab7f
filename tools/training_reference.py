#!/usr/bin/env python3
"""Training on the reference RMT classes of tools/rmt_reference.py: tiny models, batches in file order, the loss
that `rmt-convert run --labels` reports, per-parameter gradients, optimizer runs (SGD, AdamW, clipping by global
norm, freeze-backbone, learning-rate schedules), and the independent checks that make their numbers trustworthy
(central finite differences, AdamW / clipping / schedules written out by hand and compared with torch's).

A library for tools/make_training_fixtures.py (fixtures/training/) and tools/train_reference.py (benchmark).
Pinned: torch==2.13.0+cpu, transformers==4.57.6, safetensors==0.7.0, numpy==2.4.6.
"""
import io
import math
import os
import sys
import time
import zipfile

import numpy as np
import torch
from transformers import (BertConfig, BertForSequenceClassification, GPT2Config, GPT2LMHeadModel,
                          get_constant_schedule_with_warmup, get_cosine_schedule_with_warmup,
                          get_linear_schedule_with_warmup)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rmt_reference import EncoderRMT, MemoryCell, RecurrentWrapper, lm_loss, split_ranges  # noqa: E402


# ----------------------------------------------------------------------------------------------- models

def tiny_decoder(seed, vocab, n_embd, n_head, n_layer, n_positions, n_inner, m, segment_size, k2=-1,
                 max_n_segments=None):
    """A fresh GPT-2 (transformers' initialisation, seeded) wrapped as the reference decoder RMT, dropout off."""
    torch.manual_seed(seed)
    config = GPT2Config(vocab_size=vocab, n_positions=n_positions, n_embd=n_embd, n_layer=n_layer, n_head=n_head,
                        n_inner=n_inner, bos_token_id=vocab - 1, eos_token_id=vocab - 1,
                        architectures=["GPT2LMHeadModel"], attn_implementation="eager")
    base = GPT2LMHeadModel(config)
    return RecurrentWrapper(MemoryCell(base, m), segment_size, "left", k2=k2, max_n_segments=max_n_segments).eval()


def tiny_encoder(seed, vocab, hidden, heads, layers, intermediate, max_positions, num_labels, m, input_size, K,
                 special, sum_loss=False):
    """A fresh BertForSequenceClassification (seeded) wrapped as the reference encoder RMT, dropout off."""
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=vocab, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
                        intermediate_size=intermediate, max_position_embeddings=max_positions, num_labels=num_labels,
                        pad_token_id=special["pad"], architectures=["BertForSequenceClassification"],
                        attn_implementation="eager")
    base = BertForSequenceClassification(config)
    return EncoderRMT(base, m, input_size, K, pad=special["pad"], cls=special["cls"], sep=special["sep"],
                      sum_loss=sum_loss).eval()


def trainable(model):
    """(state-dict name, parameter) of every distinct parameter, in state-dict order. A tied or aliased tensor
    appears once, under its first name: the decoder's wte (not lm_head.weight), the encoder's
    model.bert.embeddings.word_embeddings.weight (not the alias model.embeddings.weight)."""
    return list(model.named_parameters())


# ----------------------------------------------------------------------------------------------- data and loss

def rows_of_step(step, batch_size, n):
    """Batches in file order: step i uses rows [i·B, (i+1)·B), each row index taken modulo N."""
    return [(step * batch_size + r) % n for r in range(batch_size)]


def batch_of(data, rows):
    """The rows of every array in `data` (a dict of numpy arrays) as torch tensors."""
    return {k: torch.from_numpy(np.ascontiguousarray(v[rows])) for k, v in data.items()}


def decoder_loss(wrapper, batch):
    _, _, loss = wrapper(batch["input_ids"], batch.get("attention_mask"), batch["labels"], batch.get("labels_mask"))
    return loss


def encoder_loss(rmt, batch):
    _, _, losses = rmt(batch["input_ids"], batch["labels"])
    return rmt.loss(losses)


def decoder_loss_with_constant_memories(wrapper, batch, constants):
    """The decoder loss with each memory M_j, j in `constants`, replaced by a constant. Written independently of
    RecurrentWrapper.forward: with the constants set to the detached memories' values, its exact derivative is the
    gradient truncated BPTT computes, so finite differences of it check the k2 gradients."""
    ids, mask = batch["input_ids"], batch.get("attention_mask")
    memory = wrapper.memory_cell.memory.repeat(ids.shape[0], 1, 1)
    logits = []
    for j, (a, b) in enumerate(split_ranges(ids.shape[1], wrapper.segment_size, wrapper.alignment)):
        seg_logits, memory = wrapper.memory_cell(ids[:, a:b], memory, None if mask is None else mask[:, a:b])
        logits.append(seg_logits)
        if j in constants:
            memory = constants[j]
    return lm_loss(torch.cat(logits, dim=1), batch["labels"], batch.get("labels_mask"))


def gradients(model, loss_fn, batch):
    """(loss, {name: grad}) for every distinct parameter; a parameter the loss does not reach gets zeros."""
    model.zero_grad(set_to_none=True)
    loss = loss_fn(model, batch)
    loss.backward()
    grads = {n: (p.grad.clone() if p.grad is not None else torch.zeros_like(p)) for n, p in trainable(model)}
    model.zero_grad(set_to_none=True)
    return loss.detach(), grads


# ----------------------------------------------------------------------------------------------- checks

def finite_difference_check(model, loss_of, grads, picks, h=1e-5):
    """Central differences (L(p + h) - L(p - h)) / 2h in float64 at the given (name, flat index) entries, compared
    with the autograd gradient. The relative error is |fd - autograd| / max(|fd|, |autograd|, 1e-4 * the largest
    |gradient| of the batch): the floor keeps rounding in the loss (about 1e-16 / h) from counting against tiny
    entries. Returns [(name, index, autograd, finite difference, relative error)]."""
    floor = 1e-4 * max(float(g.abs().max()) for g in grads.values())
    params = dict(trainable(model))
    results = []
    with torch.no_grad():
        for name, index in picks:
            flat = params[name].view(-1)
            old = flat[index].item()
            flat[index] = old + h
            up = loss_of().item()
            flat[index] = old - h
            down = loss_of().item()
            flat[index] = old
            fd = (up - down) / (2 * h)
            ag = grads[name].view(-1)[index].item()
            results.append((name, index, ag, fd, abs(fd - ag) / max(abs(fd), abs(ag), floor)))
    return results


def largest_entries(grads, names):
    """For each name, the flat index of its largest |gradient| entry: well above rounding, so a relative check
    is meaningful."""
    return [(n, int(grads[n].abs().view(-1).argmax())) for n in names]


class HandAdamW:
    """AdamW exactly as fixtures/training/README.md states it (torch.optim.AdamW's single-tensor rule), kept to check
    that the README's formula reproduces torch's trajectories."""

    def __init__(self, params, lr, betas, eps, weight_decay):
        self.params, self.lr, (self.b1, self.b2), self.eps, self.wd = list(params), lr, betas, eps, weight_decay
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.t = 0

    @torch.no_grad()
    def step(self, lr=None):
        lr = self.lr if lr is None else lr
        self.t += 1
        for p, m, v in zip(self.params, self.m, self.v):
            g = p.grad
            p.mul_(1 - lr * self.wd)
            m.mul_(self.b1).add_((1 - self.b1) * g)
            v.mul_(self.b2).add_((1 - self.b2) * g * g)
            denom = v.sqrt() / math.sqrt(1 - self.b2 ** self.t) + self.eps
            p.sub_((lr / (1 - self.b1 ** self.t)) * m / denom)


def hand_clip(params, max_norm):
    """clip_grad_norm_ as the README states it: norm = sqrt(sum g^2) over all trainable gradients,
    g <- g * min(1, max_norm / (norm + 1e-6)). Returns the norm before clipping."""
    norm = math.sqrt(sum(float((p.grad.double() ** 2).sum()) for p in params if p.grad is not None))
    coef = min(1.0, max_norm / (norm + 1e-6))
    with torch.no_grad():
        for p in params:
            if p.grad is not None:
                p.grad.mul_(coef)
    return norm


def schedule_multiplier(kind, step, warmup, total, num_cycles=0.5):
    """The lr multiplier transformers' schedules give step `step` (0-based), as the README states it."""
    if step < warmup:
        return float(step) / float(max(1, warmup))
    if kind == "constant":
        return 1.0
    if kind == "linear":
        return max(0.0, float(total - step) / float(max(1, total - warmup)))
    progress = float(step - warmup) / float(max(1, total - warmup))
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * float(num_cycles) * 2.0 * progress)))


SCHEDULES = {"constant": lambda opt, w, t: get_constant_schedule_with_warmup(opt, w),
             "linear": get_linear_schedule_with_warmup, "cosine": get_cosine_schedule_with_warmup}


def torch_schedule_multipliers(kind, warmup, total):
    """The lr of every step of a run with base lr 1 under transformers' schedule (LambdaLR stepped after each
    optimizer step): multiplier[i] is what step i uses."""
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=1.0)
    sched = SCHEDULES[kind](opt, warmup, total)
    out = []
    for _ in range(total):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


# ----------------------------------------------------------------------------------------------- runs

def trained_parameters(model, freeze_backbone):
    """(name, parameter) pairs the optimizer updates, and the rows of the first one that stay frozen (or None).
    freeze_backbone is the project's rule, not the reference's name-substring rule: the decoder trains only
    memory_cell.memory; the encoder only rows V..V+m-1 of the word-embedding table (every other row gets no
    gradient and no weight decay, so it stays bit-identical)."""
    named = trainable(model)
    if not freeze_backbone:
        return named, None
    if isinstance(model, EncoderRMT):
        return [(n, p) for n, p in named if n == "model.bert.embeddings.word_embeddings.weight"], slice(0, model.V)
    return [(n, p) for n, p in named if n == "memory_cell.memory"], None


def train_steps(model, loss_fn, data, spec, hand=False):
    """Trains `model` in place as `spec` says, yielding after every step a dict: step, loss, lr, grad_norm (before
    clipping, or None), seconds (zero_grad to optimizer step), trained [(name, parameter)].

    spec: steps, batch_size, optimizer ("sgd" | "adamw"), lr, and optionally betas, eps, weight_decay,
    clip_norm, freeze_backbone, schedule {kind, warmup, total}, k2. With hand=True the README's formulas
    (HandAdamW, hand_clip, schedule_multiplier) replace torch's optimizer, clip and scheduler."""
    named, frozen_rows = trained_parameters(model, spec.get("freeze_backbone"))
    params = [p for _, p in named]
    if spec.get("k2") is not None:
        model.k2 = spec["k2"]
    if spec["optimizer"] == "sgd":
        opt = None if hand else torch.optim.SGD(params, lr=spec["lr"])
    else:
        kw = {k: spec[k] for k in ("betas", "eps", "weight_decay") if k in spec}
        defaults = dict(betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2)
        opt = (HandAdamW(params, spec["lr"], **{**defaults, **kw}) if hand else
               torch.optim.AdamW(params, lr=spec["lr"], **kw))
    sched = None
    if spec.get("schedule") and not hand:
        s = spec["schedule"]
        sched = SCHEDULES[s["kind"]](opt, s["warmup"], s["total"])
    n = len(next(iter(data.values())))
    for i in range(spec["steps"]):
        batch = batch_of(data, rows_of_step(i, spec["batch_size"], n))
        start = time.perf_counter()
        model.zero_grad(set_to_none=True)
        loss = loss_fn(model, batch)
        loss.backward()
        if frozen_rows is not None:
            params[0].grad[frozen_rows] = 0
            kept = params[0].detach()[frozen_rows].clone()
        norm = None
        if spec.get("clip_norm") is not None:
            norm = (hand_clip(params, spec["clip_norm"]) if hand else
                    float(torch.nn.utils.clip_grad_norm_(params, spec["clip_norm"])))
        if hand:
            lr = spec["lr"] * (schedule_multiplier(step=i, **spec["schedule"]) if spec.get("schedule") else 1.0)
            if spec["optimizer"] == "sgd":
                with torch.no_grad():
                    for p in params:
                        p.sub_(lr * p.grad)
            else:
                opt.step(lr)
        else:
            lr = opt.param_groups[0]["lr"]
            opt.step()
            if sched is not None:
                sched.step()
        if frozen_rows is not None:
            with torch.no_grad():
                params[0][frozen_rows] = kept
        seconds = time.perf_counter() - start
        yield {"step": i, "loss": loss.item(), "lr": lr, "grad_norm": norm, "seconds": seconds, "trained": named}
    model.zero_grad(set_to_none=True)


def train_run(model, loss_fn, data, spec, hand=False):
    """train_steps collected: {losses, lrs, grad_norms, states}, states[i] mapping every trained parameter's name
    to its value after step i."""
    result = {"losses": [], "lrs": [], "grad_norms": [], "states": []}
    for r in train_steps(model, loss_fn, data, spec, hand):
        result["losses"].append(r["loss"])
        result["lrs"].append(r["lr"])
        if r["grad_norm"] is not None:
            result["grad_norms"].append(r["grad_norm"])
        result["states"].append({n: p.detach().clone() for n, p in r["trained"]})
    return result


# ----------------------------------------------------------------------------------------------- files

def save_npz(path, arrays):
    """numpy.savez's layout (one stored .npy per key) with fixed zip timestamps, so reruns give the same bytes."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for key, array in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(array), allow_pickle=False)
            z.writestr(zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0)), buf.getvalue())
