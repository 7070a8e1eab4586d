"""reportlab samples: standard-14 fonts only (Helvetica, Times, Courier).

- harborline: a ruled table of 58 lines over two pages, the table header
  repeated on each page, dates 11/15/2026, amounts with "$".
- kestrel: two invoices in one PDF, each from a new page; a table without
  ruling lines; dates 15-Nov-2026; the discount in parentheses.
- bluegrass: a landscape invoice on a portrait page turned by /Rotate 90
  (the content is drawn turned, so it reads upright when shown).
- copper_creek (source of the scanned sample, see gen_scan.py): records
  where it drew each word, for the OCR test.

`invariant=1` makes reportlab write fixed dates and IDs, so the files do
not change when regenerated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import vendors
from invoice import Invoice, Style, write_truth
from reportlab import Version as REPORTLAB_VERSION
from reportlab.lib.pagesizes import letter
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

GENERATOR = f"reportlab {REPORTLAB_VERSION}"


@dataclass
class Look:
    """How one vendor's invoice looks."""

    font: str = "Helvetica"
    bold: str = "Helvetica-Bold"
    size: float = 9
    # From one table row's baseline to the next.
    row_gap: float = 13
    ruled: bool = True
    style: Style = field(default_factory=Style)
    title: str = "INVOICE"
    # (heading, x of its left or right edge, "l" or "r") per column, with
    # the value of the column taken by `cell()`.
    columns: tuple = (
        ("Line", 40, "l"),
        ("SKU", 68, "l"),
        ("Description", 165, "l"),
        ("Qty", 400, "r"),
        ("UoM", 408, "l"),
        ("Unit Price", 498, "r"),
        ("Amount", 572, "r"),
    )
    labels: dict = field(
        default_factory=lambda: {
            "number": "Invoice #",
            "date": "Invoice Date",
            "due": "Due Date",
            "po": "PO Number",
            "terms": "Terms",
            "subtotal": "Subtotal",
            "freight": "Freight",
            "discount": "Discount",
            "tax": "Sales Tax",
            "total": "Total Due",
        }
    )


class Pen:
    """Draws strings on a canvas in top-left coordinates (y down, as the
    page is shown) and remembers each string's box."""

    def __init__(self, canvas: Canvas, width: float, height: float):
        self.c = canvas
        self.width = width
        self.height = height
        self.boxes: dict[str, list[float]] = {}

    def text(self, x: float, y: float, s: str, font: str, size: float, align: str = "l") -> None:
        """Draws `s` with its baseline at `y` points from the top; `x` is
        its left edge, or its right edge when `align` is "r"."""
        w = stringWidth(s, font, size)
        if align == "r":
            x -= w
        self.c.setFont(font, size)
        self.c.drawString(x, self.height - y, s)
        # Ink box: cap height above the baseline (0.72 em for the
        # standard fonts), the baseline below.
        self.boxes.setdefault(s, [round(x, 1), round(y - 0.72 * size, 1), round(x + w, 1), round(y, 1)])

    def hline(self, x0: float, x1: float, y: float, width: float = 0.5) -> None:
        self.c.setLineWidth(width)
        self.c.line(x0, self.height - y, x1, self.height - y)

    def rect(self, x0: float, y0: float, x1: float, y1: float, grey: float) -> None:
        self.c.setFillGray(grey)
        self.c.rect(x0, self.height - y1, x1 - x0, y1 - y0, stroke=0, fill=1)
        self.c.setFillGray(0)


def cell(look: Look, inv: Invoice, n: int, item, col: str) -> str:
    """The text of one table cell."""
    st = look.style
    return {
        "Line": str(n),
        "Item": item.sku,
        "SKU": item.sku,
        "Description": item.description,
        "Qty": st.quantity(item.quantity),
        "UoM": item.uom,
        "Unit Price": st.amount(item.unit_price),
        "Price": st.amount(item.unit_price),
        "Amount": st.amount(item.amount),
        "Ext. Price": st.amount(item.amount),
    }[col]


