#!/usr/bin/env python3
"""Writes the HDF5 fixtures (fixtures/hdf5/) and the key-list fixtures (fixtures/keys/).

Pinned: h5py==3.16.0, numpy==2.4.6, safetensors==0.7.0, torch==2.13.0+cpu, transformers==4.57.6.
Rerun:  python3 tools/make_hdf5_fixtures.py && python3 tools/update_manifest.py

TensorFlow is not needed: the Keras `tf_model.h5` files are written by hand with h5py exactly as
docs/FORMATS.md §3.1-3.3 describes (layer groups, `layer_names` / `weight_names` in the h5py-3 variable-length form,
the h5py-2 fixed-length NULLPAD form, under `model_weights`, and chunked `weight_names0/1`). The TF names and
shapes here are an independent implementation of the §3.2/§3.3 tables, so the Swift name maps are checked
against them rather than against themselves. Everything is deterministic.
"""
import json
import os

import h5py
import numpy as np
from safetensors.numpy import load_file

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures")
H5 = os.path.join(FIXTURES, "hdf5")
KEYS = os.path.join(FIXTURES, "keys")

# ---------------------------------------------------------------------------------------------------------
# §3.2 / §3.3 tables: PyTorch key -> (TF name without the model-name component, transform) or a marker.

BERT_LINEAR = ("query", "key", "value", "dense", "seq_relationship", "classifier")


def indexed_parts(parts, word):
    """Joins `word` and the index after it the way Keras names layers: [`h`, `0`, `attn`] -> [`h_._0`, `attn`]."""
    out = []
    i = 0
    while i < len(parts):
        if parts[i] == word and i + 1 < len(parts) and parts[i + 1].isdigit():
            out.append(f"{word}_._{parts[i + 1]}")
            i += 2
        else:
            out.append(parts[i])
            i += 1
    return out


def bert_tf_name(key):
    """`bert.encoder.layer.0.attention.self.query.weight` -> (`bert/encoder/layer_._0/.../kernel:0`, "transpose")."""
    if key in ("cls.predictions.decoder.weight", "cls.predictions.decoder.bias"):
        return None, "tied"
    if key.endswith("position_ids") or key.endswith("token_type_ids"):
        return None, "buffer"
    if not key.startswith(("bert.", "cls.", "classifier.")):
        key = "bert." + key  # BertModel checkpoints without the prefix (all-MiniLM-L6-v2)
    parts = key.split(".")
    if parts[0] == "cls":
        parts[0] = "mlm___cls" if parts[1] == "predictions" else "nsp___cls"
    out = indexed_parts(parts, "layer")
    last, owner = out[-1], out[-2]
    transform = "none"
    if owner == "LayerNorm":
        out[-1] = {"weight": "gamma", "bias": "beta"}[last]
    elif owner in ("position_embeddings", "token_type_embeddings"):
        out[-1] = "embeddings"
    elif owner == "word_embeddings":
        pass
    elif last == "weight" and owner in BERT_LINEAR:
        out[-1] = "kernel"
        transform = "transpose"
    return "/".join(out) + ":0", transform


def gpt2_tf_name(key):
    """`transformer.h.0.attn.c_attn.bias` -> (`transformer/h_._0/attn/c_attn/bias:0`, "reshape_bias")."""
    if key == "lm_head.weight":
        return None, "tied"
    if key.split(".")[-2:] in (["attn", "bias"], ["attn", "masked_bias"]):
        return None, "buffer"
    if not key.startswith("transformer."):
        key = "transformer." + key
    parts = key.split(".")
    out = indexed_parts(parts, "h")
    last, owner = out[-1], out[-2]
    transform = "none"
    if owner.startswith("ln_"):
        out[-1] = {"weight": "gamma", "bias": "beta"}[last]
    elif owner == "wpe":
        out[-1] = "embeddings"
    elif owner == "wte":
        pass  # written as wte/weight:0 (§3.5)
    elif last == "bias":
        transform = "reshape_bias"
    return "/".join(out) + ":0", transform


