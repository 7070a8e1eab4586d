"""Samples printed from HTML by LibreOffice and by Chromium.

- sierra_trail (LibreOffice Writer, `soffice --headless --convert-to pdf`):
  a ruled table whose long descriptions wrap onto two lines; dates as
  "November 15, 2026"; LibreOffice embeds its own TrueType subsets.
- atelier_lumiere (Chromium, `--print-to-pdf`): a French invoice
  (1 234,56 EUR with a no-break space, 15/11/2026, "Facture n°", "Total
  TTC"), its 50-line table over two A4 pages with the header repeated
  by the browser (`<thead>`).
- granite_peak (Chromium): a vendor meant to have no template, with the
  labels a generic extractor must know (Invoice No., Customer PO, Amount
  Due) and no ruling lines.

Both tools write the time of the run into the PDF (/CreationDate, /ModDate,
XMP dates, the /ID). `steady()` overwrites those bytes with fixed ones of
the same length, so offsets and the xref stay right and regenerating does
not churn the files.
"""

from __future__ import annotations

import hashlib
import html
import re
import subprocess
import tempfile
from pathlib import Path

import vendors
from invoice import Invoice, Style, tool_version, write_truth


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def steady(data: bytes) -> bytes:
    """The PDF with its run-time dates, ID and checksum replaced, byte for
    byte, by fixed values (2026-11-15) and a hash of the rest of the file."""

    def date(match: re.Match) -> bytes:
        fixed = b"20261115000000"
        digits = match.group(2)
        return match.group(1) + fixed[: len(digits)].ljust(len(digits), b"0")

    data = re.sub(rb"(/(?:CreationDate|ModDate)\s*\(D:)(\d+)", date, data)

    def xmp(match: re.Match) -> bytes:
        fixed = b"2026-11-15T00:00:00"
        value = match.group(2)
        return match.group(1) + (fixed + value[len(fixed):] if len(value) >= len(fixed) else fixed[: len(value)])

    data = re.sub(rb"(<xmp:(?:CreateDate|ModifyDate|MetadataDate)>)([^<]+)", xmp, data)
    # Timezone parts that follow the fixed time (+01:00, Z) are left as
    # they were written; they do not depend on the run.
    # The ID, and LibreOffice's /DocChecksum (of the run-time bytes), are
    # made from a hash of the file without them.
    id_array = rb"/ID\s*\[\s*<[0-9A-Fa-f]+>\s*<[0-9A-Fa-f]+>\s*\]"
    checksum = rb"/DocChecksum\s*/([0-9A-Fa-f]+)"
    body = re.sub(checksum, b"", re.sub(id_array, b"", data))
    digest = hashlib.sha256(body).hexdigest().upper().encode()
    data = re.sub(checksum, lambda m: b"/DocChecksum /" + digest[: len(m.group(1))], data)

    def ident(match: re.Match) -> bytes:
        return re.sub(rb"<([0-9A-Fa-f]+)>", lambda m: b"<" + digest[: len(m.group(1))] + b">", match.group(0))

    return re.sub(id_array, ident, data)


