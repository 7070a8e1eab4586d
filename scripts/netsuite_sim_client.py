"""A small client of `dropgate netsuite-sim` for the scripts (the demo and
the benchmark): starts it on 127.0.0.1 with a test integration, signs REST
calls with oauthlib (TBA), reads its control API, and writes the files a
vendor would send and the gateway folder that talks to it."""

import json
import os
import subprocess
import urllib.request

from oauthlib import oauth1

ACCOUNT = "7654321_SB1"
CK, CS, TK, TS = "CK-demo", "CS-demo", "TK-demo", "TS-demo"


class Sim:
    """A running simulator."""

    def __init__(self, binary, work, concurrency=5):
        config = os.path.join(work, "sim.toml")
        with open(config, "w") as f:
            f.write(
                f'account = "{ACCOUNT}"\n[[integration]]\nconsumer_key = "{CK}"\nconsumer_secret = "{CS}"\n'
                f'[[token]]\nconsumer_key = "{CK}"\ntoken_id = "{TK}"\ntoken_secret = "{TS}"\n'
            )
        self.process = subprocess.Popen(
            [binary, "netsuite-sim", "--listen", "127.0.0.1:0", "--config", config, "--seed",
             "--concurrency", str(concurrency)],
            stdout=subprocess.PIPE, text=True)
        self.base = self.process.stdout.readline().strip().rsplit(" ", 1)[-1]

    def stop(self):
        self.process.kill()
        self.process.wait()

    def call(self, method, path, body=None):
        """A signed REST call: (status, headers in lower case, body)."""
        client = oauth1.Client(CK, client_secret=CS, resource_owner_key=TK, resource_owner_secret=TS,
                               signature_method=oauth1.SIGNATURE_HMAC_SHA256, realm=ACCOUNT)
        data = json.dumps(body) if body is not None else None
        headers = {"Content-Type": "application/json"} if data else {}
        url, headers, _ = client.sign(self.base + path, http_method=method, body=data, headers=headers)
        req = urllib.request.Request(url, data=data.encode() if data else None, method=method, headers=headers)
        with urllib.request.urlopen(req) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()

    def control(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req) as r:
            return json.loads(r.read() or b"null")

    def records(self, record_type):
        got = self.control("GET", f"/_sim/records/{record_type}")
        return got.get("records", got) if isinstance(got, dict) else got

    def sales_order(self, lines):
        """A drop-ship sales order of (item external ID, quantity); its ID."""
        _, headers, _ = self.call("POST", "/services/rest/record/v1/salesOrder", {
            "entity": {"externalId": "C-DEMO"},
            "otherRefNum": "WEB-1001",
            "shippingAddress": {"addressee": "Dana Whitfield", "addr1": "1187 Larkspur Lane", "city": "Boise",
                                "state": "ID", "zip": "83702", "country": {"id": "US"}},
            "item": {"items": [{"item": {"externalId": i}, "quantity": q, "rate": 20,
                                "createPo": {"id": "DropShip"}} for i, q in lines]}})
        return headers["location"].rsplit("/", 1)[-1]

    def vendor(self, external_id):
        return next(str(v["id"]) for v in self.records("vendor") if v.get("externalId") == external_id)


def x12(control_number, functional, segments):
    head = (f"ISA*00*          *00*          *ZZ*VENDORID       *ZZ*RETAILERID     *261206*0800*U*00401*"
            f"{control_number:09}*0*P*>~\nGS*{functional}*VENDORID*RETAILERID*20261206*0800*{control_number}*X*004010~\n")
    body = "".join(s + "~\n" for s in segments)
    return head + body + f"SE*{len(segments) + 1}*0001~\nGE*1*{control_number}~\nIEA*1*{control_number:09}~\n"


def asn(n, number, po, tracking, items):
    """A ship notice: items are (PO line, vendor SKU, quantity)."""
    s = ["ST*856*0001", f"BSN*00*{number}*20261206*0800", "HL*1**S", "TD5**2*UPSN", "DTM*011*20261206",
         "HL*2*1*O", f"PRF*{po}", "HL*3*2*P", f"MAN*CP*{tracking}"]
    for i, (line, sku, qty) in enumerate(items):
        s += [f"HL*{i + 4}*3*I", f"LIN*{line}*VN*{sku}", f"SN1*{line}*{qty}*EA"]
    s.append(f"CTT*{len(items) + 3}")
    return x12(n, "SH", s)


def invoice(n, number, po, items):
    """An invoice: items are (PO line, vendor SKU, quantity, price as text)."""
    s = ["ST*810*0001", f"BIG*20261206*{number}*20261204*{po}", "N1*VN*Acme Supply Co*92*V-ACME"]
    total = 0
    for line, sku, qty, price in items:
        s.append(f"IT1*{line}*{qty}*EA*{price}**VN*{sku}")
        total += round(float(price) * 100) * qty
    s += [f"TDS*{total}", f"CTT*{len(items)}"]
    return x12(n, "IN", s)


def gateway(folder, sim, vendor, concurrency=5, flows=("purchase_orders", "po_acks", "ship_notices", "invoices")):
    """A gateway folder talking to `sim`: Acme's drop and out folders."""
    for d in ["drop", "out", "partners", "secrets"]:
        os.makedirs(os.path.join(folder, d), exist_ok=True)
    for name, value in [("ck", CK), ("cs", CS), ("ti", TK), ("ts", TS)]:
        with open(os.path.join(folder, "secrets", name), "w") as f:
            f.write(value)
    on = "\n".join(f"{f} = true" for f in flows)
    with open(os.path.join(folder, "gateway.toml"), "w") as f:
        f.write(f"""[gateway]
data_dir = "var"
poll_interval_secs = 1
retry_secs = 1

[x12]
interchange_id = "ZZ:RETAILERID"

[channel.drop]
type = "dir"
path = "drop"
min_age_secs = 0

[channel.acme-out]
type = "dir"
path = "out"

[netsuite]
account = "{ACCOUNT}"
base_url = "{sim.base}"
concurrency = {concurrency}
timeout_secs = 30
poll_secs = 5

[netsuite.auth]
method = "tba"
consumer_key_file = "secrets/ck"
consumer_secret_file = "secrets/cs"
token_id_file = "secrets/ti"
token_secret_file = "secrets/ts"

[netsuite.flows]
{on}
""")
    with open(os.path.join(folder, "partners", "acme.toml"), "w") as f:
        f.write('[x12]\ninterchange_id = "ZZ:VENDORID"\nacknowledgment = "none"\n\n[[inbound]]\nchannel = "drop"\n\n'
                f'[outbound]\nchannel = "acme-out"\n\n[netsuite]\nvendor = "{vendor}"\n')
    return os.path.join(folder, "gateway.toml")


def put(folder, name, body):
    """The vendor puts a file: written aside, then renamed."""
    tmp = os.path.join(folder, "drop", f".{name}.part")
    with open(tmp, "w") as f:
        f.write(body)
    os.rename(tmp, os.path.join(folder, "drop", name))