def tf_shape(shape, transform):
    if transform == "transpose":
        return [shape[1], shape[0]]
    if transform == "reshape_bias":
        return [1] + list(shape)
    return list(shape)


def tf_array(array, transform):
    if transform == "transpose":
        return np.ascontiguousarray(array.T)
    if transform == "reshape_bias":
        return array.reshape(1, -1)
    return array


# ---------------------------------------------------------------------------------------------------------
# Key lists: transformers' real state_dict keys, with the TF names we expect.

def key_lines(named_shapes, mapper, model_name):
    lines = []
    for key, shape in named_shapes:
        tf, transform = mapper(key)
        dims = "x".join(str(d) for d in shape) if shape else "scalar"
        if tf is None:
            lines.append(f"{key}\t{dims}\t({transform})\t-")
        else:
            tdims = "x".join(str(d) for d in tf_shape(shape, transform))
            lines.append(f"{key}\t{dims}\t{model_name}/{tf}\t{tdims}")
    return "".join(line + "\n" for line in lines)


def write_keys():
    import torch
    from transformers import (BertConfig, BertForMaskedLM, BertForPreTraining, BertForSequenceClassification,
                              GPT2Config, GPT2LMHeadModel)

    os.makedirs(KEYS, exist_ok=True)
    models = [
        ("bert-for-pre-training", BertForPreTraining, BertConfig, "num_hidden_layers", bert_tf_name, "tf_bert_for_pre_training"),
        ("bert-for-sequence-classification", BertForSequenceClassification, BertConfig, "num_hidden_layers",
         bert_tf_name, "tf_bert_for_sequence_classification"),
        ("bert-for-masked-lm", BertForMaskedLM, BertConfig, "num_hidden_layers", bert_tf_name, "tf_bert_for_masked_lm"),
        ("gpt2-lm-head-model", GPT2LMHeadModel, GPT2Config, "n_layer", gpt2_tf_name, "tfgp_t2lm_head_model"),
    ]
    for name, cls, config_cls, layers, mapper, model_name in models:
        with torch.device("meta"):
            model = cls(config_cls(**{layers: 12}))
        shapes = [(k, list(v.shape)) for k, v in model.state_dict().items()]
        with open(os.path.join(KEYS, name + ".tsv"), "w") as f:
            f.write(key_lines(shapes, mapper, model_name))


# ---------------------------------------------------------------------------------------------------------
# Keras layout writers (by hand, as tf-keras `save_weights` does).

def vlen_strings(group, name, values):
    if not values:
        group.attrs[name] = np.zeros((0,), dtype=np.float64)  # how Keras stores an empty list
    else:
        group.attrs.create(name, data=values, dtype=h5py.string_dtype("ascii"))


def fixed_strings(group, name, values):
    if not values:
        group.attrs[name] = np.zeros((0,), dtype=np.float64)
    else:
        group.attrs[name] = np.array([v.encode("ascii") for v in values])  # 'S<n>': fixed, NULLPAD


def chunked_strings(group, name, values):
    """Two parts `name0`, `name1` as fixed strings of the overall longest length (the §3.1 chunked form)."""
    if len(values) < 2:
        return vlen_strings(group, name, values)
    width = max(len(v) for v in values)
    array = np.array([v.encode("ascii") for v in values], dtype=f"S{width}")
    for i, part in enumerate(np.array_split(array, 2)):
        group.attrs[f"{name}{i}"] = part


def write_keras(path, source, mapper, model_name, layers, strings, under_model_weights=False, wte_embeddings=False):
    """`layers`: Keras layer names in model order; weightless ones (dropout) get an empty `weight_names`."""
    tensors = load_file(source)
    by_layer = {layer: [] for layer in layers}
    for key in tensors:
        tf, transform = mapper(key)
        if tf is None:
            continue
        if wte_embeddings and tf.endswith("wte/weight:0"):
            tf = tf.replace("wte/weight:0", "wte/embeddings:0")
        by_layer[tf.split("/")[0]].append((f"{model_name}/{tf}", tf_array(tensors[key], transform)))
    with h5py.File(path, "w", track_order=False) as f:
        root = f
        if under_model_weights:
            f.attrs["model_config"] = json.dumps({"class_name": model_name})
            root = f.create_group("model_weights")
        strings(root, "layer_names", layers)
        root.attrs["backend"] = "tensorflow"
        root.attrs["keras_version"] = "2.15.0"
        for layer in sorted(layers):
            g = root.create_group(layer)
            weights = by_layer[layer]
            strings(g, "weight_names", [n for n, _ in weights])
            for full, array in weights:
                g.create_dataset(full, data=array.astype("<f4"))
        top = root.create_group("top_level_model_weights")
        vlen_strings(top, "weight_names", [])


