"""The hostile-input cases of issue 18, one group per defect class, added to fixtures/malformed/ by
tools/make_malformed_fixtures.py (which see for the expected.json fields and how to rerun).

 1. shard indexes that name an index (themselves, each other, or a valid inner index);
 2. HDF5 datasets whose bytes live outside the file: external raw storage, a virtual dataset whose source is
    another file, an external link (h5py==3.16.0, libhdf5 2.0.0);
 3. pickles nesting every container kind ~100,000 deep (tuple by MARK/TUPLE and by TUPLE1, list, dict, set,
    frozenset), deflated inside a torch zip so the files stay small;
 4. config.json sizes far beyond any model (layers, heads, hidden, intermediate, vocabulary, positions, type
    vocabulary, labels; BERT and GPT-2), `layer_norm_eps` 0, negative, or out of float32 range, and
    rmt_config.json sizes whose arithmetic overflows; config.json sizes within the limits that the weights
    present contradict (refused by `run` naming both numbers, a note from `inspect` and `convert`: `note`);
 5. named pipes (FIFOs) as config.json, weights, a shard or tokenizer.json: the test makes the pipe (`fifo`);
    symlinks from a folder to files outside it (a side file, a shard);
 6. tensor and member names that leave their folder (`..`, absolute, Windows `..\\`), hold NUL or terminal
    escapes, read from safetensors, torch and npz, converted to every writer (`convert_to`);
 7. names equal under Unicode canonical equivalence (two tensors), duplicate keys in config.json (the last one
    wins, as in Python), token ids of 2^32 (`tokenizers` 0.22.2 refuses them), a shape [2^64 − 1, 0], npz and
    npy data followed by trailing bytes (accepted and noted, as numpy 2.4.6 accepts them);
 8. legacy (non-zip) torch files with the real magic number and a hostile body.
"""
import json
import os
import struct
import zlib

from malformed_common import (BERT_CONFIG, F32x2, FIXTURES, ROOT, bert_weights, case, config_folder, f32_weights, npy,
                              rebuild, st, state_dict_pickle, torch_zip, write, zip_archive)

DEEP = 100_000


def tensor_entry(offsets, shape=(2,), dtype="F32"):
    return {"dtype": dtype, "shape": list(shape), "data_offsets": list(offsets)}


def index_json(mapping):
    return (json.dumps({"metadata": {"total_size": 8}, "weight_map": mapping}, indent=2, sort_keys=True) + "\n").encode()


# ---------------------------------------------------------------------------------------------- 1. shard indexes

def shard_index_cases():
    shard = st({"a": tensor_entry([0, 8])}, F32x2)
    write("shard_index_self/model.safetensors.index.json", index_json({"a": "model.safetensors.index.json"}))
    case("malformed/shard_index_self", "names `model.safetensors.index.json`, an index file",
         why="an index naming itself recursed until the stack overflowed (SIGSEGV)")
    write("shard_index_cycle/model.safetensors.index.json", index_json({"a": "other.safetensors.index.json"}))
    write("shard_index_cycle/other.safetensors.index.json", index_json({"a": "model.safetensors.index.json"}))
    case("malformed/shard_index_cycle", "names `other.safetensors.index.json`, an index file",
         why="two indexes naming each other")
    write("shard_index_nested/model-00001-of-00001.safetensors", shard)
    write("shard_index_nested/inner.safetensors.index.json", index_json({"a": "model-00001-of-00001.safetensors"}))
    write("shard_index_nested/model.safetensors.index.json", index_json({"a": "inner.safetensors.index.json"}))
    case("malformed/shard_index_nested", "names `inner.safetensors.index.json`, an index file",
         why="indexes do not nest, so no chain of them can loop")
    write("shard_index_self_torch/pytorch_model.bin.index.json", index_json({"a": "pytorch_model.bin.index.json"}))
    case("malformed/shard_index_self_torch", "names `pytorch_model.bin.index.json`, an index file")


