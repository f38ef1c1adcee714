"""488 / 606: the offer and what the far end accepts (RFC 3261 21.4.26, 21.6.4).

Refusing an offer is about codecs only when the offer had a stream to agree on. An offer whose
every stream is unusable (port 0: offered but not to be used, RFC 3264 5.1; ``inactive``: no
media either way, 5.1 and 8.4; connection address 0.0.0.0 with no ICE candidate, the RFC 2543
hold of 8.4) or that has no m= line at all leaves the answerer nothing to accept: that offer is
broken (``offer_without_stream``), and ``codec_mismatch`` leaves it alone.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator, Mapping

from sipdiag.dialogs.transactions import Transaction
from sipdiag.rules.catalog import Catalog
from sipdiag.rules.checks.facts import Needs
from sipdiag.rules.checks.headers import warnings_of
from sipdiag.rules.checks.registry import Subject, check, hit
from sipdiag.rules.matcher import Hit, hop_key, transaction_values
from sipdiag.sip.message import SipMessage
from sipdiag.sip.sdp import Media, Sdp

_OFFER = ("offer.method", "offer.frame", "offer.status", "offer.reason", "offer.final_frame",
          "offer.responder")
REFUSALS = (488, 606)


@check("codec_mismatch", (*_OFFER, "offered", "accepted", "common"), needs=Needs(finals=REFUSALS))
def codec_mismatch(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    for transaction, request, final, offer in _refused_offers(subject):
        if not any(_usable(media) for media in offer.media):
            continue  # nothing was offered to agree on: offer_without_stream
        # A stream with port 0 is not offered for use (RFC 3264 5.1); the 488's own SDP says
        # what the far end supports, whatever its ports (RFC 3261 21.4.26).
        offered = _codecs(media for media in offer.media if _usable(media))
        accepted = _codecs(final.sdp.media if final.sdp else ())
        common = [codec for codec in offered if codec in accepted]
        values = {
            **transaction_values("offer", transaction, subject.start_ns),
            "offered": _listed(offered),
            "accepted": _listed(accepted),
            "common": _listed(common),
        }
        refs = tuple(("warning", w.code) for w in warnings_of(final))
        yield hit(subject, values, [request, final], hop_key(transaction), refs)


@check("offer_without_stream", (*_OFFER, "streams"), needs=Needs(finals=REFUSALS))
def offer_without_stream(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    for transaction, request, final, offer in _refused_offers(subject):
        if any(_usable(media) for media in offer.media):
            continue
        values = {
            **transaction_values("offer", transaction, subject.start_ns),
            "streams": _listed([_unusable(media) for media in offer.media]) if offer.media
            else "no m= line",
        }
        refs = tuple(("warning", w.code) for w in warnings_of(final))
        yield hit(subject, values, [request, final], hop_key(transaction), refs)


def _refused_offers(
    subject: Subject,
) -> Iterator[tuple[Transaction, SipMessage, SipMessage, Sdp]]:
    """Each request carrying an offer that was answered 488 or 606."""
    for transaction in subject.transactions:
        request, final = transaction.request, transaction.final
        if request is None or final is None or final.status not in REFUSALS:
            continue
        if request.sdp is None:
            continue  # no offer in the request: not a question of codecs
        yield transaction, request, final, request.sdp


def _usable(media: Media) -> bool:
    return not _unusable(media)


def _unusable(media: Media) -> str:
    """Why the stream cannot carry media (``audio port 0``), or empty when it can."""
    if media.port == 0:
        return f"{media.kind} port 0"
    if media.direction == "inactive":
        return f"{media.kind} inactive"
    if _unspecified(media.connection) and not media.candidates:
        return f"{media.kind} c={media.connection}"
    return ""


def _unspecified(address: str | None) -> bool:
    """0.0.0.0 or :: (no address); a missing c= is the SDP's own defect, not this."""
    try:
        return address is not None and ipaddress.ip_address(address).is_unspecified
    except ValueError:
        return False


def _codecs(media: Iterable[Media]) -> list[str]:
    """``audio PCMU/8000``, ... : each media kind with its codecs, in offer order."""
    return list(dict.fromkeys(
        f"{section.kind} {section.codecs.get(fmt) or fmt}"
        for section in media
        for fmt in section.formats
    ))


def _listed(items: list[str]) -> str:
    return ", ".join(items) if items else "-"
