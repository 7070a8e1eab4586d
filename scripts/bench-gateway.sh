#!/usr/bin/env bash
# Measures the gateway end to end from a local drop with the SQLite store:
# N small files (X12 856s from Acme, each distinct) are dropped, then one
# pass (`dropgate run --once`) archives, records, translates, acknowledges
# and relays them all. Prints files/s, documents/s, CPU time and peak RSS.
#
#   scripts/bench-gateway.sh                # 2,000 small files
#   FILES=10000 scripts/bench-gateway.sh
#   DOCS_MB=20 scripts/bench-gateway.sh     # one 20 MB file of X12 850s
#   DOCS_MB=20 SPLIT=100 scripts/bench-gateway.sh   # the same orders in 100 files
set -euo pipefail
cd "$(dirname "$0")/.."
files="${FILES:-2000}"
docs_mb="${DOCS_MB:-}"
cargo build --release --locked --quiet --bin dropgate
dir=bench-data/gateway
# The previous run is moved aside, not deleted: deleting thousands of files
# slows every file created in the next minute or two on ext4 (see
# scripts/settle-disk.py). `rm -rf bench-data/trash` when done.
if [ -e "$dir" ]; then
    mkdir -p bench-data/trash
    mv "$dir" "bench-data/trash/gateway-$(date +%s%N)"
fi
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
if [ -n "$docs_mb" ]; then
    # One file of purchase orders from the retailer's own EDI system (a
    # partner whose X12 needs no acknowledgment).
    files=1
    cat > "$dir/partners/orders.toml" <<TOML
[x12]
interchange_id = "ZZ:RETAILERID"
acknowledgment = "none"
[[inbound]]
channel = "drop"
TOML
    mkdir -p bench-data
    python3 scripts/bench_inputs.py "$docs_mb" bench-data
    files="${SPLIT:-1}"
    python3 - "bench-data/850-${docs_mb}M.edi" "$dir/drop" "$files" <<'PY'
import sys
source, out, parts = sys.argv[1], sys.argv[2], int(sys.argv[3])
text = open(source).read()
head, _, rest = text.partition("ST*850*")
isa, gs = head.splitlines(keepends=True)[:2]
sets = ["ST*850*" + s for s in rest.split("ST*850*")]
sets[-1] = sets[-1][: sets[-1].index("GE*")]
per = -(-len(sets) // parts)
for p in range(parts):
    chunk = sets[p * per:(p + 1) * per]
    with open(f"{out}/orders-{p:04}.edi", "w") as f:
        f.write(isa.replace("000000101", f"{p + 1:09}") + gs.replace("*101*", f"*{p + 1}*"))
        f.write("".join(chunk))
        f.write(f"GE*{len(chunk)}*{p + 1}~\nIEA*1*{p + 1:09}~\n")
PY
else
    python3 - "$dir/drop" "$files" <<'PY'
import sys
out, n = sys.argv[1], int(sys.argv[2])
sample = open("samples/x12/good/856-4010-pick-and-pack.edi", "rb").read()
for i in range(n):
    # A distinct shipment number in each file (BSN02), same length.
    body = sample.replace(b"BSN*00*", b"BSN*00*%08d" % i, 1)
    open(f"{out}/asn-{i:06}.edi", "wb").write(body)
PY
fi
# Wait for the disk to be quiet (earlier deletions, the files just written).
sync
python3 scripts/settle-disk.py "$dir"
bytes=$(cat "$dir"/drop/* | wc -c)
/usr/bin/time -o /tmp/dropgate-gw-time -f "%e %M %U %S" ./target/release/dropgate run --once -c "$dir/gateway.toml" >/tmp/dropgate-gw-out || true
read -r secs rss user sys < <(tail -1 /tmp/dropgate-gw-time)
docs=$(cat "$dir"/relay/*.jsonl | wc -l)
processed=$(grep -c ' processed ' /tmp/dropgate-gw-out || true)
python3 -c "import json; f,d,s,r,b,p,u,k=$files,$docs,$secs,$rss,$bytes,$processed,$user,$sys; print(json.dumps({'files':f,'processed':p,'documents':d,'bytes':b,'seconds':s,'user_s':u,'sys_s':k,'files_per_s':round(f/s),'documents_per_s':round(d/s),'peak_rss_mb':round(r/1024,1)}))"
