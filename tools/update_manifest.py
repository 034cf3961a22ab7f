#!/usr/bin/env python3
"""Rewrites fixtures/MANIFEST.sha256: one `sha256  path` line per fixture file, sorted by path.

The test suite recomputes every checksum and fails when a fixture changed without the manifest.
"""
import hashlib
import os

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")

lines = []
for folder, dirs, files in os.walk(ROOT):
    dirs.sort()
    for name in sorted(files):
        path = os.path.join(folder, name)
        rel = os.path.relpath(path, ROOT)
        if rel in ("MANIFEST.sha256", "README.md"):
            continue
        with open(path, "rb") as f:
            lines.append(f"{hashlib.sha256(f.read()).hexdigest()}  {rel}")
lines.sort(key=lambda l: l.split("  ", 1)[1])
with open(os.path.join(ROOT, "MANIFEST.sha256"), "w") as f:
    f.write("\n".join(lines) + "\n")
print(f"{len(lines)} files")
