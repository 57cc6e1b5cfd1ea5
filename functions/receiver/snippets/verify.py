"""Verifies a hookrun webhook (Standard Webhooks signature) with Python's
standard library only. Copy verify() into your handler, e.g. with Flask:

    from verify import verify
    # request.get_data(): the raw body, before any JSON parsing
    if not verify(os.environ["WEBHOOK_SECRET"], request.headers, request.get_data()):
        abort(401)

CLI, used by the tests:
    WEBHOOK_SECRET=whsec_... python3 verify.py headers.json < body
exits 0 when the webhook verifies, 1 when it does not, 2 on bad usage.
"""

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import sys
import time
from typing import Mapping, Optional

# How far webhook-timestamp may be from this machine's clock, either way.
TOLERANCE_SECONDS = 5 * 60


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: Optional[float] = None) -> bool:
    """Reports whether body (the raw bytes) was signed with secret.

    secret may hold several space-separated whsec_ secrets while one is
    rotated; headers maps header names (any case) to values, such as Flask's
    request.headers. Raises ValueError when secret is not whsec_ base64.
    """
    keys = [_parse_secret(s) for s in secret.split()]
    if not keys:
        raise ValueError("no webhook secret given")
    h = {name.lower(): value for name, value in headers.items()}
    msg_id = h.get("webhook-id", "")
    timestamp = h.get("webhook-timestamp", "")
    signatures = h.get("webhook-signature", "")
    if not msg_id or not timestamp or not signatures:
        return False
    if not re.fullmatch(r"[0-9]+", timestamp):
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > TOLERANCE_SECONDS:
        return False

    signed = f"{msg_id}.{timestamp}.".encode() + body
    for key in keys:
        expected = hmac.new(key, signed, hashlib.sha256).digest()
        for signature in signatures.split(" "):
            version, _, mac = signature.partition(",")
            if version != "v1":
                continue
            try:
                got = base64.b64decode(mac, validate=True)
            except binascii.Error:
                continue
            if hmac.compare_digest(got, expected):
                return True
    return False


def _parse_secret(secret: str) -> bytes:
    b64 = secret[len("whsec_"):] if secret.startswith("whsec_") else secret
    try:
        key = base64.b64decode(b64, validate=True)
    except binascii.Error:
        key = b""
    if not key:
        raise ValueError("webhook secret must be whsec_ followed by base64")
    return key


def _main(argv) -> int:
    try:
        if len(argv) != 2:
            raise ValueError("usage: WEBHOOK_SECRET=whsec_... python3 verify.py headers.json < body")
        with open(argv[1], encoding="utf-8") as f:
            headers = json.load(f)
        body = sys.stdin.buffer.read()  # raw bytes
        ok = verify(os.environ.get("WEBHOOK_SECRET", ""), headers, body)
    except (OSError, ValueError) as err:  # json.JSONDecodeError is a ValueError
        print(f"verify.py: {err}", file=sys.stderr)
        return 2
    print("verified" if ok else "not verified")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(_main(sys.argv))
