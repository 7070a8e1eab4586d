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
sshd_bin=$(command -v sshd || echo /usr/sbin/sshd)
[ -x "$sshd_bin" ] || { echo "sshd is not installed: run scripts/setup.sh" >&2; exit 1; }
dir=$(pwd)/bench-data/gateway-sftp
rm -rf "$dir"
mkdir -p "$dir/etc" "$dir/root/from-acme" "$dir/root/to-acme" "$dir/partners"
chmod 755 "$dir"
ssh-keygen -q -t ed25519 -N '' -f "$dir/etc/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$dir/etc/client_key"
cp "$dir/etc/client_key.pub" "$dir/etc/authorized_keys"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$dir/etc/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $dir/etc/host_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/etc/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
Subsystem sftp internal-sftp
Match User $(id -un)
    ForceCommand internal-sftp -d $dir/root
CONF
mkdir -p /run/sshd
"$sshd_bin" -D -e -f "$dir/etc/sshd_config" 2>"$dir/sshd.log" &
sshd_pid=$!
trap 'kill $sshd_pid 2>/dev/null || true; wait $sshd_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),1)" 2>/dev/null && break
    sleep 0.1
done
known="[127.0.0.1]:$port $(cut -d' ' -f1,2 "$dir/etc/host_key.pub")"
common="host = \"127.0.0.1\"
port = $port
user = \"$(id -un)\"
private_key = \"$dir/etc/client_key\"
known_hosts = \"$known\""
cat > "$dir/gateway.toml" <<TOML
[gateway]
data_dir = "var"
[channel.acme-sftp]
type = "sftp"
$common
path = "from-acme"
min_age_secs = 0
[channel.acme-out]
type = "sftp"
$common
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
