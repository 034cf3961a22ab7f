#!/usr/bin/env python3
"""Writes the malformed-input corpus under fixtures/malformed/ and its manifest fixtures/malformed/expected.json.

Every file is built byte by byte (struct, zlib) so it is deterministic and the lie it tells is explicit; only
the HDF5 cases use h5py. Pinned: Python 3.11, zlib 1.2.13 (deflated members), h5py==3.16.0 (libhdf5 2.0.0) with
numpy==2.4.6 for the HDF5 cases.
Rerun:  python3 tools/make_malformed_fixtures.py && python3 tools/update_manifest.py

expected.json lists, for each case (paths relative to fixtures/, so the corpus also names the malicious pickles
of fixtures/torch/ and the bad files of fixtures/numpy/ and fixtures/hdf5/ instead of copying them):
  error     the substring the one-line error must contain
  fails     the commands that must exit 1 with `error: <path>: ...` on stderr and write nothing
  succeeds  the commands that must still succeed (inspect reads headers only, so it does not see a bad CRC
            or a deflate stream longer than declared; config.json fields are read by `run`, not by inspect
            or convert, which only check that config.json is JSON and warn when its sizes are not the weights')
Commands: `inspect PATH`, `convert PATH OUT.safetensors` (OUT folder for checkpoint folders), and
`run PATH --input-ids malformed/inputs/input_ids.npy --output OUT.safetensors` for checkpoint folders.
  note      (optional) the warning each succeeding `inspect` (on stdout) and `convert` (on stderr) must print:
            config.json and the weights disagree on a size, which `run` refuses
  fifo      (optional) a member of a case folder that the test replaces by a named pipe in a temporary copy of
            the folder (git cannot hold a FIFO); the error then names the copy
Every run is bounded in time and memory by the test (Tests/CLITests/MalformedCorpusTests.swift).

The cases of issue 18 (shard index cycles, HDF5 data outside the file, deep pickles, config sizes, FIFOs, names,
…) are in tools/malformed_hostile.py; the byte-level builders shared by both are in tools/malformed_common.py.
"""
import json
import os
import shutil
import struct
import zlib

import malformed_hostile
from malformed_common import (BERT_CONFIG, BIG, CASES, F32x2, FIXTURES, LFS, ROOT, W, case, config_folder, npy,
                              pk_int, pk_str, rebuild, st, state_dict_pickle, torch_zip, write, zip_archive)


# ---------------------------------------------------------------------------------------------- safetensors

