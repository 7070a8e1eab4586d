"""fpdf2 samples.

- nordwind (German): DejaVu Sans embedded as TrueType, which fpdf2 writes
  as a Type0 font with Identity-H and a ToUnicode CMap; a table with a
  full grid (fpdf2's `table()`); 1.234,56 EUR, 15.11.2026, the labels
  Rechnungsnummer, Rechnungsdatum, Bestellnummer, Gesamtbetrag.
- olivar (Spanish): only the standard Helvetica, WinAnsi-encoded (á, ñ,
  º, €); a table with a rule under the header only. The same file is also
  written encrypted by qpdf with an empty user password and an owner
  password, AES-256 (R6) and RC4-128 (R3), as accounting packages do: it
  opens without a password.

A fixed creation date makes fpdf2 write the same bytes every time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
from pathlib import Path

import vendors
from fpdf import FPDF
from fpdf import __version__ as FPDF_VERSION
from fpdf.fonts import FontFace
from invoice import Invoice, Style, write_truth

GENERATOR = f"fpdf2 {FPDF_VERSION}"
FIXED = dt.datetime(2026, 11, 15, 9, 30, tzinfo=dt.UTC)
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


def new_pdf(size: str) -> FPDF:
    pdf = FPDF(unit="pt", format=size)
    pdf.set_creation_date(FIXED)
    pdf.set_auto_page_break(True, margin=50)
    pdf.set_margins(48, 48, 48)
    return pdf


def nordwind(out: Path) -> list[str]:
    inv = vendors.nordwind()
    st = Style(thousands=".", decimal=",", symbol="€", symbol_after=True, date_format="%d.%m.%Y")
    pdf = new_pdf("A4")
    pdf.set_title(f"Rechnung {inv.number}")
    pdf.add_font("DejaVu", "", str(DEJAVU / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(DEJAVU / "DejaVuSans-Bold.ttf"))
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 15)
    pdf.cell(0, 20, inv.vendor.name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 8.5)
    pdf.cell(0, 11, " · ".join(inv.vendor.address), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(24)
    # The recipient's window (DIN 5008), and the invoice data beside it.
    top = pdf.get_y()
    pdf.set_font("DejaVu", "", 10)
    for line in (inv.bill_to.name, *inv.bill_to.address):
        pdf.cell(250, 13, line, new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(top)
    head = [
        ("Rechnungsnummer", inv.number),
        ("Rechnungsdatum", st.date(inv.date)),
        ("Bestellnummer", inv.po_number),
        ("Fällig am", st.date(inv.due_date)),
        ("Zahlungsbedingungen", inv.terms),
    ]
    for label, value in head:
        pdf.set_x(330)
        pdf.set_font("DejaVu", "B", 9)
        pdf.cell(120, 13, label)
        pdf.set_font("DejaVu", "", 9)
        pdf.cell(0, 13, value, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(22)
    pdf.set_font("DejaVu", "B", 9)
    pdf.cell(0, 12, "Lieferanschrift", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    pdf.cell(0, 12, ", ".join((inv.ship_to.name, *inv.ship_to.address)), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(16)
    pdf.set_font("DejaVu", "B", 16)
    pdf.cell(0, 22, "Rechnung", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    with pdf.table(
        col_widths=(28, 80, 180, 45, 35, 66, 66),
        text_align=("RIGHT", "LEFT", "LEFT", "RIGHT", "LEFT", "RIGHT", "RIGHT"),
        headings_style=FontFace(emphasis="BOLD", fill_color=(225, 225, 225)),
        line_height=14,
    ) as table:
        table.row(["Pos.", "Artikelnr.", "Bezeichnung", "Menge", "Einh.", "Einzelpreis", "Gesamt"])
        for n, item in enumerate(inv.items, start=1):
            table.row([
                str(n), item.sku, item.description, st.quantity(item.quantity), item.uom,
                st.amount(item.unit_price), st.amount(item.amount),
            ])
    pdf.ln(10)
    rate = st.quantity(inv.tax_rate * 100)
    totals = [
        ("Nettobetrag", inv.subtotal),
        ("Versandkosten", inv.freight),
        (f"zzgl. {rate} % USt.", inv.tax),
    ]
    for label, value in totals:
        pdf.set_x(330)
        pdf.cell(150, 13, label)
        pdf.cell(0, 13, st.amount(value, symbol=True), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(330)
    pdf.set_font("DejaVu", "B", 10)
    pdf.cell(150, 16, "Gesamtbetrag", border="T")
    pdf.cell(0, 16, st.amount(inv.total, symbol=True), border="T", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(20)
    pdf.set_font("DejaVu", "", 8)
    pdf.multi_cell(
        0, 11,
        "Bitte überweisen Sie den Gesamtbetrag unter Angabe der Rechnungsnummer bis zum "
        f"{st.date(inv.due_date)} auf unser Konto: Hamburger Sparkasse, "
        "IBAN DE44 2005 0550 1234 5678 90, BIC HASPDEHHXXX.",
    )
    folder = out / "nordwind"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "RE-2026-10482.pdf"
    pdf.output(str(path))
    write_truth(path.with_suffix(".truth.json"), GENERATOR, [inv],
                notes="German; DejaVu Sans embedded (Type0, Identity-H, ToUnicode); full table grid")
    return ["nordwind"]


def olivar_pdf(inv: Invoice) -> FPDF:
    st = Style(thousands=".", decimal=",", symbol="€", symbol_after=True, date_format="%d/%m/%Y")
    pdf = new_pdf("A4")
    # Standard fonts only, WinAnsi-encoded (so "€", "ñ", "º" print).
    pdf.core_fonts_encoding = "windows-1252"
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 20)
    pdf.cell(0, 26, "FACTURA", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 14, inv.vendor.name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    for line in inv.vendor.address:
        pdf.cell(0, 11, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(14)
    head = [
        ("Nº de factura:", inv.number),
        ("Fecha de factura:", st.date(inv.date)),
        ("Nº de pedido:", inv.po_number),
        ("Forma de pago:", inv.terms),
    ]
    for label, value in head:
        pdf.set_font("Helvetica", "B", 9)
        pdf.cell(100, 13, label)
        pdf.set_font("Helvetica", "", 9)
        pdf.cell(0, 13, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(12)
    top = pdf.get_y()
    for x, title, party in ((48, "Facturar a", inv.bill_to), (300, "Enviar a", inv.ship_to)):
        pdf.set_xy(x, top)
        pdf.set_font("Helvetica", "B", 9)
        pdf.cell(0, 13, title, new_x="LEFT", new_y="NEXT")
        pdf.set_font("Helvetica", "", 9)
        for line in (party.name, *party.address):
            pdf.cell(0, 12, line, new_x="LEFT", new_y="NEXT")
    pdf.set_xy(48, top + 80)
    cols = [("Referencia", 90, "L"), ("Descripción", 220, "L"), ("Cant.", 40, "R"),
            ("Ud.", 35, "L"), ("Precio", 55, "R"), ("Importe", 59, "R")]
    pdf.set_font("Helvetica", "B", 9)
    for name, w, align in cols:
        pdf.cell(w, 16, name, border="B", align=align)
    pdf.ln(18)
    pdf.set_font("Helvetica", "", 9)
    for item in inv.items:
        values = [item.sku, item.description, st.quantity(item.quantity), item.uom,
                  st.amount(item.unit_price), st.amount(item.amount)]
        for (_, w, align), value in zip(cols, values):
            pdf.cell(w, 14, value, align=align)
        pdf.ln(14)
    pdf.ln(14)
    rate = st.quantity(inv.tax_rate * 100)
    for label, value in (("Base imponible", inv.subtotal), ("Portes", inv.freight),
                         (f"IVA {rate} %", inv.tax)):
        pdf.set_x(340)
        pdf.cell(120, 13, label)
        pdf.cell(0, 13, st.amount(value, symbol=True), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(340)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(120, 16, "TOTAL FACTURA")
    pdf.cell(0, 16, st.amount(inv.total, symbol=True), align="R", new_x="LMARGIN", new_y="NEXT")
    return pdf


def olivar(out: Path) -> list[str]:
    inv = vendors.olivar()
    folder = out / "olivar"
    folder.mkdir(parents=True, exist_ok=True)
    plain = folder / "FV-2026-0931.pdf"
    olivar_pdf(inv).output(str(plain))
    write_truth(plain.with_suffix(".truth.json"), GENERATOR, [inv],
                notes="Spanish; standard Helvetica only, WinAnsiEncoding")
    # The same invoice "encrypted" with an empty user password (opens
    # without one; the owner password only guards permissions).
    for name, args in (
        ("FV-2026-0931-aes256", ["256", "--"]),
        ("FV-2026-0931-rc4", ["128", "--use-aes=n", "--"]),
    ):
        target = folder / f"{name}.pdf"
        encrypt(plain, target, "", "dropgate-owner", args, target.with_suffix(".truth.json"))
        write_truth(target.with_suffix(".truth.json"), f"{GENERATOR} + qpdf", [inv],
                    source_sha256=sha256(plain),
                    notes=f"{name}: encrypted, empty user password, owner password 'dropgate-owner'")
    return ["olivar"]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def encrypt(plain: Path, target: Path, user: str, owner: str, args: list[str], stamp: Path) -> None:
    """Writes `plain` encrypted by qpdf. RC4 output is fixed by
    --static-id; AES-256 (R6) has random salts whatever the options, so an
    existing target is kept while the JSON file `stamp` beside it names
    the same source (`source_sha256`), and regenerating does not churn
    it. The caller writes `stamp` afterwards."""
    if (target.exists() and stamp.exists()
            and json.loads(stamp.read_text()).get("source_sha256") == sha256(plain)):
        return
    subprocess.run(
        ["qpdf", "--static-id", "--static-aes-iv", "--allow-weak-crypto",
         "--encrypt", user, owner, *args, str(plain), str(target)],
        check=True,
    )


def generate(out: Path) -> list[str]:
    return nordwind(out) + olivar(out)
