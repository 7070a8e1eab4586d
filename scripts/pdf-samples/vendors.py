"""The sample vendors and their invoices (fictional companies and people).

Each function returns the invoice(s) of one sample; the generators in
`gen_*.py` draw them. All dates are fixed, so regenerating gives the same
values.
"""

from __future__ import annotations

import datetime as dt

from invoice import RETAILER, Invoice, Item, Party, d

NOV15 = dt.date(2026, 11, 15)


def _customer(name: str, *lines: str) -> Party:
    """A dropship end customer (the ship-to)."""
    return Party(name, lines)


def harborline() -> Invoice:
    """A long invoice: 58 lines, a table over two pages."""
    products = [
        ("HL-TNT-2P", "Ridgeline 2-Person Backpacking Tent", "EA", "189.00"),
        ("HL-SB-20F", "Summit 20F Mummy Sleeping Bag", "EA", "124.50"),
        ("HL-PAD-UL", "Ultralight Insulated Sleeping Pad", "EA", "79.95"),
        ("HL-STV-CMP", "Compact Canister Stove", "EA", "42.00"),
        ("HL-LMP-300", "Headlamp 300 Lumen Rechargeable", "EA", "28.75"),
        ("HL-BTL-1L", "Insulated Steel Bottle 1 L", "EA", "21.40"),
        ("HL-CHR-FLD", "Folding Camp Chair", "EA", "36.20"),
        ("HL-FLT-SQZ", "Squeeze Water Filter", "EA", "31.10"),
        ("HL-CKW-SET", "Titanium Cookware Set 3 pc", "SET", "64.00"),
        ("HL-TRP-RAIN", "Silnylon Rain Tarp 10x10", "EA", "58.30"),
        ("HL-CRD-PAR", "Paracord 550, 100 ft", "RL", "9.85"),
        ("HL-PLS-TRK", "Carbon Trekking Poles (pair)", "PR", "88.00"),
    ]
    items = []
    for n in range(58):
        sku, desc, uom, price = products[n % len(products)]
        colour = ["Sage", "Slate", "Rust", "Sand", "Navy"][n % 5]
        items.append(
            Item(f"{sku}-{colour[:2].upper()}", f"{desc}, {colour}", d(str(1 + n % 4)), uom, d(price))
        )
    return Invoice(
        vendor=Party(
            "Harborline Outdoor Supply Co.",
            ("1180 Wharf Street", "Portland, ME 04101", "ar@harborline.example"),
        ),
        number="HL-2026-118403",
        date=NOV15,
        due_date=dt.date(2026, 12, 15),
        po_number="BHO-PO-77120",
        terms="Net 30",
        currency="USD",
        bill_to=RETAILER,
        ship_to=_customer("Dana Whitfield", "4412 Larkspur Lane", "Boise, ID 83709"),
        items=items,
        freight=d("148.00"),
        tax_rate=d("0"),
    )


def kestrel() -> list[Invoice]:
    """Two invoices in one PDF, each with a discount in parentheses."""
    vendor = Party(
        "Kestrel Home Goods",
        ("77 Mill Race Road", "Asheville, NC 28801", "billing@kestrelhome.example"),
    )
    first = Invoice(
        vendor=vendor,
        number="KHG-50211",
        date=dt.date(2026, 11, 14),
        po_number="BHO-PO-77098",
        terms="2% 10, Net 30",
        currency="USD",
        bill_to=RETAILER,
        ship_to=_customer("Marcus Oyelaran", "19 Quarry Hill Rd", "Hartford, CT 06106"),
        items=[
            Item("KH-THR-WL", "Wool Throw Blanket, Charcoal", d("2"), "EA", d("54.00")),
            Item("KH-PIL-LN", "Linen Pillow Cover 20x20", d("4"), "EA", d("17.25")),
            Item("KH-CND-3W", "Three-Wick Soy Candle", d("3"), "EA", d("22.80")),
        ],
        freight=d("19.95"),
        discount=d("12.50"),
    )
    second = Invoice(
        vendor=vendor,
        number="KHG-50212",
        date=NOV15,
        po_number="BHO-PO-77104",
        terms="2% 10, Net 30",
        currency="USD",
        bill_to=RETAILER,
        ship_to=_customer("Priya Raman", "803 Oak Hollow Ct", "Plano, TX 75023"),
        items=[
            Item("KH-BSK-SG", "Seagrass Storage Basket, Large", d("1"), "EA", d("46.00")),
            Item("KH-MUG-ST", "Stoneware Mug, set of 4", d("2"), "SET", d("38.40")),
        ],
        freight=d("12.00"),
        discount=d("6.14"),
        tax_rate=d("0.0625"),
    )
    return [first, second]


