"""Writes the inputs of scripts/bench-mapping.sh: SIZE (MB) of X12 850s, one
X12 846 and a Latin-1 CSV inventory feed, into DIR. Deterministic; skips
files that exist."""
import os
import random
import sys

size_mb, out_dir = int(sys.argv[1]), sys.argv[2]
target = size_mb * 1_000_000
rng = random.Random(1)
ISA = ("ISA*00*          *00*          *ZZ*RETAILERID     *ZZ*VENDORID       "
       "*240115*1030*U*00401*000000101*0*P*>~\n")


def write_850(path):
    with open(path, "w") as out:
        out.write(ISA + "GS*PO*RETAILERID*VENDORID*20240115*1030*101*X*004010~\n")
        size, n = 0, 0
        while size < target:
            n += 1
            k = rng.randint(1, 8)
            lines = "".join(
                f"PO1*{i}*{rng.randint(1, 9)}*EA*{rng.randint(100, 9999) / 100:.2f}**VN*SKU-{rng.randint(1, 99999)}"
                f"*UP*0123456{rng.randint(10000, 99999)}~\nPID*F****Widget number {i}~\n"
                for i in range(1, k + 1))
            s = (f"ST*850*{n:09d}~\nBEG*00*DS*PO{n:07d}**20240115~\nREF*CO*ORD-{n}~\nDTM*010*20240118~\n"
                 "TD5**2*UPSN*U*UPS Ground~\nN1*ST*Jane Doe~\nN3*123 Main St*Apt 4~\n"
                 "N4*Springfield*IL*62701*US~\nPER*IC*Jane Doe*TE*5555550100~\n"
                 f"{lines}CTT*{k}~\nSE*{11 + 2 * k}*{n:09d}~\n")
            out.write(s)
            size += len(s)
        out.write(f"GE*{n}*101~\nIEA*1*000000101~\n")


def write_846(path):
    with open(path, "w") as out:
        out.write(ISA + "GS*IB*VENDORID*RETAILERID*20240115*1030*101*X*004010~\n")
        out.write("ST*846*0001~\nBIA*00*SI*INV-1*20240115~\nN1*SU*Vendor Inc*92*V1~\n")
        # n counts the set's segments before its SE: ST, BIA and N1 so far.
        size, n = 0, 3
        i = 0
        while size < target:
            i += 1
            s = (f"LIN*{i}*VN*SKU-{i}*UP*0123456{i % 100000:05d}~\nPID*F****Item {i}~\n"
                 f"CTP**RTL*{rng.randint(100, 99999) / 100:.2f}~\nQTY*33*{rng.randint(0, 5000)}*EA~\n")
            out.write(s)
            size += len(s)
            n += 4
        # CTT01 has at most 6 digits, and CTT is optional in the 846: a
        # catalogue of a million items or more leaves it out (with it, the
        # set would be rejected and, rightly, not written).
        if i <= 999_999:
            out.write(f"CTT*{i}~\n")
            n += 1
        out.write(f"SE*{n + 1}*0001~\nGE*1*101~\nIEA*1*000000101~\n")


def write_csv(path):
    with open(path, "wb") as out:
        out.write("Lagerbestand Nordlys GmbH\n".encode("latin-1"))
        out.write("Artikelnummer;EAN;Bezeichnung;Bestand;Einheit;Preis EUR;Lager;Nächste Lieferung;Liefermenge\n"
                  .encode("latin-1"))
        size, i = 0, 0
        while size < target:
            i += 1
            row = (f"NL-{i};40063813{i % 100000:05d};Kühlbox {i % 97};{rng.randint(0, 9999)};Stk;"
                   f"{rng.randint(1, 99999) // 100},{rng.randint(0, 99):02d};Hamburg;;\n").encode("latin-1")
            out.write(row)
            size += len(row)


for name, writer in [(f"850-{size_mb}M.edi", write_850), (f"846-{size_mb}M.edi", write_846),
                     (f"nordlys-{size_mb}M.csv", write_csv)]:
    path = os.path.join(out_dir, name)
    if not os.path.exists(path):
        writer(path)