# ---------------------------------------------------------------------------------------------- 2. HDF5 outside the file

def hdf5_outside_cases():
    import h5py
    import numpy as np

    source = os.path.join(ROOT, "inputs", "outside_source.h5")
    os.makedirs(os.path.dirname(source), exist_ok=True)
    with h5py.File(source, "w", libver="earliest") as f:
        f.create_dataset("data", data=np.arange(4, dtype="<f4"))

    def h5(name, fill):
        with h5py.File(os.path.join(ROOT, name), "w", libver="earliest", track_order=False) as f:
            fill(f)
        return "malformed/" + name

    def external(f):
        f.create_dataset("kept", data=np.zeros(2, dtype="<f4"))
        f.create_dataset("x", shape=(16,), dtype="u1", external=[("/etc/passwd", 0, 16)])
    case(h5("h5_external_storage.h5", external), "dataset `x` keeps its data in external file `/etc/passwd`",
         why="external raw storage: converting it copied the first bytes of /etc/passwd into the checkpoint")

    def virtual(f):
        # h5py's create_virtual_dataset stamps a modification time; the low-level calls let the file be reproducible.
        from h5py import h5d, h5p, h5s, h5t
        dcpl = h5p.create(h5p.DATASET_CREATE)
        dcpl.set_obj_track_times(False)
        dcpl.set_virtual(h5s.create_simple((4,)), b"inputs/outside_source.h5", b"data", h5s.create_simple((4,)))
        h5d.create(f.id, b"x", h5t.IEEE_F32LE, h5s.create_simple((4,)), dcpl=dcpl)
    case(h5("h5_virtual_dataset.h5", virtual), "dataset `x` is a virtual dataset reading `data` of `inputs/outside_source.h5`",
         why="a virtual dataset (VDS) mapping another file's dataset was read with exit 0")

    def link(f):
        f.create_dataset("kept", data=np.zeros(2, dtype="<f4"))
        f["x"] = h5py.ExternalLink("inputs/outside_source.h5", "/data")
    case(h5("h5_external_link.h5", link), "`x` is an external link to `/data` in `inputs/outside_source.h5`",
         why="external links were skipped without a word (the file then lacked the tensor)")


# ---------------------------------------------------------------------------------------------- 3. deep pickles

def deflated_torch_zip(pickle):
    return zip_archive([("archive/data.pkl", pickle, 8), ("archive/byteorder", b"little", 0),
                        ("archive/version", b"3\n", 0)])


def deep_pickle_cases():
    kinds = {
        "tuples": b"(" * DEEP + b"t" * DEEP,                       # MARK ... TUPLE
        "tuple1": b")" + b"\x85" * DEEP,                            # EMPTY_TUPLE, TUPLE1 ...
        "lists": b"]" * DEEP + b"a" * (DEEP - 1),                   # EMPTY_LIST ..., APPEND ...
        "dicts": b"}" + b"K\x00}" * DEEP + b"s" * DEEP,             # EMPTY_DICT, (key, EMPTY_DICT) ..., SETITEM ...
        "sets": b"\x8f(" * DEEP + b"\x8f" + b"\x90" * DEEP,         # EMPTY_SET, MARK ..., ADDITEMS ...
        "frozensets": b"(" * DEEP + b"\x91" * DEEP,                 # MARK ... FROZENSET
    }
    for kind, body in kinds.items():
        case(write("pt_deep_%s.bin" % kind, deflated_torch_zip(b"\x80\x02" + body + b".")),
             "containers nested deeper than 512 levels",
             why="%d nested %s; building or freeing them recursed until the stack overflowed" % (DEEP, kind))


# ---------------------------------------------------------------------------------------------- 4. config sizes