def sierra_html(inv: Invoice, st: Style) -> str:
    """Plain HTML 4 that LibreOffice's Writer imports faithfully: tables
    with border attributes, column widths, no CSS layout."""
    rows = []
    for n, item in enumerate(inv.items, start=1):
        rows.append(
            f"<tr><td align=right>{n}</td><td>{esc(item.sku)}</td><td>{esc(item.description)}</td>"
            f"<td align=right>{st.quantity(item.quantity)}</td><td>{item.uom}</td>"
            f"<td align=right>{st.amount(item.unit_price, symbol=True)}</td>"
            f"<td align=right>{st.amount(item.amount, symbol=True)}</td></tr>"
        )
    totals = [("Subtotal", inv.subtotal), ("Shipping &amp; Handling", inv.freight), ("Sales Tax 8.25%", inv.tax)]
    total_rows = "".join(
        f"<tr><td>{label}</td><td align=right>{st.amount(v, symbol=True)}</td></tr>" for label, v in totals
    )
    addr = "<br>".join(esc(x) for x in inv.vendor.address)
    bill = "<br>".join(esc(x) for x in (inv.bill_to.name, *inv.bill_to.address))
    ship = "<br>".join(esc(x) for x in (inv.ship_to.name, *inv.ship_to.address))
    return f"""<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN">
<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8">
<title>Invoice {esc(inv.number)}</title>
<style>@page {{ size: 8.5in 11in; margin: 0.6in }}</style></head>
<body style="font-family: 'DejaVu Sans'; font-size: 9pt">
<table width="100%" border=0 cellpadding=0 cellspacing=0><tr>
<td valign=top><font size=5><b>{esc(inv.vendor.name)}</b></font><br>{addr}</td>
<td valign=top align=right><font size=6><b>Invoice</b></font>
<table border=0 cellpadding=2 cellspacing=0>
<tr><td><b>Invoice Number:</b></td><td align=right>{esc(inv.number)}</td></tr>
<tr><td><b>Invoice Date:</b></td><td align=right>{st.date(inv.date)}</td></tr>
<tr><td><b>Customer PO:</b></td><td align=right>{esc(inv.po_number)}</td></tr>
<tr><td><b>Terms:</b></td><td align=right>{esc(inv.terms)}</td></tr>
<tr><td><b>Due Date:</b></td><td align=right>{st.date(inv.due_date)}</td></tr>
</table></td></tr></table>
<p>&nbsp;</p>
<table width="100%" border=0 cellpadding=2 cellspacing=0><tr>
<td valign=top width="50%"><b>Sold To</b><br>{bill}</td>
<td valign=top width="50%"><b>Ship To</b><br>{ship}</td></tr></table>
<p>&nbsp;</p>
<table width="100%" border=1 cellpadding=4 cellspacing=0>
<col width=26><col width=100><col width=210><col width=36><col width=34><col width=70><col width=74>
<tr bgcolor="#dddddd"><th align=right>#</th><th align=left>Style / SKU</th><th align=left>Description</th>
<th align=right>Qty</th><th align=left>Unit</th><th align=right>Unit Price</th><th align=right>Extended</th></tr>
{''.join(rows)}
</table>
<p>&nbsp;</p>
<table width="40%" align=right border=0 cellpadding=3 cellspacing=0>
{total_rows}
<tr><td><b>Invoice Total</b></td><td align=right><b>{st.amount(inv.total, symbol=True)}</b></td></tr>
</table>
<p>&nbsp;</p><p>&nbsp;</p><p>&nbsp;</p><p>&nbsp;</p><p>&nbsp;</p><p>&nbsp;</p>
<p><font size=1>Returns within 30 days with an RMA number. Questions: invoices@sierratrail.example</font></p>
</body></html>
"""


class LibreOffice:
    """Generator: LibreOffice Writer from HTML."""

    @staticmethod
    def generate(out: Path) -> list[str]:
        inv = vendors.sierra_trail()
        st = Style(symbol="$", date_format="%B %-d, %Y")
        folder = out / "sierra-trail"
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            tmpdir = Path(tmp)
            source = tmpdir / "STA-INV-30077.html"
            source.write_text(sierra_html(inv, st), encoding="utf-8")
            subprocess.run(
                [
                    "soffice", f"-env:UserInstallation=file://{tmpdir / 'profile'}", "--headless",
                    "--infilter=HTML (StarWriter)", "--convert-to", "pdf:writer_pdf_Export",
                    "--outdir", str(tmpdir), str(source),
                ],
                check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300,
            )
            pdf = steady((tmpdir / "STA-INV-30077.pdf").read_bytes())
        path = folder / "STA-INV-30077.pdf"
        path.write_bytes(pdf)
        version = tool_version(["soffice", "--version"]).split()
        write_truth(path.with_suffix(".truth.json"), " ".join(version[:2]), [inv],
                    notes="LibreOffice Writer from HTML; ruled table; descriptions wrap onto two lines")
        return ["sierra-trail"]


FRENCH_CSS = """
@page { size: A4; margin: 16mm 14mm 18mm 14mm; }
body { font-family: 'Lato'; font-size: 9.5pt; color: #222; }
h1 { font-size: 20pt; margin: 0 0 4mm 0; letter-spacing: 1px; }
.head { display: flex; justify-content: space-between; }
.meta td { padding: 1px 0 1px 10px; }
.meta td:first-child { color: #555; }
.parties { display: flex; gap: 20mm; margin: 8mm 0; }
table.lines { width: 100%; border-collapse: collapse; }
table.lines th { text-align: left; border-bottom: 1.2pt solid #333; padding: 4px; }
table.lines td { padding: 3px 4px; border-bottom: 0.4pt solid #bbb; }
table.lines .n { text-align: right; white-space: nowrap; }
table.lines tr { page-break-inside: avoid; }
table.totals { margin-left: auto; margin-top: 6mm; }
table.totals td { padding: 2px 6px; }
table.totals td.n { text-align: right; }
.grand td { font-weight: bold; border-top: 1pt solid #333; }
.foot { margin-top: 10mm; font-size: 7.5pt; color: #555; }
"""

PLAIN_CSS = """
@page { size: letter; margin: 0.6in; }
body { font-family: 'DejaVu Sans'; font-size: 9pt; }
.top { display: flex; justify-content: space-between; align-items: flex-start; }
.title { font-size: 16pt; font-weight: bold; }
.box { margin-top: 6mm; display: flex; gap: 30mm; }
table { border-collapse: collapse; }
table.lines { width: 100%; margin-top: 8mm; }
table.lines th { text-align: left; font-weight: bold; padding: 3px 6px; }
table.lines td { padding: 3px 6px; }
.n { text-align: right; }
table.sum { margin: 6mm 0 0 auto; }
table.sum td { padding: 2px 6px; }
"""


