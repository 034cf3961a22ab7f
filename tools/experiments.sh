#!/usr/bin/env bash
# The training experiments of EXPERIMENTS.md, rerun with the release binary (`swift build -c release`):
#
#   tools/experiments.sh [OUT] [GROUP...]      OUT defaults to out/experiments; GROUPs: copy reverse copy3 minilm
#                                              reference (all of them by default)
#
# Every training run goes to OUT/<run>/ (an RMT folder with train_state/ and metrics.jsonl), its --json output to
# OUT/<run>.jsonl and /usr/bin/time -v's report to OUT/<run>.time; tools/experiment_report.py OUT prints the tables
# and curve excerpts of EXPERIMENTS.md from them. minilm needs .cache/minilm (tools/fetch-minilm.sh) and numpy;
# reference needs torch and transformers (the pinned versions of tools/train_reference.py).
set -euo pipefail
bin=${BIN:-.build/release/rmt-convert}
out=${1:-out/experiments}
shift || true
groups=${*:-copy reverse copy3 minilm reference}
mkdir -p "$out"

# timed NAME ARGS...: runs rmt-convert ARGS under /usr/bin/time -v, its stdout to OUT/NAME.jsonl.
timed() {
    local name=$1
    shift
    echo "== $name: rmt-convert $*" >&2
    /usr/bin/time -v -o "$out/$name.time" "$bin" "$@" > "$out/$name.jsonl"
}

# memory_task TASK NAME LENGTH SEGMENT STEPS: the decoder memory task TASK with rows of LENGTH content tokens in
# segments of SEGMENT tokens, trained with full BPTT (NAME-bptt) and with the memory detached (NAME-detached).
memory_task() {
    local task=$1 name=$2 length=$3 segment=$4 steps=$5
    local rows=$((2 * length + 1))
    local segments=$(((rows + segment - 1) / segment))
    "$bin" make-task "$task" --output "$out/$name-train.npz" --length "$length" --samples 16384 --seed 101 --force
    "$bin" make-task "$task" --output "$out/$name-eval.npz" --length "$length" --samples 512 --seed 201 --force
    "$bin" init-gpt2 --vocab 10 --positions $((segment + 4)) --layers 1 --hidden 64 --heads 4 \
        --output "$out/$name-gpt2" --seed 1 --force
    "$bin" wrap "$out/$name-gpt2" --output "$out/$name-rmt" --memory-tokens 2 --segment-size "$segment" \
        --max-segments "$segments" --seed 1 --force
    for depth in -1 0; do
        local run=$name-bptt
        [ "$depth" = 0 ] && run=$name-detached
        timed "$run" train "$out/$name-rmt" --data "$out/$name-train.npz" --eval-data "$out/$name-eval.npz" \
            --eval-every $((steps / 10)) --output "$out/$run" --force --steps "$steps" --batch-size 32 --lr 1e-3 \
            --schedule cosine --warmup 100 --bptt-depth "$depth" --json
    done
}

for group in $groups; do
    case $group in
    # 4 content tokens, 5 segments of 2: every answer needs a memory written by a segment the detach cuts off.
    copy) memory_task copy copy 4 2 2000 ;;
    reverse) memory_task reverse reverse 4 2 2000 ;;
    # make-task's default layout, 3 segments of 4: the first three answers are read through M_0, which
    # --bptt-depth 0 still trains (docs/RMT.md §2.7).
    copy3) memory_task copy copy3 5 4 2000 ;;
    minilm)
        model=.cache/minilm/model
        python3 tools/make_keyword_task.py --vocab "$model/vocab.txt" --output "$out/keyword-train.npz" \
            --samples 2048 --segments 2 --segment-size 23 --seed 0
        python3 tools/make_keyword_task.py --vocab "$model/vocab.txt" --output "$out/keyword-eval.npz" \
            --samples 256 --segments 2 --segment-size 23 --seed 1
        "$bin" wrap "$model" --output "$out/minilm-rmt" --memory-tokens 6 --input-size 32 --max-segments 2 \
            --seed 0 --force
        timed minilm-frozen train "$out/minilm-rmt" --data "$out/keyword-train.npz" \
            --eval-data "$out/keyword-eval.npz" --eval-every 25 --output "$out/minilm-frozen" --force --steps 150 \
            --batch-size 16 --lr 3e-2 --freeze-backbone --json
        ;;
    # The PyTorch reference classes trained on the same folder and data with the same settings (file order).
    reference)
        [ -d "$out/copy-rmt" ] || memory_task copy copy 4 2 2000
        echo "== reference: tools/train_reference.py on $out/copy-rmt" >&2
        /usr/bin/time -v -o "$out/copy-reference.time" python3 tools/train_reference.py --model "$out/copy-rmt" \
            --data "$out/copy-train.npz" --steps 2000 --batch-size 32 --lr 1e-3 --schedule cosine \
            --schedule-warmup 100 --threads 2 > "$out/copy-reference.jsonl"
        ;;
    *)
        echo "unknown group $group (copy, reverse, copy3, minilm, reference)" >&2
        exit 64
        ;;
    esac
done
python3 tools/experiment_report.py "$out"
