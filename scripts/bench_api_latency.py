"""One setup of scripts/bench-api-latency.sh: one gateway with the API on a
free loopback port; a large X12 file from Acme is moved into its drop, and
while the gateway takes it in, translates it and relays its documents, one
client (one request at a time, every INTERVAL_MS, GET /healthz and POST
/v1/purchase-orders in turn, each order with a PO number of its own)
measures how long each answer takes. Prints one JSON line per phase:

- idle: before the file is dropped;
- receiving: from the drop until the file leaves it (the wait for the
  next poll, up to a second; the copy into the archive, the record, the
  move to processed/);
- translating: from then until the daemon logs "file processed" for it
  (translation, index, acknowledgment, the finishing transaction);
- relaying: from then until its relay file is complete.

    python3 scripts/bench_api_latency.py DIR NAME STORE BIGFILE

STORE is "sqlite" or a postgres:// URL (the bucket and the password from
the environment, as in scripts/bench_instances.py)."""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time

DROPGATE = os.path.abspath("target/release/dropgate")
TOKEN = "bench-api-token-0123456789"
INTERVAL = float(os.environ.get("INTERVAL_MS", "10")) / 1000
IDLE_S = float(os.environ.get("IDLE_S", "5"))
PO_PARTNER = os.environ.get("PO_PARTNER", "acme")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def config(base, store, port):
    extra = ""
    if store != "sqlite":
        extra = (f'[store]\nurl = "{store}"\npassword_env = "BENCH_PG_PASSWORD"\n'
                 f'[archive]\nurl = "s3://{os.environ["BENCH_S3_BUCKET"]}/{os.path.basename(base)}"\n'
                 f'endpoint = "{os.environ["BENCH_S3_ENDPOINT"]}"\nallow_http = true\n'
                 f'access_key_id = "{os.environ["BENCH_S3_KEY"]}"\nsecret_access_key_env = "BENCH_S3_SECRET"\n')
    return f"""[gateway]
data_dir = "{base}/var"
partners = "{base}/partners"
poll_interval_secs = 1
retry_secs = 1

{extra}
[x12]
interchange_id = "ZZ:RETAILERID"

[api]
listen = "127.0.0.1:{port}"
token_file = "{base}/token"

[channel.drop]
type = "dir"
path = "{base}/drop"
min_age_secs = 0

[channel.acme-out]
type = "dir"
path = "{base}/out/acme"

[channel.zeta-out]
type = "dir"
path = "{base}/out/zeta"

[relay]
type = "file"
path = "{base}/relay"
"""


def request(port, method, path, body=None):
    """(status, seconds) of one request on a new connection."""
    headers = {"Connection": "close"}
    if body is not None:
        headers["Authorization"] = f"Bearer {TOKEN}"
        headers["Content-Type"] = "application/json"
    t = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers)
        answer = conn.getresponse()
        answer.read()
        status = answer.status
    except OSError as e:
        status = f"error: {e}"
    finally:
        conn.close()
    return status, time.perf_counter() - t


