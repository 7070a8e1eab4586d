#!/usr/bin/env bash
# Measures the X12 engine on large realistic mixed files (850/856/810/846):
# MB/s and peak RSS for parse only, parse+validate and parse+validate+ack,
# pinned to one core. Prints one JSON line per run.
#
#   scripts/bench-x12.sh            # 100 MB and 1 GB files
#   SIZES="100M" REPEAT=5 scripts/bench-x12.sh
#
# Each stage runs REPEAT times (default 3): this machine is a shared VM whose
# speed varies from run to run, so report the best and the median.
#
# Files are generated once into bench-data/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes="${SIZES:-100M 1G}"
cargo build --release --locked --bin dropgate --example x12_generate
mkdir -p bench-data
pin=""
# The last core: on these VMs core 0 also serves the host's interrupts.
command -v taskset >/dev/null 2>&1 && pin="taskset -c $(( $(nproc) - 1 ))"
for size in $sizes; do
    file="bench-data/mixed-$size.edi"
    [ -f "$file" ] || ./target/release/examples/x12_generate "$size" "$file"
    cat "$file" >/dev/null   # warm the page cache: measure the engine, not the disk
    for stage in parse validate ack; do
        for _ in $(seq "${REPEAT:-3}"); do
            $pin ./target/release/dropgate x12 scan --stage "$stage" "$file"
        done
    done
done
