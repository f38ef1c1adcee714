"""488 / 606: the offer and what the far end accepts (RFC 3261 21.4.26, 21.6.4)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from sipdiag.rules.catalog import Catalog
from sipdiag.rules.checks.headers import warnings_of
from sipdiag.rules.checks.registry import Subject, check, hit
from sipdiag.rules.matcher import Hit, hop_key, transaction_values
from sipdiag.sip.sdp import Sdp


@check("codec_mismatch", (
    "offer.method", "offer.frame", "offer.status", "offer.reason", "offer.final_frame",
    "offer.responder", "offered", "accepted", "common",
))
def codec_mismatch(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    for transaction in subject.transactions:
        request, final = transaction.request, transaction.final
        if request is None or final is None or final.status not in (488, 606):
            continue
        if request.sdp is None:
            continue  # no offer in the request: not a question of codecs
        offered = _codecs(request.sdp)
        accepted = _codecs(final.sdp)
        common = [codec for codec in offered if codec in accepted]
        values = {
            **transaction_values("offer", transaction, subject.start_ns),
            "offered": _listed(offered),
            "accepted": _listed(accepted),
            "common": _listed(common),
        }
        refs = tuple(("warning", w.code) for w in warnings_of(final))
        yield hit(subject, values, [request, final], hop_key(transaction), refs)


def _codecs(sdp: Sdp | None) -> list[str]:
    """``audio PCMU/8000``, ... : each media kind with its codecs, in offer order."""
    if sdp is None:
        return []
    return list(dict.fromkeys(
        f"{media.kind} {media.codecs.get(fmt) or fmt}"
        for media in sdp.media
        for fmt in media.formats
    ))


def _listed(items: list[str]) -> str:
    return ", ".join(items) if items else "-"