def percentile(sorted_values, p):
    if not sorted_values:
        return None
    k = min(len(sorted_values) - 1, max(0, round(p / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[k]


def summary(samples, every):
    """Percentiles of the answers' times (seconds), and the same corrected
    for coordinated omission: the client sends one request at a time, so
    while one waits L seconds, the requests it would have sent every
    `every` seconds in the meantime are not sent; they are counted as
    having waited L - every, L - 2 * every, ... (as HdrHistogram does)."""
    ms = sorted(s * 1000 for s in samples)
    corrected = list(ms)
    step = every * 1000
    for v in ms:
        late = v - step
        while late > 0:
            corrected.append(late)
            late -= step
    corrected.sort()
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 1) if ms else None,
        "p90_ms": round(percentile(ms, 90), 1) if ms else None,
        "p99_ms": round(percentile(ms, 99), 1) if ms else None,
        "max_ms": round(ms[-1], 1) if ms else None,
        "p99_corrected_ms": round(percentile(corrected, 99), 1) if ms else None,
        "over_50ms": sum(1 for v in ms if v > 50),
    }


class Log:
    """The daemon's JSON log, read as it grows."""

    def __init__(self, path):
        self.f = open(path, "rb")
        self.rest = b""
        self.lines = []

    def new(self):
        data = self.rest + self.f.read()
        *done, self.rest = data.split(b"\n")
        out = []
        for line in done:
            try:
                out.append(json.loads(line))
            except ValueError:
                out.append({"raw": line.decode(errors="replace")})
        self.lines.extend(out)
        return out


def main():
    root, name, store, big = sys.argv[1:5]
    base = os.path.abspath(os.path.join(root, name))
    for folder in ["drop", "out/acme", "out/zeta", "relay", "partners", "incoming"]:
        os.makedirs(os.path.join(base, folder), exist_ok=True)
    with open(os.path.join(base, "token"), "w") as f:
        f.write(TOKEN)
    with open("samples/partners/acme.toml") as src, open(os.path.join(base, "partners/acme.toml"), "w") as dst:
        dst.write(src.read())
    # A second X12 partner, whose orders share nothing with Acme's file
    # (PO_PARTNER=zeta posts the orders to it).
    with open(os.path.join(base, "partners/zeta.toml"), "w") as f:
        f.write('[x12]\ninterchange_id = "ZZ:ZETA"\n[outbound]\nchannel = "zeta-out"\n')
    port = free_port()
    cfg = os.path.join(base, "gateway.toml")
    with open(cfg, "w") as f:
        f.write(config(base, store, port))
    # The large file, linked into this setup's folder (no copy), then
    # renamed into the drop at once.
    incoming = os.path.join(base, "incoming", "big.edi")
    os.link(big, incoming)
    size_mb = os.path.getsize(incoming) / 1e6
    with open("mappings/partners/nordlys/po/po-123456.json") as f:
        po = json.load(f)
    log_path = os.path.join(base, "log.jsonl")
    daemon = subprocess.Popen([DROPGATE, "run", "--log-format", "json", "-c", cfg],
                              stdout=open(log_path, "w"), stderr=subprocess.STDOUT)
    with open(os.path.join(base, "pids"), "w") as f:
        f.write(f"{daemon.pid}\n")
    log = Log(log_path)
    results = []
    try:
        deadline = time.monotonic() + 60
        while request(port, "GET", "/healthz")[0] != 200:
            if daemon.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"{name}: the API never answered; see {log_path}")
            time.sleep(0.1)
        samples = []  # (phase, kind, status, seconds)
        phase = "idle"
        t_idle = time.monotonic()
        dropped_at = None
        marks = {}
        n = 0
        relay_dir = os.path.join(base, "relay")
        drop_path = os.path.join(base, "drop", "big.edi")
        processed_line = None
        while True:
            start = time.monotonic()
            # Where the file is, before this request.
            if phase == "idle" and start - t_idle >= IDLE_S:
                os.rename(incoming, drop_path)
                dropped_at = time.monotonic()
                phase = "receiving"
                marks["dropped"] = 0.0
            elif phase == "receiving" and not os.path.exists(drop_path):
                phase = "translating"
                marks["taken"] = round(time.monotonic() - dropped_at, 3)
            if phase in ("receiving", "translating"):
                for line in log.new():
                    fields = line.get("fields", {})
                    # log_file's line: what became of the file (it has its id).
                    if fields.get("name") == "big.edi" and "file" in fields:
                        processed_line = line
                        if phase == "receiving":
                            # Taken and finished between two looks: no
                            # translating window seen at all.
                            marks["taken"] = round(time.monotonic() - dropped_at, 3)
                        phase = "relaying"
                        marks["processed"] = round(time.monotonic() - dropped_at, 3)
            if phase == "relaying":
                names = [e.name for e in os.scandir(relay_dir) if not e.name.startswith(".")]
                if names:
                    marks["relayed"] = round(time.monotonic() - dropped_at, 3)
                    break
            if dropped_at is not None and time.monotonic() - dropped_at > 900:
                sys.exit(f"{name}: not done after 900 s ({phase})")
            if n % 2 == 0:
                kind = "healthz"
                status, secs = request(port, "GET", "/healthz")
            else:
                kind = "purchase_order"
                po["po_number"] = f"LAT{os.getpid()}{n:07d}"
                body = json.dumps({"partner": PO_PARTNER, "document": po})
                status, secs = request(port, "POST", "/v1/purchase-orders", body)
            since = None if dropped_at is None else round(start - dropped_at, 3)
            samples.append((phase, kind, status, secs, since))
            n += 1
            wait = INTERVAL - (time.monotonic() - start)
            if wait > 0:
                time.sleep(wait)
        documents = 0
        for e in os.scandir(relay_dir):
            if not e.name.startswith("."):
                with open(e.path, "rb") as f:
                    documents += sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
        pf = (processed_line or {}).get("fields", {})
        for ph in ["idle", "receiving", "translating", "relaying"]:
            row = {"setup": name, "store": "sqlite" if store == "sqlite" else "postgres", "phase": ph,
                   "file_mb": round(size_mb), "orders_to": PO_PARTNER}
            for kind in ["healthz", "purchase_order"]:
                mine = [s for s in samples if s[0] == ph and s[1] == kind]
                ok = 200 if kind == "healthz" else 202
                # Each kind is sent every other request.
                row[kind] = summary([s[3] for s in mine], 2 * INTERVAL)
                slow = [[s[4], round(s[3] * 1000)] for s in mine if s[3] > 0.05]
                if slow:
                    row[kind]["slow_at_s_ms"] = slow[:10]
                bad = [str(s[2]) for s in mine if s[2] != ok]
                if bad:
                    row[kind]["not_ok"] = {b: bad.count(b) for b in set(bad)}
            results.append(row)
        results.append({"setup": name, "marks_s": marks, "file_state": pf.get("state") or pf.get("message"),
                        "file_documents": pf.get("documents"), "relayed_documents": documents,
                        "peak_rss_mb": round(int(open(f"/proc/{daemon.pid}/status").read()
                                                 .split("VmHWM:")[1].split()[0]) / 1024, 1)})
        for r in results:
            print(json.dumps(r), flush=True)
        with open(os.path.join(base, "samples.jsonl"), "w") as f:
            for s in samples:
                f.write(json.dumps(s) + "\n")
    finally:
        if daemon.poll() is None:
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(60)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    main()
