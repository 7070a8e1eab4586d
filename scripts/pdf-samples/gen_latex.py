"""The LaTeX sample: pdflatex with its default fonts.

pinecrest: plain LaTeX as most people write it (no fontenc, no
font package), so the text is Computer Modern: embedded Type 1 subsets
with the fonts' built-in (OT1) encoding and no /Encoding in the PDF (TeX
Live 2022 adds ToUnicode maps). TeX sets "fi", "fl" and "ffi" as single
ligature glyphs (codes 12, 13, 14): "Office", "Fulfillment", "flat",
"filing", "first" must come out letter by letter. The line table is a
booktabs table (three rules, no vertical ones).

SOURCE_DATE_EPOCH with FORCE_SOURCE_DATE=1 and a fixed \\pdftrailerid make
pdfTeX write the same bytes every time.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import vendors
from invoice import Invoice, Style, tool_version, write_truth

SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%",
    # OT1 Computer Modern has "$" at 36; LaTeX's \$ would take it from a
    # TS1 font, which only exists here as a bitmap (Type 3).
    "$": r"{\char36}", "#": r"\#",
    "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\^{}",
}


def tex(text: str) -> str:
    """Text with LaTeX's special characters escaped."""
    return "".join(SPECIAL.get(c, c) for c in text)


def document(inv: Invoice, st: Style) -> str:
    def money(value) -> str:
        return tex(st.amount(value, symbol=True))

    rows = "\n".join(
        f"{n} & {tex(i.sku)} & {tex(i.description)} & {st.quantity(i.quantity)} & {i.uom} & "
        f"{tex(st.amount(i.unit_price))} & {tex(st.amount(i.amount))} \\\\"
        for n, i in enumerate(inv.items, start=1)
    )
    rate = st.quantity(inv.tax_rate * 100)
    newline = r" \\ "
    vendor = newline.join(tex(x) for x in inv.vendor.address)
    bill = newline.join(tex(x) for x in (inv.bill_to.name, *inv.bill_to.address))
    ship = newline.join(tex(x) for x in (inv.ship_to.name, *inv.ship_to.address))
    return rf"""\documentclass[11pt]{{article}}
\usepackage[letterpaper,margin=0.8in]{{geometry}}
\usepackage{{booktabs}}
\usepackage{{array}}
\pagestyle{{empty}}
\pdftrailerid{{dropgate-{tex(inv.number)}}}
\setlength{{\parindent}}{{0pt}}
\begin{{document}}
\begin{{minipage}}[t]{{0.55\textwidth}}
{{\Large\bfseries {tex(inv.vendor.name)}}}\\[2pt]
{vendor}
\end{{minipage}}\hfill
\begin{{minipage}}[t]{{0.4\textwidth}}\raggedleft
{{\LARGE\bfseries Invoice}}\\[6pt]
\begin{{tabular}}{{@{{}}l r@{{}}}}
Invoice Number: & {tex(inv.number)} \\
Invoice Date: & {st.date(inv.date)} \\
Purchase Order: & {tex(inv.po_number)} \\
Terms: & {tex(inv.terms)} \\
Payment Due: & {st.date(inv.due_date)} \\
\end{{tabular}}
\end{{minipage}}

\vspace{{24pt}}
\begin{{minipage}}[t]{{0.48\textwidth}}
\textbf{{Bill to}}\\
{bill}
\end{{minipage}}\hfill
\begin{{minipage}}[t]{{0.48\textwidth}}
\textbf{{Ship to}}\\
{ship}
\end{{minipage}}

\vspace{{24pt}}
\begin{{tabular}}{{@{{}}r l l r l r r@{{}}}}
\toprule
\# & SKU & Description & Qty & UoM & Unit Price & Amount \\
\midrule
{rows}
\bottomrule
\end{{tabular}}

\vspace{{12pt}}
\hfill\begin{{tabular}}{{l r}}
Subtotal & {money(inv.subtotal)} \\
Flat-rate freight & {money(inv.freight)} \\
Sales tax ({rate}\%) & {money(inv.tax)} \\
\midrule
\textbf{{Total due}} & \textbf{{{money(inv.total)}}} \\
\end{{tabular}}

\vspace{{36pt}}
{{\small Thank you for your business. Our office fulfills orders within five
business days; for questions about this invoice, write to our billing office
at billing@pinecrest.example and quote the invoice number.}}
\end{{document}}
"""


def generate(out: Path) -> list[str]:
    inv = vendors.pinecrest()
    st = Style(symbol="$", date_format="%B %-d, %Y")
    folder = out / "pinecrest-office"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{inv.number}.pdf"
    env = {**os.environ, "FORCE_SOURCE_DATE": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "invoice.tex"
        source.write_text(document(inv, st), encoding="utf-8")
        subprocess.run(
            ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "invoice.tex"],
            cwd=tmp, env=env, check=True, stdout=subprocess.DEVNULL, timeout=120,
        )
        path.write_bytes((Path(tmp) / "invoice.pdf").read_bytes())
    banner = tool_version(["pdflatex", "--version"]).splitlines()[0]
    write_truth(path.with_suffix(".truth.json"), f"pdflatex ({banner})", [inv],
                notes="Computer Modern Type 1 subsets, built-in encoding; fi, fl, ffi ligature glyphs")
    return ["pinecrest-office"]
