#!/usr/bin/env python3
"""An independent AS2 partner for dropgate's tests: pyas2lib behind a small
HTTP server on 127.0.0.1 (tests/support/as2.rs starts it).

    as2_peer.py CONFIG.json

prints "listening PORT" once it accepts connections, then serves:

- POST /as2                 AS2 messages from the gateway: parsed by pyas2lib,
                            each stored in WORK/inbox (NNNN.json with the
                            facts, NNNN.payload with the payload), answered
                            with pyas2lib's MDN in the HTTP answer, or 200 and
                            the MDN POSTed to the Receipt-Delivery-Option URL
                            by a background thread.
- POST /mdn                 asynchronous MDNs for the messages it sent,
                            checked by pyas2lib's Mdn.parse and matched to
                            their message.
- the control API under /_peer/ (JSON):
  GET  /_peer/health
  POST /_peer/config        {"partner_url": "http://127.0.0.1:P/as2"}
  POST /_peer/send          {"payload_b64", "filename", "content_type",
                             overrides of "send" (sign, digest, encrypt,
                             cipher, compress, mdn, mdn_signed, mdn_digest),
                             faults: "tamper", "tamper_at", "sign_with":
                             "alt", "encrypt_with": "alt", "as2_to",
                             "oversize", "message_id", "wait"}
                            -> the message's record
  POST /_peer/replay        {"message_id", "wait"}: the same bytes again
  GET  /_peer/messages[/ID] the records of sent messages and their MDNs
  GET  /_peer/inbox         what was received, payloads in base64
  GET  /_peer/mdns          every MDN that came to /mdn
  POST /_peer/faults        {"times": N, "status": 500 | "close": true |
                             "delay_ms": MS | "negative_mdn": MODIFIER |
                             "withhold_async_mdn": true}, for the next N
                            messages to /as2 (armed faults queue up)
  DELETE /_peer/faults

The configuration (JSON):

    {"work_dir": "...", "port": 0, "as2_name": "PEER", "domain": "...",
     "key": {"p12": PATH, "password": "..."} | {"key_pem": PATH, "cert_pem": PATH},
     "alt_key": {...},                     (optional: a second key pair)
     "partner": {"as2_name": "DROPGATE", "cert": PEM PATH, "url": URL | null,
                 "alt_cert": PEM PATH, "validate_certs": true},
     "send": {"sign": true, "digest": "sha256", "encrypt": true,
              "cipher": "aes_256_cbc", "compress": false,
              "mdn": "sync" | "async" | "none", "mdn_signed": true,
              "mdn_digest": "sha256", "content_type": "application/edi-x12"},
     "require": {"sign": true, "encrypt": true},
     "detect_duplicates": true, "async_mdn_delay_ms": 100,
     "max_body_bytes": null}

It logs to WORK/peer.log and never writes a key or a password anywhere.
It talks to 127.0.0.1 only: a URL on another host is refused.
"""

import base64
import email
import http.client
import json
import logging
import os
import sys
import threading
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from asn1crypto import cms
from pyas2lib import Mdn, Message, Organization, Partner
from pyas2lib.exceptions import PartnerNotFound

LOG = logging.getLogger("as2_peer")
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def read(path):
    with open(path, "rb") as f:
        return f.read()


def key_bytes(spec):
    """A key pair from the configuration: PKCS#12 bytes and password, or
    the PEM key followed by its certificate (pyas2lib takes either)."""
    if "p12" in spec:
        return read(spec["p12"]), spec.get("password")
    return read(spec["key_pem"]) + b"\n" + read(spec["cert_pem"]), spec.get("password")


def organization(name, spec, domain):
    key, password = key_bytes(spec)
    return Organization(
        as2_name=name,
        sign_key=key,
        sign_key_pass=password,
        decrypt_key=key,
        decrypt_key_pass=password,
        domain=domain,
    )


