"""One setup of scripts/bench-instances.sh: starts INSTANCES daemons
(`dropgate run`) on one store, drops FILES small X12 files from Acme (ORDERS
850s each) at once into CHANNELS drop folders, and measures the time until
every file is processed, relayed and acknowledged. Prints one JSON line.

    python3 scripts/bench_instances.py DIR NAME STORE INSTANCES CHANNELS FILES ORDERS [pinned,local]

STORE is "sqlite" (the embedded default, local archive) or a postgres://
URL, with the bucket taken from the environment (BENCH_S3_ENDPOINT,
BENCH_S3_BUCKET, BENCH_S3_KEY, BENCH_S3_SECRET) and the password from
BENCH_PG_PASSWORD. "pinned" gives instance i only the channels i, i+n, ...
(its own partner folder naming only those): what the instances give when
the channels are spread out by hand (the leases are shared out by the
instances themselves, but a lease may move during the run); "local" keeps the archive in the data directory instead of
the bucket (one instance only: the others could not read it). Flags are
separated by commas. The pids of the daemons go to DIR/NAME/pids, for the calling
script to stop them should this one be killed."""
import json
import os
import signal
import subprocess
import sys
import time

DROPGATE = os.path.abspath("target/release/dropgate")


def orders(control, count):
    s = (f"ISA*00*          *00*          *ZZ*VENDORID       *ZZ*RETAILERID     *240115*1030*U*00401*{control:09}*0*P*>~\n"
         f"GS*PO*VENDORID*RETAILERID*20240115*1030*{control}*X*004010~\n")
    for n in range(1, count + 1):
        s += (f"ST*850*{n:04}~\nBEG*00*DS*PO-{control}-{n}**20240115~\nN1*ST*Jane Doe~\nN3*1 Main St~\n"
              f"N4*Springfield*IL*62701*US~\nPO1*1*2*EA*4.5**VN*SKU-{n}~\nCTT*1~\nSE*8*{n:04}~\n")
    return s + f"GE*{count}*{control}~\nIEA*1*{control:09}~\n"


def visible(folder):
    """Files in folder, not counting hidden ones (a .name.part being written)."""
    try:
        with os.scandir(folder) as it:
            return sum(1 for e in it if not e.name.startswith(".") and e.is_file())
    except FileNotFoundError:
        return 0


def cpu_ticks():
    """(busy, total) jiffies of the whole machine."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


def proc_status(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                out[k] = v.strip()
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        out["cpu_s"] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except FileNotFoundError:
        pass
    return out


def config(base, store, channels, partners, n, local):
    s3 = ""
    store_toml = ""
    if store != "sqlite":
        store_toml = f'[store]\nurl = "{store}"\npassword_env = "BENCH_PG_PASSWORD"\n'
    if store != "sqlite" and not local:
        s3 = (f'[archive]\nurl = "s3://{os.environ["BENCH_S3_BUCKET"]}/{os.path.basename(base)}"\n'
              f'endpoint = "{os.environ["BENCH_S3_ENDPOINT"]}"\nallow_http = true\n'
              f'access_key_id = "{os.environ["BENCH_S3_KEY"]}"\nsecret_access_key_env = "BENCH_S3_SECRET"\n')
    drops = "".join(
        f'[channel.{c}]\ntype = "dir"\npath = "{base}/{c}"\nmin_age_secs = 0\n' for c in channels)
    return f"""[gateway]
data_dir = "{base}/instance-{n}/var"
partners = "{partners}"
poll_interval_secs = 1
retry_secs = 1
lease_secs = 3
shutdown_grace_secs = 10

{store_toml}
{s3}
[x12]
interchange_id = "ZZ:RETAILERID"

{drops}
[channel.acme-out]
type = "dir"
path = "{base}/out/acme"

[relay]
type = "file"
path = "{base}/relay"
"""


def partner(channels):
    inbound = "".join(f'[[inbound]]\nchannel = "{c}"\npatterns = ["*.edi"]\n' for c in channels)
    return f"""[partner]
