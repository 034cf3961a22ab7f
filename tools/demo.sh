#!/usr/bin/env bash
# The demo behind `make demo`: what rmt-convert does, on the small checkpoints bundled in fixtures/.
set -euo pipefail
bin=$1
out=$2
rm -rf "$out"
mkdir -p "$out"
step() { printf '\n== %s\n$ %s\n' "$1" "${*:2}"; "${@:2}"; }

step "Inspect the bundled tiny GPT-2 (a transformers save_pretrained folder)" \
    "$bin" inspect fixtures/models/tiny-gpt2
step "Round trip: safetensors -> bf16 -> f32 shards -> one safetensors file" \
    "$bin" convert fixtures/models/tiny-gpt2 "$out/gpt2-bf16" --dtype bf16
step "" "$bin" convert "$out/gpt2-bf16" "$out/gpt2-shards" --dtype f32 --max-shard-size 40KB
step "" "$bin" convert "$out/gpt2-shards" "$out/gpt2-roundtrip.safetensors"
step "Inspect the round-tripped file as JSON (first lines)" \
    bash -c "'$bin' inspect '$out/gpt2-roundtrip.safetensors' --json | head -12"
printf '\n== A bad file gives one line and a non-zero exit\n'
printf 'version https://git-lfs.github.com/spec/v1\noid sha256:0\nsize 1\n' > "$out/pointer.safetensors"
if "$bin" inspect "$out/pointer.safetensors"; then echo "unexpected success"; exit 1; else echo "(exit status $?)"; fi
echo
echo "demo outputs are in $out"