def bluegrass() -> Invoice:
    """A landscape invoice (the page is turned by /Rotate 90)."""
    return Invoice(
        vendor=Party(
            "Bluegrass Kitchen Wares LLC",
            ("3300 Distillery Pike", "Louisville, KY 40206"),
        ),
        number="BKW-88317",
        date=NOV15,
        due_date=dt.date(2027, 1, 14),
        po_number="BHO-PO-77131",
        terms="Net 60",
        currency="USD",
        bill_to=RETAILER,
        ship_to=_customer("Helen Castellanos", "2710 W Pinecrest Ave", "Tucson, AZ 85705"),
        items=[
            Item("BKW-CI-12", "Cast Iron Skillet 12 in, pre-seasoned", d("2"), "EA", d("39.99")),
            Item("BKW-DO-55", "Enameled Dutch Oven 5.5 qt, Cobalt", d("1"), "EA", d("84.50")),
            Item("BKW-KN-8C", "Chef Knife 8 in, Carbon Steel", d("1"), "EA", d("61.00")),
            Item("BKW-BB-MP", "Maple End-Grain Cutting Board", d("1"), "EA", d("72.25")),
        ],
        freight=d("24.00"),
        tax_rate=d("0.06"),
    )


def copper_creek() -> Invoice:
    """The scanned invoice (rendered, turned a little, noised, as a JPEG)."""
    return Invoice(
        vendor=Party(
            "Copper Creek Pet Supply",
            ("51 Tannery Row", "Bozeman, MT 59715"),
        ),
        number="CCP-004417",
        date=NOV15,
        po_number="BHO-PO-77145",
        terms="Net 30",
        currency="USD",
        bill_to=RETAILER,
        ship_to=_customer("Tom Albrecht", "96 Meadowbrook Dr", "Fargo, ND 58103"),
        items=[
            Item("CCP-TRT-250", "Salmon Bites Dog Treats 8 oz", d("36"), "PCS", d("6.25")),
            Item("CCP-TOY-CM3", "Catnip Mice Toy, 3-pack", d("20"), "PCS", d("4.80")),
            Item("CCP-KBL-25", "Grain-Free Kibble 25 lb", d("10"), "BAG", d("58.90")),
        ],
        freight=d("38.00"),
        discount=d("45.50"),
    )


def nordwind() -> Invoice:
    """A German invoice: 1.234,56 and 15.11.2026, 19 % USt."""
    return Invoice(
        vendor=Party(
            "Nordwind Haushaltswaren GmbH",
            ("Speicherstraße 14", "20457 Hamburg", "Deutschland", "USt-IdNr. DE298765431"),
        ),
        number="RE-2026-10482",
        date=NOV15,
        due_date=dt.date(2026, 12, 15),
        po_number="BHO-PO-77150",
        terms="30 Tage netto",
        currency="EUR",
        bill_to=RETAILER,
        ship_to=_customer("Jürgen Weiß", "Lindenallee 7", "50668 Köln", "Deutschland"),
        items=[
            Item("NW-KES-17", "Wasserkocher Edelstahl 1,7 l", d("12"), "Stk", d("34.90")),
            Item("NW-TOA-2S", "Toaster 2-Scheiben, Weiß", d("8"), "Stk", d("29.50")),
            Item("NW-MES-6T", "Messerblock mit 6 Messern", d("5"), "Stk", d("119.00")),
            Item("NW-PFA-28", "Pfanne Gusseisen Ø 28 cm", d("8"), "Stk", d("154.32")),
        ],
        freight=d("45.00"),
        tax_rate=d("0.19"),
    )


