#!/usr/bin/env bash
# Installs s3s-fs, the S3-protocol server that tests/gateway_s3.rs starts on
# 127.0.0.1 (tests/support/s3.rs), into a cache folder outside the
# repository: ${XDG_CACHE_HOME:-$HOME/.cache}/dropgate-tools/bin/s3s-fs.
# Idempotent: nothing is built when that version is there already.
#
# 0.14.1 is the newest s3s-fs that builds on rustc 1.95 (0.15 and later
# declare rust-version 1.96). `--locked` warns that spin 0.10.0 is yanked;
# that is harmless.
set -euo pipefail

version=0.14.1
root="${XDG_CACHE_HOME:-$HOME/.cache}/dropgate-tools"
binary="$root/bin/s3s-fs"

if [ -x "$binary" ] && [ "$("$binary" --version 2>/dev/null)" = "s3s-fs $version" ]; then
    exit 0
fi
echo "setup: building s3s-fs $version into $root (about a minute and a half)" >&2
cargo install s3s-fs --version "$version" --features binary --locked --root "$root"
