#!/usr/bin/env python3
"""Side-by-side benchmarks: rmt-convert (Swift) against PyTorch and plain Python (safetensors + numpy / h5py).

Driver (what `make bench` runs):

    python3 tools/bench_reference.py --swift .build/release/rmt-convert [--rounds 3] [--json out.json]
        [--markdown table.md] [--only sgemm,forward,rmt,inspect,convert] [--rmt-tokens 4096,65536] [--quick]

Every workload runs in its own child process (so its peak resident memory, from os.wait4, is its own), Swift and
the reference alternating (Swift first in even rounds, the reference first in odd rounds), `--rounds` times; the
table shows medians over rounds and the ratio Swift/reference (higher is better for rates, lower for times and
memory). Inside a child, forward and sgemm do warm-up runs and report the median of their repetitions.

Worker (one workload of the reference side, one JSON line on stdout):

    python3 tools/bench_reference.py --worker forward --model DIR --batch 1 --length 512 --threads 2

Workloads: forward (BertModel / GPT2Model, no head, torch.inference_mode), sgemm (torch.mm), rmt (the segment loop
of tools/rmt_reference.py, streaming: logits computed per segment and dropped), inspect (safetensors.safe_open
listing), convert (safetensors → npz / h5 / .bin / f16 / bf16 with safetensors + numpy, h5py, torch; both sides
timed as whole processes, each run writing a new file after the previous outputs are removed and the disks synced,
`--convert-rounds` rounds).
Without torch the reference rows that need it say so and only the Swift side is measured.
Pinned when run here: torch==2.13.0+cpu, transformers==4.57.6, safetensors==0.7.0, numpy==2.4.6, h5py==3.16.0.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
THIS = os.path.abspath(__file__)


from bench_workers import WORKERS   # noqa: E402  (tools/ is on sys.path when this script runs)

# ------------------------------------------------------------------------------------------------------ driver

# Swift's `convert` arguments and the output file name for each conversion target.
CONVERT_TARGETS = {
    "safetensors": (["--format", "safetensors"], "out.safetensors"),
    "npz": (["--format", "npz"], "out.npz"),
    "h5": (["--format", "h5"], "out.h5"),
    "torch": (["--format", "torch"], "out.bin"),
    "f16": (["--format", "safetensors", "--dtype", "f16"], "out-f16.safetensors"),
    "bf16": (["--format", "safetensors", "--dtype", "bf16"], "out-bf16.safetensors"),
}


def have(module):
    """Whether `module` is installed, without importing it: the driver stays small, because a forked child's
    peak RSS (ru_maxrss) starts from the parent's resident size."""
    import importlib.util
    return importlib.util.find_spec(module) is not None


def run_child(argv, env=None):
    """Runs argv, returning (parsed last JSON line or None, wall seconds, peak RSS in bytes)."""
    start = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    # Read the pipes to completion without reaping, then reap with wait4 for this child's own rusage.
    out = p.stdout.read()
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({p.returncode}): {err.decode().strip()[-2000:]}")
    result = None
    for line in out.decode().splitlines():
        line = line.strip()
        if line.startswith("{"):
            result = json.loads(line)
    return result, wall, usage.ru_maxrss * 1024


class Row:
    def __init__(self, group, label, unit, higher_is_better):
        self.group, self.label, self.unit, self.higher = group, label, unit, higher_is_better
        self.swift, self.ref, self.swift_rss, self.ref_rss = [], [], [], []
        self.extra = {}
        self.ref_note = None

    def med(self, xs):
        return statistics.median(xs) if xs else None

    def as_dict(self):
        s, r = self.med(self.swift), self.med(self.ref)
        ratio = None
        if s and r:
            ratio = s / r if self.higher else r / s
        return {"group": self.group, "label": self.label, "unit": self.unit, "swift": s, "reference": r,
                "speedup": ratio, "swiftPeakRSSMB": self.med(self.swift_rss), "referencePeakRSSMB": self.med(self.ref_rss),
                "swiftRuns": self.swift, "referenceRuns": self.ref, "referenceNote": self.ref_note, **self.extra}


def fmt(x, unit=""):
    if x is None:
        return "—"
    if unit == "ms":
        x *= 1000
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.3g}" if abs(x) < 10 else f"{x:.1f}"