def olivar() -> Invoice:
    """A Spanish invoice printed with the standard fonts (WinAnsi)."""
    return Invoice(
        vendor=Party(
            "Distribuciones Olivar S.L.",
            ("Calle de Alcalá 212", "28028 Madrid", "España", "NIF B-87654321"),
        ),
        number="FV-2026/0931",
        date=NOV15,
        po_number="BHO-PO-77162",
        terms="Pago a 30 días",
        currency="EUR",
        bill_to=RETAILER,
        ship_to=_customer("Lucía Fernández", "Avenida del Puerto 45, 3º B", "46021 Valencia", "España"),
        items=[
            Item("OLV-ACE-5L", "Aceite de oliva virgen extra, 5 l", d("6"), "ud", d("42.75")),
            Item("OLV-ACT-MZ", "Aceitunas manzanilla, caja 12 latas", d("4"), "caja", d("27.60")),
            Item("OLV-VIN-JR", "Vinagre de Jerez reserva 500 ml", d("12"), "ud", d("8.95")),
        ],
        freight=d("18.00"),
        tax_rate=d("0.21"),
    )


def sierra_trail() -> Invoice:
    """LibreOffice: long descriptions wrap onto two lines."""
    return Invoice(
        vendor=Party(
            "Sierra Trail Apparel, Inc.",
            ("4650 Foothill Blvd", "Reno, NV 89502", "invoices@sierratrail.example"),
        ),
        number="STA-INV-30077",
        date=NOV15,
        due_date=dt.date(2026, 12, 30),
        po_number="BHO-PO-77170",
        terms="Net 45",
        currency="USD",
        bill_to=RETAILER,
        ship_to=_customer("Alicia Moreno-Park", "1550 Canyon View Rd, Apt 12", "Flagstaff, AZ 86001"),
        items=[
            Item(
                "STA-JKT-M-OLV",
                "Men's Alpine Insulated Jacket, recycled ripstop, Olive, size M",
                d("2"), "EA", d("148.00"),
            ),
            Item(
                "STA-FLC-W-HTH",
                "Women's Grid Fleece Pullover, quarter zip, Heather Grey, S",
                d("3"), "EA", d("64.50"),
            ),
            Item("STA-SCK-3PK", "Merino Hiking Socks, 3-pack", d("6"), "PK", d("27.00")),
            Item(
                "STA-PNT-M-CHR",
                "Men's Stretch Trail Pants, zip pockets, Charcoal, 32x32",
                d("2"), "EA", d("79.00"),
            ),
        ],
        freight=d("22.50"),
        tax_rate=d("0.0825"),
    )


def atelier_lumiere() -> Invoice:
    """A French invoice from a browser, its table over two pages."""
    items = []
    lamps = [
        ("ALM-SUS-", "Suspension laiton brossé", "185.00"),
        ("ALM-APP-", "Applique murale opaline", "96.40"),
        ("ALM-LAM-", "Lampe de bureau articulée", "74.90"),
        ("ALM-LIS-", "Liseuse à poser en frêne", "58.00"),
        ("ALM-AMP-", "Ampoule LED filament E27", "6.80"),
    ]
    for n in range(50):
        prefix, desc, price = lamps[n % len(lamps)]
        finish = ["noir", "blanc", "laiton", "vert"][n % 4]
        items.append(Item(f"{prefix}{n + 1:03d}", f"{desc}, finition {finish}", d(str(1 + n % 3)), "pce", d(price)))
    return Invoice(
        vendor=Party(
            "Atelier Lumière SARL",
            ("18 rue des Tanneurs", "69002 Lyon", "France", "TVA FR41 512345678"),
        ),
        number="F-2026-00871",
        date=NOV15,
        due_date=dt.date(2026, 12, 15),
        po_number="BHO-PO-77188",
        terms="30 jours fin de mois",
        currency="EUR",
        bill_to=RETAILER,
        ship_to=_customer("Claire Dubois", "5 place Bellecour", "69002 Lyon", "France"),
        items=items,
        freight=d("35.00"),
        discount=d("50.00"),
        tax_rate=d("0.20"),
    )


