"""The session timer ran out (RFC 4028)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from sipdiag.dialogs.calls import Call, session_expiry
from sipdiag.rules.catalog import Catalog
from sipdiag.rules.checks.facts import Needs
from sipdiag.rules.checks.registry import Subject, check, hit
from sipdiag.rules.matcher import Hit, hop_key, seconds


@check("session_timer_expired",
       ("refresh.frame", "interval", "bye.frame", "bye.sender", "elapsed"),
       needs=Needs(methods=("BYE",), response_headers=("session-expires",)))
def session_timer_expired(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    if not isinstance(subject, Call):
        return
    for dialog in subject.dialogs:
        bye = dialog.bye
        request = bye.request if bye else None
        if bye is None or request is None or dialog.confirmed is None:
            continue
        expiry = session_expiry(dialog, bye)
        if expiry is None:
            continue
        refresh, interval = expiry
        values = {
            "refresh.frame": str(refresh.frame),
            "interval": str(interval),
            "bye.frame": str(request.frame),
            "bye.sender": str(request.src),
            "elapsed": seconds(request.ts_ns - refresh.ts_ns),
        }
        yield hit(subject, values, [refresh, request], ("session", hop_key(bye)))