def gpt2_weights(vocab=8, hidden=4, positions=8, layers=1, prefix="", extra=()):
    """A valid tiny GPT2Model safetensors file (deterministic values); names get `prefix`, `extra` adds tensors."""
    names = [("wte.weight", (vocab, hidden)), ("wpe.weight", (positions, hidden)), ("ln_f.weight", (hidden,)),
             ("ln_f.bias", (hidden,))]
    for i in range(layers):
        p = "h.%d." % i
        names += [(p + "ln_1.weight", (hidden,)), (p + "ln_1.bias", (hidden,)), (p + "ln_2.weight", (hidden,)),
                  (p + "ln_2.bias", (hidden,)), (p + "attn.c_attn.weight", (hidden, 3 * hidden)),
                  (p + "attn.c_attn.bias", (3 * hidden,)), (p + "attn.c_proj.weight", (hidden, hidden)),
                  (p + "attn.c_proj.bias", (hidden,)), (p + "mlp.c_fc.weight", (hidden, 4 * hidden)),
                  (p + "mlp.c_fc.bias", (4 * hidden,)), (p + "mlp.c_proj.weight", (4 * hidden, hidden)),
                  (p + "mlp.c_proj.bias", (hidden,))]
    return f32_weights(list(extra) + [(prefix + name, shape) for name, shape in names],
                       lambda k, j: ((k * 29 + j * 5) % 13 - 6) / 32.0)


GPT2_CONFIG = {"model_type": "gpt2", "architectures": ["GPT2Model"], "vocab_size": 8, "n_embd": 4, "n_layer": 1,
               "n_head": 1, "n_inner": None, "n_positions": 8, "activation_function": "gelu_new",
               "layer_norm_epsilon": 1e-5}


def gpt2_folder(name, config):
    write(name + "/model.safetensors", gpt2_weights())
    write(name + "/config.json", (json.dumps(config, indent=2, sort_keys=True) + "\n").encode())
    return "malformed/" + name


def config_size_cases():
    """Sizes no model has. Those the weights show (the blocks, the embedding tables, the first block's feed-forward)
    are refused because the weights hold another number, both named, and `inspect` and `convert` warn with the same
    words; those they do not show (attention heads, the labels of a model without a classifier) by their limits."""
    run_only = dict(fails=["run"], succeeds=["inspect", "convert"])
    gpt2_folder("config_control_gpt2", GPT2_CONFIG)     # valid: the test runs it, as config_control
    bert = [("layers", "num_hidden_layers", 1_000_000, "but the weights hold 1 (block `encoder.layer.0`)"),
            ("heads", "num_attention_heads", 1 << 20, ", at most 4096"),
            ("hidden", "hidden_size", 1 << 24, "but the weights hold 4 (`embeddings.word_embeddings.weight` is [8, 4])"),
            ("intermediate", "intermediate_size", 1 << 30,
             "but the weights hold 4 (`encoder.layer.0.intermediate.dense.weight` is [4, 4])"),
            ("vocab", "vocab_size", 1 << 40, "but the weights hold 8 (`embeddings.word_embeddings.weight` is [8, 4])"),
            ("positions", "max_position_embeddings", 1 << 32,
             "but the weights hold 8 (`embeddings.position_embeddings.weight` is [8, 4])"),
            ("type_vocab", "type_vocab_size", 1 << 31,
             "but the weights hold 2 (`embeddings.token_type_embeddings.weight` is [2, 4])"),
            ("labels", "num_labels", 10 ** 9, ", at most 1048576")]
    for short, field, value, tail in bert:
        error = "`%s` is %d%s%s" % (field, value, "" if tail.startswith(",") else " ", tail)
        warns = {} if tail.startswith(",") else {"note": error}
        case(config_folder("cfg_huge_%s" % short, {**BERT_CONFIG, field: value}), error,
             why="a size no model has; %s of this size once aborted `run` while allocating" % field if short == "layers" else "",
             **run_only, **warns)
    gpt2 = [("n_layer", 1_000_000, "but the weights hold 1 (block `h.0`)"),
            ("n_inner", 1 << 40, "but the weights hold 16 (`h.0.mlp.c_fc.weight` is [4, 16])"),
            ("n_positions", 1 << 40, "but the weights hold 8 (`wpe.weight` is [8, 4])"), ("n_head", 1 << 20, ", at most 4096")]
    for field, value, tail in gpt2:
        error = "`%s` is %d%s%s" % (field, value, "" if tail.startswith(",") else " ", tail)
        warns = {} if tail.startswith(",") else {"note": error}
        case(gpt2_folder("cfg_gpt2_huge_%s" % field, {**GPT2_CONFIG, field: value}), error, **run_only, **warns)
    for short, value in [("zero", 0), ("negative", -1e-5), ("underflow", 1e-50), ("overflow", 1e300)]:
        case(config_folder("cfg_eps_%s" % short, {**BERT_CONFIG, "layer_norm_eps": value}),
             "`layer_norm_eps` must be a positive, finite float32",
             why="%r: dividing by sqrt(variance + eps) needs eps > 0 and representable" % value, **run_only)
    case(gpt2_folder("cfg_gpt2_eps_zero", {**GPT2_CONFIG, "layer_norm_epsilon": 0}),
         "`layer_norm_epsilon` must be a positive, finite float32", **run_only)
    rmt = {**json.load(open(os.path.join(FIXTURES, "rmt", "decoder", "rmt_config.json"))),
           "backbone_vocab_size": 8, "num_mem_tokens": 2, "segment_size": 2, "input_size": 6}
    rmt_folder("rmt_control", rmt)     # valid: the test runs it, as config_control
    for name, changes, error in [
            ("rmt_mem_tokens_overflow", {"num_mem_tokens": 2 ** 62}, "num_mem_tokens: is 4611686018427387904, at most 65536"),
            ("rmt_segment_overflow", {"segment_size": 2 ** 63 - 1}, "segment_size: is 9223372036854775807, at most 16777216"),
            ("rmt_segments_huge", {"max_n_segments": 2 ** 62}, "max_n_segments: is 4611686018427387904, at most 16777216")]:
        case(rmt_folder(name, {**rmt, **changes}), error, fails=["run", "convert"], succeeds=["inspect"],
             why="rmt_config.json sizes whose sum overflowed (a trap) or that no run needs")


