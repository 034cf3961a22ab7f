"""Building blocks of the malformed-input corpus (tools/make_malformed_fixtures.py and tools/malformed_hostile.py):
the case registry written to fixtures/malformed/expected.json, and byte-exact writers of safetensors, NPY, ZIP,
pickle and torch files, and of a valid tiny BERT folder. Pure Python; deterministic.
"""
import json
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures")
ROOT = os.path.join(FIXTURES, "malformed")
CASES = []


def case(path, error, fails=("inspect", "convert"), succeeds=(), why="", **extra):
    """One expected.json entry; `extra` holds the optional fields (`fifo`, `convert_to`, `tokenize`)."""
    CASES.append({"path": path, "error": error, "fails": list(fails), "succeeds": list(succeeds), "why": why, **extra})


def write(name, data):
    path = os.path.join(ROOT, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return "malformed/" + name


# ---------------------------------------------------------------------------------------------- safetensors

def st(header_obj=None, data=b"", raw_header=None, prefix=None):
    """A safetensors file: 8-byte length, header (JSON of header_obj or raw bytes), data."""
    h = raw_header if raw_header is not None else json.dumps(header_obj, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    n = prefix if prefix is not None else len(h)
    return struct.pack("<Q", n) + h + data


F32x2 = struct.pack("<2f", 1.0, -2.0)
LFS = b"version https://git-lfs.github.com/spec/v1\noid sha256:" + b"ab" * 32 + b"\nsize 438000000\n"

# ---------------------------------------------------------------------------------------------- NPY

def npy(descr, shape, data=b"", version=1, header_text=None, header_len=None):
    """An .npy file. `header_text` replaces the dict; `header_len` replaces the length field."""
    if header_text is None:
        shape_text = "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
        header_text = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape_text)
    body = header_text.encode("latin1")
    pre = 10 if version == 1 else 12
    body += b" " * (-(pre + len(body) + 1) % 64) + b"\n"
    n = header_len if header_len is not None else len(body)
    length = struct.pack("<H", n) if version == 1 else struct.pack("<I", n)
    return b"\x93NUMPY" + bytes([version, 0]) + length + body + data


# ---------------------------------------------------------------------------------------------- ZIP / NPZ

def zip_archive(members, flags=0, eocd_patch=None, central_patch=None, comment=b""):
    """A ZIP of (name, bytes, method) members; deflated members get raw deflate. Patches: dict field → value
    for the end record (`count`, `size`, `offset`) or a function rewriting each central record."""
    local, central = b"", b""
    for name, data, method in members:
        comp = data
        if method == 8:
            c = zlib.compressobj(6, zlib.DEFLATED, -15)
            comp = c.compress(data) + c.flush()
        crc = zlib.crc32(data)
        n = name.encode()
        offset = len(local)
        fields = dict(flags=flags, method=method, crc=crc, csize=len(comp), usize=len(data), offset=offset)
        if central_patch:
            fields = central_patch(name, fields)
        local += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, fields["flags"], fields["method"], 0, 0x21,
                             fields["crc"], fields["csize"], fields["usize"], len(n), 0) + n + comp
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x314, 20, fields["flags"], fields["method"], 0, 0x21,
                               fields["crc"], fields["csize"], fields["usize"], len(n), 0, 0, 0, 0, 0o100644 << 16,
                               fields["offset"]) + n
    end = dict(count=len(members), size=len(central), offset=len(local))
    end.update(eocd_patch or {})
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, end["count"], end["count"], end["size"], end["offset"], len(comment)) + comment
    return local + central + eocd


W = npy("<f4", (2,), F32x2)
BIG = npy("<f4", (256, 256), b"\0" * 262144)

# ---------------------------------------------------------------------------------------------- torch

def pk_str(s):
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def pk_int(i):
    if -2**31 <= i < 2**31:
        return b"J" + struct.pack("<i", i)
    raw = i.to_bytes(9, "little", signed=True)
    return b"\x8a" + bytes([len(raw)]) + raw