def loopback_url(url):
    """(host, port, path) of an http URL on 127.0.0.1, else ValueError."""
    u = urllib.parse.urlsplit(url)
    if u.scheme != "http" or u.hostname not in LOOPBACK:
        raise ValueError(f"not an http URL on 127.0.0.1: {url}")
    path = u.path or "/"
    if u.query:
        path += "?" + u.query
    return u.hostname, u.port or 80, path


def post(url, headers, body, timeout=60):
    """POSTs body; (status, [(name, value)], body)."""
    host, port, path = loopback_url(url)
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        clean = {k: " ".join(str(v).split()) for k, v in headers.items()}
        conn.request("POST", path, body=body, headers=clean)
        r = conn.getresponse()
        return r.status, r.getheaders(), r.read()
    finally:
        conn.close()


def raw_message(headers, body):
    """HTTP headers and body as the MIME message pyas2lib parses."""
    head = "".join(f"{k}: {v}\r\n" for k, v in headers)
    return head.encode("utf-8") + b"\r\n" + body


def mdn_facts(raw):
    """What an MDN says, read with the stdlib (independent of Mdn.parse):
    its type, whether it is signed, its AS2 headers and the fields of its
    disposition-notification part."""
    facts = {"signed": False, "content_type": None, "disposition": None}
    try:
        m = email.message_from_bytes(raw)
    except Exception as e:  # noqa: BLE001
        facts["unreadable"] = str(e)
        return facts
    facts["content_type"] = m.get_content_type()
    facts["signed"] = m.get_content_type() == "multipart/signed"
    if facts["signed"]:
        facts["micalg"] = m.get_param("micalg")
    for h in ("Message-ID", "AS2-From", "AS2-To", "AS2-Version", "Date"):
        if m.get(h) is not None:
            facts[h.lower()] = str(m.get(h))
    for part in m.walk():
        if part.get_content_type() == "text/plain" and "text" not in facts:
            facts["text"] = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
        if part.get_content_type() == "message/disposition-notification":
            fields = part.get_payload()
            if isinstance(fields, list):
                merged = {}
                for block in fields:
                    for k, v in block.items():
                        merged[k.lower()] = " ".join(str(v).split())
                fields = merged
            else:
                fields = {}
                for line in str(part.get_payload()).splitlines():
                    if ":" in line:
                        k, v = line.split(":", 1)
                        fields[k.strip().lower()] = v.strip()
            facts["fields"] = fields
            facts["disposition"] = fields.get("disposition")
            facts["original_message_id"] = fields.get("original-message-id", "").strip("<>") or None
            facts["received_content_mic"] = fields.get("received-content-mic")
    return facts


