#!/usr/bin/env bash
# The main job on the embedded defaults, with nothing to install: builds
# dropgate, copies the sample vendor files (X12 from Acme, a CSV stock feed
# from Nordlys, an XML status feed from ParcelCo, and a few that must be
# quarantined) into var/drop/, and runs one pass of the gateway on
# samples/gateway.toml: each file is archived, recorded in the SQLite store
# (var/state.db), identified, translated, acknowledged (997s for Acme in
# var/outbox/acme/) and relayed (JSON lines in var/relay/). It prints what
# happened to each file, then the list `dropgate files` keeps.
#
#   scripts/run.sh            # a fresh var/ each time
#   KEEP=1 scripts/run.sh     # keep var/: the same files again are duplicates
#
# To keep the gateway running and polling the drop instead:
#   target/release/dropgate run -c samples/gateway.toml
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet --bin dropgate
bin=./target/release/dropgate
[ -n "${KEEP:-}" ] || rm -rf var
mkdir -p var/drop
cp -L samples/drop/* var/drop/
"$bin" check-config -c samples/gateway.toml
# One pass; it exits 1 when a file is quarantined, as some samples are.
"$bin" run --once -c samples/gateway.toml || [ $? -eq 1 ]
echo
echo "relayed documents:  var/relay/"
ls var/relay
echo "997s for Acme:      var/outbox/acme/"
ls var/outbox/acme
echo
echo "what happened to each file: $bin files -c samples/gateway.toml; one file: $bin show -c samples/gateway.toml N"
