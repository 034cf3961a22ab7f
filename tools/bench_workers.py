"""The reference side of tools/bench_reference.py: one workload per call, each returning a JSON-able dict.

Run through `python3 tools/bench_reference.py --worker NAME …` (one child process per workload, so its peak
resident memory is its own). forward: transformers BertModel / GPT2Model without heads, torch.inference_mode;
sgemm: torch.mm; rmt: the segment loop of tools/rmt_reference.py, streaming; inspect: safetensors.safe_open
listing; convert: safetensors → npz / h5 / .bin / f16 / bf16 with safetensors + numpy, h5py, torch.
Pinned when run here: torch==2.13.0+cpu, transformers==4.57.6, safetensors==0.7.0, numpy==2.4.6, h5py==3.16.0.
"""
import json
import os
import statistics
import time

def timed(warmup, repeat, body):
    for _ in range(warmup):
        body()
    times, cpu = [], []
    for _ in range(max(1, repeat)):
        start, cpu_start = time.perf_counter(), time.process_time()
        body()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
    return {"median": statistics.median(times), "min": min(times), "repetitions": len(times),
            "cpuMedian": statistics.median(cpu)}


def synthetic_ids(n, vocabulary):
    return [1000 + (i * 7919) % max(1, vocabulary - 1000) for i in range(n)]


def worker_sgemm(a):
    import torch
    torch.set_num_threads(a.threads)
    n = a.size
    x, y = torch.rand(n, n), torch.rand(n, n)
    r = timed(a.warmup, a.repeat, lambda: torch.mm(x, y))
    r["gflopPerSecond"] = 2 * n ** 3 / r["median"] / 1e9
    return r


def worker_forward(a):
    import torch
    from transformers import AutoConfig, BertModel, GPT2Model
    torch.set_num_threads(a.threads)
    config = AutoConfig.from_pretrained(a.model)
    cls = GPT2Model if config.model_type == "gpt2" else BertModel
    model = cls.from_pretrained(a.model).eval()   # the default attention (sdpa)
    ids = torch.tensor(synthetic_ids(a.batch * a.length, config.vocab_size)).view(a.batch, a.length)

    def run():
        with torch.inference_mode():
            model(input_ids=ids)
    r = timed(a.warmup, a.repeat, run)
    r["tokensPerSecond"] = a.batch * a.length / r["median"]
    return r


def split_ranges(length, n, alignment):
    """The segment ranges of docs/RMT.md §2.3 (left, right, center alignment)."""
    count = -(-length // n)
    if alignment == "left":
        return [(i * n, min(length, (i + 1) * n)) for i in range(count)]
    if alignment == "right":
        first = length - (count - 1) * n
        return [(0, first)] + [(first + i * n, first + (i + 1) * n) for i in range(count - 1)]
    raise ValueError(alignment)


def worker_rmt(a):
    """The reference segment loop (tools/rmt_reference.py semantics), streaming, batch 1."""
    import torch
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    with open(os.path.join(a.rmt_folder, "rmt_config.json")) as f:
        rc = json.load(f)
    m = rc["num_mem_tokens"]
    segments = 0
    if a.variant == "decoder":
        from transformers import GPT2LMHeadModel
        model = GPT2LMHeadModel.from_pretrained(a.model, attn_implementation="eager").eval()
        V, H = model.config.vocab_size, model.config.n_embd
        n = rc["segment_size"]
        ids = torch.tensor([(i * 7919 + 13) % V for i in range(a.tokens)]).view(1, -1)
        memory0 = torch.randn(1, m, H) * model.transformer.wte.weight.std()

        def run():
            nonlocal segments
            segments = 0
            memory = memory0
            with torch.inference_mode():
                for lo, hi in split_ranges(a.tokens, n, rc.get("segment_alignment", "left")):
                    embeds = torch.cat([memory, model.transformer.wte(ids[:, lo:hi]), memory], dim=1)
                    h = model.transformer(inputs_embeds=embeds).last_hidden_state      # after ln_f
                    model.lm_head(h[:, m:-m])                                           # the segment's logits, dropped
                    memory = h[:, -m:]
                    segments += 1
    else:
        from transformers import BertForSequenceClassification
        model = BertForSequenceClassification.from_pretrained(a.model, num_labels=2, attn_implementation="eager").eval()
        V = model.config.vocab_size
        model.resize_token_embeddings(V + m, mean_resizing=False)
        input_size = rc["input_size"]
        n = input_size - m - 3
        pad, cls, sep = 0, 101, 102
        specials = {0, 100, 101, 102, 103}
        content = []
        for i in range(a.tokens):
            t = 1000 + (i * 7919) % (V - 1000)
            while t in specials:
                t += 1
            content.append(t)
        table = model.bert.embeddings.word_embeddings.weight

        def run():
            nonlocal segments
            segments = 0
            with torch.inference_mode():
                memory = table[V:].unsqueeze(0).clone()
                for lo, hi in split_ranges(len(content), n, rc.get("segment_alignment", "right")):
                    row = [cls] + list(range(V, V + m)) + [sep] + content[lo:hi] + [sep]
                    row += [pad] * (input_size - len(row))
                    I = torch.tensor([row])
                    E = table[I].clone()
                    E[:, 1:1 + m] = memory
                    out = model(inputs_embeds=E, attention_mask=(I != pad).long(), output_hidden_states=True)
                    memory = out.hidden_states[-1][:, 1:1 + m]
                    segments += 1
    r = timed(a.warmup, a.repeat, run)
    r.update(tokensPerSecond=a.tokens / r["median"], usPerToken=r["median"] / a.tokens * 1e6, segments=segments,
             cpuUsPerToken=r["cpuMedian"] / a.tokens * 1e6)
    return r


def worker_inspect(a):
    """Lists names, dtypes and shapes with safetensors.safe_open; the second of two passes is timed (the first
    pays for lazy imports)."""
    from safetensors import safe_open

    def listing():
        rows, total = [], 0
        with safe_open(a.source, framework="numpy") as f:
            for k in f.keys():
                s = f.get_slice(k)
                shape, dtype = s.get_shape(), s.get_dtype()
                count = 1
                for d in shape:
                    count *= d
                total += count
                rows.append(f"{k}\t{dtype}\t{shape}")
        return total
    listing()
    start = time.perf_counter()
    total = listing()
    return {"median": time.perf_counter() - start, "parameters": total}


def worker_convert(a):
    """The plain-Python conversion a user would write: read everything, write it out."""
    start = time.perf_counter()
    if a.target in ("torch", "bf16"):
        import torch
        from safetensors.torch import load_file, save_file
        tensors = load_file(a.source)
        if a.target == "torch":
            torch.save(tensors, a.destination)
        else:
            save_file({k: v.to(torch.bfloat16) for k, v in tensors.items()}, a.destination)
    else:
        import numpy as np
        from safetensors.numpy import load_file, save_file
        tensors = load_file(a.source)
        if a.target == "npz":
            with open(a.destination, "wb") as f:   # a path would get ".npz" appended
                np.savez(f, **tensors)
        elif a.target == "h5":
            import h5py
            with h5py.File(a.destination, "w") as f:
                for k, v in tensors.items():
                    f.create_dataset(k, data=v)
        elif a.target == "f16":
            save_file({k: v.astype(np.float16) for k, v in tensors.items()}, a.destination)
        elif a.target == "safetensors":
            save_file(tensors, a.destination)
    return {"median": time.perf_counter() - start}


WORKERS = {"sgemm": worker_sgemm, "forward": worker_forward, "rmt": worker_rmt, "inspect": worker_inspect,
           "convert": worker_convert}