name = "Acme Supply"
[x12]
interchange_id = "ZZ:VENDORID"
acknowledgment = "997"
acknowledge = "always"
{inbound}
[outbound]
channel = "acme-out"
"""


def status(cfg, env):
    out = subprocess.run([DROPGATE, "status", "-c", cfg], env=env, capture_output=True, text=True)
    return out.stdout


def main():
    root, name, store, instances, nchan, files, per_file = sys.argv[1:8]
    flags = sys.argv[8].split(",") if len(sys.argv) > 8 else []
    pinned = "pinned" in flags
    local = "local" in flags
    instances, nchan, files, per_file = int(instances), int(nchan), int(files), int(per_file)
    base = os.path.abspath(os.path.join(root, name))
    os.makedirs(base)
    channels = ["drop"] if nchan == 1 else [f"drop-{c}" for c in range(nchan)]
    for folder in channels + ["out/acme", "relay", "incoming"]:
        os.makedirs(os.path.join(base, folder), exist_ok=True)
    # The files, written before any daemon starts, then moved in at once.
    plan = []
    for k in range(files):
        c = channels[k % nchan]
        path = os.path.join(base, "incoming", f"orders-{k:06}.edi")
        with open(path, "w") as f:
            f.write(orders(100000 + k, per_file))
        plan.append((path, os.path.join(base, c, f"orders-{k:06}.edi")))
    configs = []
    for n in range(instances):
        mine = [c for i, c in enumerate(channels) if i % instances == n] if pinned else channels
        partners = os.path.join(base, f"instance-{n}", "partners")
        os.makedirs(partners)
        with open(os.path.join(partners, "acme.toml"), "w") as f:
            f.write(partner(mine))
        cfg = os.path.join(base, f"instance-{n}", "gateway.toml")
        with open(cfg, "w") as f:
            f.write(config(base, store, channels, partners, n, local))
        configs.append(cfg)
    env = dict(os.environ)
    subprocess.run(["sync"])
    daemons = []
    pids = os.path.join(base, "pids")
    try:
        for n, cfg in enumerate(configs):
            log = open(os.path.join(base, f"instance-{n}", "log.jsonl"), "w")
            daemons.append(subprocess.Popen([DROPGATE, "run", "--log-format", "json", "-c", cfg],
                                            env=env, stdout=log, stderr=subprocess.STDOUT))
        with open(pids, "w") as f:
            f.write("".join(f"{d.pid}\n" for d in daemons))
        # Ready: every instance alive, every lease held by someone.
        wanted = [f"channel:{c}" for c in channels] + ["deliver:relay", "deliver:acme-out"]
        deadline = time.monotonic() + 60
        while True:
            said = status(configs[0], env)
            alive = [l for l in said.splitlines() if l.startswith("instance ")]
            if store == "sqlite":
                alive = alive or [l for l in said.splitlines() if "pid" in l]
            if all(w in said for w in wanted) and (store == "sqlite" or len(alive) == instances):
                break
            for d in daemons:
                if d.poll() is not None:
                    sys.exit(f"{name}: an instance stopped ({d.returncode}); see {base}/instance-*/log.jsonl")
            if time.monotonic() > deadline:
                sys.exit(f"{name}: not ready after 60 s:\n{said}")
            time.sleep(0.2)
        # Several instances: the leases are shared out (an instance holding
        # two more than another gives one up): measured once every
        # instance holds some work.
        if instances > 1:
            spread_by = time.monotonic() + 60
            while any(l.endswith("holds nothing") for l in alive) and time.monotonic() < spread_by:
                time.sleep(0.5)
                alive = [l for l in status(configs[0], env).splitlines() if l.startswith("instance ")]
        holds = []
        for line in alive:
            held = line.rsplit(": ", 1)[-1] if ": " in line else ""
            holds.append(held)
        load = os.getloadavg()[0]
        busy0, total0 = cpu_ticks()
        t0 = time.monotonic()
        for src, dst in plan:
            os.rename(src, dst)
        moved = time.monotonic() - t0
        taken_at = first_at = None
        deadline = t0 + 600
        while True:
            relayed = visible(os.path.join(base, "relay"))
            acked = visible(os.path.join(base, "out/acme"))
            if taken_at is None:
                left = sum(visible(os.path.join(base, c)) for c in channels)
                if first_at is None and left < files:
                    first_at = time.monotonic() - t0
                if left == 0:
                    taken_at = time.monotonic() - t0
            if relayed >= files and acked >= files:
                break
            if time.monotonic() > deadline:
                sys.exit(f"{name}: not done after 600 s: {relayed} relayed, {acked} acknowledged")
            time.sleep(0.05)
        total = time.monotonic() - t0
        # Counted from the first file taken: the wait for the next poll
        # (up to poll_interval_secs) is not the gateway's speed.
        secs = total - (first_at or 0)
        busy1, total1 = cpu_ticks()
        stats = [proc_status(d.pid) for d in daemons]
        documents = 0
        relay_dir = os.path.join(base, "relay")
        for e in os.scandir(relay_dir):
            if not e.name.startswith("."):
                with open(e.path, "rb") as f:
                    documents += f.read().count(b"\n")
        result = {
            "setup": name,
            "store": "sqlite" if store == "sqlite" else "postgres",
            "instances": instances,
            "channels": nchan,
            "pinned": pinned,
            "archive": "local" if store == "sqlite" or local else "bucket",
            "files": files,
            "documents": documents,
            "seconds": round(secs, 2),
            "seconds_from_drop": round(total, 2),
            "files_per_s": round(files / secs),
            "documents_per_s": round(documents / secs),
            "all_taken_s": round(taken_at - (first_at or 0), 2) if taken_at is not None else None,
            "drop_s": round(moved, 3),
            "relayed_files": visible(relay_dir),
            "acks": visible(os.path.join(base, "out/acme")),
            "machine_cpu_busy": round((busy1 - busy0) / max(1, total1 - total0), 2),
            "instances_cpu_s": [round(s.get("cpu_s", 0), 1) for s in stats],
            "peak_rss_mb": [round(int(s.get("VmHWM", "0 kB").split()[0]) / 1024, 1) for s in stats],
            "leases": holds,
            "load_before": round(load, 2),
        }
        print(json.dumps(result), flush=True)
    finally:
        for d in daemons:
            if d.poll() is None:
                d.send_signal(signal.SIGTERM)
        for d in daemons:
            try:
                d.wait(30)
            except subprocess.TimeoutExpired:
                d.kill()
                d.wait()


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    main()
