#!/usr/bin/env bash
# Installs what the tests need, idempotently. Safe to run again and again.
#
# The X12 engine needs only the Rust toolchain (rustc 1.95, which the
# machine has). The servers the gateway's tests start are Debian packages,
# installed here as those tests arrive:
#
# - openssh-server, openssh-sftp-server: the private sshd of tests/sftp.rs
#   (started on 127.0.0.1 with its own configuration; no system sshd).
# - dovecot-core, dovecot-imapd: the private Dovecot of tests/imap.rs
#   (IMAP and IMAPS on 127.0.0.1, its own configuration and run folder;
#   no system dovecot). openssl makes its test CA and certificate.
# - python3-aiosmtpd: the SMTP server of tests/smtp.rs and
#   tests/gateway_smtp.rs (run by /usr/bin/python3 on 127.0.0.1, STARTTLS
#   and AUTH, storing each message in a folder).
# - nats-server: the private NATS server with JetStream of
#   tests/gateway_nats.rs (127.0.0.1, a free port, its own storage folder).
# - postgresql: the private PostgreSQL of tests/store_backends.rs and
#   tests/gateway_postgres.rs (initdb and pg_ctl on a temporary folder and
#   a free port on 127.0.0.1, run as the package's postgres user when the
#   tests run as root; no system cluster is started or used).
# - poppler-utils: pdftoppm renders a scanned PDF page to an image for OCR
#   (src/ocr.rs, tests/pdf_ocr.rs); pdftotext is the reference
#   that the words of the PDF reader are compared with.
# - tesseract-ocr: OCR of PDF pages without a text layer
#   (src/ocr.rs runs the `tesseract` program; tests/pdf_ocr.rs).
# - tesseract-ocr-eng: tesseract's English model, the one OCR uses.
# - chromium, chromium-driver: the headless browser and its WebDriver
#   server that tests/support/browser.rs drives (chromedriver on a free
#   port of 127.0.0.1, a fresh profile folder per test) for the web
#   console's browser tests and tests/browser_harness.rs.
# - gnupg: GnuPG, the partner's OpenPGP in tests/pgp_gnupg.rs and
#   tests/gateway_pgp.rs (tests/support/gpg.rs: a GNUPGHOME of its own).
#
# One server comes from crates.io instead (scripts/lib/s3s-fs.sh): s3s-fs,
# the S3-protocol server of tests/gateway_s3.rs, built once into
# ${XDG_CACHE_HOME:-~/.cache}/dropgate-tools (about a minute and a half).
#
# The independent NetSuite peers (the PyPI `netsuite` client, oauthlib,
# PyJWT) go into a virtualenv of their own (scripts/lib/netsuite-peers.sh),
# in ${XDG_CACHE_HOME:-~/.cache}/dropgate-tools/netsuite-peers-venv.
# The independent AS2 peer (pyas2lib 1.4.4, with oscrypto patched to read
# OpenSSL 3.0.x versions) goes into another (scripts/lib/as2-peers.sh),
# ${XDG_CACHE_HOME:-~/.cache}/dropgate-tools/as2-peers-venv.
#
# Packages given as arguments are installed too.
set -euo pipefail

if ! command -v cargo >/dev/null 2>&1; then
    echo "setup: cargo is not on PATH; install Rust 1.95 (rustup) first" >&2
    exit 1
fi

packages=(openssh-server openssh-sftp-server dovecot-core dovecot-imapd openssl python3-aiosmtpd nats-server postgresql poppler-utils tesseract-ocr tesseract-ocr-eng chromium chromium-driver gnupg "$@")

need=()
for pkg in "${packages[@]}"; do
    # Installed means "install ok installed", not merely known to dpkg.
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    # The tests start their own servers on 127.0.0.1; apt must not start
    # system ones (sshd on port 22 and the like). Where no policy-rc.d
    # forbids service starts, one is put in place for the install only.
    policy=/usr/sbin/policy-rc.d
    own_policy=""
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\n# put by dropgate scripts/setup.sh for one install\nexit 101\n' |
            $sudo_cmd tee "$policy" >/dev/null
        $sudo_cmd chmod 755 "$policy"
        own_policy=1
    fi
    remove_policy() { [ -z "$own_policy" ] || $sudo_cmd rm -f "$policy"; }
    trap remove_policy EXIT
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

"$(dirname "$0")/lib/s3s-fs.sh"
"$(dirname "$0")/lib/netsuite-peers.sh"
"$(dirname "$0")/lib/as2-peers.sh"
