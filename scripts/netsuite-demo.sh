#!/usr/bin/env bash
# The dropship loop through NetSuite against the simulator, in one
# command: a sales order in NetSuite, its purchase order out to the vendor,
# the vendor's ship notice and invoice back as an item fulfillment and a
# vendor bill (scripts/netsuite_demo.py). Leaves its folder in
# demo/netsuite (or the folder given).
#
#   scripts/netsuite-demo.sh [FOLDER]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/lib/netsuite-peers.sh
cargo build --locked --quiet --bin dropgate
python="${XDG_CACHE_HOME:-$HOME/.cache}/dropgate-tools/netsuite-peers-venv/bin/python"
"$python" scripts/netsuite_demo.py target/debug/dropgate "$@"
