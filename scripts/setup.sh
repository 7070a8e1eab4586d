#!/usr/bin/env bash
# Installs what the tests need, idempotently. Safe to run again and again.
#
# Today the X12 engine needs only the Rust toolchain (rustc 1.95, which the
# machine has). The servers the gateway's tests start (sshd, Dovecot, an SMTP
# server, PostgreSQL, NATS) are installed here as those tests arrive.
set -euo pipefail

if ! command -v cargo >/dev/null 2>&1; then
    echo "setup: cargo is not on PATH; install Rust 1.95 (rustup) first" >&2
    exit 1
fi

need=()
for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