def prepare(a):
    """The checkpoints and RMT folders the workloads need (made once under --cache)."""
    subprocess.run([sys.executable, os.path.join(ROOT, "tools", "make_bench_checkpoints.py"), "--out", a.cache], check=True)
    gpt2 = os.path.join(a.cache, "gpt2-124m")
    folders = {"gpt2": gpt2, "minilm": a.minilm}
    for name, backbone, extra in [("rmt-gpt2", gpt2, []), ("rmt-minilm", a.minilm, ["--max-segments", "2200"])]:
        dest = os.path.join(a.cache, name)
        if not os.path.exists(os.path.join(dest, "rmt_config.json")):
            subprocess.run([a.swift, "wrap", backbone, "--output", dest, "--memory-tokens", "10", "--force", *extra],
                           check=True, stdout=subprocess.DEVNULL)
        folders[name] = dest
    return folders


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", choices=sorted(WORKERS))
    ap.add_argument("--model"), ap.add_argument("--rmt-folder"), ap.add_argument("--variant")
    ap.add_argument("--batch", type=int, default=1), ap.add_argument("--length", type=int, default=128)
    ap.add_argument("--tokens", type=int, default=4096), ap.add_argument("--size", type=int, default=2048)
    ap.add_argument("--threads", type=int, default=1), ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--source"), ap.add_argument("--destination"), ap.add_argument("--target")
    # driver
    ap.add_argument("--swift", default=os.path.join(ROOT, ".build", "release", "rmt-convert"))
    ap.add_argument("--cache", default=os.path.join(ROOT, ".cache", "bench"))
    ap.add_argument("--minilm", default=os.path.join(ROOT, ".cache", "minilm", "model"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", default="sgemm,forward,rmt,inspect,convert")
    ap.add_argument("--rmt-tokens", default="4096,65536", help="encoder RMT input lengths")
    ap.add_argument("--rmt-decoder-tokens", default="4096,65536", help="decoder RMT input lengths")
    ap.add_argument("--reference-rmt-max", type=int, default=65536,
                    help="longer RMT inputs run on the Swift side only (the reference would take too long)")
    ap.add_argument("--reference-decoder-max", type=int,
                    help="the same cap for the decoder RMT alone (default: --reference-rmt-max)")
    ap.add_argument("--convert-rounds", type=int, default=7,
                    help="rounds for the convert rows (short, and the disk of a shared VM is noisy)")
    ap.add_argument("--rmt-rounds", type=int, default=1, help="rounds for the RMT rows (long)")
    ap.add_argument("--threads-list", default="1,2")
    ap.add_argument("--forward-cases", default="minilm:1:128,minilm:4:128,minilm:1:512,minilm:4:512,gpt2:1:1024",
                    help="model:batch:length, comma-separated")
    ap.add_argument("--omp-passive", action="store_true",
                    help="run the reference with OMP_WAIT_POLICY=PASSIVE (its OpenMP threads sleep instead of spinning; "
                         "much faster for PyTorch when another process shares the cores)")
    ap.add_argument("--quick", action="store_true", help="one round, fewer repetitions, short RMT inputs")
    ap.add_argument("--json"), ap.add_argument("--markdown")
    a = ap.parse_args()
    if a.worker:
        print(json.dumps(WORKERS[a.worker](a)))
        return
    drive(a)


def drive(a):
    if a.quick:
        a.rounds, a.convert_rounds, a.rmt_tokens, a.rmt_decoder_tokens = 1, 1, "4096", "4096"
    torch_ok = have("torch") and have("transformers")
    numpy_ok = have("numpy") and have("safetensors")
    h5_ok = have("h5py")
    only = set(a.only.split(","))
    threads_list = [int(t) for t in a.threads_list.split(",")]
    folders = prepare(a)
    py = [sys.executable, THIS, "--worker"]
    rows = []
    reps = ["--warmup", "1", "--repeat", "2" if a.quick else "3"]

    def env_threads(n):
        env = dict(os.environ)
        env.update(OMP_NUM_THREADS=str(n), MKL_NUM_THREADS=str(n), OPENBLAS_NUM_THREADS=str(n))
        if a.omp_passive:
            env["OMP_WAIT_POLICY"] = "PASSIVE"
        return env

    def pair(row, swift_argv, ref_argv, pick, rounds, env=None, wall=False, before=None):
        """Alternates the two sides `rounds` times, recording pick(result, wall) and peak RSS; `before()` runs
        ahead of every child, outside its timing."""
        if ref_argv is None and row.ref_note is None:
            row.ref_note = "needs torch + transformers"
        for k in range(rounds):
            order = [("swift", swift_argv), ("ref", ref_argv)]
            if k % 2 == 1:
                order.reverse()
            for side, argv in order:
                if argv is None:
                    continue
                if before:
                    before()
                result, seconds, rss = run_child(argv, env)
                value = seconds if wall else pick(result)
                (row.swift if side == "swift" else row.ref).append(value)
                (row.swift_rss if side == "swift" else row.ref_rss).append(rss / 1e6)
                if result:
                    for key in ("layerGemmGFLOPs", "gflopPerSecond", "segments", "cpuUsPerToken"):
                        v = result.get(key, result.get("figures", {}).get(key))
                        if v is not None:
                            row.extra.setdefault(("swift_" if side == "swift" else "reference_") + key, []).append(v)
                print(f"  {row.label:44s} {side:5s} {value:10.4f} {row.unit:8s} rss {rss / 1e6:8.1f} MB", file=sys.stderr, flush=True)
        rows.append(row)

    swift_median = lambda r: r["timing"]["median"] if "timing" in r else r["median"]
    rate = lambda key: (lambda r: r.get(key) if key in r else r.get("figures", {}).get(key))

    if "sgemm" in only:
        for t in threads_list:
            row = Row("sgemm", f"sgemm 2048³ · {t} thread{'s' if t > 1 else ''}", "GFLOP/s", True)
            pair(row, [a.swift, "bench", "sgemm", "--threads", str(t), "--json", *reps],
                 py + ["sgemm", "--threads", str(t), *reps] if torch_ok else None,
                 lambda r: r.get("gflopPerSecond"), a.rounds, env_threads(t))

    if "forward" in only:
        cases = [(m, int(b), int(t)) for m, b, t in (c.split(":") for c in a.forward_cases.split(",") if c)]
        for t in threads_list:
            for name, b, length in cases:
                row = Row("forward", f"{'MiniLM' if name == 'minilm' else 'GPT-2 124M'} b{b} t{length} · {t} thr", "tok/s", True)
                common = ["--batch", str(b), "--length", str(length), "--threads", str(t)]
                pair(row, [a.swift, "bench", "forward", folders[name], *common, "--json", *reps],
                     py + ["forward", "--model", folders[name], *common, *reps] if torch_ok else None,
                     rate("tokensPerSecond"), a.rounds, env_threads(t))

    if "rmt" in only:
        t = max(threads_list)
        lengths = lambda text: [int(x) for x in text.split(",") if x]
        for variant, tokens_list, folder, backbone in [
                ("encoder", lengths(a.rmt_tokens), folders["rmt-minilm"], folders["minilm"]),
                ("decoder", lengths(a.rmt_decoder_tokens), folders["rmt-gpt2"], folders["gpt2"])]:
            for tokens in tokens_list:
                name = "MiniLM encoder" if variant == "encoder" else "GPT-2 decoder"
                row = Row("rmt", f"RMT {name} m=10 · {tokens:,} tokens", "µs/token", False)
                cap = a.reference_decoder_max if variant == "decoder" and a.reference_decoder_max else a.reference_rmt_max
                ref_ok = torch_ok and tokens <= cap
                if torch_ok and not ref_ok:
                    row.ref_note = f"not run (> {cap:,} tokens)"
                # Short inputs (a second or two) get a warm-up and the median of 3 runs; long ones run once.
                runs = ["--warmup", "1", "--repeat", "3"] if tokens <= 16384 else ["--warmup", "0", "--repeat", "1"]
                pair(row, [a.swift, "bench", "rmt", folder, "--tokens", str(tokens), "--threads", str(t), *runs, "--json"],
                     py + ["rmt", "--rmt-folder", folder, "--model", backbone, "--variant", variant, "--tokens", str(tokens),
                           "--threads", str(t), *runs] if ref_ok else None,
                     rate("usPerToken"), a.rmt_rounds, env_threads(t))

    gpt2_weights = os.path.join(folders["gpt2"], "model.safetensors")
    size_mb = os.path.getsize(gpt2_weights) / 1e6
    if "inspect" in only:
        row = Row("checkpoint", f"inspect ({size_mb:.0f} MB safetensors), whole process", "s", False)
        pair(row, [a.swift, "inspect", gpt2_weights], py + ["inspect", "--source", gpt2_weights] if numpy_ok else None,
             None, a.rounds, wall=True)
        row = Row("checkpoint", "inspect, in process (open + report)", "s", False)
        pair(row, [a.swift, "bench", "inspect", gpt2_weights, "--json", "--repeat", "5"],
             py + ["inspect", "--source", gpt2_weights] if numpy_ok else None, swift_median, a.rounds)
    if "convert" in only:
        out = os.path.join(a.cache, "out")
        os.makedirs(out, exist_ok=True)
        for target, (flags, name) in CONVERT_TARGETS.items():
            needs = {"torch": torch_ok, "bf16": torch_ok, "h5": h5_ok and numpy_ok}.get(target, numpy_ok)
            dest = os.path.join(out, name)
            row = Row("checkpoint", f"convert → {target} ({size_mb:.0f} MB f32)", "s", False)
            row.ref_note = None if needs else "needs torch / h5py / numpy"
            # Every run writes a new file and starts with nothing left to write back: the previous outputs are
            # removed and the disks synced first (the Python script does not fsync, so its 500 MB would otherwise
            # still be going to disk during the next run, and a replaced file is freed inside the run).
            def fresh():
                for f in (dest, dest + ".py"):
                    if os.path.exists(f):
                        os.remove(f)
                os.sync()
            pair(row, [a.swift, "convert", gpt2_weights, dest, *flags],
                 py + ["convert", "--source", gpt2_weights, "--destination", dest + ".py", "--target", target] if needs else None,
                 None, a.convert_rounds, wall=True, before=fresh)
            fresh()
    report(a, rows, torch_ok, size_mb)


def machine():
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    probe = ("import json, importlib\nv = {}\nfor m in ('torch', 'transformers', 'numpy', 'safetensors', 'h5py'):\n"
             "    try: v[m] = importlib.import_module(m).__version__\n    except ImportError: v[m] = 'absent'\n"
             "print(json.dumps(v))")
    versions = json.loads(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout)
    swift = subprocess.run(["swift", "--version"], capture_output=True, text=True).stdout.strip().splitlines()
    return {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "cpu": cpu,
            "cores": os.cpu_count(), "kernel": platform.release(), "python": platform.python_version(),
            "swift": swift[0] if swift else "?", **versions}


def rmt_summary(rows):
    """Per variant: time per token (wall, and CPU time of the process, which hardly moves when other processes
    share the cores) and peak RSS at each length relative to the shortest (flat = 1.00)."""
    out = []
    for variant in ("MiniLM encoder", "GPT-2 decoder"):
        mine = [r for r in rows if r.group == "rmt" and variant in r.label and r.swift]
        if len(mine) < 2:
            continue
        base = mine[0].as_dict()
        parts = []
        for r in mine[1:]:
            d = r.as_dict()
            cpu, cpu0 = d.get("swift_cpuUsPerToken"), base.get("swift_cpuUsPerToken")
            cpu_ratio = f", CPU time/token ×{statistics.median(cpu) / statistics.median(cpu0):.2f}" if cpu and cpu0 else ""
            parts.append(f"{r.label.split('·')[-1].strip()}: time/token ×{d['swift'] / base['swift']:.2f}{cpu_ratio}, "
                         f"peak RSS ×{d['swiftPeakRSSMB'] / base['swiftPeakRSSMB']:.2f}")
        out.append(f"\nSwift RMT {variant}, relative to {mine[0].label.split('·')[-1].strip()}: " + "; ".join(parts) + ".")
    return out


def report(a, rows, torch_ok, size_mb):
    info = machine()
    floor = run_child(["/bin/true"])[2] / 1e6
    lines = [f"Measured {info['date']} on {info['cpu']} ({info['cores']} cores), Linux {info['kernel']}; "
             f"{info['swift']}; Python {info['python']}, torch {info['torch']}, transformers {info['transformers']}, "
             f"numpy {info['numpy']}, safetensors {info['safetensors']}, h5py {info['h5py']}. "
             f"Medians of {a.rounds} alternating rounds (RMT: {a.rmt_rounds}, convert: {a.convert_rounds}){'; reference with OMP_WAIT_POLICY=PASSIVE' if a.omp_passive else ''}. Peak RSS is each child process's "
             f"ru_maxrss (floor for a trivial child of this driver: {floor:.0f} MB).", ""]
    lines += ["| workload | unit | Swift | reference | Swift vs reference | Swift peak RSS | reference peak RSS |",
              "|---|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        d = r.as_dict()
        ratio = "—" if d["speedup"] is None else f"{d['speedup']:.2f}× {'faster' if d['speedup'] >= 1 else 'slower'}"
        unit = r.unit
        if unit == "s" and max(d["swift"] or 0, d["reference"] or 0) < 1:
            unit = "ms"
        ref = fmt(d["reference"], unit) if d["reference"] is not None else (r.ref_note or "—")
        label = r.label
        flops, gemm = r.extra.get("swift_gflopPerSecond"), r.extra.get("swift_layerGemmGFLOPs")
        if flops and gemm:
            label += f" — Swift {statistics.median(flops):.0f} GFLOP/s, layer GEMMs {statistics.median(gemm):.0f}"
        mb = lambda x: "—" if x is None else f"{fmt(x)} MB"
        lines.append(f"| {label} | {unit} | {fmt(d['swift'], unit)} | {ref} | {ratio} | "
                     f"{mb(d['swiftPeakRSSMB'])} | {mb(d['referencePeakRSSMB'])} |")
    lines += rmt_summary(rows)
    if not torch_ok:
        lines.append("\nThe reference columns that need torch + transformers are empty: install them to compare.")
    text = "\n".join(lines) + "\n"
    print(text)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(text)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"machine": info, "checkpointMB": size_mb, "rows": [r.as_dict() for r in rows]}, f, indent=1)


if __name__ == "__main__":
    main()
