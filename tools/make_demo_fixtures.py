#!/usr/bin/env python3
"""Writes the demo checkpoints: small random GPT-2 and BERT that come with real tokenizers, so `make demo` can run
text through them, plus reference outputs for one batch of texts (for `rmt-convert verify`).

  fixtures/models/demo-gpt2/   GPT2LMHeadModel (vocab 1000, 2 layers, 48 wide) + the byte-level BPE of
                               fixtures/tokenizers/bpe-small
  fixtures/models/demo-bert/   BertForSequenceClassification (vocab 668, 2 layers, 48 wide) + the WordPiece of
                               fixtures/tokenizers/wordpiece-cased
  fixtures/expected/demo-gpt2/, demo-bert/   inputs.safetensors, expected.safetensors, fixture.json, texts.json

Pinned: torch==2.13.0+cpu, transformers==4.57.6, tokenizers==0.22.2, safetensors==0.7.0. Seeded. Rerun:
    python3 tools/make_demo_fixtures.py && python3 tools/update_manifest.py
"""
import json
import os
import shutil

import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer
from transformers import BertConfig, BertForSequenceClassification, GPT2Config, GPT2LMHeadModel

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
TEXTS = ["Recurrent memory carries context from one segment to the next.",
         "Short text, with punctuation!"]


def fresh(*parts):
    path = os.path.join(ROOT, *parts)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def copy_tokenizer(source, dest, names):
    for name in names:
        shutil.copy(os.path.join(ROOT, "fixtures/tokenizers", source, name), os.path.join(dest, name))


def batch(tokenizer_path, pad_id):
    tok = Tokenizer.from_file(tokenizer_path)
    rows = [tok.encode(t).ids for t in TEXTS]
    T = max(map(len, rows))
    ids = torch.tensor([r + [pad_id] * (T - len(r)) for r in rows])
    mask = torch.tensor([[1] * len(r) + [0] * (T - len(r)) for r in rows])
    return ids, mask


def write_expected(name, model_dir, architecture, inputs, outputs, names):
    out = fresh("fixtures/expected", name)
    save_file({k: v.contiguous() for k, v in inputs.items()}, os.path.join(out, "inputs.safetensors"))
    save_file({k: outputs[k].contiguous() for k in names}, os.path.join(out, "expected.safetensors"))
    with open(os.path.join(out, "fixture.json"), "w") as f:
        json.dump({"architecture": architecture, "model": model_dir, "inputs": "inputs.safetensors",
                   "expected": "expected.safetensors", "outputs": names, "tolerance": 1e-4}, f, indent=2, sort_keys=True)
        f.write("\n")
    with open(os.path.join(out, "texts.json"), "w") as f:
        json.dump(TEXTS, f, indent=2)
        f.write("\n")


def main():
    torch.manual_seed(30)
    eos = json.load(open(os.path.join(ROOT, "fixtures/tokenizers/bpe-small/vocab.json")))["<|endoftext|>"]
    gpt2 = GPT2LMHeadModel(GPT2Config(vocab_size=1000, n_positions=128, n_embd=48, n_layer=2, n_head=4,
                                      bos_token_id=eos, eos_token_id=eos), ).eval()
    path = fresh("fixtures/models/demo-gpt2")
    gpt2.save_pretrained(path)
    copy_tokenizer("bpe-small", path, ["vocab.json", "merges.txt", "tokenizer.json"])
    ids, mask = batch(os.path.join(path, "tokenizer.json"), eos)
    with torch.no_grad():
        out = gpt2(input_ids=ids, attention_mask=mask)
        hidden = gpt2.transformer(input_ids=ids, attention_mask=mask).last_hidden_state
    write_expected("demo-gpt2", "fixtures/models/demo-gpt2", "GPT2LMHeadModel", {"input_ids": ids, "attention_mask": mask},
                   {"logits": out.logits, "last_hidden_state": hidden}, ["last_hidden_state", "logits"])

    torch.manual_seed(31)
    bert = BertForSequenceClassification(BertConfig(vocab_size=668, hidden_size=48, num_hidden_layers=2, num_attention_heads=4,
                                                    intermediate_size=96, max_position_embeddings=128, num_labels=2)).eval()
    path = fresh("fixtures/models/demo-bert")
    bert.save_pretrained(path)
    copy_tokenizer("wordpiece-cased", path, ["vocab.txt", "tokenizer.json", "tokenizer_config.json"])
    ids, mask = batch(os.path.join(path, "tokenizer.json"), 0)
    with torch.no_grad():
        base = bert.bert(input_ids=ids, attention_mask=mask)
        logits = bert(input_ids=ids, attention_mask=mask).logits
    write_expected("demo-bert", "fixtures/models/demo-bert", "BertForSequenceClassification",
                   {"input_ids": ids, "attention_mask": mask, "token_type_ids": torch.zeros_like(ids)},
                   {"last_hidden_state": base.last_hidden_state, "pooler_output": base.pooler_output, "logits": logits},
                   ["last_hidden_state", "pooler_output", "logits"])


if __name__ == "__main__":
    main()
