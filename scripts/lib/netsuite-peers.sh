#!/usr/bin/env bash
# Makes the Python virtualenv of the independent NetSuite peers that the
# tests run (the PyPI `netsuite` client, oauthlib, PyJWT), outside the
# repository: ${XDG_CACHE_HOME:-$HOME/.cache}/dropgate-tools/netsuite-peers-venv.
# Idempotent: pip runs only when scripts/netsuite-peers/requirements.txt
# changed. Prints nothing when there is nothing to do.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
requirements="$here/netsuite-peers/requirements.txt"
venv="${XDG_CACHE_HOME:-$HOME/.cache}/dropgate-tools/netsuite-peers-venv"

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
if ! cmp -s "$requirements" "$venv/requirements.txt"; then
    echo "setup: installing the NetSuite peers into $venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$venv/requirements.txt"
fi
