"""A call's media in words and cells: the same facts in every format.

``state_text`` says how the audio went (``both``, ``one-way: callee silent``, ...) for the
Media column; ``stream_cells`` gives a row per stream (direction, hop, addresses, codec,
packets, loss, jitter, gap, MOS) for the media table; ``with_media`` puts the streams'
starts and ends and the telephone events into a call's ladder, as rows beside its messages.
Everything is plain text from the capture or the catalog; each format escapes it its way.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from sipdiag.dialogs.ladder import Arrow, ArrowKind
from sipdiag.dialogs.media import CallMedia, MediaState, MediaStream, Side
from sipdiag.rules.catalog import Catalog

STREAM_COLUMNS = ("col_direction", "col_hop", "col_source", "col_destination", "col_ssrc",
                  "col_codec", "col_packets", "col_lost", "col_jitter", "col_gap", "col_mos")
_STATES = {
    MediaState.TWO_WAY: "media_two_way",
    MediaState.ONE_WAY: "media_one_way",
    MediaState.NONE: "media_none",
    MediaState.ON_HOLD: "media_on_hold",
    MediaState.NOT_CAPTURED: "media_not_captured",
    MediaState.EARLY_ONLY: "media_early_only",
}


def side_text(catalog: Catalog, side: Side | None, language: str = "en") -> str:
    key = "side_unknown" if side is None else f"side_{side.value}"
    return catalog.label(key, language)


def state_text(catalog: Catalog, media: CallMedia | None, language: str = "en") -> str:
    """The Media column: how the audio went, or ``-`` without a media session."""
    if media is None:
        return "-"
    side = side_text(catalog, media.silent_side, language)
    return catalog.label(_STATES[media.state], language, side=side)


def stream_cells(catalog: Catalog, item: MediaStream, language: str = "en") -> list[str]:
    label = partial(catalog.label, language=language)
    stream = item.stream
    sender = item.sender
    direction = label("direction_value", sender=side_text(catalog, sender, language),
                      receiver=side_text(catalog, sender.other if sender else None, language))
    return [
        direction,
        str(item.hop + 1),
        str(stream.src),
        str(stream.dst),
        f"0x{stream.ssrc:08X}",
        str(stream.codec) or str(stream.payload_type),
        str(stream.packets),
        label("lost_value", lost=stream.lost, percent=f"{stream.loss_percent:.1f}"),
        label("jitter_value", mean=_ms(stream.jitter_ms_mean), max=_ms(stream.jitter_ms_max)),
        _ms(stream.max_delta_ms),
        "-" if item.mos is None else f"{item.mos:.2f}",
    ]


def dtmf_text(catalog: Catalog, media: CallMedia, language: str = "en") -> str:
    """``caller: 1 2 #`` for each side that sent telephone events; ``""`` for none."""
    by_side: dict[Side | None, list[str]] = {}
    for side, event in media.dtmf:
        by_side.setdefault(side, []).append(event.event)
    return catalog.label("separator", language).join(
        catalog.label("dtmf_value", language, side=side_text(catalog, side, language),
                      digits=" ".join(digits))
        for side, digits in by_side.items()
    )


def with_media(arrows: Sequence[Arrow], media: CallMedia | None, catalog: Catalog,
               language: str = "en") -> list[Arrow]:
    """The ladder's messages with a row where each stream starts and ends, and one per
    telephone event, in frame order."""
    if media is None:
        return list(arrows)
    rows = list(arrows)
    for item in media.streams:
        stream = item.stream
        codec = stream.codec.name or str(stream.payload_type)
        rows.append(Arrow(stream.first_frame, stream.first_ns, stream.src, stream.dst, "RTP",
                          catalog.label("rtp_band", language, codec=codec,
                                        packets=stream.packets),
                          0, 1, False, ArrowKind.MEDIA))
        if stream.packets > 1:
            rows.append(Arrow(stream.last_frame, stream.last_ns, stream.src, stream.dst, "RTP",
                              catalog.label("rtp_end", language, ssrc=f"0x{stream.ssrc:08X}"),
                              0, 1, False, ArrowKind.MEDIA_END))
        rows += [Arrow(event.frame, event.ts_ns, stream.src, stream.dst, "RTP",
                       catalog.label("dtmf_event", language, digit=event.event), 0, 1, False,
                       ArrowKind.DTMF)
                 for event in stream.events]
    return sorted(rows, key=lambda arrow: (arrow.frame, arrow.kind is not ArrowKind.SIP))


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"
