#!/usr/bin/env python3
"""Writes the tiny random BERT and GPT-2 checkpoints under fixtures/models/ with transformers.

Pinned: torch==2.13.0+cpu, transformers==4.57.6, safetensors==0.7.0, tokenizers==0.22.2.
Rerun:  python3 tools/make_model_fixtures.py && python3 tools/update_manifest.py
Seeded (torch.manual_seed), so the same versions give the same bytes.
"""
import os
import shutil

import torch
from transformers import BertConfig, BertForSequenceClassification, GPT2Config, GPT2LMHeadModel

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "models")


def fresh(name):
    path = os.path.join(ROOT, name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


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


if __name__ == "__main__":
    main()
