#!/usr/bin/env python3
"""Makes the sample orders of scripts/run.sh: twelve drop-ship purchase
orders to Acme Supply (samples/partners/acme.toml), a cancellation of one
of them, and Acme's answers as X12 files, so that one pass of the gateway
leaves an order in every state of the lifecycle (see the table ORDERS).

Writes, in samples/orders/:
  PO-58201.json ... PO-58212.json   the orders, one per file, sent in that
                                    order with `dropgate send-po`
  PO-58211-cancel.json              the cancellation of PO-58211, sent last
  acme-1-997.edi                    997s for the groups the orders went in
  acme-2-855.edi                    855 acknowledgments
  acme-3-856.edi                    856 ship notices (one for a PO never sent)
  acme-4-810.edi                    810 invoices
The answers are copied into the drop after the orders are sent: a 997 names
the group (GS06) its order went out in, and a fresh store numbers Acme's
groups 1, 2, 3, ... in the order the orders are sent, the cancellation
being group 13. The files sort in the order Acme would send them (the ship
notices before the invoices that bill them).

Deterministic: the same --today gives the same bytes. The dates are set
around --today (default 2026-12-06: the orders a few days old, the shipped
ones shipped before today, most asked to ship in the coming days, one past
its date and not shipped, a backorder promised for 2027); run it again with
a later --today to make the samples look recent again.

    python3 scripts/make-demo-orders.py [--today YYYY-MM-DD] [--out DIR]
"""

import argparse
import datetime
import json
import os

TODAY = datetime.date(2026, 12, 6)

# The catalogue: sku, U.P.C. (11 digits, check digit added), description, price.
ITEMS = {
    "LMP-ARC-BRS": ("81234501001", "Arc floor lamp, brass", "189.00"),
    "THR-WOOL-GRY": ("81234501002", "Wool throw, grey", "64.50"),
    "MUG-STN-4PK": ("81234501003", "Stoneware mugs, set of 4", "38.00"),
    "KTL-SS-17": ("81234501004", "Stainless kettle 1.7 l", "54.99"),
    "PLW-LIN-20": ("81234501005", "Linen pillow cover 20 in", "22.00"),
    "CUT-BRD-OAK": ("81234501006", "Oak cutting board", "42.00"),
    "CAN-SOY-CED": ("81234501007", "Soy candle, cedar", "18.50"),
    "TWL-BTH-WHT": ("81234501008", "Bath towel set, white", "49.00"),
    "BLB-LED-A19": ("81234501009", "LED bulb A19, 4 pack", "12.99"),
    "FRM-WAL-8X10": ("81234501010", "Wall frame 8x10, walnut", "24.00"),
}

CUSTOMERS = [
    ("Maria Alvarez", "418 Birchwood Ave", "", "Columbus", "OH", "43214"),
    ("Daniel Okafor", "77 Harbor View Rd", "Unit 3B", "Portland", "ME", "04101"),
    ("Priya Raman", "2290 Sandpiper Ln", "", "Sarasota", "FL", "34231"),
    ("Tom Becker", "15 Elm Ct", "", "Madison", "WI", "53703"),
    ("Grace Liu", "930 Alder St", "Apt 12", "Eugene", "OR", "97401"),
    ("Samuel Jones", "6 Quarry Hill Dr", "", "Burlington", "VT", "05401"),
    ("Aisha Karim", "1402 Pecan St", "", "Austin", "TX", "78702"),
    ("Lena Fischer", "58 Canal St", "Fl 2", "Providence", "RI", "02903"),
    ("Jorge Medina", "3117 Mesa Verde Dr", "", "Tucson", "AZ", "85719"),
    ("Hannah Cole", "240 Poplar Blvd", "", "Lexington", "KY", "40508"),
    ("Kenji Watanabe", "819 Kalakaua Ave", "Apt 1504", "Honolulu", "HI", "96815"),
    ("Olivia Brennan", "12 Stone Row", "", "Asheville", "NC", "28801"),
]