# ---------------------------------------------------------------------------------------------------------
# Generic-layout files.

def write_generic(expected):
    rng = np.random.default_rng(7)
    values = {
        "f64": np.array([1.5, -2.25, 1e300], dtype="<f8"),
        "f32": rng.standard_normal((2, 3)).astype("<f4"),
        "f16": np.array([[0.5, -1.0], [65504.0, 6.1035156e-05]], dtype="<f2"),
        "i64": np.array([-(2 ** 62), 0, 7], dtype="<i8"),
        "i32": np.array([-5, 2 ** 31 - 1], dtype="<i4"),
        "i16": np.array([-300, 300], dtype="<i2"),
        "i8": np.array([-128, 127], dtype="i1"),
        "u8": np.array([0, 255, 3], dtype="u1"),
        "u16": np.array([65535, 1], dtype="<u2"),
        "u32": np.array([4000000000], dtype="<u4"),
        "u64": np.array([2 ** 63 + 5], dtype="<u8"),
        "bool": np.array([True, False, True], dtype=bool),
        "c64": np.array([1 + 2j, -3.5 - 0.25j], dtype="<c8"),
        "scalar": np.array(3.25, dtype="<f4"),
        "empty": np.zeros((0, 4), dtype="<f4"),
        "transformer.h.0.attn.c_attn.weight": np.arange(6, dtype="<f4").reshape(2, 3),
        "memory/state": np.array([[1.0, 2.0]], dtype="<f4"),
    }
    bf16_bits = np.array([0x3F80, 0xC040, 0x7F80], dtype="<u2")  # 1.0, -3.0, +inf
    f8_bits = np.array([0x38, 0xB8], dtype="u1")  # e4m3fn 1.0, -1.0
    with h5py.File(os.path.join(H5, "generic_dtypes.h5"), "w") as f:
        f.attrs.create("rmt_convert_format", "tensors/1", dtype=h5py.string_dtype("ascii"))
        f.attrs["metadata"] = json.dumps({"format": "pt", "note": "ünïcode"})  # h5py 3: vlen UTF-8
        for name, array in values.items():
            f.create_dataset(name, data=array)
        d = f.create_dataset("bf16", data=bf16_bits)
        d.attrs["dtype"] = "bfloat16"
        d = f.create_dataset("f8", data=f8_bits)
        d.attrs["dtype"] = "float8_e4m3fn"
    entry = {}
    for name, array in values.items():
        dtype = {"float64": "f64", "float32": "f32", "float16": "f16", "int64": "i64", "int32": "i32", "int16": "i16",
                 "int8": "i8", "uint8": "u8", "uint16": "u16", "uint32": "u32", "uint64": "u64", "bool": "bool",
                 "complex64": "c64"}[array.dtype.name]
        flat = array.reshape(-1)
        if dtype == "c64":
            flat = np.stack([flat.real, flat.imag], axis=-1).reshape(-1)
        out = [int(v) for v in flat] if dtype[0] in "iub" else [float(v) for v in flat]
        entry[name] = {"dtype": dtype, "shape": list(array.shape), "values": out}
    entry["bf16"] = {"dtype": "bf16", "shape": [3], "bits": [int(v) for v in bf16_bits]}
    entry["f8"] = {"dtype": "f8_e4m3", "shape": [2], "bits": [int(v) for v in f8_bits]}
    expected["generic_dtypes.h5"] = {"metadata": {"format": "pt", "note": "ünïcode"}, "tensors": entry}

    # Unmarked file: gzip + shuffle, a big-endian dataset, nested groups; read by walking every dataset.
    big = np.arange(12, dtype=">f4").reshape(3, 4) / 4
    gz = rng.standard_normal((64, 16)).astype("<f4")
    with h5py.File(os.path.join(H5, "gzip_bigendian.h5"), "w") as f:
        f.create_dataset("z/compressed", data=gz, chunks=(16, 16), shuffle=True, compression="gzip", compression_opts=4)
        f.create_dataset("big_endian", data=big)
        f.create_dataset("big_i64", data=np.array([1, -2, 3], dtype=">i8"))
    expected["gzip_bigendian.h5"] = {"tensors": {
        "big_endian": {"dtype": "f32", "shape": [3, 4], "values": [float(v) for v in big.reshape(-1)]},
        "big_i64": {"dtype": "i64", "shape": [3], "values": [1, -2, 3]},
        "z/compressed": {"dtype": "f32", "shape": [64, 16], "values": [float(v) for v in gz.reshape(-1)]},
    }}

    with h5py.File(os.path.join(H5, "string_dataset.h5"), "w") as f:
        f.create_dataset("weights", data=np.ones(3, dtype="<f4"))
        f.create_dataset("vocab", data=np.array([b"hello", b"world"]))
    with h5py.File(os.path.join(H5, "lzf_filter.h5"), "w") as f:
        f.create_dataset("packed", data=np.ones((32, 32), dtype="<f4"), compression="lzf")
    with open(os.path.join(H5, "not_hdf5.h5"), "w") as f:
        f.write("this is a text file, not HDF5\n")


