"""The Identity header (RFC 8224): a PASSporT (RFC 8225) with its claims redacted.

The PASSporT's header and claims are JSON in base64url: they are decoded, each ``tn`` (a
telephone number, RFC 8225 5.2.1) mapped as the numbers in From and To are (so the checks that
compare the signed numbers with the message's still hold), every other text value through
``redact_text`` (the ``uri`` claims, the ``x5u`` certificate URL), and encoded again. The
signature is kept as it was: it reveals nothing, and it no longer verifies whatever is done,
since what it signed has changed. A PASSporT that cannot be decoded becomes a token of the
same shape (three base64url parts). The header's parameters (``info=<URL>``) go through
``redact_text``.
"""

from __future__ import annotations

import base64
import binascii
import json

from sipdiag.evidence.redact.pseudonyms import Kind, Pseudonyms
from sipdiag.evidence.redact.text import redact_text


def redact_identity(value: str, names: Pseudonyms) -> str:
    token, semicolon, params = value.partition(";")
    leading = token[: len(token) - len(token.lstrip())]
    trailing = token[len(token.rstrip()):]
    parts = token.strip().split(".")
    names.count(Kind.IDENTITY, token.strip())
    try:
        if len(parts) != 3:
            raise ValueError("not a JWS in compact form")
        header, claims = (_redact_part(part, names) for part in parts[:2])
        new = ".".join([header, claims, parts[2]])
    except ValueError:
        new = ".".join(_b64(names.token("identity", part).encode()) for part in ("h", "c", "s"))
    return leading + new + trailing + semicolon + redact_text(params, names)


def _redact_part(part: str, names: Pseudonyms) -> str:
    if not part:
        return part  # the compact form of RFC 8224 4.1 leaves the claims out
    try:
        data = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ValueError("not base64url JSON") from exc
    return _b64(json.dumps(_redact_json(data, names), separators=(",", ":")).encode())


def _redact_json(item: object, names: Pseudonyms, key: str = "") -> object:
    if isinstance(item, dict):
        return {k: _redact_json(v, names, k) for k, v in item.items()}
    if isinstance(item, list):
        return [_redact_json(v, names, key) for v in item]
    if isinstance(item, str):
        return names.identity(item, Kind.NUMBER) if key == "tn" else redact_text(item, names)
    return item


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