def rmt_folder(name, rmt_config, backbone_config=None):
    """A tiny decoder RMT folder (GPT-2 backbone, 2 memory tokens) with the given rmt_config.json."""
    write(name + "/model.safetensors", gpt2_weights(prefix="memory_cell.model.transformer.",
                                                    extra=[("memory_cell.memory", (2, 4))]))
    config = backbone_config or {**GPT2_CONFIG, "architectures": ["GPT2LMHeadModel"]}
    write(name + "/config.json", (json.dumps(config, indent=2, sort_keys=True) + "\n").encode())
    write(name + "/rmt_config.json", (json.dumps(rmt_config, indent=2, sort_keys=True) + "\n").encode())
    return "malformed/" + name


def config_weights_cases():
    """config.json sizes within every limit that are not the weights' (a config from another checkpoint, a field
    left out so transformers' default applies): `run` refuses them before building anything, naming both numbers
    and the tensor that shows the weights' one; `inspect` and `convert` succeed and warn with the same words."""
    run_only = dict(fails=["run"], succeeds=["inspect", "convert"])
    layers = "`num_hidden_layers` is 2 but the weights hold 1 (block `encoder.layer.0`)"
    case(config_folder("cfg_disagree_layers", {**BERT_CONFIG, "num_hidden_layers": 2}), layers, note=layers,
         why="a config of a deeper model: before, `run` built the model and then listed 16 missing tensors", **run_only)
    write("cfg_disagree_extra_block/model.safetensors", bert_weights(layers=2))
    write("cfg_disagree_extra_block/config.json", (json.dumps(BERT_CONFIG, indent=2, sort_keys=True) + "\n").encode())
    extra = "`num_hidden_layers` is 1 but the weights hold 2 (blocks `encoder.layer.0` to `encoder.layer.1`)"
    case("malformed/cfg_disagree_extra_block", extra, note=extra,
         why="the weights have a block the config does not count", **run_only)
    positions = "`max_position_embeddings` is 512 but the weights hold 8 (`embeddings.position_embeddings.weight` is [8, 4])"
    no_positions = {k: v for k, v in BERT_CONFIG.items() if k != "max_position_embeddings"}
    case(config_folder("cfg_disagree_default_positions", no_positions), positions, note=positions,
         why="max_position_embeddings left out: transformers' default 512 is not the weights' 8", **run_only)
    vocab = "`vocab_size` is 50257 but the weights hold 8 (`wte.weight` is [8, 4])"
    no_vocab = {k: v for k, v in GPT2_CONFIG.items() if k != "vocab_size"}
    case(gpt2_folder("cfg_gpt2_disagree_default_vocab", no_vocab), vocab, note=vocab,
         why="vocab_size left out: transformers' default 50257 is not the weights' 8", **run_only)
    several = ("`vocab_size` is 16 but the weights hold 8 (`embeddings.word_embeddings.weight` is [8, 4]); "
               "`num_hidden_layers` is 3 but the weights hold 1 (block `encoder.layer.0`)")
    case(config_folder("cfg_disagree_several", {**BERT_CONFIG, "vocab_size": 16, "num_hidden_layers": 3}), several,
         note=several, why="every disagreement is named on the one line", **run_only)
    rmt = {**json.load(open(os.path.join(FIXTURES, "rmt", "decoder", "rmt_config.json"))),
           "backbone_vocab_size": 8, "num_mem_tokens": 2, "segment_size": 2, "input_size": 6}
    backbone = "`n_layer` is 2 but the weights hold 1 (block `h.0`)"
    case(rmt_folder("rmt_backbone_disagree", rmt, {**GPT2_CONFIG, "architectures": ["GPT2LMHeadModel"], "n_layer": 2}),
         backbone, fails=["run", "convert"], succeeds=["inspect"],
         why="an RMT folder whose config.json is not its backbone's: loading (run, and convert, which exports the "
             "loaded RMT) refuses it before building the backbone")


