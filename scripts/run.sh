#!/usr/bin/env bash
# The main job on the embedded defaults, with nothing to install: builds
# dropgate, sends twelve sample purchase orders and a cancellation to Acme
# (samples/orders/, made by scripts/make-demo-orders.py; as X12 850s in
# var/outbox/acme/), copies the sample vendor files (Acme's answers to those
# orders: 997s, 855s, 856s and 810s; X12 from Acme, a CSV stock feed from
# Nordlys, an XML status feed from ParcelCo, and a few that must be
# quarantined) into var/drop/, and runs one pass of the gateway on
# samples/gateway.toml: each file is archived, recorded in the SQLite store
# (var/state.db), identified, translated, acknowledged (997s for Acme in
# var/outbox/acme/), linked to its order and relayed (JSON lines in
# var/relay/). It prints what happened to each file, then the orders (one in
# every state, from sent to reconciled, held, rejected and cancelled) and
# the exceptions that need a person.
#
#   scripts/run.sh            # a fresh var/ each time, then the gateway
#                             # keeps running with its console on
#                             # http://127.0.0.1:8490 (demo / dropgate-demo)
#   ONCE=1 scripts/run.sh     # the pass only
#   KEEP=1 scripts/run.sh     # keep var/: the same files again are duplicates
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet --bin dropgate
bin=./target/release/dropgate
[ -n "${KEEP:-}" ] || rm -rf var
mkdir -p var/drop
"$bin" check-config -c samples/gateway.toml
# The orders first: each goes out in its own group, numbered 1 to 12 in a
# fresh store and 13 for the cancellation, the numbers Acme's 997s name
# (the 997s the pass sends take the next ones). Sent again (KEEP=1), each
# is said to be sent before and not sent again.
for po in samples/orders/PO-582??.json samples/orders/PO-58211-cancel.json; do
    "$bin" send-po -c samples/gateway.toml --partner acme "$po"
done
cp -L samples/drop/* samples/orders/*.edi var/drop/
# One pass; it exits 1 when a file is quarantined, as some samples are.
"$bin" run --once -c samples/gateway.toml || [ $? -eq 1 ]
echo
echo "relayed documents:  var/relay/"
ls var/relay
echo "orders and 997s for Acme: var/outbox/acme/"
ls var/outbox/acme
echo
echo "orders: $bin orders -c samples/gateway.toml; one order: $bin orders -c samples/gateway.toml PO-58206"
"$bin" orders -c samples/gateway.toml
echo
echo "exceptions: $bin exceptions -c samples/gateway.toml --check"
"$bin" exceptions -c samples/gateway.toml --check
echo
echo "what happened to each file: $bin files -c samples/gateway.toml; one file: $bin show -c samples/gateway.toml N"
[ -z "${ONCE:-}" ] || exit 0
echo
echo "The gateway keeps running, with its console: open http://127.0.0.1:8490"
echo "and log in as demo, password dropgate-demo. Ctrl-C stops it."
exec "$bin" run -c samples/gateway.toml
