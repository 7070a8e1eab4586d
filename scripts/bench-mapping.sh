#!/usr/bin/env bash
# Measures translation to canonical JSON (the mapping engine end to end:
# decode, validate for X12, map, write NDJSON to /dev/null), pinned to one
# core: MB/s, documents, peak RSS. One line per run; the last line gives
# the CSV rows and 846 LIN loops, to turn times into rows per second.
#
#   scripts/bench-mapping.sh               # 100 MB inputs
#   SIZE=1000 scripts/bench-mapping.sh     # 1 GB inputs (size in MB)
#
# Inputs are generated once into bench-data/ (git-ignored):
#   850-<N>M.edi       X12 850s (1 to 8 lines each), built-in mapping x12/850
#   846-<N>M.edi       one X12 846 with LIN loops (streamed), mapping x12/846
#   nordlys-<N>M.csv   Latin-1 ';' CSV inventory, mapping partners/nordlys
set -euo pipefail
cd "$(dirname "$0")/.."
size="${SIZE:-100}"
cargo build --release --locked --bin dropgate
mkdir -p bench-data
pin=""
command -v taskset >/dev/null 2>&1 && pin="taskset -c $(( $(nproc) - 1 ))"
python3 scripts/bench_inputs.py "$size" bench-data
run() { # label file args...
    local label=$1 file=$2; shift 2
    cat "$file" >/dev/null
    # The documents are counted once, through a pipe; the timed runs write
    # to /dev/null, so that the pipe's copying (2.4 bytes of JSON per input
    # byte; about a tenth of the CSV feed's time) is not counted.
    # A failed run still prints what it mapped; the document count shows it.
    local lines
    lines=$(./target/release/dropgate translate --ndjson "$@" "$file" 2>/dev/null | wc -l || true)
    for _ in $(seq "${REPEAT:-3}"); do
        local out secs rss bytes
        /usr/bin/time -o /tmp/dropgate-bench-time -f "%e %M" $pin ./target/release/dropgate \
            translate --ndjson "$@" "$file" >/dev/null 2>&1 || true
        out=$(tail -1 /tmp/dropgate-bench-time)
        read -r secs rss <<<"$out"
        bytes=$(stat -c %s "$file")
        python3 -c "import json,sys; b,s,r,l=int('$bytes'),float('$secs'),int('$rss'),int('$lines'); print(json.dumps({'input':'$label','bytes':b,'seconds':s,'mb_per_s':round(b/1e6/s,1),'documents':l,'peak_rss_mb':round(r/1024,1)}))"
    done
}
run "x12 850" "bench-data/850-${size}M.edi"
# Over 10,000 LIN loops: accepted with a note without an overlay; the
# catalogue overlay (a strict maximum of 10 million) keeps the runs
# comparable with the earlier figures.
run "x12 846 (one set, streamed)" "bench-data/846-${size}M.edi" \
    --overlay samples/x12/overlays/catalog-846.toml
run "csv inventory" "bench-data/nordlys-${size}M.csv" --partner nordlys
rows=$(($(wc -l < "bench-data/nordlys-${size}M.csv") - 2))
lins=$(grep -c '^LIN' "bench-data/846-${size}M.edi")
echo "{\"csv_rows\": $rows, \"846_lin_loops\": $lins}"
