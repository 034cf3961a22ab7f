#!/usr/bin/env python3
"""Writes the tiny random BERT and GPT-2 checkpoints under fixtures/models/ and the reference outputs of every
model under fixtures/expected/, with transformers.

Pinned: torch==2.13.0+cpu, transformers==4.57.6, safetensors==0.7.0, tokenizers==0.22.2.
Rerun:  python3 tools/make_model_fixtures.py && python3 tools/update_manifest.py
Seeded (torch.manual_seed), so the same versions give the same bytes. The checkpoints come first, in a fixed
order, so adding fixtures never changes the bytes of the earlier ones.

Each fixtures/expected/<name>/ folder holds (read by `rmt-convert verify MODEL --fixture DIR`):
  inputs.safetensors    input_ids [B, T] int64, attention_mask [B, T] int64, token_type_ids [B, T] int64 (BERT),
                        position_ids [B, T] int64 (tiny-gpt2-positions)
  expected.safetensors  last_hidden_state [B, T, H], pooler_output [B, H] (with a pooler), logits (with a head),
                        hidden_states.{i} [B, T, H] for i = 0...L (HF `output_hidden_states`: embeddings, then
                        each layer; GPT-2's last one is after ln_f)
  fixture.json          architecture, model folder (relative to the repository root), outputs to compare,
                        tolerance (max abs error)
activations.json holds every accepted activation (ACT2FN) at 49 points in [-6, 6].
All inputs are batch 2 with padding in one row. Models run with attn_implementation="eager": its additive
finfo.min masks define what fully-masked rows (left padding under GPT-2's causal mask) compute.

The all-MiniLM-L6-v2 reference needs the real model at .cache/minilm/model (tools/fetch-minilm.sh); its ids
come from `tokenizers` with the model's own tokenizer.json. It is skipped, with a message, when that folder is absent.
"""
import json
import os
import shutil

import torch
from safetensors.torch import save_file
from transformers import (BertConfig, BertForMaskedLM, BertForSequenceClassification, BertModel, GPT2Config,
                          GPT2LMHeadModel)

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
ROOT = os.path.join(REPO, "fixtures", "models")
EXPECTED = os.path.join(REPO, "fixtures", "expected")
MINILM = os.path.join(REPO, ".cache", "minilm", "model")
TOLERANCE = 1e-4
MINILM_TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "Recurrent memory transformers pass memory tokens between segments.",
    "Hello, world!",
]


