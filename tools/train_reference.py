#!/usr/bin/env python3
"""The PyTorch reference training loop that `rmt-convert train` is measured and compared against (issues 15, 17).

Three modes, all on the reference RMT classes of tools/rmt_reference.py (aaai24 semantics) with dropout off:

  bench (default)  a fresh tiny decoder RMT (GPT-2: 2 layers, hidden 128, 4 heads, vocab 12; m memory tokens,
                   3 segments; batch 32) trained with AdamW and loss.backward() on random tokens; prints the median
                   time per step over --steps steps after --warmup untimed ones, at --threads threads.
      python3 tools/train_reference.py --threads 2 --steps 30

  --data DATA.npz  trains the RMT folder --model on DATA.npz (fixtures/training/README.md gives the format) with
                   the same settings `rmt-convert train` takes, batches in file order (step i uses rows
                   [i*B, (i+1)*B) modulo N), so loss curves can be laid side by side with Swift's.
      python3 tools/train_reference.py --model fixtures/training/decoder --data fixtures/training/decoder/data.npz \\
          --steps 5 --batch-size 2 --lr 1e-2 --betas 0.8 0.95 --eps 1e-6 --weight-decay 0.05

  --task copy      the RMT paper's copy task, small: content tokens 2..9 after a start token 1, then a start token
                   and the copy; only the copy is scored. Trains with memory carried between segments and, for
                   comparison, with memory reset in every segment (no recurrence), and prints answer accuracy on 256
                   fresh samples. Measured (5 tokens copied over 3 segments of 4, m = 4, 1,500 steps of batch 32,
                   about 6 minutes for both at 1 thread on a busy 2-core machine): with memory 1.00, without 0.12
                   (chance 0.125); the paper reports 1.0 vs 0.12 for copy over 3 segments. 500 steps of the harder
                   setting --segment-size 8 (11 tokens) were not enough: both stayed at chance.
      python3 tools/train_reference.py --task copy --segment-size 4 --memory-tokens 4 --steps 1500 --lr 1e-3 \
          --threads 1

Every mode prints one JSON line per step {"step", "loss", "seconds"} (seconds: zero_grad to optimizer step) and a
final {"summary": ...} line. Pinned: torch==2.13.0+cpu, transformers==4.57.6, numpy==2.4.6.
"""
import argparse
import json
import os
import statistics
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_rmt_export import build, load_weights  # noqa: E402
from training_reference import decoder_loss, encoder_loss, tiny_decoder, train_steps  # noqa: E402


def arguments():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=3, help="bench: untimed steps before the timed ones")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--model", help="an RMT folder (with --data)")
    p.add_argument("--data", help="DATA.npz to train on (with --model)")
    p.add_argument("--task", choices=["copy"], help="the copy task, with and without memory")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--optimizer", choices=["sgd", "adamw"], default="adamw")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--betas", type=float, nargs=2, default=(0.9, 0.999))
    p.add_argument("--eps", type=float, default=1e-8)
    p.add_argument("--weight-decay", type=float, default=1e-2)
    p.add_argument("--clip-norm", type=float)
    p.add_argument("--bptt-depth", type=int, help="decoder k2 (needs max_n_segments)")
    p.add_argument("--freeze-backbone", action="store_true")
    p.add_argument("--schedule", choices=["constant", "linear", "cosine"])
    p.add_argument("--schedule-warmup", type=int, default=0)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--vocab", type=int, default=12)
    p.add_argument("--memory-tokens", type=int, default=4)
    p.add_argument("--segment-size", type=int, default=16)
    p.add_argument("--segments", type=int, default=3)
    p.add_argument("--json-steps", action="store_true", help="bench: also print the per-step lines")
    return p.parse_args()


def spec_of(args, steps):
    spec = {"name": "reference", "optimizer": args.optimizer, "lr": args.lr, "steps": steps,
            "batch_size": args.batch_size, "clip_norm": args.clip_norm, "freeze_backbone": args.freeze_backbone,
            "k2": args.bptt_depth}
    if args.optimizer == "adamw":
        spec.update(betas=tuple(args.betas), eps=args.eps, weight_decay=args.weight_decay)
    if args.schedule:
        spec["schedule"] = {"kind": args.schedule, "warmup": args.schedule_warmup, "total": steps}
    return spec


def emit(record):
    print(json.dumps(record), flush=True)


def fresh_decoder(args, max_n_segments=None):
    return tiny_decoder(args.seed, args.vocab, args.hidden, args.heads, args.layers,
                        args.segment_size + 2 * args.memory_tokens, None, args.memory_tokens, args.segment_size,
                        max_n_segments=max_n_segments)


