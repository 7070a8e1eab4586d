"""Writes every sample PDF and its truth file into samples/pdf/.

Run through scripts/make-pdf-samples.sh (which makes the venv with the
pinned reportlab and fpdf2). Generators whose program is not installed
(LibreOffice, Chromium, pdflatex) are skipped with a note, and their
committed samples are left as they are.

    python make.py [--out DIR] [GENERATOR ...]

GENERATOR is one of the names in GENERATORS (all when none is given).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

import gen_bad
import gen_fpdf
import gen_latex
import gen_office
import gen_reportlab
import gen_scan

# name -> (module with generate(out) -> [folders], programs it needs)
GENERATORS = {
    "reportlab": (gen_reportlab, []),
    "scan": (gen_scan, ["pdftoppm"]),
    "fpdf2": (gen_fpdf, ["qpdf"]),
    "bad": (gen_bad, ["qpdf"]),
    "libreoffice": (gen_office.LibreOffice, ["soffice"]),
    "chromium": (gen_office.Chromium, ["chromium"]),
    "latex": (gen_latex, ["pdflatex"]),
}


def main() -> int:
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=here.parent.parent / "samples" / "pdf")
    parser.add_argument("generators", nargs="*", metavar="GENERATOR", help=", ".join(GENERATORS))
    args = parser.parse_args()
    unknown = [g for g in args.generators if g not in GENERATORS]
    if unknown:
        parser.error(f"unknown generator {', '.join(unknown)}; known: {', '.join(GENERATORS)}")
    # Tools that honour it (pdflatex, LibreOffice) write this date.
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1795161600")  # 2026-11-15 00:00 UTC
    args.out.mkdir(parents=True, exist_ok=True)
    skipped = []
    for name in args.generators or GENERATORS:
        module, programs = GENERATORS[name]
        missing = [p for p in programs if shutil.which(p) is None]
        if missing:
            skipped.append(f"{name} (needs {', '.join(missing)})")
            continue
        folders = module.generate(args.out)
        print(f"{name}: {', '.join(folders)}")
    for note in skipped:
        print(f"skipped {note}; its committed samples are unchanged", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