# ---------------------------------------------------------------------------------------------- 5. FIFOs, symlinks

def link(name, target):
    """A symlink in the corpus (git keeps it), pointing outside its case folder."""
    os.symlink(target, os.path.join(ROOT, name))

def fifo_cases():
    write("fifo_config/model.safetensors", bert_weights())
    case("malformed/fifo_config", "config.json: cannot open: is a named pipe (FIFO), not a regular file",
         fails=["inspect", "convert", "run"], fifo="config.json", why="opening a FIFO without a writer blocked forever")
    write("fifo_weights/config.json", (json.dumps(BERT_CONFIG, indent=2, sort_keys=True) + "\n").encode())
    case("malformed/fifo_weights", "model.safetensors: cannot open: is a named pipe (FIFO), not a regular file",
         fails=["inspect", "convert", "run"], fifo="model.safetensors")
    write("fifo_shard/model.safetensors.index.json", index_json({"a": "model-00001-of-00001.safetensors"}))
    case("malformed/fifo_shard", "model-00001-of-00001.safetensors: cannot open: is a named pipe (FIFO)",
         fifo="model-00001-of-00001.safetensors")
    config_folder("fifo_tokenizer", BERT_CONFIG)
    case("malformed/fifo_tokenizer", "tokenizer.json: cannot open: is a named pipe (FIFO), not a regular file",
         fails=["convert", "tokenize"], succeeds=["inspect"], fifo="tokenizer.json",
         why="convert copies tokenizer files; tokenize reads them")
    config_folder("symlink_outside", BERT_CONFIG)
    link("symlink_outside/tokenizer.json", "../inputs/input_ids.npy")
    case("malformed/symlink_outside", "tokenizer.json: cannot open: is a symbolic link to ",
         fails=["inspect", "convert", "run"], why="convert copied the target into its output (any file of the machine)")
    write("symlink_shard/model.safetensors.index.json", index_json({"a": "model-00001-of-00001.safetensors"}))
    link("symlink_shard/model-00001-of-00001.safetensors", "../shard_index_nested/model-00001-of-00001.safetensors")
    case("malformed/symlink_shard", "outside the checkpoint folder")
    write("fifo_hdf5/config.json", (json.dumps(BERT_CONFIG, indent=2, sort_keys=True) + "\n").encode())
    case("malformed/fifo_hdf5", "tf_model.h5: cannot open: is a named pipe (FIFO), not a regular file",
         fifo="tf_model.h5", why="libhdf5 opens files by path; the path is checked first")


