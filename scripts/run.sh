#!/usr/bin/env bash
# The main job on the built-in defaults, with nothing to install: builds
# dropgate, then for every file in a drop folder (the samples by default)
# validates it, writes its 997 (or its error) into an outbox folder, and
# translates it to canonical JSON documents (the built-in X12 mappings).
#
#   scripts/run.sh                      # samples/drop -> out/
#   scripts/run.sh DROP_DIR OUT_DIR
#
# This is what the gateway daemon does per file today; `dropgate run`
# (polling SFTP drops and mailboxes) builds on it.
set -euo pipefail
cd "$(dirname "$0")/.."
drop="${1:-samples/drop}"
out="${2:-out}"
cargo build --release --locked --quiet --bin dropgate
mkdir -p "$out"
bin=./target/release/dropgate
for file in "$drop"/*; do
    [ -f "$file" ] || continue
    name=$(basename "$file")
    if "$bin" x12 validate --errors-only "$file" >"$out/$name.report" 2>"$out/$name.error"; then
        verdict="accepted"
    else
        verdict="has errors (see $out/$name.report)"
    fi
    if [ -s "$out/$name.error" ]; then
        echo "$name: cannot be read: $(cat "$out/$name.error")"
        continue
    fi
    rm -f "$out/$name.error"
    "$bin" ack "$file" >"$out/$name.997" 2>/dev/null
    [ -s "$out/$name.997" ] || rm -f "$out/$name.997"
    "$bin" translate "$file" >"$out/$name.json" 2>/dev/null || true
    docs=$(grep -c '^{"type"' "$out/$name.json" || true)
    echo "$name: $verdict; acknowledgment: $( [ -f "$out/$name.997" ] && echo "$out/$name.997" || echo "none (the file holds acknowledgments)"); canonical documents: $docs in $out/$name.json"
done
