"""The scanned sample: a page with no text layer, only a JPEG of a page.

The invoice is drawn with reportlab (gen_reportlab.copper_creek_pdf),
rendered at 150 dpi in grey with poppler's `pdftoppm`, turned a little
(0.6 degrees counter-clockwise), speckled with dust and softened as a
flatbed scanner would, and embedded as a JPEG in a new one-page PDF
(fpdf2 writes the JPEG data unchanged, as /DCTDecode).

The truth file carries where the OCR test should find the invoice number,
the PO number, the total and each SKU: the boxes reportlab drew them in,
turned with the page.
"""

from __future__ import annotations

import io
import math
import random
import subprocess
import tempfile
from pathlib import Path

import gen_fpdf
import gen_reportlab
from invoice import write_truth
from PIL import Image, ImageDraw, ImageFilter
from reportlab.lib.pagesizes import letter

DPI = 150
ANGLE = 0.6  # degrees, counter-clockwise as seen
SEED = 13


def turn_box(box: list[float], width: float, height: float) -> list[float]:
    """The box (top-left coordinates, y down) turned by ANGLE about the
    page's centre, as Pillow's `rotate` turns the image: the smallest
    upright box holding the turned corners."""
    a = math.radians(ANGLE)
    cx, cy = width / 2, height / 2
    xs, ys = [], []
    for x, y in ((box[0], box[1]), (box[2], box[1]), (box[0], box[3]), (box[2], box[3])):
        dx, dy = x - cx, y - cy
        # Counter-clockwise as seen, with y growing downwards.
        xs.append(cx + dx * math.cos(a) + dy * math.sin(a))
        ys.append(cy - dx * math.sin(a) + dy * math.cos(a))
    return [round(min(xs), 1), round(min(ys), 1), round(max(xs), 1), round(max(ys), 1)]


def scan(image: Image.Image) -> Image.Image:
    """Makes a clean rendering look scanned, the same way every time."""
    rng = random.Random(SEED)
    img = image.rotate(ANGLE, resample=Image.Resampling.BICUBIC, fillcolor=255)
    draw = ImageDraw.Draw(img)
    w, h = img.size
    for _ in range(1200):  # dust
        x, y = rng.randrange(w), rng.randrange(h)
        r = rng.choice((0, 0, 0, 1))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=rng.randrange(60, 170))
    # A faint grey band along the left edge, where the lid did not close.
    for x in range(18):
        draw.line((x, 0, x, h), fill=200 + x * 3)
    return img.filter(ImageFilter.GaussianBlur(0.5))


def copper_creek(out: Path) -> list[str]:
    folder = out / "copper-creek-pet"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "CCP-004417-scanned.pdf"
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "source.pdf"
        inv = gen_reportlab.copper_creek_pdf(source)
        subprocess.run(
            ["pdftoppm", "-r", str(DPI), "-gray", "-singlefile", str(source), str(Path(tmp) / "page")],
            check=True,
        )
        img = scan(Image.open(Path(tmp) / "page.pgm"))
        jpeg = Path(tmp) / "page.jpg"
        img.save(jpeg, "JPEG", quality=55, optimize=True, dpi=(DPI, DPI))
        pdf = gen_fpdf.new_pdf("letter")
        pdf.add_page()
        pdf.image(io.BytesIO(jpeg.read_bytes()), 0, 0, *letter)
        pdf.output(str(path))
    inv.positions = {k: turn_box(v, *letter) for k, v in inv.positions.items()}
    write_truth(
        path.with_suffix(".truth.json"),
        f"{gen_reportlab.GENERATOR} + pdftoppm + Pillow + {gen_fpdf.GENERATOR} (scanned)",
        [inv],
        extraction="ocr",
        notes=f"one {DPI} dpi grey JPEG per page, turned {ANGLE} degrees, no text layer; "
        "positions: where the words are, in points from the top left, for the OCR test",
    )
    return ["copper-creek-pet"]


generate = copper_creek
