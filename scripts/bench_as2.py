"""pyas2lib's speed on the messages of dropgate's AS2 benchmark
(benches/as2.rs), for scripts/bench-as2.sh. Runs in the AS2 peer's
virtualenv (scripts/lib/as2-peers.sh).

    bench_as2.py pyas2lib DIR [SECONDS]
        Times pyas2lib 1.4.4 on the keys, payloads, message and MDN that
        `AS2_BENCH_DIR=DIR cargo bench --bench as2` left in DIR: the same
        operations as the Rust benchmark, each repeated for about SECONDS
        (default 3), and prints a table (median time per message).
    bench_as2.py criterion CRITERION_DIR
        Prints the same table for dropgate from criterion's estimates
        (target/criterion/as2), median time per message.

Outbound: build (sign SHA-256, encrypt AES-256-CBC, a signed MDN asked
for) and parse of the receiver's signed MDN (signature and MIC checked).
Inbound: parse (decrypt, verify, MIC) of the message without an MDN asked
for, the signed MDN built for it, and parse with the MDN (pyas2lib builds
the MDN inside `Message.parse`). MB/s counts payload bytes, 10^6 a MB.
"""

import json
import logging
import os
import resource
import statistics
import sys
import time
import types

SIZES = [("10KB", 10_000), ("1MB", 1_000_000)]
OPS = [
    "outbound/build",
    "outbound/mdn_parse",
    "outbound/total",
    "inbound/open",
    "inbound/mdn_build",
    "inbound/total",
]


def table(title, rows):
    """rows: {(op, size): seconds per message}"""
    print(title)
    print(f"| {'operation':<20} | {'payload':>7} | {'ms/message':>10} | {'messages/s':>10} | {'MB/s':>8} |")
    print(f"|{'-' * 22}|{'-' * 8}:|{'-' * 11}:|{'-' * 11}:|{'-' * 9}:|")
    for size, length in SIZES:
        for op in OPS:
            seconds = rows.get((op, size))
            if seconds is None:
                continue
            # An MDN's size does not depend on the payload's: no MB/s.
            rate = "—" if "mdn_" in op else f"{length / seconds / 1e6:.2f}"
            print(f"| {op:<20} | {size:>7} | {seconds * 1e3:>10.3f} | {1 / seconds:>10.1f} | {rate:>8} |")
    print()


def criterion(root):
    rows = {}
    for op in OPS:
        for size, _ in SIZES:
            path = os.path.join(root, op.replace("/", "_"), size, "new", "estimates.json")
            with open(path) as f:
                estimates = json.load(f)
            rows[(op, size)] = estimates["median"]["point_estimate"] / 1e9
    table("dropgate (criterion, median)", rows)


def timed(function, seconds):
    """Median seconds per call, calling `function` for about `seconds`
    (at least 5 times), after one untimed call."""
    function()
    times = []
    start = time.perf_counter()
    while time.perf_counter() - start < seconds or len(times) < 5:
        t0 = time.perf_counter()
        function()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def pyas2lib(directory, seconds):
    from pyas2lib import Mdn, Message, Organization, Partner

    logging.disable(logging.CRITICAL)

    def files(name):
        return read(os.path.join(directory, f"{name}.pem")), read(
            os.path.join(directory, f"{name}.key")
        )

    def organization(name):
        cert, key = files(name)
        return Organization(as2_name=name, sign_key=cert + key, decrypt_key=cert + key)

    def partner(name):
        cert, _ = files(name)
        return Partner(
            as2_name=name,
            verify_cert=cert,
            encrypt_cert=cert,
            sign=True,
            digest_alg="sha256",
            encrypt=True,
            enc_alg="aes_256_cbc",
            compress=False,
            mdn_mode="SYNC",
            mdn_digest_alg="sha256",
        )

    # The sender is GATEWAY, the receiver PARTNER, as in benches/as2.rs.
    sender, to_receiver = organization("GATEWAY"), partner("PARTNER")
    receiver, from_sender = organization("PARTNER"), partner("GATEWAY")

    def find_org(name):
        return receiver if name == "PARTNER" else None

    def find_partner(name):
        return from_sender if name == "GATEWAY" else None

    rows = {}
    for size, length in SIZES:
        payload = read(os.path.join(directory, f"payload-{size}.edi"))
        assert len(payload) == length, (size, len(payload))
        message_wire = read(os.path.join(directory, f"message-{size}.eml"))
        mdn_wire = read(os.path.join(directory, f"mdn-{size}.eml"))
        message_id, mic = read(os.path.join(directory, f"sent-{size}.txt")).decode().split("\n")[:2]
        original = types.SimpleNamespace(
            message_id=message_id, mic=mic.split(",")[0].encode(), receiver=to_receiver
        )
        # The same message with no MDN asked for: parse alone.
        head, body = message_wire.split(b"\r\n\r\n", 1)
        no_mdn_wire = (
            b"\r\n".join(
                line for line in head.split(b"\r\n") if not line.lower().startswith(b"disposition-notification-")
            )
            + b"\r\n\r\n"
            + body
        )

        def build():
            message = Message(sender, to_receiver)
            message.build(payload, filename=f"bench-{size}.edi", content_type="application/edi-x12")
            # What is posted: the header fields and the body as bytes.
            return message.headers, message.content

        def parse_mdn():
            status, detail = Mdn().parse(mdn_wire, find_message_cb=lambda mid, _recipient: original)
            assert status == "processed", (status, detail)

        def outbound_total():
            build()
            parse_mdn()

        def open_message(wire):
            message = Message()
            status, (exception, _), mdn = message.parse(
                wire, find_org_cb=find_org, find_partner_cb=find_partner
            )
            assert status == "processed", (status, exception)
            return message, mdn

        parsed, _ = open_message(no_mdn_wire)
        assert parsed.payload.get_payload(decode=True) == payload, "payload byte for byte"
        assert parsed.mic.decode() == mic.split(",")[0], (parsed.mic, mic)

        def build_mdn():
            mdn = Mdn(mdn_mode="SYNC", digest_alg="sha256")
            mdn.build(message=parsed, status="processed")
            return mdn.headers, mdn.content

        def inbound_total():
            _, mdn = open_message(message_wire)
            assert mdn is not None
            return mdn.headers, mdn.content

        rows[("outbound/build", size)] = timed(build, seconds)
        rows[("outbound/mdn_parse", size)] = timed(parse_mdn, seconds)
        rows[("outbound/total", size)] = timed(outbound_total, seconds)
        rows[("inbound/open", size)] = timed(lambda: open_message(no_mdn_wire), seconds)
        rows[("inbound/mdn_build", size)] = timed(build_mdn, seconds)
        rows[("inbound/total", size)] = timed(inbound_total, seconds)
    table("pyas2lib 1.4.4 (median)", rows)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"pyas2lib process peak RSS (its own getrusage): {peak / 1024:.1f} MB")


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "criterion":
        criterion(sys.argv[2])
    elif len(sys.argv) >= 3 and sys.argv[1] == "pyas2lib":
        pyas2lib(sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 3.0)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
