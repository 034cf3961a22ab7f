#!/usr/bin/env python3
"""Writes the torch fixtures under fixtures/torch/ with torch.save itself (docs/FORMATS.md §5).

Pinned: torch==2.13.0+cpu (numpy==2.4.6 installed alongside). Python's own pickle and zipfile write the
hand-made files (malicious pickles, the big-endian archive).
Rerun:  python3 tools/make_torch_fixtures.py && python3 tools/update_manifest.py

Files:
  state_dict.pt           torch.save of a state dict with every storage dtype, a u16 tensor (v3 path), a
                          scalar, an empty tensor, a transposed view, a stride-0 expand, a view at offset 3
                          and two tied pairs (same object; equal view of the same storage)
  state_dict_p4.pt        the same dict with pickle_protocol=4 (FRAME, MEMOIZE, SHORT_BINUNICODE, STACK_GLOBAL)
  state_dict_legacy.pt    the same dict with _use_new_zipfile_serialization=False (§5.7)
  state_dict_big.pt       the zip of state_dict.pt with byteorder "big" and every storage byte-swapped
  nested.pth              {'model_state_dict': …, 'optimizer_state_dict': Adam state after one step, 'epoch': 3}
  torchscript.pt          torch.jit.save of a scripted Linear (must be refused)
  data.pkl                the data.pkl record of state_dict.pt, for the pickle-level tests
  evil_os_system.pkl      GLOBAL os.system + REDUCE, protocol 2, written opcode by opcode
  evil_builtins_eval.pkl  STACK_GLOBAL builtins.eval + REDUCE, protocol 4, written opcode by opcode
  evil_os_system.pt       evil_os_system.pkl zipped as a torch archive's data.pkl
  expected.json           names, dtypes, shapes, strides, little-endian bytes (hex) and values of every tensor
The malicious payloads would create EVIL_MARKER (below); the script checks that Python's pickle really
executes them (so the Swift test that the file is NOT created proves something), then removes the marker.
"""
import collections
import io
import json
import os
import pickle
import struct
import subprocess
import sys
import zipfile

import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "torch")
EVIL_MARKER = "/tmp/rmt-convert-torch-fixture-pwned"

DTYPE_NAMES = {
    torch.float32: "f32", torch.float16: "f16", torch.bfloat16: "bf16", torch.float64: "f64",
    torch.int64: "i64", torch.int32: "i32", torch.int16: "i16", torch.int8: "i8", torch.uint8: "u8",
    torch.bool: "bool", torch.uint16: "u16",
}


def out(name):
    os.makedirs(ROOT, exist_ok=True)
    return os.path.join(ROOT, name)


def state_dict():
    g = torch.Generator().manual_seed(1234)
    base = torch.randn(2, 3, generator=g)
    sd = {
        "f32": base.clone(),
        "f16": (base * 3).to(torch.float16),
        "bf16": (base * 5).to(torch.bfloat16),
        "f64": torch.randn(3, 2, generator=g, dtype=torch.float64),
        "i64": torch.tensor([[-(2**40), -1, 0], [1, 7, 2**62]], dtype=torch.int64),
        "i32": torch.tensor([-(2**31), -5, 2**31 - 1], dtype=torch.int32),
        "i16": torch.tensor([-32768, 0, 32767, 12], dtype=torch.int16),
        "i8": torch.tensor([-128, -1, 0, 127], dtype=torch.int8),
        "u8": torch.tensor([0, 1, 128, 255], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True], dtype=torch.bool),
        "u16": torch.tensor([0, 1, 40000, 65535], dtype=torch.int32).to(torch.uint16),
        "scalar": torch.tensor(3.5),
        "empty": torch.zeros(0, 4),
    }
    grid = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    sd["transposed"] = grid.t()                                     # [4, 3], strides (1, 4)
    sd["position_ids"] = torch.arange(5).expand(2, 5)               # [2, 5], strides (0, 1)
    flat = torch.arange(8, dtype=torch.float32) / 4
    sd["flat"] = flat
    sd["flat_tail"] = flat[3:6]                                     # offset 3, size (3,), stride (1,)
    sd["flat_view"] = flat.view(8)                                  # another object, identical view: alias
    emb = torch.randn(4, 3, generator=g)
    sd["embeddings.weight"] = emb
    sd["decoder.weight"] = emb                                      # the same object: BINGET, alias
    return sd