# ---------------------------------------------------------------------------------------------- 6. names

WRITERS = ["safetensors", "npz", "npy", "bin", "h5"]


def name_cases():
    for short, name, shown in [("dotdot", "../../../tmp/rmt-convert-escape", "`../../../tmp/rmt-convert-escape`"),
                               ("absolute", "/tmp/rmt-convert-escape", "`/tmp/rmt-convert-escape`"),
                               ("windows_dotdot", "..\\..\\rmt-convert-escape", "`..\\..\\rmt-convert-escape`"),
                               ("nul", "a\x00b", "`a\\u{0}b`"),
                               ("escape", "\x1b[2J\x1b[31mred", "`\\u{1B}[2J\\u{1B}[31mred`")]:
        reason = "is an absolute path" if short == "absolute" else "has a `..` component" if "dotdot" in short \
            else "holds a control character"
        case(write("st_name_%s.safetensors" % short, st({name: tensor_entry([0, 8])}, F32x2)),
             "tensor name %s %s" % (shown, reason), fails=["convert"], succeeds=["inspect"], convert_to=WRITERS,
             why="every writer refuses it (npz would have written member %r)" % (name + ".npy"))
    case(write("pt_name_dotdot.bin", torch_zip(state_dict_pickle([("../x", rebuild("0", 2, [2], [1]))]), [("0", F32x2)])),
         "tensor name `../x` has a `..` component", fails=["convert"], succeeds=["inspect"], convert_to=WRITERS)
    w = npy("<f4", (2,), F32x2)
    case(write("npz_member_dotdot.npz", zip_archive([("../../x.npy", w, 0)])), "member `../../x.npy`: tensor name `../../x` has a `..` component",
         why="unzip would write it outside its folder")
    case(write("npz_member_absolute.npz", zip_archive([("/tmp/x.npy", w, 0)])), "member `/tmp/x.npy`: tensor name `/tmp/x` is an absolute path")


# ---------------------------------------------------------------------------------------------- 7. lower