def french_html(inv: Invoice, st: Style) -> str:
    rows = "".join(
        f"<tr><td>{esc(i.sku)}</td><td>{esc(i.description)}</td><td class=n>{st.quantity(i.quantity)}</td>"
        f"<td>{i.uom}</td><td class=n>{st.amount(i.unit_price)}</td><td class=n>{st.amount(i.amount)}</td></tr>"
        for i in inv.items
    )
    rate = st.quantity(inv.tax_rate * 100)
    totals = [
        ("Total HT", inv.subtotal),
        ("Remise", -inv.discount),
        ("Frais de port", inv.freight),
        (f"TVA {rate}\u00a0%", inv.tax),
    ]
    sums = "".join(f"<tr><td>{esc(k)}</td><td class=n>{st.amount(v, symbol=True)}</td></tr>" for k, v in totals)
    ship = "<br>".join(esc(x) for x in (inv.ship_to.name, *inv.ship_to.address))
    bill = "<br>".join(esc(x) for x in (inv.bill_to.name, *inv.bill_to.address))
    return f"""<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">
<title>Facture {esc(inv.number)}</title><style>{FRENCH_CSS}</style></head><body>
<div class="head"><div><h1>FACTURE</h1><b>{esc(inv.vendor.name)}</b><br>
{'<br>'.join(esc(x) for x in inv.vendor.address)}</div>
<table class="meta">
<tr><td>Facture n°</td><td>{esc(inv.number)}</td></tr>
<tr><td>Date de facture</td><td>{st.date(inv.date)}</td></tr>
<tr><td>Votre commande n°</td><td>{esc(inv.po_number)}</td></tr>
<tr><td>Échéance</td><td>{st.date(inv.due_date)}</td></tr>
<tr><td>Conditions</td><td>{esc(inv.terms)}</td></tr>
</table></div>
<div class="parties"><div><b>Adresse de facturation</b><br>{bill}</div>
<div><b>Adresse de livraison</b><br>{ship}</div></div>
<table class="lines"><thead><tr><th>Référence</th><th>Désignation</th><th class=n>Qté</th><th>Unité</th>
<th class=n>Prix unitaire HT</th><th class=n>Montant HT</th></tr></thead>
<tbody>{rows}</tbody></table>
<table class="totals">{sums}
<tr class="grand"><td>Total TTC</td><td class=n>{st.amount(inv.total, symbol=True)}</td></tr></table>
<div class="foot">En cas de retard de paiement, indemnité forfaitaire pour frais de recouvrement : 40 €.
Escompte pour paiement anticipé : néant.</div>
</body></html>
"""


