#!/usr/bin/env python3
"""Pins SeededGenerator (Sources/Models/SeededGenerator.swift) with values computed independently here.

The memory `rmt-convert wrap` writes is drawn from xoshiro256** seeded through SplitMix64, with 53-bit uniforms
and Box–Muller normals in float64 (docs/RMT.md §2.1): the same seed must give the same bytes on every machine.
This script re-implements that generator in pure Python (no numpy) from the published algorithms:

  SplitMix64    Vigna, https://prng.di.unimi.it/splitmix64.c
  xoshiro256**  Blackman & Vigna, https://prng.di.unimi.it/xoshiro256starstar.c
  uniform       (next >> 11) * 2**-53
  normal        Box–Muller: r = sqrt(-2 log u1) (u1 > 0), theta = 2 pi u2; r cos(theta) first, r sin(theta) next

  integer       nextInt(below: n): draw until next >= 2**64 mod n, return it mod n (SeededGenerator+Integers.swift)
  permutation   Fisher–Yates from the last position down: swap i with nextInt(below: i + 1), i = n-1 … 1
  stream e      the generator seeded with seed + 4·e·0x9E3779B97F4A7C15 (mod 2**64)

and writes fixtures/rmt/seeded_generator.json: the first raw 64-bit outputs, uniforms and normals for a few
seeds, and the float32 bits of the memory `wrap` draws for the tiny GPT-2 (σ of its `wte` times the normals)
and of the encoder's memory rows for the tiny BERT (`initializer_range` times the normals); integers, epoch
permutations and the shuffled batch rows of `BatchSchedule` (Sources/RMT/Data/BatchSchedule.swift); and the first
rows of the three `make-task` tasks (Sources/RMT/Data/MemoryTasks.swift, docs/RMT.md §8.8) drawn as documented
there. Floats are stored as the hex of their bits so the comparison is exact. Rerun with

    python3 tools/make_generator_fixture.py && python3 tools/update_manifest.py
"""
import json
import math
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "fixtures", "rmt", "seeded_generator.json")
MASK = (1 << 64) - 1
NAME = "xoshiro256**/splitmix64/box-muller-f64"


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & MASK


class Generator:
    """xoshiro256** whose four state words are the first four SplitMix64 outputs of the seed."""

    def __init__(self, seed):
        x = seed & MASK
        self.s = []
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & MASK
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
            self.s.append(z ^ (z >> 31))
        self.spare = None

    def next(self):
        s = self.s
        result = (rotl((s[1] * 5) & MASK, 7) * 9) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result

    def uniform(self):
        return (self.next() >> 11) * 2.0**-53

    def normal(self):
        if self.spare is not None:
            v, self.spare = self.spare, None
            return v
        u1 = self.uniform()
        while u1 == 0:
            u1 = self.uniform()
        u2 = self.uniform()
        r = math.sqrt(-2 * math.log(u1))
        theta = 2 * math.pi * u2
        self.spare = r * math.sin(theta)
        return r * math.cos(theta)

    def below(self, n):
        """nextInt(below: n): unbiased by rejection."""
        threshold = (1 << 64) % n
        while True:
            r = self.next()
            if r >= threshold:
                return r % n

    def permutation(self, n):
        p = list(range(n))
        for i in range(n - 1, 0, -1):
            j = self.below(i + 1)
            p[i], p[j] = p[j], p[i]
        return p

    @staticmethod
    def stream(index, seed):
        return Generator((seed + index * 4 * 0x9E3779B97F4A7C15) & MASK)

    def float32_normals(self, count, std):
        """`float32(0 + std · z)` for `count` normals, as `SeededGenerator.normals` rounds them."""
        return [struct.unpack("<f", struct.pack("<f", 0.0 + std * self.normal()))[0] for _ in range(count)]


def f64_bits(x):
    return "0x%016x" % struct.unpack("<Q", struct.pack("<d", x))[0]


def f32_bits(x):
    return "0x%08x" % struct.unpack("<I", struct.pack("<f", x))[0]


def safetensors_f32(path, name):
    """One float32 tensor of a safetensors file, read by hand (8-byte header length, JSON header, data)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    info = header[name]
    assert info["dtype"] == "F32", info
    start, end = info["data_offsets"]
    raw = data[8 + n + start : 8 + n + end]
    return list(struct.unpack("<%df" % (len(raw) // 4), raw)), info["shape"]


def standard_deviation(values):
    """σ with Bessel's correction, summed left to right in float64 as the Swift code does (not `sum()`, which
    compensates its rounding since Python 3.12)."""
    mean = 0.0
    for v in values:
        mean += v
    mean /= len(values)
    sq = 0.0
    for v in values:
        d = v - mean
        sq += d * d
    return math.sqrt(sq / (len(values) - 1))


def shuffled_rows(seed, n, batch, steps):
    """BatchSchedule's rows: position p = step·B + r of the epochs laid end to end is row perm(p // N)[p % N]."""
    perms = {}
    rows = []
    for step in range(steps):
        row = []
        for r in range(batch):
            p = step * batch + r
            e = p // n
            if e not in perms:
                perms[e] = Generator.stream(e, seed).permutation(n)
            row.append(perms[e][p % n])
        rows.append(row)
    return rows


