#!/usr/bin/env bash
# The gateway picking up a vendor's SFTP drop, on this machine: starts a
# private OpenSSH sshd on 127.0.0.1 (needs openssh-server: scripts/setup.sh)
# that plays Acme's SFTP server, with Acme's sample X12 files in its
# `outgoing/` folder; writes a gateway folder (var/try-sftp/gateway.toml and
# partners/acme.toml) whose channel pins the server's host key and logs in
# with a key; then runs the gateway. Each file is downloaded, moved to
# `outgoing/processed/` on the server, archived, translated and relayed
# (var/try-sftp/relay/), and Acme's 997s are uploaded to `incoming/`.
#
#   scripts/try-sftp.sh             # one pass, then what happened
#   FOLLOW=1 scripts/try-sftp.sh    # keep the daemon running (Ctrl-C stops
#                                   # it): copy more files into
#                                   # var/try-sftp/server/root/outgoing/
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet --bin dropgate
bin=$(pwd)/target/release/dropgate
dir=$(pwd)/var/try-sftp
rm -rf "$dir"
. scripts/lib/private-sshd.sh
start_private_sshd "$dir/server"
mkdir -p "$dir/server/root/outgoing" "$dir/server/root/incoming" "$dir/partners"
cp -L samples/drop/856-4010-pick-and-pack.edi samples/drop/846-5010.edi \
    samples/drop/810-4010-bad-date.edi "$dir/server/root/outgoing/"

cat > "$dir/gateway.toml" <<TOML
[gateway]
data_dir = "var"
poll_interval_secs = 5

[x12]
interchange_id = "ZZ:RETAILERID"

# Acme's SFTP server: what it has for us is in outgoing/.
[channel.acme-sftp]
type = "sftp"
$sshd_channel
path = "outgoing"
patterns = ["*.edi"]
min_age_secs = 2
after = "move"

# What we send Acme goes to incoming/ on the same server.
[channel.acme-sftp-out]
type = "sftp"
$sshd_channel
path = "incoming"

[relay]
type = "file"
path = "relay"
TOML

cat > "$dir/partners/acme.toml" <<'TOML'
[partner]
name = "Acme Supply"

[x12]
interchange_id = "ZZ:VENDORID"
acknowledgment = "997"
acknowledge = "always"

[[inbound]]
channel = "acme-sftp"
patterns = ["*.edi"]

[outbound]
channel = "acme-sftp-out"
TOML

"$bin" check-config -c "$dir/gateway.toml"
# The files must be two seconds old (min_age_secs) to be taken.
sleep 2
if [ -n "${FOLLOW:-}" ]; then
    echo "polling Acme's server every 5 s; add files to $dir/server/root/outgoing/"
    "$bin" run -c "$dir/gateway.toml"
    exit 0
fi
# One pass; it exits 1 when a file is quarantined, as the bad 810 is.
"$bin" run --once -c "$dir/gateway.toml" || [ $? -eq 1 ]
echo
echo "on Acme's server, taken:      $(ls "$dir/server/root/outgoing/processed" | tr '\n' ' ')"
echo "on Acme's server, our 997s:   $(ls "$dir/server/root/incoming" | tr '\n' ' ')"
echo "relayed documents:            $(ls "$dir/relay" | tr '\n' ' ')"
echo
echo "what happened to each file: $bin files -c $dir/gateway.toml"
