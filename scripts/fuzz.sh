#!/usr/bin/env bash
# Fuzzes one target for a while (not part of the test suite).
#
#   scripts/fuzz.sh x12_ack 300      # target, seconds (default 60)
#
# Targets: x12_parse, x12_validate, x12_ack, translate, pdf_read (seeded
# with the sample PDFs, inputs up to 64 KiB), pdf_extract (pages of
# positioned words decoded from the bytes; seeded with its regressions). Needs cargo-fuzz
# (`cargo install cargo-fuzz`). cargo-fuzz asks for nightly-only compiler
# flags (the sanitizer); a nightly toolchain is used when rustup has one,
# and otherwise the installed stable one with RUSTC_BOOTSTRAP=1, which lets
# stable rustc accept those flags (this is how the numbers in BENCHMARKS.md
# were measured, on rustc 1.95). The first build compiles every dependency
# with the sanitizer and takes a while; later ones only the crate.
#
# The samples seed the corpus; new crashes land in fuzz/artifacts/<target>/
# — copy each into fuzz/regressions/<target>/ once fixed, so the test suite
# replays it. libFuzzer's last line gives the inputs run and the seconds;
# `-print_final_stats=1` (pass it after the seconds) prints the rate.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
target="${1:-x12_ack}"
seconds="${2:-60}"
shift $(($# < 2 ? $# : 2))
mkdir -p "corpus/$target"
toolchain=""
if rustup run nightly rustc --version >/dev/null 2>&1; then
    toolchain="+nightly"
else
    export RUSTC_BOOTSTRAP=1
fi
seeds=(../samples/x12/good ../samples/x12/bad ../samples/x12/broken)
max_len=4096
if [ "$target" = pdf_read ]; then
    seeds=(../samples/pdf ../tests/fixtures/pdf)
    max_len=65536
elif [ "$target" = pdf_extract ]; then
    seeds=()
    max_len=2048
fi
cargo $toolchain fuzz run "$target" "corpus/$target" "${seeds[@]}" \
    "regressions/$target" -- -max_total_time="$seconds" -max_len="$max_len" "$@"
