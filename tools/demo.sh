#!/usr/bin/env bash
# The demo behind `make demo`: convert -> run/verify -> wrap -> run RMT -> verify -> export, on the small
# checkpoints bundled in fixtures/ (transformers-made, random weights, real tokenizers).
set -euo pipefail
bin=$1
out=$2
rm -rf "$out"
mkdir -p "$out"
say() { printf '\n== %s\n' "$1"; }
run() { printf '$ rmt-convert'; printf ' %q' "$@"; printf '\n'; "$bin" "$@"; }
# Like run, showing only the last N lines of the output.
tail_of() { local n=$1; shift; printf '$ rmt-convert'; printf ' %q' "$@"; printf '   (last %s lines)\n' "$n"; "$bin" "$@" | tail -n "$n"; }

say "1. Inspect a transformers checkpoint folder (GPT-2, 2 layers, byte-level BPE tokenizer)"
run inspect fixtures/models/demo-gpt2 | head -10

say "2. Convert through every format and back: safetensors -> npz -> HDF5 -> torch -> safetensors"
run convert fixtures/models/demo-gpt2 "$out/gpt2-npz" --format npz
run convert "$out/gpt2-npz" "$out/gpt2-h5" --format h5
run convert "$out/gpt2-h5" "$out/gpt2-torch" --format torch
run convert "$out/gpt2-torch" "$out/gpt2-back"
cmp fixtures/models/demo-gpt2/model.safetensors "$out/gpt2-back/model.safetensors" && echo "round trip: byte-identical to the original model.safetensors"
run convert fixtures/models/demo-bert "$out/tf_model.h5" --names tf
run convert fixtures/models/demo-bert "$out/bert-bf16.safetensors" --dtype bf16

say "3. Tokenize and run text; verify against outputs made by transformers"
printf 'Recurrent memory carries context from one segment to the next.\nShort text, with punctuation!\n' > "$out/texts.txt"
run tokenize fixtures/models/demo-bert --text "Recurrent memory carries context from one segment to the next."
run run fixtures/models/demo-bert --text "$out/texts.txt" --output "$out/bert-out.safetensors"
run run fixtures/models/demo-gpt2 --text "$out/texts.txt" --output "$out/gpt2-out.npz"
run verify fixtures/models/demo-bert --fixture fixtures/expected/demo-bert
run verify fixtures/models/demo-gpt2 --fixture fixtures/expected/demo-gpt2

say "4. Wrap both backbones as Recurrent Memory Transformers"
run wrap fixtures/models/demo-gpt2 --output "$out/rmt-gpt2" --memory-tokens 4 --segment-size 32 --seed 1
run wrap fixtures/models/demo-bert --output "$out/rmt-bert" --memory-tokens 4 --input-size 64 --max-segments 16 --seed 1

say "5. Run a long input segment by segment, memory carried between segments"
for i in $(seq 1 12); do
    printf 'Segment after segment, the memory tokens read what came before and write what comes next. '
done > "$out/long.txt"
echo >> "$out/long.txt"
run run "$out/rmt-gpt2" --text "$out/long.txt" --output "$out/rmt-gpt2-out.safetensors"
run run "$out/rmt-bert" --text "$out/long.txt" --output "$out/rmt-bert-out.safetensors"

say "6. Verify RMT numerics against the reference PyTorch implementation (tools/rmt_reference.py)"
tail_of 4 verify fixtures/rmt/decoder --fixture fixtures/rmt/decoder
tail_of 4 verify fixtures/rmt/encoder --fixture fixtures/rmt/encoder

say "7. Export the RMT checkpoints for the reference code: safetensors, torch and model_best.pth"
run convert "$out/rmt-gpt2" "$out/rmt-gpt2-torch" --format torch
run convert "$out/rmt-gpt2" "$out/rmt-gpt2-pth" --layout reference-pth
run convert "$out/rmt-bert" "$out/rmt-bert-unwrapped" --unwrap
run inspect "$out/rmt-gpt2-pth" | head -8

say "8. Bad input: one line, non-zero exit, nothing written"
printf 'version https://git-lfs.github.com/spec/v1\noid sha256:0\nsize 1\n' > "$out/pointer.safetensors"
if "$bin" convert "$out/pointer.safetensors" "$out/never.npz"; then echo "unexpected success"; exit 1; else echo "(exit status $?; $out/never.npz exists: $([ -e "$out/never.npz" ] && echo yes || echo no))"; fi

printf '\ndemo outputs are in %s\n' "$out"
