#!/usr/bin/env bash
# Documents per second into NetSuite at the usual account concurrency
# limits (5 and 15), against the simulator (scripts/bench_netsuite.py):
# ORDERS drop-ship orders, one file of their ship notices, each request
# answered after LATENCY_MS, and the gateway's item fulfillments timed.
# One JSON line per limit, with the ceiling the limit sets.
#
#   scripts/bench-netsuite.sh                        # 100 orders, 200 ms
#   ORDERS=500 LATENCY_MS=400 LIMITS="5 15" scripts/bench-netsuite.sh
set -euo pipefail
cd "$(dirname "$0")/.."
orders="${ORDERS:-100}"
latency="${LATENCY_MS:-200}"
limits="${LIMITS:-5 15}"
scripts/lib/netsuite-peers.sh
cargo build --release --locked --quiet --bin dropgate
python="${XDG_CACHE_HOME:-$HOME/.cache}/dropgate-tools/netsuite-peers-venv/bin/python"
mkdir -p bench-data
for limit in $limits; do
    BENCH_DIR="$PWD/bench-data" "$python" scripts/bench_netsuite.py target/release/dropgate "$limit" "$orders" "$latency"
done