def main():
    os.makedirs(H5, exist_ok=True)
    expected = {}
    write_generic(expected)

    bert = os.path.join(FIXTURES, "models", "tiny-bert", "model.safetensors")
    gpt2 = os.path.join(FIXTURES, "models", "tiny-gpt2", "model.safetensors")
    bert_layers = ["bert", "dropout_37", "classifier"]
    bert_model = "tf_bert_for_sequence_classification"
    write_keras(os.path.join(H5, "keras_bert_vlen.h5"), bert, bert_tf_name, bert_model, bert_layers, vlen_strings)
    write_keras(os.path.join(H5, "keras_bert_fixed.h5"), bert, bert_tf_name, bert_model + "_1", bert_layers, fixed_strings)
    write_keras(os.path.join(H5, "keras_bert_model_weights.h5"), bert, bert_tf_name, bert_model, bert_layers,
                vlen_strings, under_model_weights=True)
    write_keras(os.path.join(H5, "keras_gpt2_vlen.h5"), gpt2, gpt2_tf_name, "tfgp_t2lm_head_model", ["transformer"],
                vlen_strings)
    write_keras(os.path.join(H5, "keras_gpt2_chunked.h5"), gpt2, gpt2_tf_name, "tfgp_t2lm_head_model", ["transformer"],
                chunked_strings, wte_embeddings=True)
    # layer_names naming a group that is not in the file.
    with h5py.File(os.path.join(H5, "keras_missing_layer.h5"), "w") as f:
        vlen_strings(f, "layer_names", ["bert", "classifier"])
        g = f.create_group("bert")
        vlen_strings(g, "weight_names", ["tf_bert_model/bert/pooler/dense/bias:0"])
        g.create_dataset("tf_bert_model/bert/pooler/dense/bias:0", data=np.zeros(4, dtype="<f4"))
    for name, source in [("keras_bert_vlen.h5", "models/tiny-bert/model.safetensors"),
                         ("keras_bert_fixed.h5", "models/tiny-bert/model.safetensors"),
                         ("keras_bert_model_weights.h5", "models/tiny-bert/model.safetensors"),
                         ("keras_gpt2_vlen.h5", "models/tiny-gpt2/model.safetensors"),
                         ("keras_gpt2_chunked.h5", "models/tiny-gpt2/model.safetensors")]:
        expected[name] = {"same_tensors_as": source}
    with open(os.path.join(H5, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")
    write_keys()


if __name__ == "__main__":
    main()