EXPECTED_ALIASES = {"flat_view": "flat", "decoder.weight": "embeddings.weight"}


def describe(sd):
    tensors = {}
    for name, t in sd.items():
        c = t.contiguous()
        raw = c.reshape(-1).view(torch.uint8) if c.dtype != torch.bool else c.to(torch.uint8)
        if c.dtype == torch.uint16:
            values = c.to(torch.int32).flatten().tolist()
        elif c.dtype == torch.bool:
            values = [bool(v) for v in c.flatten().tolist()]
        else:
            values = c.to(torch.float64 if c.is_floating_point() else torch.int64).flatten().tolist()
        tensors[name] = {
            "dtype": DTYPE_NAMES[t.dtype],
            "shape": list(t.shape),
            "stride": list(t.stride()),
            "offset": t.storage_offset(),
            "hex": bytes(raw.flatten().tolist()).hex(),
            "values": values,
        }
    return tensors


def saved_bytes(obj, **kwargs):
    buffer = io.BytesIO()
    torch.save(obj, buffer, **kwargs)
    return buffer.getvalue()


def write(name, data):
    with open(out(name), "wb") as f:
        f.write(data)


STORAGE_ELEMENT_SIZES = {
    "FloatStorage": 4, "HalfStorage": 2, "BFloat16Storage": 2, "DoubleStorage": 8, "LongStorage": 8,
    "IntStorage": 4, "ShortStorage": 2, "CharStorage": 1, "ByteStorage": 1, "BoolStorage": 1,
    "UntypedStorage": 2,  # the only v3 tensor of the fixture is u16
}


def storage_element_sizes(data_pkl):
    """Storage key → element size, from the persistent ids ('storage', type, key, …) of the pickle."""
    sizes = {}

    class Collector(pickle.Unpickler):
        def find_class(self, module, name):
            if module == "collections" and name == "OrderedDict":
                return collections.OrderedDict
            return lambda *args: None if name.startswith("_rebuild") else name

        def persistent_load(self, pid):
            sizes[pid[2]] = STORAGE_ELEMENT_SIZES[pid[1](None) if callable(pid[1]) else pid[1]]

    Collector(io.BytesIO(data_pkl)).load()
    return sizes


def big_endian_copy(zip_bytes):
    """The archive rewritten by Python's zipfile with byteorder=big and every storage element byte-swapped."""
    source = zipfile.ZipFile(io.BytesIO(zip_bytes))
    sizes = storage_element_sizes(source.read("archive/data.pkl"))
    result = io.BytesIO()
    with zipfile.ZipFile(result, "w", zipfile.ZIP_STORED) as z:
        for info in source.infolist():
            data = source.read(info)
            key = info.filename.rsplit("/data/", 1)[-1] if "/data/" in info.filename else None
            if info.filename.endswith("/byteorder"):
                data = b"big"
            elif key in sizes:
                n = sizes[key]
                data = b"".join(data[i:i + n][::-1] for i in range(0, len(data), n))
            z.writestr(info.filename, data)
    return result.getvalue()


def evil_os_system():
    command = f"touch {EVIL_MARKER}".encode()
    return (b"\x80\x02" + b"cos\nsystem\n" + b"X" + struct.pack("<I", len(command)) + command
            + b"\x85" + b"R" + b".")


def evil_builtins_eval():
    source = f"__import__('os').system('touch {EVIL_MARKER}')".encode()
    def unicode(s):
        return b"\x8c" + bytes([len(s)]) + s
    body = (unicode(b"builtins") + b"\x94" + unicode(b"eval") + b"\x94" + b"\x93" + b"\x94"
            + b"X" + struct.pack("<I", len(source)) + source + b"\x94" + b"\x85" + b"\x94" + b"R" + b"\x94" + b".")
    return b"\x80\x04" + b"\x95" + struct.pack("<Q", len(body)) + body