def draw_invoice(pen: Pen, look: Look, inv: Invoice, first_rows: int, more_rows: int) -> None:
    """Draws one invoice from the current page on, starting new pages for
    a long table (the table header repeated on each)."""
    st = look.style
    rows = list(enumerate(inv.items, start=1))
    pages = [rows[:first_rows]]
    rest = rows[first_rows:]
    while rest:
        pages.append(rest[:more_rows])
        rest = rest[more_rows:]
    right = pen.width - 40
    for p, chunk in enumerate(pages, start=1):
        if p > 1:
            pen.c.showPage()
        f, b, s = look.font, look.bold, look.size
        if p == 1:
            pen.text(40, 60, inv.vendor.name, b, 14)
            for i, line in enumerate(inv.vendor.address):
                pen.text(40, 76 + i * 11, line, f, s)
            pen.text(right, 60, look.title, b, 18, "r")
            head = [
                (look.labels["number"], inv.number),
                (look.labels["date"], st.date(inv.date)),
                (look.labels["po"], inv.po_number),
                (look.labels["terms"], inv.terms),
            ]
            if inv.due_date:
                head.append((look.labels["due"], st.date(inv.due_date)))
            for i, (label, value) in enumerate(head):
                pen.text(right - 170, 84 + i * 12, label, b, s)
                pen.text(right, 84 + i * 12, value, f, s, "r")
            pen.text(40, 160, "Bill To", b, s)
            pen.text(300, 160, "Ship To", b, s)
            for col, party in ((40, inv.bill_to), (300, inv.ship_to)):
                for i, line in enumerate((party.name, *party.address)):
                    pen.text(col, 173 + i * 11, line, f, s)
            y = 240
        else:
            pen.text(40, 50, f"{inv.vendor.name} - {look.title} {inv.number} (continued)", b, 10)
            y = 80
        # The table header, on every page.
        if look.ruled:
            pen.rect(36, y - 11, right + 4, y + 4, 0.85)
        for name, x, align in look.columns:
            pen.text(x, y, name, b, s, align)
        y += 6
        if look.ruled:
            pen.hline(36, right + 4, y, 0.8)
        for n, item in chunk:
            y += look.row_gap
            for name, x, align in look.columns:
                pen.text(x, y, cell(look, inv, n, item, name), f, s, align)
            if look.ruled:
                pen.hline(36, right + 4, y + 4, 0.3)
        pen.text(right, pen.height - 30, f"Page {p} of {len(pages)}", f, 7, "r")
    # Totals under the last page's table.
    y += 24
    totals = [(look.labels["subtotal"], inv.subtotal)]
    if inv.discount:
        totals.append((look.labels["discount"], -inv.discount))
    totals.append((look.labels["freight"], inv.freight))
    if inv.tax:
        totals.append((look.labels["tax"], inv.tax))
    for label, value in totals:
        pen.text(right - 150, y, label, f, s)
        pen.text(right, y, st.amount(value, symbol=True), f, s, "r")
        y += 12
    if look.ruled:
        pen.hline(right - 150, right + 4, y - 8, 0.8)
    pen.text(right - 150, y + 4, look.labels["total"], b, s + 1)
    pen.text(right, y + 4, st.amount(inv.total, symbol=True), b, s + 1, "r")


def canvas(path, size=letter) -> Canvas:
    """A canvas that writes the same bytes every time."""
    return Canvas(str(path), pagesize=size, invariant=1, pageCompression=1)


def harborline(out: Path) -> None:
    inv = vendors.harborline()
    path = out / "harborline-outdoor" / "HL-2026-118403.pdf"
    path.parent.mkdir(parents=True, exist_ok=True)
    c = canvas(path)
    look = Look(style=Style(symbol="$", date_format="%m/%d/%Y"))
    draw_invoice(Pen(c, *letter), look, inv, first_rows=30, more_rows=48)
    c.save()
    write_truth(path.with_suffix(".truth.json"), GENERATOR, [inv],
                notes="standard-14 fonts; ruled table over 2 pages, header repeated")