def granite_peak() -> Invoice:
    """A vendor meant to have no template (generic extraction)."""
    return Invoice(
        vendor=Party(
            "Granite Peak Tool & Hardware",
            ("900 Quarry Road", "Barre, VT 05641"),
        ),
        number="100734",
        date=NOV15,
        due_date=dt.date(2026, 12, 15),
        po_number="BHO-PO-77193",
        terms="Net 30",
        currency="USD",
        bill_to=RETAILER,
        ship_to=_customer("Samuel Okafor", "311 Birchwood Ter", "Madison, WI 53711"),
        items=[
            Item("GP-DRL-20V", "20V Cordless Drill/Driver Kit", d("1"), "EA", d("129.00")),
            Item("GP-BIT-45", "Impact Bit Set, 45 pc", d("2"), "EA", d("24.99")),
            Item("GP-LVL-48", "Aluminum Box Level 48 in", d("1"), "EA", d("54.25")),
            Item("GP-GLV-L", "Work Gloves, Leather Palm, L", d("6"), "PR", d("8.75")),
            Item("GP-TAP-25", "Tape Measure 25 ft", d("3"), "EA", d("14.20")),
        ],
        freight=d("16.95"),
        discount=d("10.00"),
        tax_rate=d("0.055"),
    )


def fenwick() -> Invoice:
    """A British vendor with no template: pounds, VAT, a day-first date
    that could be read month first (04/11/2026), the header's values in a
    table under their labels, headings set left over numbers set right."""
    return Invoice(
        vendor=Party(
            "Fenwick Stoneware Ltd",
            ("Unit 4, Kelvin Park", "Leeds LS11 5QA", "VAT Reg. GB 123 4567 89"),
        ),
        number="FS-009912",
        date=dt.date(2026, 11, 4),
        due_date=dt.date(2026, 12, 4),
        po_number="BHO-PO-77210",
        terms="30 days",
        currency="GBP",
        bill_to=RETAILER,
        ship_to=_customer("Brightside UK Returns", "Dock 3, Meadowhall Way", "Sheffield S9 1EP"),
        items=[
            Item("FS-MUG-GR", "Stoneware mug, green", d("24"), "EA", d("4.80")),
            Item("FS-TEA-BR", "Teapot 1.2 l, brown", d("6"), "EA", d("21.00")),
            Item("FS-TWL-WF", "Waffle tea towel (pack of 3)", d("10"), "PK", d("8.35")),
            Item("FS-JUG-1L", "Milk jug 1 l, cream", d("12"), "EA", d("112.50")),
        ],
        freight=d("15.00"),
        tax_rate=d("0.20"),
    )


def pinecrest() -> Invoice:
    """LaTeX: "fulfillment", "office", "flat" come out as fi/fl ligatures."""
    return Invoice(
        vendor=Party(
            "Pinecrest Office Fulfillment Services",
            ("12 Flagstone Way", "Durham, NC 27701"),
        ),
        number="POF-26-1552",
        date=NOV15,
        due_date=dt.date(2026, 12, 15),
        po_number="BHO-PO-77201",
        terms="Net 30",
        currency="USD",
        bill_to=RETAILER,
        ship_to=_customer("Office Manager, Fieldstone Dental", "48 Fifth Avenue", "Raleigh, NC 27601"),
        items=[
            Item("PF-FLD-LTR", "Office file folders, letter, box of 100", d("4"), "BX", d("18.40")),
            Item("PF-FLX-DSK", "Flexible desk lamp, flat base", d("2"), "EA", d("36.00")),
            Item("PF-FIL-CAB", "Fireproof filing cabinet, 2 drawer", d("1"), "EA", d("249.00")),
            Item("PF-FUL-FEE", "Fulfillment fee, first shipment", d("1"), "EA", d("15.00")),
        ],
        freight=d("29.00"),
        tax_rate=d("0.0475"),
    )
