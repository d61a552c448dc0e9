"""Schemathesis hooks for the insurers' endpoint (InsurerEndpointTests).

Most of what schemathesis generates carries a random signature and is
answered 401 before the database is asked. So that the run reaches the
database too, this signs three requests in four that claim to be from the
test insurer with its real secret (over the exact bytes sent; a well-formed
insurer code becomes the test insurer's), and points half of the JSON
bodies it signs at the test's real claims. The others stay
forged: their 401s are checked as well.
"""
import hashlib
import hmac
import json
import os
import re

import requests.adapters

SECRET = os.environ["TIMEBANK_CALLBACK_SECRET"].encode()
INSURER = os.environ.get("TIMEBANK_CALLBACK_INSURER", "picc")
CLAIMS = [int(c) for c in os.environ.get("TIMEBANK_CALLBACK_CLAIMS", "").split(",") if c]
SIGNATURE = re.compile(r"sha256=[0-9a-fA-F]{64}")
CODE = re.compile(r"[a-z0-9_]{2,40}")

_send = requests.adapters.HTTPAdapter.send


def _signed(request):
    signature = request.headers.get("X-Timebank-Signature") or ""
    if not CODE.fullmatch(request.headers.get("X-Timebank-Insurer") or "") or not SIGNATURE.fullmatch(signature):
        return request  # what the schema calls wrong stays wrong
    if int(signature[7], 16) >= 12:
        return request  # one in four stays forged
    request.headers["X-Timebank-Insurer"] = INSURER
    body = request.body or b""
    if isinstance(body, str):
        body = body.encode()
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    if isinstance(payload, dict) and CLAIMS and isinstance(payload.get("claim_id"), int) and payload["claim_id"] % 2 == 0:
        payload["claim_id"] = CLAIMS[payload["claim_id"] % len(CLAIMS)]
        body = json.dumps(payload).encode()
        request.body = body
        request.headers["Content-Length"] = str(len(body))
    request.headers["X-Timebank-Signature"] = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    return request


def send(self, request, *args, **kwargs):
    return _send(self, _signed(request), *args, **kwargs)


requests.adapters.HTTPAdapter.send = send