def safetensors_cases():
    t = lambda off, shape=(2,), dtype="F32": {"dtype": dtype, "shape": list(shape), "data_offsets": list(off)}
    case(write("st_lfs_pointer.safetensors", LFS), "is a Git LFS pointer file")
    case(write("st_too_small.safetensors", b"\x10\x00\x00"), "header too small")
    case(write("st_header_too_large.safetensors", struct.pack("<Q", 200_000_000) + b"{}" + b" " * 6),
         "header too large", why="length prefix above the official 100 MB cap; nothing is allocated for it")
    case(write("st_header_length_past_end.safetensors", st({}, prefix=4096)), "invalid header length",
         why="the prefix claims more header bytes than the file has")
    case(write("st_huge_prefix.safetensors", struct.pack("<Q", 2**64 - 1) + b"{}      "), "header too large")
    case(write("st_invalid_utf8.safetensors", st(raw_header=b'{"\xff\xfe":1}')), "invalid UTF-8 in header")
    case(write("st_invalid_json.safetensors", st(raw_header=b'{"a":{"dtype":"F32",')), "invalid JSON in header")
    case(write("st_not_object.safetensors", st(raw_header=b"[1,2,3]")), "the header is not a JSON object")
    case(write("st_deep_nesting.safetensors", st(raw_header=b'{"a":' + b"[" * 5000 + b"]" * 5000 + b"}")),
         "nesting deeper than 128", why="recursion is capped; 5000 levels would otherwise risk the stack")
    case(write("st_gap.safetensors", st({"a": t([0, 8]), "b": t([16, 24])}, F32x2 * 3)), "gap or overlap")
    case(write("st_overlap.safetensors", st({"a": t([0, 8]), "b": t([4, 12])}, F32x2 + F32x2[:4])), "gap or overlap")
    case(write("st_shape_overflow.safetensors",
               st({"a": t([0, 8], shape=(2**32, 2**32, 2**32))}, F32x2)), "overflow computing buffer size")
    case(write("st_shape_above_u64.safetensors",
               st(raw_header=b'{"a":{"dtype":"F32","shape":[99999999999999999999999],"data_offsets":[0,8]}}', data=F32x2)),
         "shape of tensor `a` holds a value that is not an integer from 0 to 2^64 − 1")
    case(write("st_shape_mismatch.safetensors", st({"a": t([0, 8], shape=(2, 2))}, F32x2)),
         "invalid shape, data type, or offset")
    case(write("st_truncated_data.safetensors", st({"a": t([0, 8]), "b": t([8, 4_000_000_008], shape=(1_000_000_000,))}, F32x2 + b"\0" * 8)),
         "file not fully covered", why="a tensor claims 4 GB of a 40-byte data section; nothing is allocated")
    case(write("st_duplicate_key.safetensors", st(raw_header=b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},'
                                                             b'"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', data=F32x2)),
         "duplicate key `a`")
    case(write("st_unknown_dtype.safetensors", st({"a": t([0, 8], dtype="F128")}, F32x2)), "unknown dtype `F128`")
    case(write("st_negative_offset.safetensors", st({"a": t([-8, 0])}, F32x2)), "must be two integers from 0 to 2^64 − 1")
    case(write("st_empty_name.safetensors", st({"": t([0, 8])}, F32x2)), "a tensor has an empty name")
    case(write("st_bad_metadata.safetensors", st({"__metadata__": {"format": 1}, "a": t([0, 8])}, F32x2)),
         "metadata value for `format` is not a string")
    case(write("st_is_a_zip.safetensors", zip_archive([("a.npy", npy("<f4", (2,), F32x2), 0)])),
         "expected safetensors but the content is zip")


# ---------------------------------------------------------------------------------------------- NPY

def npy_cases():
    case(write("npy_lfs_pointer.npy", LFS), "is a Git LFS pointer file")
    case(write("npy_bad_magic.npy", b"\x93NUMPX\x01\x00" + b"\0" * 120), "does not start with the NPY magic")
    case(write("npy_preamble_truncated.npy", b"\x93NUMPY\x01"), "ends inside the NPY preamble")
    case(write("npy_bad_version.npy", npy("<f4", (2,), F32x2)[:6] + b"\x09\x00" + npy("<f4", (2,), F32x2)[8:]),
         "NPY format version 9.0 is not supported")
    case(write("npy_header_too_large.npy", npy("<f4", (2,), F32x2, version=2, header_len=1_000_000)),
         "header longer than 10000 characters", why="numpy's max_header_size; nothing is allocated for it")
    case(write("npy_header_past_end.npy", npy("<f4", (2,), F32x2, header_len=9000)), "file ends inside the 9000-byte header")
    case(write("npy_object_dtype.npy", npy("|O", (1,), b"\x80\x02N.")), "object dtype '|O'")
    case(write("npy_unicode_dtype.npy", npy("<U4", (1,), b"\0" * 16)), "string dtype '<U4' is not a tensor")
    case(write("npy_structured_dtype.npy", npy("", (1,), header_text="{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }")),
         "structured dtype")
    case(write("npy_not_a_dict.npy", npy("", (), header_text="[1, 2, 3]")), "header is not a Python dict")
    case(write("npy_missing_shape.npy", npy("", (), header_text="{'descr': '<f4', 'fortran_order': False}")), "header lacks shape")
    case(write("npy_negative_dim.npy", npy("<f4", (-1,))), "shape must hold non-negative integers")
    case(write("npy_shape_overflow.npy", npy("<f8", (2**31, 2**31, 2**31))), "overflow computing the size")
    case(write("npy_shape_lies.npy", npy("<f4", (1000, 1000), F32x2)), "needs 4000000 bytes of data but the file has 8")
    case(write("npy_code_in_header.npy", npy("", (), header_text="{'descr': __import__('os').system('true'), 'fortran_order': False, 'shape': ()}")),
         "header is not a valid Python literal", why="the header is parsed as literals, never evaluated")


