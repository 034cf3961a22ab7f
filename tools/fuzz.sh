#!/bin/sh
# Builds the libFuzzer targets of Fuzz/ (with AddressSanitizer) and runs each for FUZZ_SECONDS (default 60),
# seeded from fixtures/. Usage: tools/fuzz.sh [SECONDS] [TARGET...]   (make fuzz FUZZ_SECONDS=600)
#
# Working corpora grow under Fuzz/.build/corpus/<target>/ (never committed); logs go to Fuzz/<build>/<target>.log.
# A crash, leak, timeout or out-of-memory input is written to fixtures/fuzz-findings/<target>-<kind>-<sha1>;
# commit it, fix the bug, and CLITests/FuzzFindingsTests replays every file there on each `make test`.
# FUZZ_BUILD_PATH (default .build, inside Fuzz/) selects the build folder.
# Exit status 1 when any target found something.
set -eu
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-${FUZZ_SECONDS:-60}}
[ $# -gt 0 ] && shift
TARGETS=${*:-FuzzSafetensorsHeader FuzzNPYHeader FuzzZipDirectory FuzzUnpickler FuzzConfig FuzzShardIndex}
SWIFT=${SWIFT:-swift}
FINDINGS=fixtures/fuzz-findings
mkdir -p "$FINDINGS"

# `--sanitize fuzzer` makes SwiftPM leave `main` to libFuzzer; the one -sanitize list after it is what swiftc
# uses (repeated --sanitize flags reach swiftc in a varying order and the last one wins).
BUILD=${FUZZ_BUILD_PATH:-.build}     # relative to Fuzz/; another path lets two builds coexist
(cd Fuzz && $SWIFT build -c release --build-path "$BUILD" --sanitize fuzzer -Xswiftc -sanitize=fuzzer,address)
BIN=Fuzz/$BUILD/release

seed() {  # seed TARGET FILES...: copies existing files into the target's corpus
    dir=Fuzz/.build/corpus/$1
    shift
    mkdir -p "$dir"
    for f in "$@"; do [ -f "$f" ] && cp "$f" "$dir/$(basename "$(dirname "$f")")-$(basename "$f")"; done
    true
}
seed FuzzSafetensorsHeader fixtures/safetensors/*.safetensors fixtures/malformed/st_*.safetensors
seed FuzzNPYHeader fixtures/numpy/*.npy fixtures/malformed/npy_*.npy
seed FuzzZipDirectory fixtures/numpy/*.npz fixtures/malformed/npz_*.npz fixtures/malformed/pt_*.bin \
    fixtures/torch/state_dict.pt fixtures/torch/state_dict_p4.pt fixtures/torch/nested.pth fixtures/torch/evil_os_system.pt
seed FuzzUnpickler fixtures/torch/*.pkl fixtures/torch/state_dict_legacy.pt
seed FuzzConfig fixtures/models/*/config.json fixtures/malformed/cfg_*/config.json fixtures/malformed/config_control*/config.json \
    fixtures/rmt/*/rmt_config.json fixtures/rmt/*/*/rmt_config.json fixtures/malformed/rmt_*/rmt_config.json
seed FuzzShardIndex fixtures/models/*/*.index.json fixtures/malformed/shard_*/*.index.json

status=0
for target in $TARGETS; do
    echo "== $target: ${SECONDS_PER_TARGET}s"
    log=Fuzz/$BUILD/$target.log
    # -rss_limit_mb / -malloc_limit_mb make any allocation an untrusted size drives past 1 GiB a finding. Leaks
    # are checked once, at exit (per input, first uses of Swift's lazy globals look like leaks; see lsan.supp).
    LSAN_OPTIONS="suppressions=$PWD/Fuzz/lsan.supp" "$BIN/$target" "Fuzz/.build/corpus/$target" \
        -max_total_time="$SECONDS_PER_TARGET" -max_len=65536 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
        -timeout=10 -detect_leaks=0 -print_final_stats=1 \
        -artifact_prefix="$FINDINGS/$target-" >"$log" 2>&1 &
    pid=$!
    if ! wait $pid; then
        status=1
        echo "   FINDING: see $log and $FINDINGS/"
    fi
    rm -rf "/dev/shm/rmt-convert-fuzz-$pid".* "/dev/shm/rmt-convert-fuzz-$pid"-* \
        "/tmp/rmt-convert-fuzz-$pid".* "/tmp/rmt-convert-fuzz-$pid"-*   # FuzzSupport's scratch files and folders
    grep -E "^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss_mb)" "$log" | sed 's/^/   /' || true
done
exit $status
