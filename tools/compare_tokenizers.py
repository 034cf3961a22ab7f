#!/usr/bin/env python3
"""Random texts through `rmt-convert tokenize` and through Hugging Face `tokenizers`; prints every difference.

Pinned: tokenizers==0.22.2. Not part of the test suite (CI has no `tokenizers`); a wider net than the fixture.
Usage:  swift build -c release && python3 tools/compare_tokenizers.py [SEED] [COUNT]
Exit status 1 when any ids differ.
"""
import json
import os
import random
import subprocess
import sys
import tempfile

from tokenizers import Tokenizer

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
BINARY = os.path.join(ROOT, ".build", "release", "rmt-convert")
FOLDERS = [os.path.join(ROOT, ".cache", "minilm", "model")] + [
    os.path.join(ROOT, "fixtures", "tokenizers", name)
    for name in ("bpe-small", "bpe-small-prefix", "bpe-small-added", "wordpiece-cased", "wordpiece-added")]
PIECES = [" ", "  ", "\t", "\n", "\r\n", "'s", "'ll", "'", "[MASK]", "<|endoftext|>", "<mask>", "[WORD]", "zz",
          "Hello World", "ÉCOLE", "e\u0301", "\u0301", "한", "中", "\u200d", "\ufe0f", "😀", "1", "٣", "a", "Z", "ß",
          "İ", "Σ", "ς", "-", "!", "\u00a0", "\u3000", "\x00", "\x85", "\ud7a3"]


def random_text(rng):
    parts = []
    for _ in range(rng.randint(0, 30)):
        r = rng.random()
        if r < 0.4:
            parts.append(rng.choice(PIECES))
        elif r < 0.7:
            parts.append("".join(rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFG0123456789 .,") for _ in range(rng.randint(1, 12))))
        else:
            low, high = rng.choice([(0x20, 0x2FF), (0x300, 0x36F), (0x370, 0x2FFF), (0x3000, 0xD7FF),
                                    (0xE000, 0xFFFF), (0x10000, 0x10FFFF)])
            parts.append(chr(rng.randint(low, high)))
    return "".join(parts)


def main():
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    rng = random.Random(seed)
    tokenizers = {}
    for folder in FOLDERS:
        tokenizer = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
        tokenizer.no_padding()
        tokenizer.no_truncation()
        tokenizers[folder] = tokenizer
    differences = 0
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "text.txt")
        for _ in range(count):
            text = random_text(rng)
            with open(path, "wb") as f:
                f.write(text.encode("utf-8"))
            for folder, tokenizer in tokenizers.items():
                run = subprocess.run([BINARY, "tokenize", folder, "--file", path, "--json"], capture_output=True, text=True)
                got = json.loads(run.stdout) if run.returncode == 0 else run.stderr.strip()
                want = tokenizer.encode(text).ids
                if got != want:
                    differences += 1
                    print(f"{os.path.basename(folder)}: {text!r}\n  rmt-convert {got}\n  tokenizers  {want}")
    print(f"{count} texts x {len(tokenizers)} tokenizers, {differences} differences")
    sys.exit(1 if differences else 0)


if __name__ == "__main__":
    main()