# ---------------------------------------------------------------------------------------------- ZIP / NPZ

def npz_cases():
    def patch(**values):
        return lambda name, f: {**f, **values}
    case(write("npz_bad_crc.npz", zip_archive([("w.npy", W, 0)], central_patch=patch(crc=0xDEADBEEF))),
         "CRC-32 mismatch", fails=["convert"], succeeds=["inspect"], why="inspect reads headers only; data is checked when read")
    case(write("npz_truncated.npz", zip_archive([("w.npy", W, 0)])[:-30]), "no end-of-central-directory record")
    case(write("npz_central_directory_truncated.npz", zip_archive([("w.npy", W, 0), ("v.npy", W, 0)], eocd_patch={"size": 92})),
         "missing or truncated", why="the end record's directory size cuts the second entry short")
    case(write("npz_central_directory_past_end.npz", zip_archive([("w.npy", W, 0)], eocd_patch={"offset": 10_000})),
         "runs past the end records")
    case(write("npz_entry_count_lie.npz", zip_archive([("w.npy", W, 0)], eocd_patch={"count": 3000})),
         "3000 entries cannot fit")
    case(write("npz_bomb_declared_size.npz", zip_archive([("w.npy", BIG, 8)], central_patch=patch(usize=4_000_000_000))),
         "more than deflate can produce", why="a 4 GB claim from a few hundred compressed bytes is refused before allocating")
    case(write("npz_member_smaller_than_array.npz",
               zip_archive([("w.npy", BIG, 8)], central_patch=lambda n, f: {**f, "usize": 128 + 4 * 16, "crc": zlib.crc32(BIG[:192])})),
         "needs 262144 bytes of data but member `w.npy` holds 64", why="the NPY header claims more than the member's declared size")
    case(write("npz_stream_longer_than_declared.npz",
               zip_archive([("w.npy", npy("<f4", (4,), F32x2 * 2) + b"\0" * 100_000, 8)],
                           central_patch=lambda n, f: {**f, "usize": 144, "crc": zlib.crc32(npy("<f4", (4,), F32x2 * 2))})),
         "inflates to more than the declared 144 bytes", fails=["convert"], succeeds=["inspect"],
         why="decompression stops at the declared size; inspect inflates only the NPY header")
    case(write("npz_corrupt_deflate.npz", zip_archive([("w.npy", b"\xff" * 32, 0)], central_patch=patch(method=8))),
         "is not a valid deflate stream")
    case(write("npz_overlapping_members.npz", overlapping_zip()), "overlap in the file")
    case(write("npz_encrypted.npz", zip_archive([("w.npy", W, 0)], flags=1)), "is encrypted")
    case(write("npz_bzip2.npz", zip_archive([("w.npy", W, 0)], central_patch=patch(method=12))), "compression method 12")
    case(write("npz_duplicate_member.npz", zip_archive([("w.npy", W, 0), ("w.npy", W, 0)])), "appears twice")
    case(write("npz_not_npy_member.npz", zip_archive([("readme.txt", b"hello", 0)])), "is not an NPY array")
    case(write("npz_local_header_missing.npz", zip_archive([("w.npy", W, 0)], central_patch=patch(offset=3))),
         "no local file header")
    case(write("npz_data_past_end.npz", zip_archive([("w.npy", W, 0)], central_patch=patch(csize=1_000_000, usize=1_000_000))),
         "beyond the file")
    case(write("npz_object_member.npz", zip_archive([("o.npy", npy("|O", (1,), b"\x80\x02N."), 0)])), "object dtype '|O'")
    case(write("npz_zip64_locator_lie.npz", zip64_locator_lie()), "the ZIP64 locator points to offset")


