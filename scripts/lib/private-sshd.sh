# Sourced by scripts that need an SFTP server: starts a private OpenSSH sshd
# on 127.0.0.1 (a free port, its own host key, a client key, internal-sftp
# rooted at DIR/root), stopped when the calling script exits.
#
#   . scripts/lib/private-sshd.sh
#   start_private_sshd "$PWD/some/dir"
#   # then: $sshd_port, $sshd_user, $sshd_client_key, $sshd_known_hosts,
#   # and $sshd_channel: those as the lines of a gateway's SFTP channel
start_private_sshd() {
    local dir=$1
    local sshd_bin
    sshd_bin=$(command -v sshd || echo /usr/sbin/sshd)
    [ -x "$sshd_bin" ] || { echo "sshd is not installed: run scripts/setup.sh" >&2; exit 1; }
    mkdir -p "$dir/etc" "$dir/root"
    chmod 755 "$dir"
    [ -f "$dir/etc/host_key" ] || ssh-keygen -q -t ed25519 -N '' -f "$dir/etc/host_key"
    [ -f "$dir/etc/client_key" ] || ssh-keygen -q -t ed25519 -N '' -f "$dir/etc/client_key"
    cp "$dir/etc/client_key.pub" "$dir/etc/authorized_keys"
    sshd_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    sshd_user=$(id -un)
    cat > "$dir/etc/sshd_config" <<CONF
Port $sshd_port
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
Match User $sshd_user
    ForceCommand internal-sftp -d $dir/root
CONF
    mkdir -p /run/sshd
    "$sshd_bin" -D -e -f "$dir/etc/sshd_config" 2>"$dir/sshd.log" &
    sshd_pid=$!
    trap 'kill $sshd_pid 2>/dev/null || true; wait $sshd_pid 2>/dev/null || true' EXIT
    for _ in $(seq 50); do
        python3 -c "import socket; socket.create_connection(('127.0.0.1',$sshd_port),1)" 2>/dev/null && break
        sleep 0.1
    done
    sshd_client_key="$dir/etc/client_key"
    sshd_known_hosts="[127.0.0.1]:$sshd_port $(cut -d' ' -f1,2 "$dir/etc/host_key.pub")"
    sshd_channel="host = \"127.0.0.1\"
port = $sshd_port
user = \"$sshd_user\"
private_key = \"$sshd_client_key\"
known_hosts = \"$sshd_known_hosts\""
}
