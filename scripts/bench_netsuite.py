#!/usr/bin/env python3
"""Documents per second into NetSuite (the simulator), at a concurrency
limit: scripts/bench-netsuite.sh runs it once per limit.

For one limit: starts `dropgate netsuite-sim --seed --concurrency LIMIT`
on 127.0.0.1, makes ORDERS drop-ship sales orders through its REST
service, gives every request a latency of LATENCY_MS (the simulator's
slow fault; a real account answers in a few hundred milliseconds), writes
one X12 file of ORDERS ship notices (one per purchase order) into a
gateway's drop folder, and times `dropgate run --once` passes until the
gateway has made every item fulfillment. Prints one JSON line:
documents/s, requests per document, and the ceiling the limit sets
(LIMIT requests in flight / requests per document / latency).
"""

import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from netsuite_sim_client import Sim, asn, gateway  # noqa: E402


def main():
    binary, limit, orders, latency_ms = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    work = tempfile.mkdtemp(prefix="bench-netsuite-", dir=os.environ.get("BENCH_DIR"))
    sim = Sim(binary, work, concurrency=limit)
    try:
        for _ in range(orders):
            sim.sales_order([("I-WIDGET", 1)])
        numbers = [r["tranId"] for r in sim.records("purchaseOrder")]
        folder = os.path.join(work, "gw")
        config = gateway(folder, sim, sim.vendor("V-ACME"), concurrency=limit, flows=("ship_notices",))
        with open(os.path.join(folder, "drop", ".asns.part"), "w") as f:
            for i, po in enumerate(numbers):
                f.write(asn(1000 + i, f"ASN-{i}", po, f"1Z{i:016}", [(1, "ACME-WB-100", 1)]))
        before = sim.control("GET", "/_sim/stats")
        sim.control("POST", "/_sim/faults", {"slow_ms": latency_ms, "times": 100000000})
        os.rename(os.path.join(folder, "drop", ".asns.part"), os.path.join(folder, "drop", "asns.edi"))
        started = time.monotonic()
        while len(sim.records("itemFulfillment")) < orders:
            subprocess.run([binary, "run", "--once", "-c", config], capture_output=True)
            if time.monotonic() - started > 1800:
                sys.exit("the fulfillments were not all made in 30 minutes")
        elapsed = time.monotonic() - started
        after = sim.control("GET", "/_sim/stats")
    finally:
        sim.stop()
    per_doc = (after["requests"] - before["requests"]) / orders
    ceiling = limit / per_doc / (latency_ms / 1000.0)
    print(json.dumps({
        "limit": limit, "documents": orders, "latency_ms": latency_ms, "seconds": round(elapsed, 2),
        "documents_per_s": round(orders / elapsed, 2), "requests_per_document": round(per_doc, 2),
        "ceiling_documents_per_s": round(ceiling, 2), "of_ceiling": round(orders / elapsed / ceiling, 3),
        "max_in_flight": after.get("max_concurrency"), "limit_refusals": after.get("limit_refusals"),
    }))


if __name__ == "__main__":
    main()