def memory_task(kind, samples, seed, length=5, pairs=4, keys=5, values=5):
    """make-task's rows and labels (docs/RMT.md §8.8): one generator for the file, rows in order."""
    g = Generator(seed)
    ids, labels = [], []
    for _ in range(samples):
        if kind in ("copy", "reverse"):
            content = [2 + g.below(8) for _ in range(length)]
            answer = content if kind == "copy" else content[::-1]
            row = content + [1] + answer
        else:
            pool = list(range(keys))
            for i in range(pairs):
                j = i + g.below(keys - i)
                pool[i], pool[j] = pool[j], pool[i]
            row_keys = [2 + k for k in pool[:pairs]]
            row_values = [2 + keys + g.below(values) for _ in range(pairs)]
            q = g.below(pairs)
            row = [t for kv in zip(row_keys, row_values) for t in kv] + [1, row_keys[q], row_values[q]]
            answer = [row_values[q]]
        ids.append(row)
        labels.append([-100] * (len(row) - len(answer)) + answer)
    return {"kind": kind, "samples": samples, "seed": seed, "length": length, "pairs": pairs, "keys": keys,
            "values": values, "input_ids": ids, "labels": labels}


def main():
    streams = []
    for seed in [0, 1, 42, MASK]:
        g = Generator(seed)
        raw = [g.next() for _ in range(8)]
        g = Generator(seed)
        uniforms = [g.uniform() for _ in range(8)]
        g = Generator(seed)
        normals = [g.normal() for _ in range(9)]  # odd: the last one is the first of a new pair
        streams.append({
            "seed": str(seed),
            "next": ["0x%016x" % v for v in raw],
            "uniforms_bits": [f64_bits(v) for v in uniforms],
            "normals_bits": [f64_bits(v) for v in normals],
        })

    wte, shape = safetensors_f32(os.path.join(ROOT, "fixtures/models/tiny-gpt2/model.safetensors"),
                                 "transformer.wte.weight")
    m, hidden, seed = 3, shape[1], 11
    std = standard_deviation(wte)
    decoder = Generator(seed).float32_normals(m * hidden, std)

    with open(os.path.join(ROOT, "fixtures/models/tiny-bert/config.json")) as f:
        bert = json.load(f)
    bert_m, bert_seed, bert_std = 3, 0, bert["initializer_range"]
    encoder = Generator(bert_seed).float32_normals(bert_m * bert["hidden_size"], bert_std)

    integers = []
    for bound in [1, 2, 3, 8, 1000, 2**62 + 1]:
        g = Generator(5)
        integers.append({"seed": "5", "bound": str(bound), "values": [str(g.below(bound)) for _ in range(12)]})
    permutations = [{"seed": "9", "stream": e, "count": 10, "permutation": Generator.stream(e, 9).permutation(10)}
                    for e in range(3)]
    batches = {"seed": "9", "rows": 5, "batch_size": 2, "steps": shuffled_rows(9, 5, 2, 8)}
    tasks = [memory_task("copy", 4, 0), memory_task("reverse", 4, 0), memory_task("copy", 3, 11, length=3),
             memory_task("retrieval", 4, 0), memory_task("retrieval", 3, 2, pairs=3, keys=6, values=4)]

    fixture = {
        "generator": NAME,
        "made_by": "tools/make_generator_fixture.py",
        "streams": streams,
        "decoder_memory": {
            "backbone": "models/tiny-gpt2", "memory_tokens": m, "seed": seed, "shape": [m, hidden],
            "std_bits": f64_bits(std), "float32_bits": [f32_bits(v) for v in decoder],
        },
        "encoder_memory_rows": {
            "backbone": "models/tiny-bert", "memory_tokens": bert_m, "seed": bert_seed,
            "shape": [bert_m, bert["hidden_size"]], "std": bert_std, "float32_bits": [f32_bits(v) for v in encoder],
        },
        "integers": integers,
        "permutations": permutations,
        "shuffled_batches": batches,
        "memory_tasks": tasks,
    }
    with open(OUT, "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")
    print(f"wrote {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
