#!/usr/bin/env python3
"""Writes the seeds of the pdf_extract fuzz target into
fuzz/regressions/pdf_extract/: invoices laid out as positioned words in the
byte encoding of src/mapping/pdf_harness.rs (see `pages` there), so that the
fuzzer starts from inputs the extraction reads, not from noise.

    scripts/pdf-extract-seeds.py
"""
import pathlib
import re

root = pathlib.Path(__file__).resolve().parent.parent
source = (root / "src/mapping/pdf_harness.rs").read_text()
block = source.split("const VOCABULARY: &[&str] = &[", 1)[1].split("];", 1)[0]
vocabulary = [bytes(m, "utf-8").decode("unicode_escape") if "\\" in m else m
              for m in re.findall(r'^\s*"((?:[^"\\]|\\.)*)",', block, re.M)]


def number(points):
    """A coordinate on the page: tag 2, then points * 80 as a u16."""
    v = int(points * 80)
    return bytes([2, v & 0xFF, v >> 8])


def line(y, words, new_block=False, x=50.0, gap=8):
    control = 0x21 if new_block else 0x01
    out = bytes([control]) + number(y) + number(x) + bytes([len(words) - 1])
    for w in words:
        out += bytes([vocabulary.index(w), gap])
    return out


def placed(y, words, new_block=False):
    """A line of words each at its own x (a table's row): every word's
    box given, 5 pt a letter, 10 pt high."""
    control = 0x31 if new_block else 0x11
    out = bytes([control]) + number(y) + number(0) + bytes([len(words) - 1])
    for w, x in words:
        out += bytes([vocabulary.index(w)])
        out += number(x) + number(y) + number(x + 5 * len(w)) + number(y + 10)
    return out


def page(lines, ocr=False, number_=1):
    out = bytes([number_, 1, 0 if ocr else 1, len(lines) - 1])
    for l in lines:
        out += l
    return out + bytes([0])  # no rules


def invoice(number_, total, ocr=False, page_no=1, freight="12.50"):
    return page([
        line(40, ["Harborline", "Outdoor", "Supply"], new_block=True),
        line(60, ["INVOICE"]),
        line(80, ["Invoice", "#", number_], x=350),
        line(95, ["Invoice", "Date", "11/15/2026"], x=350),
        line(110, ["PO", "Number", "PM-558630"], x=350),
        line(125, ["Terms", "Net", "30"], x=350, new_block=True),
        placed(160, [("Line", 40), ("SKU", 70), ("Description", 150), ("Qty", 300),
                     ("UoM", 340), ("Unit", 390), ("Price", 415), ("Amount", 480)]),
        placed(175, [("1", 40), ("HL-TENT-2P", 70), ("Description", 150), ("36", 305),
                     ("EA", 340), ("6.25", 420), ("225.00", 485)]),
        placed(190, [("2", 40), ("HL-TENT-2P", 70), ("ß", 150), ("1", 310),
                     ("EA", 340), ("1,234.56", 400), ("$1,234.56", 480)]),
        line(220, ["Subtotal", "1,459.56"], x=400),
        line(235, ["Freight", freight], x=400),
        line(250, ["Total", "Due", total], x=400, new_block=True),
    ], ocr=ocr, number_=page_no)


def rechnung():
    return page([
        line(70, ["Invoice", "#", "INV-1002"]),
        line(85, ["Date:", "15.11.2026"]),
        placed(130, [("Line", 50), ("Item", 80), ("Menge", 300), ("Price", 380), ("Betrag", 460)]),
        placed(145, [("1", 50), ("HL-TENT-2P", 80), ("2", 310), ("1.234,56", 370), ("1.234,56", 455)]),
        line(190, ["Gesamtbetrag", "1.234,56"], x=360),
    ])


seeds = {
    "seed-harborline": invoice("INV-1001", "1,472.06"),
    "seed-negative": invoice("INV-1001", "$1,234.56", freight="12.50-"),
    "seed-two-invoices": invoice("INV-1001", "(12.50)") + invoice("INV-1002", "1.234,56", page_no=2),
    "seed-ocr": invoice("INV-1001", "0.0000000000000000000000000001", ocr=True),
    "seed-huge-amounts": invoice("INV-1001", "79228162514264337593543950335"),
    "seed-rechnung": rechnung(),
    # A label glued to a value whose letters grow in lower case (İ is
    # two bytes, i̇ three): the value's offset in the word was negative.
    "crash-label-lowercase-longer": page([line(80, ["Totalİİİİİİ"])]),
    # Amounts near Decimal's limit: their products and sums overflowed.
    "crash-amount-overflow": page([
        line(70, ["Invoice", "#", "INV-1002"]),
        placed(130, [("Line", 50), ("Item", 80), ("Qty", 300), ("Price", 380), ("Amount", 460)]),
        placed(145, [("1", 50), ("HL-TENT-2P", 80), ("79228162514264337593543950335", 300),
                     ("79228162514264337593543950335", 380), ("79228162514264337593543950335", 460)]),
        placed(160, [("2", 50), ("HL-TENT-2P", 80), ("2", 300),
                     ("79228162514264337593543950335", 380), ("79228162514264337593543950335", 460)]),
        line(190, ["Subtotal", "79228162514264337593543950335"], x=360),
        line(205, ["Freight", "79228162514264337593543950335"], x=360),
        line(220, ["Total", "79228162514264337593543950335"], x=360),
    ]),
}
out = root / "fuzz/regressions/pdf_extract"
out.mkdir(parents=True, exist_ok=True)
for name, data in seeds.items():
    (out / name).write_bytes(data)
    print(out / name, len(data), "bytes")
