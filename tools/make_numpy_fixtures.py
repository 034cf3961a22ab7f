#!/usr/bin/env python3
"""Writes the NPY / NPZ fixtures under fixtures/numpy/ with numpy itself (docs/FORMATS.md §2).

Pinned: numpy==2.4.6 (Python 3). No other dependency: bfloat16 data is written as raw `V2` bits, exactly the
bytes ml_dtypes' bfloat16 arrays produce, without needing ml_dtypes.
Rerun:  python3 tools/make_numpy_fixtures.py && python3 tools/update_manifest.py
The .npy files are deterministic. The .npz members carry the local time of the run in their ZIP timestamps,
so the .npz bytes (not their contents) change from run to run.

expected.json maps "file" (or "file:key" for npz members) to {"dtype", "shape", "values", "hex"}: dtype is
rmt-convert's name, values the decoded numbers in C order (complex as [re, im] pairs flattened, bool as 0/1),
hex the little-endian C-order bytes a reader must produce.
"""
import io
import json
import os

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "numpy")
EXPECTED = {}

OUR_NAME = {
    "f2": "f16", "f4": "f32", "f8": "f64", "i1": "i8", "i2": "i16", "i4": "i32", "i8": "i64",
    "u1": "u8", "u2": "u16", "u4": "u32", "u8": "u64", "b1": "bool", "c8": "c64",
}


def out(name):
    os.makedirs(ROOT, exist_ok=True)
    return os.path.join(ROOT, name)


def record(key, arr, dtype=None):
    a = np.array(arr, order="C")   # keeps 0-d arrays 0-d (ascontiguousarray would make them 1-d)
    little = a.astype(a.dtype.newbyteorder("<")) if a.dtype.byteorder == ">" else a
    if dtype is None:
        dtype = OUR_NAME[a.dtype.str[1:]]
    if a.dtype.kind == "c":
        values = [float(v) for z in a.reshape(-1) for v in (z.real, z.imag)]
    elif a.dtype.kind == "f":
        values = [float(v) for v in a.reshape(-1)]
    elif a.dtype.kind in "iub":
        values = [int(v) for v in a.reshape(-1)]
    else:
        values = None
    EXPECTED[key] = {"dtype": dtype, "shape": list(a.shape), "values": values,
                     "hex": np.array(little, order="C").tobytes().hex()}


def save(name, arr):
    np.save(out(name), arr)
    record(name, arr)


def main():
    # N1 and N2 (§2.8).
    save("n1_f32.npy", np.array([1.0, -2.0], dtype=np.float32))
    save("n2_scalar_f64.npy", np.array(3.25, dtype=np.float64))
    save("n2_bool.npy", np.array([True, False]))
    save("n2_fortran_f32.npy", np.asfortranarray(np.arange(12, dtype=np.float32).reshape(3, 4) / 4 - 1))
    save("fortran_3d_i16.npy", np.asfortranarray(np.arange(24, dtype=np.int16).reshape(2, 3, 4) * 7 - 50))
    # Big-endian sources are byte-swapped on read.
    save("be_f4.npy", np.array([1.5, -2.25, 0.003, 65504.0], dtype=">f4"))
    save("be_i8.npy", np.array([[1, -2], [2**40 + 3, -(2**50)]], dtype=">i8"))
    save("be_fortran_f8.npy", np.asfortranarray(np.array([[0.5, 1.5, -2.0], [4.0, 1e-300, -7.25]], dtype=">f8")))
    # Header versions 2.0 and 3.0, written explicitly.
    for version in [(2, 0), (3, 0)]:
        name = f"v{version[0]}_header_f32.npy"
        arr = np.array([[0.25, -1.0, 8.0]], dtype=np.float32)
        with open(out(name), "wb") as f:
            np.lib.format.write_array(f, arr, version=version)
        record(name, arr)
    # Every numeric dtype (and bool), little-endian C order: the NPY writer must reproduce these bytes.
    rng = np.random.default_rng(1234)
    for code in ["b1", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f2", "f4", "f8", "c8"]:
        dt = np.dtype(code)
        if dt.kind == "b":
            arr = rng.integers(0, 2, size=(2, 3)).astype(bool)
        elif dt.kind in "iu":
            info = np.iinfo(dt)
            hi = min(int(info.max), 2**53)
            arr = np.array([int(info.min), 0, 1, hi, 7, int(info.min) // 2 if info.min else 3], dtype=dt).reshape(2, 3)
        elif dt.kind == "f":
            arr = (rng.standard_normal((2, 3)) * 10).astype(dt)
        else:
            arr = (rng.standard_normal((2, 3)) + 1j * rng.standard_normal((2, 3))).astype(dt)
        save(f"dtype_{code}.npy", arr)
    save("empty_f32.npy", np.zeros((0, 3), dtype=np.float32))
    # A shape whose header text is already 64-aligned: numpy then pads with a full 64 spaces, never zero.
    # Trailing spaces = growth spaces (21 - len("2") = 19) + padding, so 19 + 64 = 83 marks the case.
    for k in range(1, 40):
        shape = (2, 10) + (1,) * k
        buf = io.BytesIO()
        np.save(buf, np.zeros(shape, dtype=np.uint8))
        text = buf.getvalue()[10:buf.getvalue().index(b"\n")]
        if len(text) - len(text.rstrip(b" ")) == 19 + 64:
            save("pad64_u1.npy", np.arange(20, dtype=np.uint8).reshape(shape))
            break
    else:
        raise SystemExit("no shape with a 64-space pad found")
    # bfloat16 as ml_dtypes saves it: raw 2-byte void elements holding the bf16 bits (1.0, -2.5, 0.15625, 3.0e38).
    bits = np.array([0x3F80, 0xC020, 0x3E20, 0x7F62], dtype="<u2")
    void = bits.view("V2")
    np.save(out("bf16_v2.npy"), void)
    EXPECTED["bf16_v2.npy"] = {"dtype": "bf16", "shape": [4],
                               "values": [float(np.array([int(b) << 16], dtype="<u4").view("<f4")[0]) for b in bits],
                               "hex": bits.tobytes().hex()}

    # N4: keyword arrays first, then positional ones; a key with "/" stays verbatim.
    w = np.array([[1.0, 2.0], [3.0, -4.5]], dtype=np.float32)
    xy = np.arange(5, dtype=np.int64) - 2
    a0 = np.array([True, False, True])
    for name, fn in [("n4_savez.npz", np.savez), ("n4_savez_compressed.npz", np.savez_compressed)]:
        fn(out(name), a0, w=w, **{"x/y": xy})
        for key, arr in [("w", w), ("x/y", xy), ("arr_0", a0)]:
            record(f"{name}:{key}", arr)
    # An npz mixing a big-endian and a Fortran-order member, compressed.
    np.savez_compressed(out("mixed_compressed.npz"), be=np.array([1, -2, 3], dtype=">i4"),
                        f=np.asfortranarray(np.arange(6, dtype=np.float64).reshape(2, 3)))
    record("mixed_compressed.npz:be", np.array([1, -2, 3], dtype=">i4"))
    record("mixed_compressed.npz:f", np.arange(6, dtype=np.float64).reshape(2, 3))
    # An object array is a pickle: must be refused.
    np.savez(out("object.npz"), ok=np.array([1.0], dtype=np.float32), obj=np.array([{"a": 1}, None], dtype=object))

    with open(out("expected.json"), "w") as f:
        json.dump(EXPECTED, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