def pk_tuple(items):
    return b"(" + b"".join(items) + b"t"


def rebuild(key, numel, size, stride, offset=0, storage="FloatStorage"):
    """_rebuild_tensor_v2(persistent storage, offset, size, stride, False, OrderedDict())."""
    pid = pk_tuple([pk_str("storage"), b"ctorch\n%s\n" % storage.encode(), pk_str(key), pk_str("cpu"), pk_int(numel)])
    return (b"ctorch._utils\n_rebuild_tensor_v2\n" +
            pk_tuple([pid + b"Q", pk_int(offset), pk_tuple([pk_int(d) for d in size]), pk_tuple([pk_int(d) for d in stride]),
                      b"\x89", b"ccollections\nOrderedDict\n)R"]) + b"R")


def state_dict_pickle(entries):
    return b"\x80\x02}(" + b"".join(pk_str(k) + v for k, v in entries) + b"u."


def torch_zip(pickle, storages, version=b"3\n", extra=()):
    members = [("archive/data.pkl", pickle, 0), ("archive/byteorder", b"little", 0)]
    members += [("archive/data/%s" % k, v, 0) for k, v in storages]
    if version is not None:
        members.append(("archive/version", version, 0))
    return zip_archive(members + list(extra))


# ---------------------------------------------------------------------------------------------- config.json

def bert_weights(vocab=8, hidden=4, positions=8, layers=1, intermediate=4):
    """A valid tiny BertModel safetensors file (deterministic values)."""
    names = [("embeddings.word_embeddings.weight", (vocab, hidden)), ("embeddings.position_embeddings.weight", (positions, hidden)),
             ("embeddings.token_type_embeddings.weight", (2, hidden)), ("embeddings.LayerNorm.weight", (hidden,)),
             ("embeddings.LayerNorm.bias", (hidden,))]
    for i in range(layers):
        p = "encoder.layer.%d." % i
        for m in ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"):
            names += [(p + m + ".weight", (hidden, hidden)), (p + m + ".bias", (hidden,))]
        names += [(p + "attention.output.LayerNorm.weight", (hidden,)), (p + "attention.output.LayerNorm.bias", (hidden,)),
                  (p + "intermediate.dense.weight", (intermediate, hidden)), (p + "intermediate.dense.bias", (intermediate,)),
                  (p + "output.dense.weight", (hidden, intermediate)), (p + "output.dense.bias", (hidden,)),
                  (p + "output.LayerNorm.weight", (hidden,)), (p + "output.LayerNorm.bias", (hidden,))]
    names += [("pooler.dense.weight", (hidden, hidden)), ("pooler.dense.bias", (hidden,))]
    return f32_weights(names, lambda k, j: ((k * 31 + j * 7) % 17 - 8) / 64.0)


def f32_weights(names, value):
    """A safetensors file of f32 tensors (name, shape), in sorted name order, element j of the k-th being
    value(k, j)."""
    header, data = {"__metadata__": {"format": "pt"}}, b""
    for k, (name, shape) in enumerate(sorted(names)):
        count = 1
        for d in shape:
            count *= d
        values = [value(k, j) for j in range(count)]
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [len(data), len(data) + 4 * count]}
        data += struct.pack("<%df" % count, *values)
    return st(header, data)


BERT_CONFIG = {"model_type": "bert", "architectures": ["BertModel"], "vocab_size": 8, "hidden_size": 4,
               "num_hidden_layers": 1, "num_attention_heads": 1, "intermediate_size": 4, "max_position_embeddings": 8,
               "type_vocab_size": 2, "hidden_act": "gelu", "layer_norm_eps": 1e-12}


def config_folder(name, config=None, raw=None):
    write(name + "/model.safetensors", bert_weights())
    text = raw if raw is not None else (json.dumps(config, indent=2, sort_keys=True) + "\n").encode()
    write(name + "/config.json", text)
    return "malformed/" + name