def fresh(name, root=ROOT):
    path = os.path.join(root, name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def bert_inputs(vocab_size, generator):
    """Batch 2 × 8: row 0 full, row 1 right-padded after 5 tokens; token types switch to 1 mid-row."""
    ids = torch.randint(1, vocab_size, (2, 8), generator=generator)
    mask = torch.ones(2, 8, dtype=torch.int64)
    mask[1, 5:] = 0
    ids[1, 5:] = 0
    types = torch.zeros(2, 8, dtype=torch.int64)
    types[0, 4:] = 1
    types[1, 3:5] = 1
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


def gpt2_inputs(vocab_size, generator):
    """Batch 2 × 8: row 0 full, row 1 left-padded by 3 (GPT-2's batched-generation layout), so the first
    queries of row 1 see only padding: the fully-masked rows HF's eager masks define."""
    ids = torch.randint(0, vocab_size, (2, 8), generator=generator)
    mask = torch.ones(2, 8, dtype=torch.int64)
    mask[1, :3] = 0
    ids[1, :3] = vocab_size - 1
    return {"input_ids": ids, "attention_mask": mask}


def hidden_states(out):
    return {f"hidden_states.{i}": h for i, h in enumerate(out.hidden_states)}


def write_expected(name, architecture, model_folder, inputs, outputs, compared):
    path = fresh(name, EXPECTED)
    save_file({k: v.contiguous() for k, v in inputs.items()}, os.path.join(path, "inputs.safetensors"))
    save_file({k: v.detach().clone().contiguous() for k, v in outputs.items()}, os.path.join(path, "expected.safetensors"))
    spec = {"architecture": architecture, "model": model_folder, "outputs": compared, "tolerance": TOLERANCE,
            "inputs": "inputs.safetensors", "expected": "expected.safetensors"}
    with open(os.path.join(path, "fixture.json"), "w") as f:
        json.dump(spec, f, indent=2, sort_keys=True)
        f.write("\n")


def reload(cls, folder):
    return cls.from_pretrained(folder, attn_implementation="eager").eval()


@torch.no_grad()
def expected_tiny_bert(generator):
    inputs = bert_inputs(120, generator)
    model = reload(BertForSequenceClassification, os.path.join(ROOT, "tiny-bert"))
    out = model(**inputs, output_hidden_states=True)
    base = model.bert(**inputs)
    outputs = {"last_hidden_state": base.last_hidden_state, "pooler_output": base.pooler_output,
               "logits": out.logits, **hidden_states(out)}
    names = ["last_hidden_state", "pooler_output", "logits"] + [f"hidden_states.{i}" for i in range(3)]
    write_expected("tiny-bert", "BertForSequenceClassification", "fixtures/models/tiny-bert", inputs, outputs, names)
    # The same checkpoint read as a bare BertModel: prefix stripped, classifier dropped.
    bare = reload(BertModel, os.path.join(ROOT, "tiny-bert"))
    bare_out = bare(**inputs)
    write_expected("tiny-bert-base", "BertModel", "fixtures/models/tiny-bert", inputs,
                   {"last_hidden_state": bare_out.last_hidden_state, "pooler_output": bare_out.pooler_output},
                   ["last_hidden_state", "pooler_output"])


@torch.no_grad()
def expected_tiny_bert_mlm(generator):
    inputs = bert_inputs(120, generator)
    model = reload(BertForMaskedLM, os.path.join(ROOT, "tiny-bert-mlm"))
    out = model(**inputs, output_hidden_states=True)
    outputs = {"last_hidden_state": out.hidden_states[-1], "logits": out.logits, **hidden_states(out)}
    names = ["last_hidden_state", "logits"] + [f"hidden_states.{i}" for i in range(3)]
    write_expected("tiny-bert-mlm", "BertForMaskedLM", "fixtures/models/tiny-bert-mlm", inputs, outputs, names)


@torch.no_grad()
def expected_tiny_gpt2(generator):
    inputs = gpt2_inputs(96, generator)
    model = reload(GPT2LMHeadModel, os.path.join(ROOT, "tiny-gpt2"))
    out = model(**inputs, output_hidden_states=True)
    outputs = {"last_hidden_state": out.hidden_states[-1], "logits": out.logits, **hidden_states(out)}
    names = ["last_hidden_state", "logits"] + [f"hidden_states.{i}" for i in range(3)]
    write_expected("tiny-gpt2", "GPT2LMHeadModel", "fixtures/models/tiny-gpt2", inputs, outputs, names)


@torch.no_grad()
def expected_tiny_gpt2_token_types(generator):
    """GPT-2 adds wte(token_type_ids) when given; right padding this time."""
    inputs = gpt2_inputs(96, generator)
    inputs["attention_mask"] = inputs["attention_mask"].flip(1)
    inputs["token_type_ids"] = torch.randint(0, 3, (2, 8), generator=generator)
    model = reload(GPT2LMHeadModel, os.path.join(ROOT, "tiny-gpt2"))
    out = model(**inputs)
    write_expected("tiny-gpt2-token-types", "GPT2LMHeadModel", "fixtures/models/tiny-gpt2", inputs,
                   {"last_hidden_state": model.transformer(**inputs).last_hidden_state, "logits": out.logits}, ["last_hidden_state", "logits"])


@torch.no_grad()
def expected_tiny_gpt2_positions(generator):
    """Left padding with the position ids transformers' generate() derives from the mask: cumsum − 1, and 1 on
    padded rows."""
    inputs = gpt2_inputs(96, generator)
    positions = inputs["attention_mask"].cumsum(-1) - 1
    inputs["position_ids"] = positions.masked_fill(inputs["attention_mask"] == 0, 1)
    model = reload(GPT2LMHeadModel, os.path.join(ROOT, "tiny-gpt2"))
    write_expected("tiny-gpt2-positions", "GPT2LMHeadModel", "fixtures/models/tiny-gpt2", inputs,
                   {"last_hidden_state": model.transformer(**inputs).last_hidden_state, "logits": model(**inputs).logits},
                   ["last_hidden_state", "logits"])


@torch.no_grad()
def expected_minilm():
    if not os.path.isdir(MINILM):
        print(f"skipped all-MiniLM-L6-v2: {MINILM} is absent (run tools/fetch-minilm.sh)")
        return
    from tokenizers import Tokenizer
    tokenizer = Tokenizer.from_file(os.path.join(MINILM, "tokenizer.json"))
    tokenizer.no_padding()  # its tokenizer.json pads every text to 128; pad only to the batch's longest here
    encodings = [tokenizer.encode(text) for text in MINILM_TEXTS]
    length = max(len(e.ids) for e in encodings)
    ids = torch.zeros(len(encodings), length, dtype=torch.int64)
    mask = torch.zeros(len(encodings), length, dtype=torch.int64)
    types = torch.zeros(len(encodings), length, dtype=torch.int64)
    for row, e in enumerate(encodings):
        ids[row, :len(e.ids)] = torch.tensor(e.ids)
        mask[row, :len(e.ids)] = 1
        types[row, :len(e.ids)] = torch.tensor(e.type_ids)
    inputs = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
    model = reload(BertModel, MINILM)
    out = model(**inputs)
    write_expected("minilm", "BertModel", ".cache/minilm/model", inputs,
                   {"last_hidden_state": out.last_hidden_state, "pooler_output": out.pooler_output},
                   ["last_hidden_state", "pooler_output"])
    with open(os.path.join(EXPECTED, "minilm", "texts.json"), "w") as f:
        json.dump(MINILM_TEXTS, f, indent=2)
        f.write("\n")


def expected_activations():
    """Every accepted activation name at sample points, as transformers' ACT2FN computes it in float32."""
    from transformers.activations import ACT2FN
    x = torch.linspace(-6, 6, 49)
    names = ["gelu", "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "relu", "silu", "swish", "quick_gelu", "tanh",
             "linear"]
    table = {"x": x.tolist(), "outputs": {name: ACT2FN[name](x).tolist() for name in names}}
    with open(os.path.join(EXPECTED, "activations.json"), "w") as f:
        json.dump(table, f, indent=1)
        f.write("\n")


def main():
    torch.manual_seed(0)
    gpt2 = GPT2LMHeadModel(GPT2Config(vocab_size=96, n_positions=64, n_embd=32, n_layer=2, n_head=4,
                                      bos_token_id=95, eos_token_id=95)).eval()
    gpt2.save_pretrained(fresh("tiny-gpt2"))
    gpt2.save_pretrained(fresh("tiny-gpt2-sharded"), max_shard_size="20KB")

    torch.manual_seed(1)
    bert = BertForSequenceClassification(BertConfig(vocab_size=120, hidden_size=32, num_hidden_layers=2,
                                                    num_attention_heads=4, intermediate_size=64,
                                                    max_position_embeddings=64, num_labels=3)).eval()
    bert.save_pretrained(fresh("tiny-bert"))

    torch.manual_seed(2)
    mlm = BertForMaskedLM(BertConfig(vocab_size=120, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                     intermediate_size=64, max_position_embeddings=64)).eval()
    mlm.save_pretrained(fresh("tiny-bert-mlm"))

    generator = torch.Generator().manual_seed(3)
    expected_tiny_bert(generator)
    expected_tiny_bert_mlm(generator)
    expected_tiny_gpt2(generator)
    expected_minilm()
    expected_activations()
    expected_tiny_gpt2_token_types(torch.Generator().manual_seed(4))
    expected_tiny_gpt2_positions(torch.Generator().manual_seed(5))


if __name__ == "__main__":
    main()
