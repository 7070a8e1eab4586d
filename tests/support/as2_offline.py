"""The independent AS2 peer of tests/as2_pyas2lib.rs, offline: pyas2lib
(1.4.4, see scripts/lib/as2-peers.sh) builds messages, parses the
messages dropgate built and answers them with its MDN, and parses the
MDNs dropgate built. No HTTP: messages are header fields and a body.

Reads one JSON object on stdin, {"jobs": [...]}, and writes {"results":
[...]} on stdout, one result per job. Byte strings travel as base64.
Keys and certificates are PEM file paths.

Jobs:
- {"op": "build", "us": ORG, "partner": PARTNER, "payload", "filename",
  "content_type"} -> {"headers": [[name, value]], "body", "message_id",
  "mic"}
- {"op": "parse", "us": ORG, "partner": PARTNER, "headers", "body"} ->
  {"status", "detail", "payload", "filename", "signed", "encrypted",
  "compressed", "mic", "digest_alg", "mdn": {"headers", "body"} or None}
- {"op": "encrypt", "cert", "data", "enc_alg", "key_enc_alg"} -> {"der"}:
  pyas2lib's CMS encryption alone (its Message.build always uses RSA
  PKCS#1 v1.5 key transport; this reaches RSAES-OAEP too)
- {"op": "parse_mdn", "partner": PARTNER, "headers", "body",
  "message_id", "mic"} -> {"status", "detail"}

ORG = {"name", "key", "cert", "mdn_url"}; PARTNER = {"name", "cert",
"sign", "digest_alg", "encrypt", "enc_alg", "compress", "mdn_mode",
"mdn_digest_alg"}.
"""

import base64
import json
import logging
import sys
import types

from pyas2lib import Mdn, Message, Organization, Partner

logging.disable(logging.CRITICAL)


def b64(data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return base64.b64encode(data).decode("ascii")


def unb64(text):
    return base64.b64decode(text)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def organization(spec):
    pem = read(spec["cert"]) + read(spec["key"])
    return Organization(
        as2_name=spec["name"],
        sign_key=pem,
        decrypt_key=pem,
        mdn_url=spec.get("mdn_url"),
    )


def partner(spec):
    cert = read(spec["cert"])
    return Partner(
        as2_name=spec["name"],
        verify_cert=cert,
        encrypt_cert=cert,
        sign=spec.get("sign", False),
        digest_alg=spec.get("digest_alg") or "sha256",
        encrypt=spec.get("encrypt", False),
        enc_alg=spec.get("enc_alg") or "aes_256_cbc",
        compress=spec.get("compress", False),
        mdn_mode=spec.get("mdn_mode"),
        mdn_digest_alg=spec.get("mdn_digest_alg"),
    )


def wire(headers, body):
    head = "".join(f"{k}: {v}\r\n" for k, v in headers).encode("utf-8")
    return head + b"\r\n" + body


def build(job):
    message = Message(organization(job["us"]), partner(job["partner"]))
    message.build(
        unb64(job["payload"]),
        filename=job.get("filename"),
        content_type=job.get("content_type", "application/octet-stream"),
    )
    return {
        "headers": [[k, v] for k, v in message.headers.items()],
        "body": b64(message.content),
        "message_id": message.message_id,
        "mic": message.mic.decode() if message.mic else None,
    }


def parse(job):
    us = organization(job["us"])
    them = partner(job["partner"])
    message = Message()
    status, (exception, _), mdn = message.parse(
        wire(job["headers"], unb64(job["body"])),
        find_org_cb=lambda name: us if name == us.as2_name else None,
        find_partner_cb=lambda name: them if name == them.as2_name else None,
    )
    payload = message.payload.get_payload(decode=True) if status == "processed" else None
    filename = message.payload.get_filename() if status == "processed" else None
    return {
        "status": status,
        "detail": str(exception) if exception else None,
        "modifier": getattr(exception, "disposition_modifier", None),
        "payload": b64(payload) if payload is not None else None,
        "filename": filename,
        "signed": message.signed,
        "encrypted": message.encrypted,
        "compressed": message.compressed,
        "mic": message.mic.decode() if message.mic else None,
        "digest_alg": message.digest_alg,
        "mdn": (
            {
                "headers": [[k, v] for k, v in mdn.headers.items()],
                "body": b64(mdn.content),
            }
            if mdn
            else None
        ),
    }


def parse_mdn(job):
    them = partner(job["partner"])
    original = types.SimpleNamespace(
        message_id=job["message_id"],
        mic=job["mic"].encode() if job.get("mic") else None,
        receiver=them,
    )
    status, detail = Mdn().parse(
        wire(job["headers"], unb64(job["body"])),
        find_message_cb=lambda mid, recipient: original if mid == job["message_id"] else None,
    )
    return {"status": status, "detail": detail}


def encrypt(job):
    from oscrypto import asymmetric

    from pyas2lib.cms import encrypt_message

    der = encrypt_message(
        unb64(job["data"]),
        job["enc_alg"],
        asymmetric.load_certificate(read(job["cert"])),
        key_enc_alg=job["key_enc_alg"],
    )
    return {"der": b64(der)}


def main():
    request = json.load(sys.stdin)
    ops = {"build": build, "parse": parse, "parse_mdn": parse_mdn, "encrypt": encrypt}
    results = [ops[job["op"]](job) for job in request["jobs"]]
    json.dump({"results": results}, sys.stdout)


if __name__ == "__main__":
    main()
