#!/usr/bin/env bash
# Makes the Python virtualenv of the independent AS2 peer that the tests
# run (pyas2lib), outside the repository:
# ${XDG_CACHE_HOME:-$HOME/.cache}/dropgate-tools/as2-peers-venv.
# Idempotent: pip runs only when scripts/as2-peers/requirements.txt
# changed, and the oscrypto patch below is applied only where it is
# missing. Prints nothing when there is nothing to do.
#
# The patch: oscrypto 1.3.0 (the newest release) finds libcrypto's version
# with the regex \b(\d\.\d\.\d[a-z]*)\b, which cannot read "3.0.19" (a
# two-digit patch level), so importing it fails with "Error detecting the
# version of libcrypto". Each digit becomes \d+.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
requirements="$here/as2-peers/requirements.txt"
venv="${XDG_CACHE_HOME:-$HOME/.cache}/dropgate-tools/as2-peers-venv"

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
if ! cmp -s "$requirements" "$venv/requirements.txt"; then
    echo "setup: installing the AS2 peer (pyas2lib) into $venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$venv/requirements.txt"
fi

# find_spec does not import oscrypto, so this works on an unpatched install.
openssl_dir="$("$venv/bin/python" -c 'import importlib.util, os; print(os.path.dirname(importlib.util.find_spec("oscrypto").origin))')/_openssl"
for file in "$openssl_dir/_libcrypto_cffi.py" "$openssl_dir/_libcrypto_ctypes.py"; do
    if grep -q '(\\\\d\\\\.\\\\d\\\\.\\\\d\[a-z\]\*)' "$file"; then
        sed -i 's/(\\\\d\\\\.\\\\d\\\\.\\\\d\[a-z\]\*)/(\\\\d+\\\\.\\\\d+\\\\.\\\\d+[a-z]*)/' "$file"
    fi
done
if ! "$venv/bin/python" -c 'import oscrypto.asymmetric, pyas2lib' 2>/dev/null; then
    echo "setup: pyas2lib in $venv does not import; see: $venv/bin/python -c 'import pyas2lib'" >&2
    exit 1
fi
