#!/usr/bin/env bash
# The gateway relaying to NATS JetStream, on this machine: starts a private
# nats-server with JetStream on 127.0.0.1 (needs nats-server:
# scripts/setup.sh; its storage in var/try-nats/nats/, a monitoring port
# beside it), writes a gateway folder (var/try-nats/gateway.toml) that
# takes the sample vendor files (Acme's X12, Nordlys's CSV, ParcelCo's XML;
# the partners of samples/partners/) from var/try-nats/drop/ and relays
# each canonical document to the stream EDI, which the gateway creates, on
# dropgate.<type>.<partner> with its idempotency key as Nats-Msg-Id. Then
# it runs one pass and prints what the stream holds, and runs the same
# deliveries again to show that JetStream drops them as duplicates.
#
#   scripts/try-nats.sh             # one pass, then the stream's state
#   FOLLOW=1 scripts/try-nats.sh    # keep the daemon running (Ctrl-C stops
#                                   # it and the server): copy more files
#                                   # into var/try-nats/drop/
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet --bin dropgate
bin=$(pwd)/target/release/dropgate
dir=$(pwd)/var/try-nats
nats_server=$(command -v nats-server || echo /usr/sbin/nats-server)
[ -x "$nats_server" ] || { echo "nats-server is not installed: scripts/setup.sh installs it" >&2; exit 1; }
rm -rf "$dir"
mkdir -p "$dir/nats" "$dir/drop"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
monitor=$(free_port)
"$nats_server" -a 127.0.0.1 -p "$port" -m "$monitor" -js -sd "$dir/nats/js" \
    -l "$dir/nats/nats.log" -P "$dir/nats/nats.pid" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    grep -q "Server is ready" "$dir/nats/nats.log" 2>/dev/null && break
    sleep 0.1
done
cp -L samples/drop/* "$dir/drop/"

cat > "$dir/gateway.toml" <<TOML
[gateway]
data_dir = "var"
partners = "$(pwd)/samples/partners"
poll_interval_secs = 5

[x12]
interchange_id = "ZZ:RETAILERID"

[channel.drop]
type = "dir"
path = "drop"
min_age_secs = 2

[channel.acme-out]
type = "dir"
path = "outbox/acme"

[relay]
type = "nats"
url = "nats://127.0.0.1:$port"
subject = "dropgate.{type}.{partner}"
stream = "EDI"                 # created with the subjects dropgate.*.* when missing
TOML

stream_state() {
    curl -s "http://127.0.0.1:$monitor/jsz?streams=true" | python3 -c '
import json, sys
jsz = json.load(sys.stdin)
for account in jsz.get("account_details", []):
    for stream in account.get("stream_detail", []):
        state = stream["state"]
        print("  stream %s: %d messages on %s subjects"
              % (stream["name"], state["messages"], state.get("num_subjects", "?")))'
}

"$bin" check-config -c "$dir/gateway.toml"
# The files must be two seconds old (min_age_secs) to be taken.
sleep 2
if [ -n "${FOLLOW:-}" ]; then
    echo "nats-server on nats://127.0.0.1:$port; add files to $dir/drop/"
    "$bin" run -c "$dir/gateway.toml"
    exit 0
fi
# One pass; it exits 1 when a file is quarantined, as some samples are.
"$bin" run --once -c "$dir/gateway.toml" || [ $? -eq 1 ]
echo
echo "what JetStream holds:"
before=$(stream_state)
echo "$before"
echo
echo "the same deliveries made again (as after a crash that lost their record):"
python3 - "$dir/var/state.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE outbox SET done_at = NULL, progress = 0, next_try_at = 0 WHERE target = 'relay'")
db.commit()
PY
"$bin" run --once -c "$dir/gateway.toml" >/dev/null || [ $? -eq 1 ]
after=$(stream_state)
echo "$after"
if [ "$before" = "$after" ]; then
    echo "  JetStream dropped every repeat by its Nats-Msg-Id"
else
    echo "  the stream grew: a repeat was stored" >&2
    exit 1
fi
