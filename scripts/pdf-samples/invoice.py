"""The data source of every sample invoice, and how its values are printed.

One `Invoice` is the single source of both a sample PDF (whichever generator
draws it) and its truth file, so the two cannot disagree: amounts, the
subtotal and the total are computed here with `Decimal`, once, and the
generators only print them with the vendor's number and date formats.

A truth file (`<name>.truth.json`) is plain JSON, described in
samples/pdf/README.md: numbers are decimal strings ("1234.50", "-12.00"),
dates ISO ("2026-11-15").
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

CENT = Decimal("0.01")


def money(value: Decimal) -> Decimal:
    """Rounds to cents, half up, as invoicing systems do."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Party:
    """A name and address lines (bill-to, ship-to, the vendor)."""

    name: str
    address: tuple[str, ...]

    def truth(self) -> dict:
        return {"name": self.name, "address": list(self.address)}


@dataclass(frozen=True)
class Item:
    """One invoice line as the vendor bills it."""

    sku: str
    description: str
    quantity: Decimal
    uom: str
    unit_price: Decimal

    @property
    def amount(self) -> Decimal:
        return money(self.quantity * self.unit_price)


@dataclass
class Invoice:
    """One invoice: header, lines and charges; totals are derived."""

    vendor: Party
    number: str
    date: dt.date
    po_number: str
    terms: str
    currency: str
    bill_to: Party
    ship_to: Party
    items: list[Item]
    freight: Decimal = Decimal("0.00")
    # An allowance, given as a positive number and subtracted.
    discount: Decimal = Decimal("0.00")
    # Tax as a rate of (subtotal - discount + freight); 0 for none.
    tax_rate: Decimal = Decimal(0)
    due_date: dt.date | None = None
    # Word boxes the generator knows (text -> [x0, y0, x1, y1] in points
    # from the page's top left), for the OCR test; filled by a generator.
    positions: dict[str, list[float]] = field(default_factory=dict)

    @property
    def subtotal(self) -> Decimal:
        return sum((i.amount for i in self.items), Decimal("0.00"))

    @property
    def tax(self) -> Decimal:
        return money((self.subtotal - self.discount + self.freight) * self.tax_rate)

    @property
    def total(self) -> Decimal:
        return self.subtotal - self.discount + self.freight + self.tax

    def truth(self) -> dict:
        """The invoice as its truth-file entry."""
        out = {
            "vendor": self.vendor.truth(),
            "invoice_number": self.number,
            "invoice_date": self.date.isoformat(),
            "due_date": self.due_date.isoformat() if self.due_date else None,
            "po_number": self.po_number,
            "terms": self.terms,
            "currency": self.currency,
            "bill_to": self.bill_to.truth(),
            "ship_to": self.ship_to.truth(),
            "lines": [
                {
                    "line": n,
                    "sku": i.sku,
                    "description": i.description,
                    "quantity": str(i.quantity),
                    "uom": i.uom,
                    "unit_price": str(i.unit_price),
                    "amount": str(i.amount),
                }
                for n, i in enumerate(self.items, start=1)
            ],
            "subtotal": str(self.subtotal),
            "freight": str(self.freight),
            "discount": str(-self.discount) if self.discount else "0.00",
            "tax": str(self.tax),
            "total": str(self.total),
        }
        if self.positions:
            out["positions"] = self.positions
        return out


@dataclass(frozen=True)
class Style:
    """How a vendor prints numbers and dates."""

    thousands: str = ","
    decimal: str = "."
    # "(12.50)" instead of "-12.50" for negative amounts.
    parentheses: bool = False
    # A currency symbol before ("$1.00") or after ("1,00 €") amounts, if any.
    symbol: str = ""
    symbol_after: bool = False
    # strftime-like pattern, see `date()`.
    date_format: str = "%m/%d/%Y"

    def number(self, value: Decimal, places: int = 2) -> str:
        """`value` with the vendor's separators, no sign, no symbol."""
        text = f"{abs(value):,.{places}f}"
        whole, _, frac = text.partition(".")
        whole = whole.replace(",", self.thousands)
        return whole + (self.decimal + frac if frac else "")

    def amount(self, value: Decimal, symbol: bool = False) -> str:
        """An amount with its sign as the vendor prints it (and the
        currency symbol when `symbol`)."""
        text = self.number(value)
        if symbol and self.symbol:
            text = f"{text}\u00a0{self.symbol}" if self.symbol_after else self.symbol + text
        if value < 0:
            return f"({text})" if self.parentheses else f"-{text}"
        return text

    def quantity(self, value: Decimal) -> str:
        """A quantity: whole numbers without decimals."""
        if value == value.to_integral_value():
            return self.number(value, 0)
        value = value.normalize()
        return self.number(value, len(str(value).partition(".")[2]))

    def date(self, value: dt.date) -> str:
        """The date; `%B`/`%b` are English month names whatever the locale
        (the generators never depend on the machine's locale)."""
        months = [
            "January", "February", "March", "April", "May", "June", "July",
            "August", "September", "October", "November", "December",
        ]
        month = months[value.month - 1]
        text = self.date_format.replace("%B", month).replace("%b", month[:3])
        return value.strftime(text)


def write_truth(path: Path, generator: str, invoices: list[Invoice], **extra) -> None:
    """Writes `<name>.truth.json` beside the PDF: the generator, anything
    in `extra` (template, extraction, pages...), and the invoices in the
    order they appear in the file."""
    doc = {"generator": generator, **extra, "invoices": [i.truth() for i in invoices]}
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# The retailer that all vendors bill: the user of dropgate.
RETAILER = Party(
    "Brightside Home & Outdoor, Inc.",
    ("Accounts Payable", "2200 Commerce Park Dr, Suite 400", "Columbus, OH 43219"),
)


def tool_version(command: list[str]) -> str:
    """What a program says its version is (for the truth files)."""
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()


def d(text: str) -> Decimal:
    """Short for Decimal(text)."""
    return Decimal(text)
