#!/usr/bin/env bash
# Fuzzes one target for a while (not part of the test suite).
#
#   scripts/fuzz.sh x12_ack 300      # target, seconds (default 60)
#
# Targets: x12_parse, x12_validate, x12_ack. Needs cargo-fuzz and a nightly
# toolchain (`cargo install cargo-fuzz`). The samples seed the corpus; new
# crashes land in fuzz/artifacts/<target>/ — copy each into
# fuzz/regressions/<target>/ once fixed, so the test suite replays it.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
target="${1:-x12_ack}"
seconds="${2:-60}"
mkdir -p "corpus/$target"
toolchain="+nightly"
rustup run nightly rustc --version >/dev/null 2>&1 || toolchain=""
cargo $toolchain fuzz run "$target" "corpus/$target" ../samples/x12/good ../samples/x12/bad ../samples/x12/broken \
    "regressions/$target" -- -max_total_time="$seconds" -max_len=4096