# Each order: its number, days before today it was ordered, days after
# today it is asked to ship (negative: past), its lines (sku, quantity), the
# state one pass leaves it in, and what Acme answers. An answer is a list of
# (what, ...): 997; 855 with the line statuses (IA accepted, IB backordered
# to a date, R2 rejected); 856 with (line index, quantity) shipped, the
# carrier, the days before today it shipped; 810 with (line index,
# quantity, price or None for the order's).
ORDERS = [
    ("PO-58201", 1, 3, [("LMP-ARC-BRS", 1)], "sent", []),
    ("PO-58202", 1, 4, [("THR-WOOL-GRY", 2), ("PLW-LIN-20", 2)], "acknowledged",
     [("997",)]),
    # Accepted to ship two days ago and not shipped: a "late" exception.
    ("PO-58203", 6, -2, [("KTL-SS-17", 1), ("MUG-STN-4PK", 1)], "accepted",
     [("997",), ("855", ["IA", "IA"])]),
    ("PO-58204", 3, 2, [("CUT-BRD-OAK", 1), ("TWL-BTH-WHT", 2)], "backordered",
     [("997",), ("855", ["IA", ("IB", datetime.date(2027, 2, 15))])]),
    ("PO-58205", 5, 1, [("CAN-SOY-CED", 3), ("FRM-WAL-8X10", 2), ("BLB-LED-A19", 1)],
     "partly-shipped",
     [("997",), ("855", ["IA", "IA", "IA"]), ("856", [(0, 3), (2, 1)], "UPSN", 1)]),
    ("PO-58206", 4, 1, [("MUG-STN-4PK", 2)], "shipped",
     [("997",), ("855", ["IA"]), ("856", [(0, 2)], "UPSN", 2)]),
    # Billed for what shipped; its third line backordered to 2027.
    ("PO-58207", 8, -3, [("TWL-BTH-WHT", 1), ("PLW-LIN-20", 4), ("CAN-SOY-CED", 2)],
     "invoiced",
     [("997",), ("855", ["IA", "IA", ("IB", datetime.date(2027, 1, 20))]), ("856", [(0, 1), (1, 4)], "FDEG", 4),
      ("810", [(0, 1, None), (1, 4, None)])]),
    ("PO-58208", 9, -4, [("LMP-ARC-BRS", 1), ("BLB-LED-A19", 2)], "reconciled",
     [("997",), ("855", ["IA", "IA"]), ("856", [(0, 1), (1, 2)], "UPSN", 5),
      ("810", [(0, 1, None), (1, 2, None)])]),
    # Billed 58.99 a kettle ordered at 54.99: held by reconciliation.
    ("PO-58209", 7, -2, [("KTL-SS-17", 1), ("CUT-BRD-OAK", 1)], "held",
     [("997",), ("855", ["IA", "IA"]), ("856", [(0, 1), (1, 1)], "FDEG", 3),
      ("810", [(0, 1, "58.99"), (1, 1, None)])]),
    ("PO-58210", 2, 5, [("FRM-WAL-8X10", 6), ("THR-WOOL-GRY", 1)], "rejected",
     [("997",), ("855-rejected", ["R2", "R2"])]),
    ("PO-58211", 2, 4, [("CAN-SOY-CED", 4)], "cancelled", [("997",)]),
    # Shipped in two parcels on two days, each with its ship notice.
    ("PO-58212", 6, 0, [("THR-WOOL-GRY", 1), ("LMP-ARC-BRS", 1)], "shipped",
     [("997",), ("855", ["IA", "IA"]), ("856", [(0, 1)], "UPSN", 3),
      ("856", [(1, 1)], "UPSN", 1)]),
]

CANCELLED = "PO-58211"
# A ship notice for an order never sent (a number mistyped at Acme).
UNKNOWN_PO = "PO-58120"

CARRIERS = {"UPSN": "UPS Ground", "FDEG": "FedEx Ground"}


def upc(base11):
    """A U.P.C.-A with its GS1 check digit."""
    odd = sum(int(d) for d in base11[0::2])
    even = sum(int(d) for d in base11[1::2])
    return base11 + str((10 - (odd * 3 + even) % 10) % 10)


def ups_tracking(n):
    """A UPS 1Z number with its check digit (shipper 8A4E71, ground)."""
    body = "8A4E71" + "03" + "%07d" % (4400000 + n * 7919 % 1000000)
    values = [int(c) if c.isdigit() else (ord(c) - 63) % 10 for c in body]
    total = sum(values[0::2]) + 2 * sum(values[1::2])
    return "1Z" + body + str((10 - total % 10) % 10)


def fedex_tracking(n):
    """A FedEx Ground number of 12 digits."""
    return "7%011d" % (48105500000 + n * 104729 % 100000000)