class Peer:
    def __init__(self, config):
        self.config = config
        self.work = config["work_dir"]
        self.inbox_dir = os.path.join(self.work, "inbox")
        self.sent_dir = os.path.join(self.work, "sent")
        os.makedirs(self.inbox_dir, exist_ok=True)
        os.makedirs(self.sent_dir, exist_ok=True)
        self.name = config["as2_name"]
        domain = config.get("domain") or "as2-peer.test"
        self.org = organization(self.name, config["key"], domain)
        self.alt_org = (
            organization(self.name, config["alt_key"], domain) if config.get("alt_key") else None
        )
        p = config["partner"]
        self.partner_name = p["as2_name"]
        self.partner_cert = read(p["cert"])
        self.partner_alt_cert = read(p["alt_cert"]) if p.get("alt_cert") else None
        self.partner_url = p.get("url")
        self.validate_certs = p.get("validate_certs", True)
        require = config.get("require", {})
        # The partner as pyas2lib sees it when receiving: what it requires.
        self.receive_partner = Partner(
            as2_name=self.partner_name,
            verify_cert=self.partner_cert,
            encrypt_cert=self.partner_cert,
            validate_certs=self.validate_certs,
            sign=bool(require.get("sign", False)),
            encrypt=bool(require.get("encrypt", False)),
        )
        self.send_defaults = dict(config.get("send", {}))
        self.detect_duplicates = config.get("detect_duplicates", True)
        self.async_delay = config.get("async_mdn_delay_ms", 100) / 1000.0
        self.max_body = config.get("max_body_bytes")
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.inbox = []  # facts of each received message, in order
        self.processed_ids = set()
        self.sent = {}  # message id -> {"record": dict, "message": Message, "wire": ...}
        self.mdns = []  # every MDN posted to /mdn
        self.faults = []  # [{"spec": dict, "left": n}]
        self.port = None

    # --- configuration -------------------------------------------------

    def set_port(self, port):
        self.port = port
        self.org.mdn_url = f"http://127.0.0.1:{port}/mdn"
        if self.alt_org:
            self.alt_org.mdn_url = self.org.mdn_url

    def take_fault(self):
        with self.lock:
            if not self.faults:
                return {}
            f = self.faults[0]
            f["left"] -= 1
            if f["left"] <= 0:
                self.faults.pop(0)
            return dict(f["spec"])

    # --- receiving -----------------------------------------------------

    def receive(self, headers, body, fault):
        """Parses one message; gives (entry, mdn or None)."""
        msg = Message()

        def find_org(as2_to):
            return self.org if as2_to == self.name else None

        def find_partner(as2_from):
            return self.receive_partner if as2_from == self.partner_name else None

        def find_message(message_id, _partner):
            with self.lock:
                return self.detect_duplicates and message_id in self.processed_ids

        raw = raw_message(headers, body)
        h = {k.lower(): v for k, v in headers}
        note = None
        try:
            status, (exc, _tb), mdn = msg.parse(
                raw,
                find_org_cb=find_org,
                find_partner_cb=find_partner,
                find_message_cb=find_message,
            )
        except AttributeError as e:
            # pyas2lib 1.4.4 cannot build a signed MDN for an unknown
            # AS2-From (it reads the missing partner's sign_alg): the peer
            # answers as it does for an unknown AS2-To, with an unsigned
            # processed/Error MDN.
            if msg.sender is not None or msg.payload is None:
                raise
            note = f"pyas2lib failed building the MDN ({e}); answered unsigned"
            LOG.info("%s", note)
            exc = PartnerNotFound(f"Unknown AS2 partner with id {h.get('as2-from')}")
            status, mdn = exc.disposition_type, None
            if h.get("disposition-notification-to"):
                del msg.payload["disposition-notification-options"]
                url = h.get("receipt-delivery-option")
                mdn = Mdn(mdn_mode="ASYNC" if url else "SYNC", mdn_url=url)
                mdn.build(message=msg, status=status, detailed_status=exc.disposition_modifier)
        cipher, key_enc_alg = envelope_algorithms(body, h.get("content-type", ""))
        detail = None
        if exc is not None:
            detail = getattr(exc, "disposition_modifier", None) or "unexpected-processing-error"
        if fault.get("negative_mdn") and status == "processed":
            status, detail = "processed/Error", fault["negative_mdn"]
            if mdn is not None:
                mdn.build(message=msg, status=status, detailed_status=detail)
        entry = {
            "message_id": msg.message_id,
            "as2_from": h.get("as2-from"),
            "as2_to": h.get("as2-to"),
            "http_content_type": h.get("content-type"),
            "http_headers": h,
            "size": len(body),
            "status": status,
            "detail": detail,
            "exception": f"{type(exc).__name__}: {exc}" if exc is not None else None,
            "duplicate": type(exc).__name__ == "DuplicateDocument",
            "signed": msg.signed,
            "encrypted": msg.encrypted,
            "compressed": msg.compressed,
            "digest_alg": msg.digest_alg,
            "cipher": cipher,
            "key_enc_alg": key_enc_alg,
            "mic": msg.mic.decode() if msg.mic else None,
            "filename": None,
            "content_type": None,
            "payload_file": None,
            "mdn_mode": None,
            "mdn_signed": None,
            "mdn_url": h.get("receipt-delivery-option"),
            "mdn_requested_signed": bool(h.get("disposition-notification-options")),
            "mdn_disposition": None,
            "async_mdn": None,
            "fault": fault or None,
            "note": note,
            "received_at": time.time(),
        }
        if status == "processed" and msg.payload is not None:
            entry["filename"] = msg.payload.get_filename()
            entry["content_type"] = msg.payload.get_content_type()
        if mdn is not None:
            entry["mdn_mode"] = "async" if mdn.mdn_mode == "ASYNC" else "sync"
            facts = mdn_facts(mdn.headers_str + b"\r\n" + mdn.content)
            entry["mdn_signed"] = facts["signed"]
            entry["mdn_disposition"] = facts["disposition"]
        with self.lock:
            seq = len(self.inbox) + 1
            entry["seq"] = seq
            if status == "processed":
                payload = msg.content
                if isinstance(payload, str):
                    payload = payload.encode("utf-8")
                name = f"{seq:04}.payload"
                with open(os.path.join(self.inbox_dir, name), "wb") as f:
                    f.write(payload)
                entry["payload_file"] = name
                self.processed_ids.add(msg.message_id)
            self.inbox.append(entry)
            self.write_entry(entry)
            self.changed.notify_all()
        LOG.info(
            "received %s from %s: %s %s", entry["message_id"], entry["as2_from"], status, detail or ""
        )
        return entry, mdn

    def write_entry(self, entry):
        path = os.path.join(self.inbox_dir, f"{entry['seq']:04}.json")
        with open(path, "w") as f:
            json.dump(entry, f, indent=1)

    def send_async_mdn(self, entry, mdn):
        time.sleep(self.async_delay)
        result = {"url": mdn.mdn_url}
        try:
            status, _h, _b = post(mdn.mdn_url, mdn.headers, mdn.content)
            result["http_status"] = status
        except Exception as e:  # noqa: BLE001
            result["error"] = f"{type(e).__name__}: {e}"
        LOG.info("async MDN for %s to %s: %s", entry["message_id"], mdn.mdn_url, result)
        with self.lock:
            entry["async_mdn"] = result
            self.write_entry(entry)
            self.changed.notify_all()

    # --- sending -------------------------------------------------------

    def send(self, req):
        opts = dict(self.send_defaults)
        for k in ("sign", "digest", "encrypt", "cipher", "compress", "mdn", "mdn_signed", "mdn_digest", "content_type"):
            if k in req and req[k] is not None:
                opts[k] = req[k]
        payload = base64.b64decode(req.get("payload_b64", ""))
        if req.get("oversize"):
            n = int(req["oversize"])
            unit = payload or b"X"
            payload = (unit * (n // len(unit) + 1))[:n]
        mdn = (opts.get("mdn") or "none").lower()
        encrypt_cert = self.partner_cert
        if req.get("encrypt_with") == "alt":
            if not self.partner_alt_cert:
                raise ValueError("encrypt_with alt: no partner.alt_cert in the configuration")
            encrypt_cert = self.partner_alt_cert
        partner = Partner(
            as2_name=req.get("as2_to") or self.partner_name,
            verify_cert=self.partner_cert,
            encrypt_cert=encrypt_cert,
            validate_certs=self.validate_certs,
            sign=bool(opts.get("sign", False)),
            digest_alg=opts.get("digest") or "sha256",
            encrypt=bool(opts.get("encrypt", False)),
            enc_alg=opts.get("cipher") or "aes_256_cbc",
            compress=bool(opts.get("compress", False)),
            mdn_mode={"sync": "SYNC", "async": "ASYNC"}.get(mdn),
            mdn_digest_alg=(opts.get("mdn_digest") or "sha256") if opts.get("mdn_signed") else None,
        )
        sender = self.org
        if req.get("sign_with") == "alt":
            if not self.alt_org:
                raise ValueError("sign_with alt: no alt_key in the configuration")
            sender = self.alt_org
        msg = Message(sender, partner)
        msg.build(
            payload,
            filename=req.get("filename"),
            content_type=opts.get("content_type") or "application/edi-consent",
            message_id=req.get("message_id"),
        )
        headers = dict(msg.headers)
        body = msg.content
        if isinstance(body, str):
            body = body.encode("utf-8")
        if req.get("tamper") or req.get("tamper_at") is not None:
            body = tamper(body, msg, req.get("tamper_at"))
        record = {
            "message_id": msg.message_id,
            "as2_to": partner.as2_name,
            "options": {**opts, "mdn": mdn},
            "faults": {k: req[k] for k in ("tamper", "tamper_at", "sign_with", "encrypt_with", "as2_to", "oversize") if req.get(k)},
            "payload_size": len(payload),
            "size": len(body),
            "mic": msg.mic.decode() if msg.mic else None,
            "digest_alg": msg.digest_alg,
            "headers": headers,
            "exchanges": [],
        }
        with self.lock:
            if msg.message_id in self.sent:
                raise ValueError(f"message id {msg.message_id} was already sent (use replay)")
            self.sent[msg.message_id] = {"record": record, "message": msg, "headers": headers, "body": body}
        with open(os.path.join(self.sent_dir, f"{len(self.sent):04}.body"), "wb") as f:
            f.write(body)
        return self.exchange(msg.message_id, "original", req.get("wait", True))

    def replay(self, req):
        return self.exchange(req["message_id"], "replay", req.get("wait", True))

    def exchange(self, message_id, kind, wait):
        with self.lock:
            sent = self.sent.get(message_id)
            if sent is None:
                raise KeyError(message_id)
            ex = {"kind": kind, "state": "posting", "http_status": None, "error": None,
                  "mdn": None, "status": None, "detail": None, "mic_ok": None}
            sent["record"]["exchanges"].append(ex)
            self.refresh(sent["record"])
        t = threading.Thread(target=self.post_message, args=(sent, ex), daemon=True)
        t.start()
        if wait:
            t.join()
        with self.lock:
            return json.loads(json.dumps(sent["record"]))

    def post_message(self, sent, ex):
        record = sent["record"]
        mode = record["options"]["mdn"]
        url = self.partner_url
        try:
            if not url:
                raise ValueError("no partner URL: POST /_peer/config first")
            status, headers, body = post(url, sent["headers"], sent["body"])
        except Exception as e:  # noqa: BLE001
            with self.lock:
                ex.update(state="done", error=f"{type(e).__name__}: {e}")
                self.refresh(record)
            LOG.info("sending %s failed: %s", record["message_id"], ex["error"])
            return
        with self.lock:
            ex["http_status"] = status
            ex["http_body_size"] = len(body)
        LOG.info("sent %s: HTTP %s", record["message_id"], status)
        if not 200 <= status < 300:
            with self.lock:
                ex.update(state="done", error=f"HTTP {status}: {body[:200].decode('utf-8', 'replace')}")
                self.refresh(record)
            return
        if mode == "sync":
            self.take_mdn(raw_message(headers, body), ex_hint=ex)
        elif mode == "async":
            with self.lock:
                ex["state"] = "awaiting_mdn"
                self.refresh(record)
        else:
            with self.lock:
                ex["state"] = "done"
                self.refresh(record)

    def take_mdn(self, raw, ex_hint=None):
        """Checks an MDN with pyas2lib's Mdn.parse against the message it
        names, and stores the verdict on that message's exchange."""
        facts = mdn_facts(raw)

        def find_message(message_id, _recipient):
            with self.lock:
                sent = self.sent.get(message_id)
                return sent["message"] if sent else None

        status, detail = Mdn().parse(raw, find_message_cb=find_message)
        verdict = {"status": status, "detail": detail, "mdn": facts}
        mid = facts.get("original_message_id")
        with self.lock:
            sent = self.sent.get(mid) if mid else None
            ex = ex_hint
            if ex is None and sent is not None:
                waiting = [e for e in sent["record"]["exchanges"] if e["state"] == "awaiting_mdn"]
                ex = waiting[0] if waiting else None
            if ex is not None:
                ours = sent["record"]["mic"] if sent else None
                theirs = facts.get("received_content_mic")
                ex.update(state="done", status=status, detail=detail, mdn=facts,
                          mic_ok=(theirs.split(",")[0].strip() == ours) if (ours and theirs) else None)
                for s in self.sent.values():
                    if ex in s["record"]["exchanges"]:
                        self.refresh(s["record"])
            verdict["matched"] = ex is not None
            self.changed.notify_all()
        LOG.info("MDN for %s: %s %s", mid, status, detail or "")
        return verdict

    def refresh(self, record):
        """The record's top level mirrors its latest exchange."""
        last = record["exchanges"][-1]
        for k in ("state", "http_status", "error", "mdn", "status", "detail", "mic_ok"):
            record[k] = last[k]
        self.changed.notify_all()


def envelope_algorithms(body, content_type):
    """The content cipher and key encryption of an enveloped-data body,
    read with asn1crypto (pyas2lib does not say which AES it found)."""
    if "enveloped-data" not in content_type.lower():
        return None, None
    try:
        info = cms.ContentInfo.load(body)["content"]
        eci = info["encrypted_content_info"]["content_encryption_algorithm"]
        recipient = info["recipient_infos"][0].chosen
        return eci["algorithm"].native, recipient["key_encryption_algorithm"]["algorithm"].native
    except Exception:  # noqa: BLE001
        return None, None


def tamper(body, msg, at):
    """One byte of the body changed after signing and encryption: at `at`
    (negative from the end) when given; else in the signed content of a
    signed, unencrypted message, or else the last byte (an encrypted
    message's last cipher block, so its padding, or a compressed one's
    checksum)."""
    b = bytearray(body)
    if not b:
        return bytes(b)
    if at is not None:
        i = int(at) % len(b)
    elif msg.signed and not msg.encrypted:
        boundary = ("--" + msg.payload.get_boundary()).encode()
        start = b.find(boundary)
        head_end = b.find(b"\r\n\r\n", start)
        if head_end < 0:
            head_end = b.find(b"\n\n", start)
            i = head_end + 2
        else:
            i = head_end + 4
        if i >= len(b):
            i = len(b) // 2
    else:
        i = len(b) - 1
    b[i] ^= 0x01
    return bytes(b)


class Handler(BaseHTTPRequestHandler):
    server_version = "as2-peer"
    peer = None  # set in main

    def log_message(self, fmt, *args):
        LOG.info("%s %s", self.address_string(), fmt % args)

    def body(self):
        n = self.headers.get("Content-Length")
        if n is None:
            return None
        return self.rfile.read(int(n))

    def answer(self, status, obj=None, headers=None, raw=None):
        data = raw if raw is not None else (json.dumps(obj).encode() if obj is not None else b"")
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, " ".join(str(v).split()))
        if raw is None and obj is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        p = self.peer
        path = urllib.parse.unquote(self.path)
        if path == "/_peer/health":
            return self.answer(200, {"as2_name": p.name, "port": p.port, "partner_url": p.partner_url})
        if path == "/_peer/inbox":
            with p.lock:
                entries = json.loads(json.dumps(p.inbox))
            for e in entries:
                if e["payload_file"]:
                    e["payload_b64"] = base64.b64encode(read(os.path.join(p.inbox_dir, e["payload_file"]))).decode()
            return self.answer(200, entries)
        if path == "/_peer/messages":
            with p.lock:
                return self.answer(200, [s["record"] for s in p.sent.values()])
        if path.startswith("/_peer/messages/"):
            mid = path[len("/_peer/messages/"):]
            with p.lock:
                s = p.sent.get(mid)
                if s is None:
                    return self.answer(404, {"error": f"no message {mid}"})
                return self.answer(200, s["record"])
        if path == "/_peer/mdns":
            with p.lock:
                return self.answer(200, p.mdns)
        return self.answer(404, {"error": "not found"})

    def do_DELETE(self):
        if self.path == "/_peer/faults":
            with self.peer.lock:
                self.peer.faults.clear()
            return self.answer(204)
        return self.answer(404, {"error": "not found"})

    def do_POST(self):
        p = self.peer
        path = self.path.split("?")[0]
        if path == "/as2":
            return self.as2()
        body = self.body()
        if body is None:
            return self.answer(411, {"error": "Content-Length required"})
        if path == "/mdn":
            headers = list(self.headers.items())
            verdict = p.take_mdn(raw_message(headers, body))
            with p.lock:
                p.mdns.append(verdict)
            return self.answer(200, raw=b"")
        try:
            req = json.loads(body or b"{}")
        except ValueError as e:
            return self.answer(400, {"error": f"not JSON: {e}"})
        try:
            if path == "/_peer/config":
                if "partner_url" in req:
                    loopback_url(req["partner_url"])
                    p.partner_url = req["partner_url"]
                return self.answer(204)
            if path == "/_peer/send":
                return self.answer(200, p.send(req))
            if path == "/_peer/replay":
                return self.answer(200, p.replay(req))
            if path == "/_peer/faults":
                times = int(req.pop("times", 1))
                with p.lock:
                    p.faults.append({"spec": req, "left": times})
                return self.answer(204)
        except KeyError as e:
            return self.answer(404, {"error": f"unknown {e}"})
        except Exception as e:  # noqa: BLE001
            LOG.info("control %s failed: %s", path, traceback.format_exc())
            return self.answer(400, {"error": f"{type(e).__name__}: {e}"})
        return self.answer(404, {"error": "not found"})

    def chunked(self, limit):
        """A chunked body, or None past `limit` bytes."""
        parts, total = [], 0
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            total += size
            if limit is not None and total > limit:
                return None
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    def as2(self):
        p = self.peer
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            body = self.chunked(p.max_body)
            n = None if body is None else len(body)
        else:
            n = self.headers.get("Content-Length")
            if n is None:
                return self.answer(411, raw=b"Content-Length required\n")
            n = int(n)
            body = None
        if n is None or (p.max_body is not None and n > p.max_body):
            LOG.info("refused a body over the limit of %d bytes", p.max_body)
            self.close_connection = True
            return self.answer(413, raw=b"body too large\n")
        if body is None:
            body = self.rfile.read(n)
        fault = p.take_fault()
        if fault.get("delay_ms"):
            time.sleep(fault["delay_ms"] / 1000.0)
        if fault.get("close"):
            LOG.info("closing without an answer (fault)")
            self.close_connection = True
            return
        if fault.get("status"):
            LOG.info("answering %s (fault)", fault["status"])
            return self.answer(int(fault["status"]), raw=b"refused by a test fault\n")
        entry, mdn = p.receive(list(self.headers.items()), body, fault)
        if mdn is None:
            return self.answer(200, raw=b"")
        if entry["mdn_mode"] == "async":
            self.answer(200, raw=b"")
            if fault.get("withhold_async_mdn"):
                LOG.info("withholding the async MDN of %s (fault)", entry["message_id"])
                return None
            threading.Thread(target=p.send_async_mdn, args=(entry, mdn), daemon=True).start()
            return None
        return self.answer(200, headers=mdn.headers, raw=mdn.content)


def main():
    with open(sys.argv[1]) as f:
        config = json.load(f)
    work = config["work_dir"]
    os.makedirs(work, exist_ok=True)
    logging.basicConfig(
        filename=os.path.join(work, "peer.log"),
        level=logging.INFO,
        format="%(asctime)s %(threadName)s %(name)s %(levelname)s %(message)s",
    )
    peer = Peer(config)
    Handler.peer = peer
    server = ThreadingHTTPServer(("127.0.0.1", int(config.get("port") or 0)), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    peer.set_port(port)
    LOG.info("%s listening on 127.0.0.1:%d", peer.name, port)
    print(f"listening {port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
