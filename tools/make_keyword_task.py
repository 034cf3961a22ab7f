#!/usr/bin/env python3
"""A synthetic long-text classification task for an encoder RMT (EXPERIMENTS.md): does a keyword appear in an early
segment? Writes DATA.npz for `rmt-convert train` (docs/RMT.md §8.7): `input_ids` int64 [N, T] and `labels` int64 [N].

Every row is `segments × segment_size` filler tokens drawn uniformly from the whole-word entries of a BERT
vocab.txt (lower-case letters only, at least three of them, the keyword excluded), so the encoder RMT's
segmentation (docs/RMT.md §3.3) cuts it into exactly `segments` full segments. Half the rows (label 1, drawn with
probability 1/2 per row) hold the keyword once, at a uniform position inside segment `--keyword-segment` (0: the
first); the other rows (label 0) never hold it. With the keyword in an early segment and the encoder's classifier
reading only the last segment, the label reaches the classifier only through the memory.

    python3 tools/make_keyword_task.py --vocab .cache/minilm/model/vocab.txt --output kw-train.npz \\
        --samples 2048 --segments 3 --segment-size 51 --seed 0

Rows come from numpy's `default_rng(seed)` (PCG64): the same seed gives the same file. Pinned: numpy==2.4.6.
"""
import argparse
import re

import numpy as np


def arguments():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--vocab", required=True, help="the BERT vocab.txt whose ids the rows use")
    p.add_argument("--output", required=True, help="the .npz to write")
    p.add_argument("--samples", type=int, default=2048)
    p.add_argument("--segments", type=int, default=3, help="segments per row (the RMT's --max-segments)")
    p.add_argument("--segment-size", type=int, default=51, help="tokens per segment (input_size - m - 3)")
    p.add_argument("--keyword", default="elephant")
    p.add_argument("--keyword-segment", type=int, default=0, help="the segment that holds the keyword (0 = first)")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args()


def main():
    args = arguments()
    with open(args.vocab, encoding="utf-8") as f:
        vocab = [line.rstrip("\n") for line in f]
    if args.keyword not in vocab:
        raise SystemExit(f"{args.vocab}: the keyword {args.keyword!r} is not a token; choose another --keyword")
    if not 0 <= args.keyword_segment < args.segments:
        raise SystemExit(f"--keyword-segment must lie in 0..{args.segments - 1}")
    keyword = vocab.index(args.keyword)
    words = np.array([i for i, w in enumerate(vocab) if re.fullmatch(r"[a-z]{3,}", w) and i != keyword])
    rng = np.random.default_rng(args.seed)
    n, length = args.samples, args.segments * args.segment_size
    ids = words[rng.integers(0, len(words), size=(n, length))]
    labels = rng.integers(0, 2, size=n)
    positions = args.keyword_segment * args.segment_size + rng.integers(0, args.segment_size, size=n)
    rows = np.flatnonzero(labels == 1)
    ids[rows, positions[rows]] = keyword
    np.savez(args.output, input_ids=ids.astype(np.int64), labels=labels.astype(np.int64))
    print(f"wrote {args.output}: {n} rows of {length} tokens ({args.segments} segments of {args.segment_size}), "
          f"{int(labels.sum())} with {args.keyword!r} (id {keyword}) in segment {args.keyword_segment}; "
          f"{len(words)} filler words")


if __name__ == "__main__":
    main()