def kestrel(out: Path) -> None:
    invs = vendors.kestrel()
    path = out / "kestrel-home" / "KHG-50211-50212.pdf"
    path.parent.mkdir(parents=True, exist_ok=True)
    c = canvas(path)
    look = Look(
        font="Times-Roman",
        bold="Times-Bold",
        size=10,
        ruled=False,
        style=Style(parentheses=True, symbol="$", date_format="%d-%b-%Y"),
        columns=(
            ("Item", 40, "l"),
            ("Description", 140, "l"),
            ("Qty", 390, "r"),
            ("UoM", 400, "l"),
            ("Price", 495, "r"),
            ("Ext. Price", 572, "r"),
        ),
        labels={
            "number": "Invoice No.",
            "date": "Date",
            "due": "Due",
            "po": "Your PO #",
            "terms": "Terms",
            "subtotal": "Merchandise",
            "freight": "Shipping & Handling",
            "discount": "Promotional Allowance",
            "tax": "Tax",
            "total": "Balance Due",
        },
    )
    pen = Pen(c, *letter)
    for i, inv in enumerate(invs):
        if i:
            c.showPage()
        draw_invoice(pen, look, inv, first_rows=30, more_rows=48)
    c.save()
    write_truth(path.with_suffix(".truth.json"), GENERATOR, invs,
                notes="two invoices in one PDF, each from a new page; no ruling lines")


def bluegrass(out: Path) -> None:
    inv = vendors.bluegrass()
    path = out / "bluegrass-kitchen" / "BKW-88317.pdf"
    path.parent.mkdir(parents=True, exist_ok=True)
    w, h = letter
    # reportlab writes the MediaBox of a page turned by 90 degrees with
    # width and height swapped: given (h, w), it writes [0 0 w h].
    c = canvas(path, (h, w))
    c.setPageRotation(90)
    # Shown turned 90 degrees clockwise, the page is landscape (h wide, w
    # high): a point (u, v) of the landscape page is (w - v, u) here.
    c.transform(0, 1, -1, 0, w, 0)
    look = Look(
        font="Courier",
        bold="Courier-Bold",
        size=9,
        style=Style(symbol="$", date_format="%B %d, %Y"),
        columns=(
            ("Line", 40, "l"),
            ("SKU", 70, "l"),
            ("Description", 170, "l"),
            ("Qty", 520, "r"),
            ("UoM", 530, "l"),
            ("Unit Price", 660, "r"),
            ("Amount", 752, "r"),
        ),
    )
    draw_invoice(Pen(c, h, w), look, inv, first_rows=20, more_rows=30)
    c.save()
    write_truth(path.with_suffix(".truth.json"), GENERATOR, [inv],
                notes="portrait MediaBox with /Rotate 90: landscape as shown; Courier")


def copper_creek_pdf(path: Path) -> Invoice:
    """Draws the source of the scanned sample (larger type, as a paper
    invoice) and returns the invoice with the boxes of its words."""
    inv = vendors.copper_creek()
    c = canvas(path)
    look = Look(
        size=11,
        row_gap=18,
        style=Style(parentheses=True, symbol="$", date_format="%B %d, %Y"),
        columns=(
            ("SKU", 40, "l"),
            ("Description", 150, "l"),
            ("Qty", 390, "r"),
            ("UoM", 400, "l"),
            ("Price", 500, "r"),
            ("Amount", 572, "r"),
        ),
        labels={
            "number": "Invoice #",
            "date": "Date",
            "due": "Due",
            "po": "P.O. #",
            "terms": "Terms",
            "subtotal": "Subtotal",
            "freight": "Shipping",
            "discount": "Discount",
            "tax": "Tax",
            "total": "Total",
        },
    )
    pen = Pen(c, *letter)
    draw_invoice(pen, look, inv, first_rows=30, more_rows=48)
    c.save()
    total = look.style.amount(inv.total, symbol=True)
    wanted = [inv.number, inv.po_number, total, *(i.sku for i in inv.items)]
    inv.positions = {k: pen.boxes[k] for k in wanted}
    return inv


def generate(out: Path) -> list[str]:
    harborline(out)
    kestrel(out)
    bluegrass(out)
    return ["harborline-outdoor", "kestrel-home", "bluegrass-kitchen"]