def overlapping_zip():
    """Two central entries whose data ranges overlap (the non-recursive zip bomb trick)."""
    data = zip_archive([("a.npy", W, 0), ("b.npy", W, 0)])
    cd = data.index(b"PK\x01\x02")
    second = data.index(b"PK\x01\x02", cd + 4)
    data = bytearray(data)
    struct.pack_into("<I", data, second + 42, 0)    # b's local header offset → a's
    return bytes(data)


def zip64_locator_lie():
    data = zip_archive([("w.npy", W, 0)], eocd_patch={"offset": 0xFFFFFFFF})
    eocd = data.rindex(b"PK\x05\x06")
    locator = struct.pack("<IIQI", 0x07064B50, 0, 2**62, 1)
    return data[:eocd] + locator + data[eocd:]


# ---------------------------------------------------------------------------------------------- torch

def torch_cases():
    ok = rebuild("0", 2, [2], [1])
    case("torch/evil_os_system.pt", "unsupported global: GLOBAL os.system",
         why="the payload would create /tmp/rmt-convert-torch-fixture-pwned; PickleTests checks it is not created")
    case(write("pt_lfs_pointer.bin", LFS), "is a Git LFS pointer file")
    case(write("pt_posix_system.bin", torch_zip(b"\x80\x02cposix\nsystem\nX\x04\x00\x00\x00trueK\x01\x85R.", [])),
         "unsupported global: GLOBAL posix.system")
    case(write("pt_stack_global_exec.bin",
               torch_zip(b"\x80\x04" + pk_str("builtins") + pk_str("exec") + b"\x93" + pk_str("print(1)") + b"\x85R.", [])),
         "unsupported global: GLOBAL builtins.exec")
    case(write("pt_inst_opcode.bin", torch_zip(b"\x80\x02(ios\nsystem\nX\x04\x00\x00\x00true.", [])),
         "unsupported pickle opcode 0x69 (INST)")
    case(write("pt_ext_opcode.bin", torch_zip(b"\x80\x02\x82\x01.", [])), "unsupported pickle opcode 0x82 (EXT1)")
    case(write("pt_reduce_on_value.bin", torch_zip(b"\x80\x02K\x01)R.", [])), "REDUCE needs a global")
    case(write("pt_truncated_pickle.bin", torch_zip(state_dict_pickle([("w", ok)])[:-20], [("0", F32x2)])),
         "the pickle ends before")
    case(write("pt_string_length_lie.bin", torch_zip(b"\x80\x02X\xff\xff\xff\x7fabc.", [])), "BINUNICODE length 2147483647 exceeds")
    case(write("pt_memo_bomb.bin", torch_zip(memo_bomb(), [])), "far larger than the pickle")
    case(write("pt_not_state_dict.bin", torch_zip(b"\x80\x02]K\x01a.", [])), "holds a pickled list, not a dict of tensors")
    case(write("pt_missing_version.bin", torch_zip(state_dict_pickle([("w", ok)]), [("0", F32x2)], version=None)),
         "lacks its `archive/version` record")
    case(write("pt_storage_smaller.bin", torch_zip(state_dict_pickle([("w", rebuild("0", 1000, [1000], [1]))]), [("0", F32x2)])),
         "holds 8 bytes but the pickle declares 1000 elements")
    case(write("pt_missing_storage.bin", torch_zip(state_dict_pickle([("w", ok)]), [])), "storage record `archive/data/0` is missing")
    case(write("pt_view_out_of_bounds.bin", torch_zip(state_dict_pickle([("w", rebuild("0", 2, [2, 2], [2, 1]))]), [("0", F32x2)])),
         "reaches byte 16 of storage")
    case(write("pt_broadcast_bomb.bin", torch_zip(state_dict_pickle([("w", rebuild("0", 2, [2**20, 2**20], [0, 0]))]), [("0", F32x2)])),
         "expands 4 stored bytes to 4398046511104", why="a stride-0 view of 8 bytes claiming 4 TiB is refused before allocating")
    case(write("pt_shape_bytes_overflow.bin", torch_zip(state_dict_pickle([("w", rebuild("0", 2, [2**31, 2**31], [0, 0]))]), [("0", F32x2)])),
         "overflow", why="2^62 elements of 4 bytes overflow a 64-bit byte count")
    case("torch/torchscript.pt", "is a TorchScript model")
    case("numpy/object.npz", "object dtype '|O' is a pickle of Python objects")
    case(write("pt_legacy_truncated.pt", open(os.path.join(FIXTURES, "torch", "state_dict_legacy.pt"), "rb").read()[:600]),
         "truncated")


