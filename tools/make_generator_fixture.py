#!/usr/bin/env python3
"""Pins SeededGenerator (Sources/RMT/Checkpoint/SeededGenerator.swift) with values computed independently here.

The memory `rmt-convert wrap` writes is drawn from xoshiro256** seeded through SplitMix64, with 53-bit uniforms
and Box–Muller normals in float64 (docs/RMT.md §2.1): the same seed must give the same bytes on every machine.
This script re-implements that generator in pure Python (no numpy) from the published algorithms:

  SplitMix64    Vigna, https://prng.di.unimi.it/splitmix64.c
  xoshiro256**  Blackman & Vigna, https://prng.di.unimi.it/xoshiro256starstar.c
  uniform       (next >> 11) * 2**-53
  normal        Box–Muller: r = sqrt(-2 log u1) (u1 > 0), theta = 2 pi u2; r cos(theta) first, r sin(theta) next

and writes fixtures/rmt/seeded_generator.json: the first raw 64-bit outputs, uniforms and normals for a few
seeds, and the float32 bits of the memory `wrap` draws for the tiny GPT-2 (σ of its `wte` times the normals)
and of the encoder's memory rows for the tiny BERT (`initializer_range` times the normals). Floats are stored as
the hex of their bits so the comparison is exact. Rerun with

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
    }
    with open(OUT, "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")
    print(f"wrote {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
