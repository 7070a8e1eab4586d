#!/usr/bin/env bash
# Measures the gateway end to end from a local drop with the SQLite store:
# N small files (X12 856s from Acme, each distinct) are dropped, then one
# pass (`dropgate run --once`) archives, records, translates, acknowledges
# and relays them all. Prints files/s, documents/s and peak RSS.
#
#   scripts/bench-gateway.sh            # 2,000 files
#   FILES=10000 scripts/bench-gateway.sh
set -euo pipefail
cd "$(dirname "$0")/.."
files="${FILES:-2000}"
cargo build --release --locked --quiet --bin dropgate
dir=bench-data/gateway
rm -rf "$dir"
mkdir -p "$dir/drop" "$dir/partners"
cp samples/partners/acme.toml "$dir/partners/"
cat > "$dir/gateway.toml" <<TOML
[gateway]
data_dir = "var"
[channel.drop]
type = "dir"
path = "drop"
min_age_secs = 0
[channel.acme-out]
type = "dir"
path = "out/acme"
[relay]
type = "file"
path = "relay"
TOML
python3 - "$dir/drop" "$files" <<'PY'
import sys
out, n = sys.argv[1], int(sys.argv[2])
sample = open("samples/x12/good/856-4010-pick-and-pack.edi", "rb").read()
for i in range(n):
    # A distinct shipment number in each file (BSN02), same length.
    body = sample.replace(b"BSN*00*", b"BSN*00*%08d" % i, 1)
    open(f"{out}/asn-{i:06}.edi", "wb").write(body)
PY
bytes=$(cat "$dir"/drop/* | wc -c)
/usr/bin/time -o /tmp/dropgate-gw-time -f "%e %M" ./target/release/dropgate run --once -c "$dir/gateway.toml" >/tmp/dropgate-gw-out || true
read -r secs rss < <(tail -1 /tmp/dropgate-gw-time)
docs=$(cat "$dir"/relay/*.jsonl | wc -l)
processed=$(grep -c ' processed ' /tmp/dropgate-gw-out || true)
python3 -c "import json; f,d,s,r,b,p=$files,$docs,$secs,$rss,$bytes,$processed; print(json.dumps({'files':f,'processed':p,'documents':d,'bytes':b,'seconds':s,'files_per_s':round(f/s),'documents_per_s':round(d/s),'peak_rss_mb':round(r/1024,1)}))"
