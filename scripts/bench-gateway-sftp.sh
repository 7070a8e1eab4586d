#!/usr/bin/env bash
# Measures the gateway end to end from an SFTP drop: a private OpenSSH sshd
# on 127.0.0.1 (its own keys and config, in bench-data/gateway-sftp/), N
# distinct X12 856s from Acme in its folder, one pass (`dropgate run
# --once`) that downloads, archives, records, translates, acknowledges (997s
# uploaded back over SFTP) and relays them all. Prints files/s and peak RSS.
#
#   scripts/bench-gateway-sftp.sh            # 500 files
#   FILES=2000 scripts/bench-gateway-sftp.sh
set -euo pipefail
cd "$(dirname "$0")/.."
files="${FILES:-500}"
cargo build --release --locked --quiet --bin dropgate
dir=$(pwd)/bench-data/gateway-sftp
rm -rf "$dir"
. scripts/lib/private-sshd.sh
start_private_sshd "$dir"
mkdir -p "$dir/root/from-acme" "$dir/root/to-acme" "$dir/partners"
cat > "$dir/gateway.toml" <<TOML
[gateway]
data_dir = "var"
[channel.acme-sftp]
type = "sftp"
$sshd_channel
path = "from-acme"
min_age_secs = 0
[channel.acme-out]
type = "sftp"
$sshd_channel
path = "to-acme"
[relay]
type = "file"
path = "relay"
TOML
cat > "$dir/partners/acme.toml" <<TOML
[x12]
interchange_id = "ZZ:VENDORID"
[[inbound]]
channel = "acme-sftp"
[outbound]
channel = "acme-out"
TOML
python3 - "$dir/root/from-acme" "$files" <<'PY'
import sys
out, n = sys.argv[1], int(sys.argv[2])
sample = open("samples/x12/good/856-4010-pick-and-pack.edi", "rb").read()
for i in range(n):
    open(f"{out}/asn-{i:06}.edi", "wb").write(sample.replace(b"BSN*00*", b"BSN*00*%08d" % i, 1))
PY
/usr/bin/time -o /tmp/dropgate-gws-time -f "%e %M" ./target/release/dropgate run --once -c "$dir/gateway.toml" >/tmp/dropgate-gws-out || true
read -r secs rss < <(tail -1 /tmp/dropgate-gws-time)
processed=$(grep -c ' processed ' /tmp/dropgate-gws-out || true)
acks=$(ls "$dir/root/to-acme" | wc -l)
python3 -c "import json; f,p,a,s,r=$files,$processed,$acks,$secs,$rss; print(json.dumps({'files':f,'processed':p,'acks_uploaded':a,'seconds':s,'files_per_s':round(f/s),'peak_rss_mb':round(r/1024,1)}))"