def memo_bomb():
    """A list holding the previous list twice, 40 times over (2^40 nodes when expanded), in 200 bytes."""
    p = b"\x80\x02]q\x00"
    for i in range(1, 41):
        p += b"]q" + bytes([i]) + b"(h" + bytes([i - 1]) + b"h" + bytes([i - 1]) + b"e"
    return p + b"}X\x01\x00\x00\x00wh\x28s."


# ---------------------------------------------------------------------------------------------- HDF5

def hdf5_cases():
    import h5py
    import numpy as np
    case("hdf5/not_hdf5.h5", "is not an HDF5 file")
    case("hdf5/string_dataset.h5", "holds strings, not numbers")
    case("hdf5/lzf_filter.h5", "uses unsupported filter 32000 (lzf)")
    case("hdf5/keras_missing_layer.h5", "layer_names lists `classifier` but the file has no such group")
    case(write("h5_lfs_pointer.h5", LFS), "is a Git LFS pointer file")

    def h5(name, fill):
        path = os.path.join(ROOT, name)
        with h5py.File(path, "w", libver="earliest", track_order=False) as f:
            fill(f)
        return "malformed/" + name

    case(h5("h5_compound.h5", lambda f: f.create_dataset("x", data=np.zeros(2, dtype=[("a", "<i4"), ("b", "<f8")]))),
         "holds a compound type other than h5py's complex64")
    case(h5("h5_vlen.h5", lambda f: f.create_dataset("x", (2,), dtype=h5py.vlen_dtype(np.float32))),
         "holds variable-length sequences")
    case(h5("h5_reference.h5", lambda f: f.create_dataset("x", data=[f.ref], dtype=h5py.ref_dtype)), "holds object references")
    case(h5("h5_opaque.h5", lambda f: f.create_dataset("x", data=np.void(b"abcd"))), "holds opaque bytes")
    case(h5("h5_long_double.h5", lambda f: f.create_dataset("x", data=np.zeros(2, dtype=np.longdouble))), "16-byte floats")
    case(h5("h5_dims_lie.h5", lambda f: f.create_dataset("x", (1 << 20, 1 << 20), dtype="<f4", chunks=(16, 16))),
         "claims 4398046511104 bytes", why="an unwritten chunked dataset claiming 4 TiB in a small file is refused before reading")
    truncated = open(os.path.join(FIXTURES, "hdf5", "generic_dtypes.h5"), "rb").read()
    case(write("h5_truncated.h5", truncated[:len(truncated) // 2]), "HDF5 could not")


# ---------------------------------------------------------------------------------------------- config.json

def config_cases():
    run_only = dict(fails=["run"], succeeds=["inspect", "convert"])
    write("inputs/input_ids.npy", npy("<i8", (1, 3), struct.pack("<3q", 1, 5, 2)))
    config_folder("config_control", BERT_CONFIG)     # valid: the test runs it to show the weights and inputs are fine
    case(config_folder("cfg_invalid_json", raw=b'{"model_type": "bert", "hidden_size": 4,'), "invalid JSON",
         fails=["inspect", "convert", "run"])
    case(config_folder("cfg_deep_nesting", raw=b'{"a":' + b"[" * 3000 + b"]" * 3000 + b"}"), "nesting deeper than 128",
         fails=["inspect", "convert", "run"])
    drop = {k: v for k, v in BERT_CONFIG.items() if k not in ("model_type", "architectures", "hidden_size")}
    case(config_folder("cfg_missing_model_type", drop), "`model_type` is absent; only bert and gpt2 are supported", **run_only)
    case(config_folder("cfg_unknown_architecture", {**BERT_CONFIG, "architectures": ["LlamaForCausalLM"]}),
         "none of them is supported", **run_only)
    case(config_folder("cfg_heads_not_dividing", {**BERT_CONFIG, "num_attention_heads": 3}), "is not divisible by", **run_only)
    case(config_folder("cfg_negative_layers", {**BERT_CONFIG, "num_hidden_layers": -2}), "must be positive", **run_only)
    case(config_folder("cfg_wrong_type", {**BERT_CONFIG, "hidden_size": "four"}), "field `hidden_size` should be an integer", **run_only)
    case(config_folder("cfg_unknown_activation", {**BERT_CONFIG, "hidden_act": "swishy"}), "does not implement", **run_only)
    case(config_folder("cfg_integer_too_large", raw=json.dumps({**BERT_CONFIG, "vocab_size": 0}).replace('"vocab_size": 0', '"vocab_size": 123456789012345678901234567890').encode()),
         "field `vocab_size` is 123456789012345678901234567890, too large to read as a number", **run_only)
    case(config_folder("cfg_absurd_sizes", {**BERT_CONFIG, "hidden_size": 1 << 20, "num_attention_heads": 1, "intermediate_size": 1 << 22,
                                            "vocab_size": 1 << 24, "max_position_embeddings": 1 << 24}),
         "embeddings.word_embeddings.weight", why="sizes that do not match the weights are refused before anything is allocated", **run_only)


def shard_cases():
    """Sharded folders whose index lies: a shard outside the folder, a tensor its shard does not hold."""
    shard = st({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, F32x2)
    index = lambda mapping: (json.dumps({"metadata": {"total_size": 8}, "weight_map": mapping}, indent=2, sort_keys=True) + "\n").encode()
    write("shard_path_escape/model.safetensors-00001-of-00001.safetensors", shard)
    write("shard_path_escape/model.safetensors.index.json", index({"a": "../../../../etc/passwd"}))
    case("malformed/shard_path_escape", "weight_map entry for `a` is not a file name in the same folder",
         why="shard names may not leave the checkpoint folder")
    write("shard_missing_tensor/model-00001-of-00001.safetensors", shard)
    write("shard_missing_tensor/model.safetensors.index.json", index({"a": "model-00001-of-00001.safetensors", "b": "model-00001-of-00001.safetensors"}))
    case("malformed/shard_missing_tensor", "tensor `b` is mapped to model-00001-of-00001.safetensors but that shard does not contain it")


def main():
    if os.path.isdir(ROOT):
        shutil.rmtree(ROOT)
    os.makedirs(ROOT)
    safetensors_cases()
    npy_cases()
    npz_cases()
    torch_cases()
    hdf5_cases()
    shard_cases()
    config_cases()
    malformed_hostile.add_cases()
    with open(os.path.join(ROOT, "expected.json"), "w") as f:
        json.dump({"cases": CASES}, f, indent=1, sort_keys=True)
        f.write("\n")
    print("%d cases" % len(CASES))


if __name__ == "__main__":
    main()