def money(cents):
    return "%d.%02d" % (cents // 100, cents % 100)


def cents(price):
    whole, _, frac = price.partition(".")
    return int(whole) * 100 + int((frac + "00")[:2])


def d8(d):
    return d.strftime("%Y%m%d")


class Interchange:
    """One interchange from Acme (ZZ:VENDORID) to us (ZZ:RETAILERID), one
    group of `functional_id`, its sets added with `add`."""

    def __init__(self, functional_id, control, when):
        self.functional_id = functional_id
        self.control = control
        self.when = when
        self.sets = []

    def add(self, set_id, segments):
        self.sets.append((set_id, segments))

    def text(self):
        c, w = self.control, self.when
        out = [
            "ISA*00*          *00*          *ZZ*%-15s*ZZ*%-15s*%s*%s*U*00401*%09d*0*P*>"
            % ("VENDORID", "RETAILERID", w.strftime("%y%m%d"), w.strftime("%H%M"), c),
            "GS*%s*VENDORID*RETAILERID*%s*%s*%d*X*004010"
            % (self.functional_id, w.strftime("%Y%m%d"), w.strftime("%H%M"), c),
        ]
        for i, (set_id, segments) in enumerate(self.sets, start=1):
            number = "%04d" % i
            out.append("ST*%s*%s" % (set_id, number))
            out.extend(segments)
            out.append("SE*%d*%s" % (len(segments) + 2, number))
        out.append("GE*%d*%d" % (len(self.sets), c))
        out.append("IEA*1*%09d" % c)
        return "".join(s + "~\n" for s in out)


def purchase_order(number, ordered_on, ship_on, lines, customer, index):
    name, a1, a2, city, state, zip_code = customer
    ship_to = {"name": name, "address1": a1}
    if a2:
        ship_to["address2"] = a2
    ship_to.update({"city": city, "state": state, "postal_code": zip_code, "country": "US"})
    po_lines = []
    total = 0
    for i, (sku, q) in enumerate(lines, start=1):
        base, description, price = ITEMS[sku]
        total += cents(price) * q
        po_lines.append({
            "line_number": str(i), "sku": sku, "upc": upc(base),
            "description": description, "quantity": q, "uom": "EA",
            "unit_price": float(price),
        })
    return {
        "type": "purchase_order",
        "source": {"format": "json"},
        "po_number": number,
        "po_date": ordered_on.isoformat(),
        "purpose": "original",
        "po_type": "dropship",
        "currency": "USD",
        "customer_order_number": "WEB-%06d" % (731400 + index * 37),
        "ship_to": ship_to,
        "ship_method": {"scac": "UPSN", "service": "UPS Ground Residential"},
        "requested_ship_date": ship_on.isoformat(),
        "notes": [],
        "lines": po_lines,
        "total_amount": float(money(total)),
    }


def po1(i, sku, q, price=None):
    base, _, list_price = ITEMS[sku]
    return "PO1*%d*%d*EA*%s**VN*%s*UP*%s" % (i, q, price or list_price, sku, upc(base))


def make(today, out):
    os.makedirs(out, exist_ok=True)
    at = lambda days_ago, hhmm: datetime.datetime.combine(  # noqa: E731
        today - datetime.timedelta(days=days_ago), datetime.time(hhmm // 100, hhmm % 100))
    fa = Interchange("FA", 58301, at(0, 715))
    pr = Interchange("PR", 58401, at(0, 720))
    sh = Interchange("SH", 58501, at(0, 725))
    inv = Interchange("IN", 58601, at(0, 730))
    parcels = 0
    for index, (number, ago, ship_in, lines, _state, answers) in enumerate(ORDERS):
        group = index + 1
        ordered_on = today - datetime.timedelta(days=ago)
        ship_on = today + datetime.timedelta(days=ship_in)
        po = purchase_order(number, ordered_on, ship_on, lines, CUSTOMERS[index], index)
        with open(os.path.join(out, number + ".json"), "w") as f:
            json.dump(po, f, indent=2)
            f.write("\n")
        if number == CANCELLED:
            cancel = dict(po, purpose="cancel", po_date=(today - datetime.timedelta(days=1)).isoformat())
            cancel["notes"] = ["Cancelled at the customer's request"]
            with open(os.path.join(out, number + "-cancel.json"), "w") as f:
                json.dump(cancel, f, indent=2)
                f.write("\n")
        shipped_so_far = 0
        for answer in answers:
            kind = answer[0]
            if kind == "997":
                fa.add("997", ["AK1*PO*%d" % group, "AK2*850*0001", "AK5*A", "AK9*A*1*1*1"])
            elif kind in ("855", "855-rejected"):
                segments = ["BAK*00*%s*%s*%s****SO-%s*%s" % (
                    "RJ" if kind == "855-rejected" else
                    ("AC" if any(isinstance(s, tuple) for s in answer[1]) else "AD"),
                    number, d8(ordered_on), number[3:], d8(today - datetime.timedelta(days=max(ago - 1, 0))))]
                for i, ((sku, q), status) in enumerate(zip(lines, answer[1]), start=1):
                    segments.append(po1(i, sku, q))
                    if isinstance(status, tuple):
                        segments.append("ACK*%s*%d*EA*068*%s" % (status[0], q, d8(status[1])))
                    elif status == "IA":
                        segments.append("ACK*IA*%d*EA*068*%s" % (q, d8(ship_on)))
                    else:
                        segments.append("ACK*%s*%d*EA" % (status, q))
                segments.append("CTT*%d" % len(lines))
                pr.add("855", segments)
            elif kind == "856":
                shipped_so_far += 1
                _, items, scac, days_ago = answer
                parcels += 1
                tracking = ups_tracking(parcels) if scac == "UPSN" else fedex_tracking(parcels)
                sh.add("856", ship_notice(
                    "ASN-%s-%d" % (number[3:], shipped_so_far), number, ordered_on,
                    today - datetime.timedelta(days=days_ago), scac, tracking,
                    CUSTOMERS[index], [(i, lines[i][0], q) for i, q in items]))
            elif kind == "810":
                inv.add("810", invoice(
                    "INV-%s" % number[3:], number, ordered_on, today - datetime.timedelta(days=1),
                    CUSTOMERS[index], [(i, lines[i][0], q, p) for i, q, p in answer[1]]))
    parcels += 1
    sh.add("856", ship_notice(
        "ASN-58120-1", UNKNOWN_PO, today - datetime.timedelta(days=5),
        today - datetime.timedelta(days=1), "UPSN", ups_tracking(parcels),
        ("Ruth Adler", "44 Linden Pl", "", "Evanston", "IL", "60201"), [(0, "MUG-STN-4PK", 1)]))
    for name, interchange in [("acme-1-997.edi", fa), ("acme-2-855.edi", pr),
                              ("acme-3-856.edi", sh), ("acme-4-810.edi", inv)]:
        with open(os.path.join(out, name), "w") as f:
            f.write(interchange.text())


def ship_notice(asn, po_number, ordered_on, shipped_on, scac, tracking, customer, items):
    """An 856, pick and pack: shipment, order, one parcel, its items."""
    name, a1, a2, city, state, zip_code = customer
    segments = [
        "BSN*00*%s*%s*1600*0001" % (asn, d8(shipped_on)),
        "HL*1**S",
        "TD1*CTN25*1****G*%d*LB" % (2 + 3 * len(items)),
        "TD5**2*%s*U*%s" % (scac, CARRIERS[scac]),
        "REF*BM*%s" % asn,
        "DTM*011*%s" % d8(shipped_on),
        "N1*ST*%s" % name,
        "N3*%s" % ("*".join(x for x in (a1, a2) if x)),
        "N4*%s*%s*%s*US" % (city, state, zip_code),
        "HL*2*1*O",
        "PRF*%s***%s" % (po_number, d8(ordered_on)),
        "HL*3*2*P",
        "MAN*CP*%s" % tracking,
    ]
    hl = 3
    for i, sku, q in items:
        hl += 1
        base = ITEMS[sku][0]
        segments += ["HL*%d*3*I" % hl, "LIN*%d*VN*%s*UP*%s" % (i + 1, sku, upc(base)),
                     "SN1*%d*%d*EA" % (i + 1, q)]
    segments.append("CTT*%d" % hl)
    return segments


def invoice(number, po_number, ordered_on, billed_on, customer, items):
    """An 810: the lines billed, freight, net 30."""
    segments = [
        "BIG*%s*%s*%s*%s" % (d8(billed_on), number, d8(ordered_on), po_number),
        "N1*VN*Acme Supply*92*V-ACME",
        "N1*RI*Acme Supply Remit",
        "N1*ST*%s" % customer[0],
        "ITD*01*3*****30",
        "DTM*011*%s" % d8(billed_on),
    ]
    subtotal = 0
    for i, sku, q, price in items:
        price = price or ITEMS[sku][2]
        subtotal += cents(price) * q
        base = ITEMS[sku][0]
        segments.append("IT1*%d*%d*EA*%s**VN*%s*UP*%s" % (i + 1, q, price, sku, upc(base)))
    freight = 895
    segments += ["TDS*%d*%d" % (subtotal + freight, subtotal), "SAC*C*D240***%d" % freight,
                 "CTT*%d" % len(items)]
    return segments


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--today", type=datetime.date.fromisoformat, default=TODAY,
                        help="the day the samples are set around (default %s)" % TODAY)
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--out", default=os.path.join(here, "..", "samples", "orders"),
                        help="where to write them (default samples/orders)")
    args = parser.parse_args()
    make(args.today, args.out)


if __name__ == "__main__":
    main()
