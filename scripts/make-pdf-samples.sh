#!/usr/bin/env bash
# Regenerates the sample PDF invoices of samples/pdf/ and their truth files
# (scripts/pdf-samples/make.py; samples/pdf/README.md lists them).
#
#     scripts/make-pdf-samples.sh [GENERATOR ...]
#
# GENERATOR: reportlab, scan, fpdf2, bad, libreoffice, chromium, latex
# (all when none is given). The PDFs are committed: the tests read them
# and need none of this.
#
# Needs python3 (3.11) with venv; reportlab, fpdf2 and Pillow are pinned
# in scripts/pdf-samples/requirements.txt and installed from PyPI into
# ${XDG_CACHE_HOME:-~/.cache}/dropgate-tools/pdf-samples-venv. It also
# uses, when installed (a generator whose program is missing is skipped
# with a note and its committed samples stay as they are):
#
# - poppler-utils (pdftoppm) and qpdf, from scripts/setup.sh: the scanned
#   sample and the encrypted ones;
# - libreoffice-writer-nogui (soffice), chromium, and texlive-latex-base
#   with texlive-latex-recommended and texlive-fonts-recommended
#   (pdflatex), which setup.sh does not install:
#     apt-get install --no-install-recommends libreoffice-writer-nogui \
#         chromium texlive-latex-base texlive-latex-recommended \
#         texlive-fonts-recommended
#
# The output is the same on every run (fixed dates and IDs, reportlab's
# invariant mode, SOURCE_DATE_EPOCH), except where a tool adds a random
# salt; README.md in samples/pdf says which and how that is contained.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
venv="${XDG_CACHE_HOME:-$HOME/.cache}/dropgate-tools/pdf-samples-venv"
requirements="$here/pdf-samples/requirements.txt"

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
# Reinstall only when the pins changed.
if ! cmp -s "$requirements" "$venv/requirements.txt"; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$venv/requirements.txt"
fi

cd "$here/pdf-samples"
export PYTHONDONTWRITEBYTECODE=1
"$venv/bin/python" make.py "$@"

# Samples stay small: a file over 500 KB or a folder over 3 MB is a mistake.
out="$here/../samples/pdf"
big=$(find "$out" -type f -size +500k)
if [ -n "$big" ]; then
    echo "make-pdf-samples: files over 500 KB:" >&2
    echo "$big" >&2
    exit 1
fi
total=$(du -sk "$out" | cut -f1)
echo "samples/pdf: ${total} KB"
if [ "$total" -gt 3072 ]; then
    echo "make-pdf-samples: samples/pdf is over 3 MB" >&2
    exit 1
fi