def plain_html(inv: Invoice, st: Style) -> str:
    rows = "".join(
        f"<tr><td>{esc(i.sku)}</td><td>{esc(i.description)}</td><td class=n>{st.quantity(i.quantity)}</td>"
        f"<td>{i.uom}</td><td class=n>{st.amount(i.unit_price)}</td><td class=n>{st.amount(i.amount)}</td></tr>"
        for i in inv.items
    )
    sums = [("Sub-Total", inv.subtotal), ("Discount", -inv.discount), ("Freight", inv.freight),
            ("Tax", inv.tax), ("Amount Due", inv.total)]
    sum_rows = "".join(
        f"<tr><td>{k}</td><td class=n>{st.amount(v, symbol=True)}</td></tr>" for k, v in sums
    )
    ship = "<br>".join(esc(x) for x in (inv.ship_to.name, *inv.ship_to.address))
    bill = "<br>".join(esc(x) for x in (inv.bill_to.name, *inv.bill_to.address))
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Invoice {esc(inv.number)}</title><style>{PLAIN_CSS}</style></head><body>
<div class="top"><div><div class="title">{esc(inv.vendor.name)}</div>
{'<br>'.join(esc(x) for x in inv.vendor.address)}</div>
<div><div class="title">INVOICE</div>
Invoice No. {esc(inv.number)}<br>Date: {st.date(inv.date)}<br>Customer PO: {esc(inv.po_number)}<br>
Terms: {esc(inv.terms)}<br>Due: {st.date(inv.due_date)}</div></div>
<div class="box"><div><b>Bill To:</b><br>{bill}</div><div><b>Deliver To:</b><br>{ship}</div></div>
<table class="lines"><tr><th>Item #</th><th>Description</th><th class=n>Qty</th><th>U/M</th>
<th class=n>Rate</th><th class=n>Amount</th></tr>{rows}</table>
<table class="sum">{sum_rows}</table>
<p>Thank you for your business!</p>
</body></html>
"""


UK_CSS = PLAIN_CSS + """
table.meta { margin-top: 4mm; border: 1px solid #555; }
table.meta th { background: #ddd; text-align: left; padding: 3px 8px; border: 1px solid #555; }
table.meta td { padding: 3px 8px; border: 1px solid #555; }
"""


def uk_html(inv: Invoice, st: Style) -> str:
    rows = "".join(
        f"<tr><td>{esc(i.sku)}</td><td>{esc(i.description)}</td><td class=n>{st.quantity(i.quantity)}</td>"
        f"<td>{i.uom}</td><td class=n>{st.amount(i.unit_price)}</td><td class=n>{st.amount(i.amount)}</td></tr>"
        for i in inv.items
    )
    rate = st.quantity(inv.tax_rate * 100)
    sums = [("Net Total", inv.subtotal), ("Carriage", inv.freight), (f"VAT @ {rate}%", inv.tax),
            ("Invoice Total", inv.total)]
    sum_rows = "".join(
        f"<tr><td>{k}</td><td class=n>{st.amount(v, symbol=True)}</td></tr>" for k, v in sums
    )
    ship = "<br>".join(esc(x) for x in (inv.ship_to.name, *inv.ship_to.address))
    bill = "<br>".join(esc(x) for x in (inv.bill_to.name, *inv.bill_to.address))
    return f"""<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">
<title>Invoice {esc(inv.number)}</title><style>{UK_CSS}</style></head><body>
<div class="top"><div><div class="title">{esc(inv.vendor.name)}</div>
{'<br>'.join(esc(x) for x in inv.vendor.address)}</div><div class="title">TAX INVOICE</div></div>
<table class="meta"><tr><th>Invoice Number</th><th>Invoice Date</th><th>Order Ref</th><th>Terms</th>
<th>Due Date</th></tr><tr><td>{esc(inv.number)}</td><td>{st.date(inv.date)}</td><td>{esc(inv.po_number)}</td>
<td>{esc(inv.terms)}</td><td>{st.date(inv.due_date)}</td></tr></table>
<div class="box"><div><b>Invoice To</b><br>{bill}</div><div><b>Deliver To</b><br>{ship}</div></div>
<table class="lines"><tr><th>Product Code</th><th>Description</th><th class=n>Qty</th><th>Unit</th>
<th class=n>Unit Price</th><th class=n>Net</th></tr>{rows}</table>
<table class="sum">{sum_rows}</table>
<p>Registered in England and Wales No. 01234567. Payment by BACS within 30 days.</p>
</body></html>
"""


class Chromium:
    """Generator: Chromium's print to PDF."""

    @staticmethod
    def print_pdf(source: Path, target: Path, tmpdir: Path) -> None:
        subprocess.run(
            [
                "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                f"--user-data-dir={tmpdir / 'profile'}", "--no-pdf-header-footer",
                "--run-all-compositor-stages-before-draw", f"--print-to-pdf={target}",
                source.as_uri(),
            ],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300,
        )
        target.write_bytes(steady(target.read_bytes()))

    @staticmethod
    def generate(out: Path) -> list[str]:
        version = tool_version(["chromium", "--version"]).split()
        generator = " ".join(version[:2])
        made = []
        for folder, inv, page in (
            ("atelier-lumiere", vendors.atelier_lumiere(),
             lambda inv: french_html(inv, Style(thousands="\u00a0", decimal=",", symbol="€",
                                                symbol_after=True, date_format="%d/%m/%Y"))),
            ("granite-peak", vendors.granite_peak(),
             lambda inv: plain_html(inv, Style(parentheses=True, symbol="$", date_format="%b %d, %Y"))),
            ("fenwick-stoneware", vendors.fenwick(),
             lambda inv: uk_html(inv, Style(symbol="£", date_format="%d/%m/%Y"))),
        ):
            target_dir = out / folder
            target_dir.mkdir(parents=True, exist_ok=True)
            path = target_dir / f"{inv.number}.pdf"
            with tempfile.TemporaryDirectory() as tmp:
                tmpdir = Path(tmp)
                source = tmpdir / "invoice.html"
                source.write_text(page(inv), encoding="utf-8")
                Chromium.print_pdf(source, path, tmpdir)
            notes = {
                "atelier-lumiere": "French; table over two A4 pages, header repeated (thead); Lato",
                "granite-peak": "meant to have no template (generic extraction); no ruling lines",
                "fenwick-stoneware": "no template; British: £, VAT, 04/11/2026 is the 4th of November; "
                "the header's values in a table under their labels; headings set left over numbers set right",
            }[folder]
            extra = {"template": None} if folder in ("granite-peak", "fenwick-stoneware") else {}
            write_truth(path.with_suffix(".truth.json"), generator, [inv], notes=notes, **extra)
            made.append(folder)
        return made