def bench(args):
    """Median seconds per step of AdamW training of the tiny decoder RMT on random tokens."""
    model = fresh_decoder(args)
    g = torch.Generator().manual_seed(args.seed + 1)
    T = args.segments * args.segment_size
    ids = torch.randint(0, args.vocab, (args.batch_size, T), generator=g).numpy()
    data = {"input_ids": ids, "labels": ids.copy()}
    times = []
    for r in train_steps(model, decoder_loss, data, spec_of(args, args.warmup + args.steps)):
        if r["step"] >= args.warmup:
            times.append(r["seconds"])
        if args.json_steps:
            emit({"step": r["step"], "loss": r["loss"], "seconds": r["seconds"]})
    emit({"summary": {"mode": "bench", "median_seconds_per_step": statistics.median(times),
                      "min_seconds_per_step": min(times), "timed_steps": len(times), "threads": args.threads,
                      "batch_size": args.batch_size, "segments": args.segments, "segment_size": args.segment_size,
                      "memory_tokens": args.memory_tokens, "hidden": args.hidden, "layers": args.layers,
                      "heads": args.heads, "vocab": args.vocab, "tokens_per_step": args.batch_size * T,
                      "torch": torch.__version__}})


def train_on_data(args):
    """Trains the RMT folder --model on --data and prints every step's loss."""
    model, rmt = build(args.model)
    state, _ = load_weights(args.model)
    model.load_state_dict(state, strict=True)
    data = dict(np.load(args.data))
    if rmt["variant"] == "encoder" and "attention_mask" in data:
        del data["attention_mask"]          # the encoder ignores the caller's mask (docs/RMT.md §3.4)
    loss_fn = decoder_loss if rmt["variant"] == "decoder" else encoder_loss
    if rmt["variant"] == "decoder" and "labels" not in data:
        data["labels"] = data["input_ids"]
    losses = []
    for r in train_steps(model, loss_fn, data, spec_of(args, args.steps)):
        losses.append(r["loss"])
        emit({"step": r["step"], "loss": r["loss"], "seconds": r["seconds"]})
    emit({"summary": {"mode": "data", "model": args.model, "data": args.data, "steps": args.steps,
                      "final_loss": losses[-1]}})


class ResetMemoryCell(torch.nn.Module):
    """The no-recurrence baseline: every segment starts from the memory parameter, whatever came before."""

    def __init__(self, cell):
        super().__init__()
        self.cell = cell
        self.memory = cell.memory

    def forward(self, input_ids, memory_state, attention_mask=None):
        return self.cell(input_ids, self.memory.repeat(input_ids.shape[0], 1, 1), attention_mask)


def copy_task(n, length, generator):
    """[1] content [1] content with content tokens 2..9; labels score only the copy (as positions t+1)."""
    content = torch.randint(2, 10, (n, length), generator=generator)
    start = torch.ones(n, 1, dtype=torch.int64)
    ids = torch.cat([start, content, start, content], dim=1)
    labels = torch.full_like(ids, -100)
    labels[:, length + 2:] = content
    return {"input_ids": ids.numpy(), "labels": labels.numpy()}


def answer_accuracy(model, data):
    with torch.no_grad():
        ids, labels = torch.from_numpy(data["input_ids"]), torch.from_numpy(data["labels"])
        logits, _, _ = model(ids)
        predicted = logits[:, :-1].argmax(-1)
        scored = labels[:, 1:] != -100
        return float((predicted == labels[:, 1:])[scored].float().mean())


def copy(args):
    """Copy of `length` = (segments·segment_size − 2) / 2 tokens, trained with and without memory recurrence."""
    length = (args.segments * args.segment_size - 2) // 2
    g = torch.Generator().manual_seed(args.seed + 2)
    train = copy_task(args.batch_size * args.steps, length, g)
    test = copy_task(256, length, g)
    results = {}
    for mode in ("memory", "no_memory"):
        model = fresh_decoder(args)
        if mode == "no_memory":
            model.memory_cell = ResetMemoryCell(model.memory_cell)
        for r in train_steps(model, decoder_loss, train, spec_of(args, args.steps)):
            if r["step"] % 50 == 0 or r["step"] == args.steps - 1:
                emit({"mode": mode, "step": r["step"], "loss": r["loss"], "seconds": r["seconds"]})
        results[mode] = answer_accuracy(model.eval(), test)
    emit({"summary": {"mode": "copy", "copied_tokens": length, "segments": args.segments,
                      "segment_size": args.segment_size, "memory_tokens": args.memory_tokens, "steps": args.steps,
                      "answer_accuracy": results, "chance": 1 / 8}})


def main():
    args = arguments()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    if args.data or args.model:
        if not (args.data and args.model):
            raise SystemExit("--data and --model go together")
        train_on_data(args)
    elif args.task == "copy":
        copy(args)
    else:
        bench(args)


if __name__ == "__main__":
    main()