def lower_cases():
    composed, decomposed = "\u00e9", "e\u0301"
    case(write("st_canonical_equivalents.safetensors",
               st({composed: tensor_entry([0, 8]), decomposed: tensor_entry([8, 16])}, F32x2 * 2)),
         "", fails=[], succeeds=["inspect", "convert"], convert_to=["safetensors", "npz", "bin", "h5"],
         why="`é` and `e`+U+0301 are two names to safetensors, numpy, torch and h5py; Swift's == calls them equal")
    config_text = json.dumps({**BERT_CONFIG, "hidden_act": "swishy"}, indent=2, sort_keys=True)
    last_good = config_text.replace('"hidden_act": "swishy"', '"hidden_act": "swishy",\n  "hidden_act": "gelu"')
    config_folder("cfg_duplicate_key_last_valid", raw=(last_good + "\n").encode())
    case("malformed/cfg_duplicate_key_last_valid", "", fails=[], succeeds=["inspect", "convert", "run"],
         why="duplicate keys: the last one wins, as in Python's json (transformers reads config.json with it)")
    last_bad = config_text.replace('"hidden_act": "swishy"', '"hidden_act": "gelu",\n  "hidden_act": "swishy"')
    case(config_folder("cfg_duplicate_key_last_invalid", raw=(last_bad + "\n").encode()),
         "`hidden_act` is \"swishy\", which this build does not implement", fails=["run"], succeeds=["inspect", "convert"])
    tokenizer = {"version": "1.0", "added_tokens": [], "normalizer": None, "pre_tokenizer": {"type": "BertPreTokenizer"},
                 "post_processor": None, "decoder": None, "truncation": None, "padding": None,
                 "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                           "max_input_chars_per_word": 100, "vocab": {"[UNK]": 0, "hello": 2 ** 32}}}
    config_folder("tok_id_too_large", BERT_CONFIG)
    write("tok_id_too_large/tokenizer.json", (json.dumps(tokenizer, indent=2) + "\n").encode())
    case("malformed/tok_id_too_large", "field 'model.vocab.hello': must be a token id from 0 to 4294967295",
         fails=["tokenize"], succeeds=["inspect", "convert"], why="tokenizers 0.22.2: invalid value: integer `4294967296`, expected u32")
    added = {**tokenizer, "model": {**tokenizer["model"], "vocab": {"[UNK]": 0, "hello": 1}},
             "added_tokens": [{"id": 2 ** 32, "content": "[X]", "single_word": False, "lstrip": False, "rstrip": False,
                               "normalized": False, "special": True}]}
    config_folder("tok_added_id_too_large", BERT_CONFIG)
    write("tok_added_id_too_large/tokenizer.json", (json.dumps(added, indent=2) + "\n").encode())
    case("malformed/tok_added_id_too_large", "field 'added_tokens[0].id': must be a token id from 0 to 4294967295",
         fails=["tokenize"], succeeds=["inspect", "convert"])
    case(write("st_shape_u64_max.safetensors", st(raw_header=b'{"a":{"dtype":"F32","shape":[18446744073709551615,0],"data_offsets":[0,0]}}')),
         "(shape [18446744073709551615, 0])", why="the dimension was reported clamped, as 9223372036854775807")
    w = npy("<f4", (2,), F32x2)
    case(write("npz_trailing_bytes.npz", zip_archive([("w.npy", w + b"\0" * 8, 0)])), "", fails=[],
         succeeds=["inspect", "convert"], why="numpy 2.4.6 ignores bytes after the data; so does rmt-convert, with a note")


# ---------------------------------------------------------------------------------------------- 8. legacy torch

LEGACY_MAGIC = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19."


def legacy(objects, keys=b"\x80\x02]q\x00.", storages=b""):
    """A legacy torch file: magic, protocol 1001, sys info, the object pickle, the key list, storages."""
    info = b"\x80\x02}(X\r\x00\x00\x00little_endian\x88u."
    return LEGACY_MAGIC + b"\x80\x02M\xe9\x03." + info + objects + keys + storages


def legacy_cases():
    case(write("pt_legacy_os_system.pt", legacy(b"\x80\x02cos\nsystem\nX\x04\x00\x00\x00true\x85R.")),
         "unsupported global: GLOBAL os.system", why="a real legacy magic number does not make the body trusted")
    entry = state_dict_pickle([("w", rebuild("0", 1000, [1000], [1]))])
    case(write("pt_legacy_storage_count_lie.pt",
               legacy(entry, keys=b"\x80\x02]X\x01\x00\x00\x000a.", storages=struct.pack("<q", 1000) + F32x2)),
         "storage `0` needs 4000 bytes", why="the element count says 1000 floats; 8 bytes follow")
    case(write("pt_legacy_wrong_version.pt", LEGACY_MAGIC + b"\x80\x02M\xea\x03."),
         "legacy torch protocol version 1002 is not supported")


def add_cases():
    shard_index_cases()
    hdf5_outside_cases()
    deep_pickle_cases()
    config_size_cases()
    config_weights_cases()
    fifo_cases()
    name_cases()
    lower_cases()
    legacy_cases()
