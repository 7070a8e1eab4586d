#!/usr/bin/env bash
# Measures AS2 message machinery (no HTTP) in one run: dropgate
# (benches/as2.rs, criterion) and pyas2lib 1.4.4 (scripts/bench_as2.py)
# on the same RSA-2048 keys, the same X12 payloads (10 KB and 1 MB), the
# same message and the same signed MDN: outbound (build: sign SHA-256 and
# encrypt AES-256-CBC; parse the signed MDN) and inbound (open: decrypt,
# verify, MIC; build the signed MDN). Prints both tables (median time per
# message, messages/s, MB/s of payload) and each process's peak RSS.
#
#   scripts/bench-as2.sh
#   SECONDS_EACH=5 scripts/bench-as2.sh   # longer measurement per operation
#
# Both are pinned with taskset to the last core, as the other benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${SECONDS_EACH:-3}"
scripts/lib/as2-peers.sh
venv="${XDG_CACHE_HOME:-$HOME/.cache}/dropgate-tools/as2-peers-venv"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
pin=""
command -v taskset >/dev/null 2>&1 && pin="taskset -c $(( $(nproc) - 1 ))"
timev=()
[ -x /usr/bin/time ] && timev=(/usr/bin/time -v -o "$dir/time.txt")
peak() {  # the peak RSS line of /usr/bin/time -v, in MB
    [ -f "$dir/time.txt" ] && awk -F: '/Maximum resident set size/ {printf "%.1f MB\n", $2 / 1024}' "$dir/time.txt"
}

# The bench binary, run directly so that the peak RSS is its own, not cargo's.
exe="$(cargo bench --locked --bench as2 --no-run --message-format=json 2>/dev/null |
    "$venv/bin/python" -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "as2" and m.get("executable"):
        print(m["executable"])')"
export AS2_BENCH_DIR="$dir"
# criterion writes its estimates under target/criterion.
export CRITERION_HOME="$PWD/target/criterion"
echo "== dropgate: $exe"
$pin "${timev[@]}" "$exe" --bench --warm-up-time 1 --measurement-time "$seconds" >"$dir/criterion.txt" 2>&1
dropgate_peak="$(peak || true)"
echo "== pyas2lib: $("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("pyas2lib"))')"
$pin "${timev[@]}" "$venv/bin/python" scripts/bench_as2.py pyas2lib "$dir" "$seconds" >"$dir/pyas2lib.txt"
pyas2lib_peak="$(peak || true)"
echo
"$venv/bin/python" scripts/bench_as2.py criterion "$CRITERION_HOME/as2"
echo "dropgate bench process peak RSS (/usr/bin/time -v): ${dropgate_peak:-n/a}"
echo
cat "$dir/pyas2lib.txt"
echo "pyas2lib process peak RSS (/usr/bin/time -v): ${pyas2lib_peak:-n/a}"