def check_payload_is_live(payload):
    """Python's pickle must execute the payload (creating the marker); torch's weights_only loader refuses it."""
    if os.path.exists(EVIL_MARKER):
        os.remove(EVIL_MARKER)
    subprocess.run([sys.executable, "-c", "import pickle, sys; pickle.loads(sys.stdin.buffer.read())"],
                   input=payload, check=True)
    assert os.path.exists(EVIL_MARKER), "payload did not run under pickle.loads"
    os.remove(EVIL_MARKER)


def torch_zip(data_pkl, folder="archive"):
    result = io.BytesIO()
    with zipfile.ZipFile(result, "w", zipfile.ZIP_STORED) as z:
        z.writestr(f"{folder}/data.pkl", data_pkl)
        z.writestr(f"{folder}/byteorder", b"little")
        z.writestr(f"{folder}/version", b"3\n")
    return result.getvalue()


def main():
    torch.manual_seed(0)
    sd = state_dict()
    archive = saved_bytes(sd)
    write("state_dict.pt", archive)
    write("data.pkl", zipfile.ZipFile(io.BytesIO(archive)).read("archive/data.pkl"))
    write("state_dict_p4.pt", saved_bytes(sd, pickle_protocol=4))
    # torch 2.13 writes a legacy u16 tensor it cannot load back (untyped storage without a dtype); the legacy
    # format predates u16 anyway, so that file holds every other tensor.
    legacy = {k: v for k, v in sd.items() if k != "u16"}
    write("state_dict_legacy.pt", saved_bytes(legacy, _use_new_zipfile_serialization=False))
    write("state_dict_big.pt", big_endian_copy(archive))
    for name in ("state_dict.pt", "state_dict_p4.pt", "state_dict_legacy.pt", "state_dict_big.pt"):
        # torch's weights_only loader does not know FRAME (protocol 4); the file is our own, so load it fully.
        loaded = torch.load(out(name), weights_only=name != "state_dict_p4.pt")
        assert list(loaded) == [k for k in sd if k != "u16" or "legacy" not in name], name
        for key, t in loaded.items():
            if name == "state_dict_big.pt" and key == "u16":
                continue  # torch 2.13 does not byteswap untyped (v3) storages; a big-endian writer's u16 is BE
            assert torch.equal(t, sd[key]) and t.stride() == sd[key].stride(), (name, key)

    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.LayerNorm(2))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model(torch.ones(1, 3)).sum().backward()
    optimizer.step()
    nested = {"model_state_dict": model.state_dict(), "optimizer_state_dict": optimizer.state_dict(), "epoch": 3}
    torch.save(nested, out("nested.pth"))  # saved to a path: the record folder is the stem, `nested/`

    scripted = torch.jit.script(torch.nn.Linear(2, 2))
    buffer = io.BytesIO()
    torch.jit.save(scripted, buffer)
    write("torchscript.pt", buffer.getvalue())

    for name, payload in (("evil_os_system.pkl", evil_os_system()), ("evil_builtins_eval.pkl", evil_builtins_eval())):
        check_payload_is_live(payload)
        write(name, payload)
    write("evil_os_system.pt", torch_zip(evil_os_system()))
    try:
        torch.load(out("evil_os_system.pt"), weights_only=True)
        raise AssertionError("torch loaded the os.system payload")
    except Exception as error:  # torch's own refusal: UnpicklingError naming GLOBAL os.system
        assert "os.system" in str(error), error
    assert not os.path.exists(EVIL_MARKER)

    expected = {
        "torch_version": torch.__version__,
        "state_dict": describe(sd),
        "aliases": EXPECTED_ALIASES,
        "nested": {
            "epoch": 3,
            "keys": list(nested.keys()),
            "model_state_dict": describe(nested["model_state_dict"]),
            "optimizer_param_groups": [{k: v for k, v in g.items()} for g in nested["optimizer_state_dict"]["param_groups"]],
        },
        "evil_marker": EVIL_MARKER,
    }
    with open(out("expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
