#!/usr/bin/env python3
"""The dropship loop through NetSuite, against the simulator, step by step
(scripts/netsuite-demo.sh): a drop-ship sales order in NetSuite, its
purchase order out to the vendor as an X12 850, the vendor's ship notice
and invoice back as an item fulfillment and a vendor bill. Everything is
left in FOLDER (default demo/netsuite) to look at afterwards."""

import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from netsuite_sim_client import Sim, asn, gateway, invoice, put  # noqa: E402


def dropgate(binary, *args):
    out = subprocess.run([binary, *args], capture_output=True, text=True)
    return out.stdout + out.stderr


def main():
    binary = sys.argv[1]
    folder = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else "demo/netsuite")
    if os.path.exists(folder):
        shutil.rmtree(folder)
    os.makedirs(folder)
    sim = Sim(binary, folder)
    try:
        print(f"1. The NetSuite simulator listens on {sim.base} (demo vendors, customer and items).")
        so = sim.sales_order([("I-WIDGET", 3), ("I-GADGET", 2)])
        po = next(r for r in sim.records("purchaseOrder") if str(r["createdFrom"]["id"]) == so)
        print(f"2. A drop-ship sales order ({so}) made purchase order {po['tranId']} for {po['entity']['refName']}.")
        config = gateway(os.path.join(folder, "gateway"), sim, sim.vendor("V-ACME"))
        gw = os.path.dirname(config)
        print("3. dropgate netsuite pull-orders:")
        print("   " + dropgate(binary, "netsuite", "pull-orders", "-c", config).strip().replace("\n", "\n   "))
        for name in sorted(os.listdir(os.path.join(gw, "out"))):
            print(f"   the vendor got out/{name}:")
            with open(os.path.join(gw, "out", name)) as f:
                print("   " + f.read().strip().replace("\n", "\n   "))
        put(gw, "asn.edi", asn(11, "ASN-1", po["tranId"], "1Z999AA10000000001",
                               [(1, "ACME-WB-100", 3), (2, "ACME-GR-200", 2)]))
        put(gw, "invoice.edi", invoice(12, "INV-1", po["tranId"],
                                       [(1, "ACME-WB-100", 3, "4.25"), (2, "ACME-GR-200", 2, "11.50")]))
        print("4. The vendor dropped its ship notice and invoice; dropgate run --once:")
        for _ in range(10):
            said = dropgate(binary, "run", "--once", "-c", config)
            if "0 waiting" in dropgate(binary, "status", "-c", config).replace("deliveries waiting: 0", "0 waiting"):
                break
        print("   " + said.strip().replace("\n", "\n   "))
        for kind in ["itemFulfillment", "vendorBill"]:
            for r in sim.records(kind):
                lines = [(l.get("orderLine"), l.get("quantity")) for l in r.get("item", {}).get("items", [])]
                extra = ""
                if kind == "itemFulfillment":
                    extra = ", tracking " + ", ".join(p.get("packageTrackingNumber", "")
                                                      for p in r.get("package", {}).get("items", []))
                else:
                    extra = f", vendor invoice {r.get('tranId')}"
                print(f"5. NetSuite now has {kind} {r['id']} ({r.get('externalId')}): lines {lines}{extra}")
        print(f"\nThe gateway's folder is {gw}; `dropgate status -c {config}` tells its story.")
    finally:
        sim.stop()


if __name__ == "__main__":
    main()
