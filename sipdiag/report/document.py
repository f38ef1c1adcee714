"""The analysis as a JSON document: every call and exchange, with stable keys.

The document is made of plain values only (numbers, strings, lists, objects), holds no
wall-clock time, and lists everything in frame order, so the same capture always gives the same
bytes. Times are ISO 8601 UTC strings with nanoseconds; durations are seconds, and times within
the capture (evidence, ladders) are seconds from its first frame.

Its shape is described by the JSON Schema shipped in the package
(``sipdiag/schema/analysis-v1.schema.json``, see ``schema()``). ``schema_version`` changes only
when a field changes its meaning or goes away; new fields are added without a change.
"""

from __future__ import annotations

import heapq
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import partial
from importlib import resources
from typing import TextIO, TypeVar

from sipdiag import __version__
from sipdiag.analysis import Analysis, CallResult, CaptureSummary, ExchangeResult
from sipdiag.analysis.model import SourceSummary
from sipdiag.analysis.processes import in_processes
from sipdiag.dialogs.ladder import Arrow
from sipdiag.dialogs.media import CallMedia, Direction, MediaStream
from sipdiag.dialogs.records import Leg, Retransmissions, SdpRecord, Timings
from sipdiag.media.stream import Stream
from sipdiag.network.tls import TlsSession
from sipdiag.report.messages import iso_time
from sipdiag.report.stats import Spread, Stats, stats_of
from sipdiag.rules.model import SEVERITIES, Finding
from sipdiag.spool import Listing, spool_parts

SCHEMA_VERSION = 1
SCHEMA_FILE = "analysis-v1.schema.json"
Json = dict[str, object]
R = TypeVar("R", CallResult, ExchangeResult)


def document(analysis: Analysis, language: str = "en") -> Json:
    """The whole document in memory (``write_json`` writes it as it is made)."""
    first = analysis.summary.first_ts_ns or 0
    calls = (_call_value(result, first) for result in analysis.calls)
    exchanges = (_exchange_value(result, first) for result in analysis.exchanges)
    return {key: list(value) if isinstance(value, Iterator) else value
            for key, value in _parts(analysis, language, calls, exchanges).items()}


def write_json(analysis: Analysis, out: TextIO, language: str = "en") -> None:
    """The document, with each call, exchange and link on a line of its own: readable in a
    diff, and written by the C encoder (an indented dump of a large capture takes minutes).
    Calls, exchanges and findings are written as they are read, one at a time; the calls and
    exchanges of an analysis made by several processes are encoded by as many at once."""
    first = analysis.summary.first_ts_ns or 0
    calls = _encoded(analysis.calls, partial(_call_line, first=first))
    exchanges = _encoded(analysis.exchanges, partial(_exchange_line, first=first))
    write_document(_parts(analysis, language, calls, exchanges), out)


def _parts(analysis: Analysis, language: str, calls: Iterator[object],
           exchanges: Iterator[object]) -> dict[str, object]:
    """The document's keys; the long lists as iterators (the calls and exchanges as given: as
    values, or already encoded)."""
    first = analysis.summary.first_ts_ns or 0
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "sipdiag", "version": __version__},
        "capture": capture(analysis.summary),
        "summary": summary(stats_of(analysis)),
        "calls": calls,
        "exchanges": exchanges,
        "links": [
            {"call_id": a.call_id, "other": a.other, "reason": a.reason,
             "confidence": a.confidence.value} for a in analysis.links
        ],
        "media": {"unattributed": [
            {**stream(item.stream, first), "tie": item.tie.value} for item in analysis.unattributed
        ]},
        "findings": (finding(item, first, language) for item in analysis.findings),
        "sources": [source(item) for item in analysis.sources],
    }


def source(item: SourceSummary) -> Json:
    """A source address: what it sent, what came back, and the rules that named it."""
    return {
        "address": item.address,
        "requests": dict(item.requests),
        "request_count": item.request_count,
        "statuses": dict(item.statuses),
        "users": item.users,
        "first_seen": iso_time(item.first_ns),
        "last_seen": iso_time(item.last_ns),
        "first_frame": item.first_frame,
        "last_frame": item.last_frame,
        "user_agents": list(item.agents),
        "findings": [f.rule.id for f in item.findings],
    }


def _call_value(result: CallResult, first: int) -> Json:
    return {**call(result), "ladder": ladder(result.ladder, first),
            "media": media(result.media, first)}


def _exchange_value(result: ExchangeResult, first: int) -> Json:
    return {**exchange(result), "ladder": ladder(result.ladder, first)}


def result_line(result: CallResult | ExchangeResult, first: int) -> str:
    """One call or exchange as one line of JSON, as in the document's ``calls`` or
    ``exchanges`` (a live capture's JSON lines), with ``"kind"`` to tell them apart."""
    if isinstance(result, CallResult):
        return _compact({"kind": "call", **_call_value(result, first)})
    return _compact({"kind": "exchange", **_exchange_value(result, first)})


def _call_line(result: CallResult, first: int) -> tuple[int, str]:
    return result.first_frame, _compact(_call_value(result, first))


def _exchange_line(result: ExchangeResult, first: int) -> tuple[int, str]:
    return result.first_frame, _compact(_exchange_value(result, first))


class _Encoded(str):
    """A value already encoded as JSON text: written as it is."""

    __slots__ = ()


def _encoded(results: Listing[R], encode: Callable[[R], tuple[int, str]]) -> Iterator[_Encoded]:
    """Each result encoded (``encode``: its sort key and its JSON text), in order. Results read
    from several spools (one per process of the analysis) are encoded by one process per spool
    (``analysis.processes``), each into a file of its own, then merged by key here: the CPU
    work shared, the memory still one result per process."""
    parts = spool_parts(results)  # the work starts when the list is written, not before
    if len(parts) < 2:
        yield from (_Encoded(text) for _, text in map(encode, results))
    else:
        yield from _merged_lines(in_processes(partial(_encode_to_file, encode=encode), parts))


def _encode_to_file(results: Listing[R], encode: Callable[[R], tuple[int, str]]) -> str:
    handle, path = tempfile.mkstemp(prefix="sipdiag-", suffix=".jsonl")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        for key, text in map(encode, results):
            out.write(f"{key}\t{text}\n")  # JSON text holds no line break: one per line
    return path


def _merged_lines(paths: list[str]) -> Iterator[_Encoded]:
    files = [open(path, encoding="utf-8") for path in paths]  # noqa: SIM115 - closed below
    try:
        keyed = [((int(key), text) for key, text in (line.split("\t", 1) for line in file))
                 for file in files]
        for _, text in heapq.merge(*keyed, key=_key):
            yield _Encoded(text.removesuffix("\n"))
    finally:
        for file, path in zip(files, paths, strict=True):
            file.close()
            os.unlink(path)


def _key(pair: tuple[int, str]) -> int:
    return pair[0]


def _rules(findings: Iterable[Finding]) -> list[str]:
    return [f.rule.id for f in findings]


def schema() -> Json:
    """The JSON Schema (draft 2020-12) of the document, as shipped in the package."""
    text = resources.files("sipdiag").joinpath("schema", SCHEMA_FILE).read_text("utf-8")
    value = json.loads(text)
    assert isinstance(value, dict)
    return value


def write_document(value: Mapping[str, object], out: TextIO) -> None:
    """Keys sorted, compact values; a list (or iterator) with one element per line."""
    out.write("{\n")
    keys = sorted(value)
    for index, key in enumerate(keys):
        item = value[key]
        out.write(f"  {json.dumps(key)}: ")
        if isinstance(item, list | Iterator):
            _write_elements(iter(item), out)
        else:
            out.write(_compact(item))
        out.write(",\n" if index < len(keys) - 1 else "\n")
    out.write("}\n")


def _write_elements(elements: Iterator[object], out: TextIO) -> None:
    first = next(elements, _NOTHING)
    if first is _NOTHING:
        out.write("[]")
        return
    out.write("[\n    " + _compact(first))
    for element in elements:
        out.write(",\n    " + _compact(element))
    out.write("\n  ]")


_NOTHING = object()


def _compact(value: object) -> str:
    if isinstance(value, _Encoded):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(", ", ": "))


def capture(summary: CaptureSummary) -> Json:
    value: Json = {
        "file": summary.name,
        "format": summary.format,
        "compression": summary.compression,
        "frames": summary.frames,
        "first_time": _time(summary.first_ts_ns),
        "last_time": _time(summary.last_ts_ns),
        "sip_messages": summary.sip_messages,
        "defective_messages": summary.defective_messages,
        "problems": [
            {
                "kind": kind,
                "count": count,
                "examples": [
                    {"frame": p.frame, "detail": p.detail}
                    for p in summary.problems.examples.get(kind, [])
                ],
            }
            for kind, count in sorted(summary.problems.counts.items())
        ],
    }
    if summary.tls_sessions:  # only TLS captures have the field
        value["tls_sessions"] = [tls_session(s) for s in summary.tls_sessions]
    return value


def tls_session(session: TlsSession) -> Json:
    return {
        "client": str(session.client),
        "server": str(session.server),
        "first_frame": session.first_frame,
        "sni": session.sni,
        "version": session.version,
        "cipher": session.cipher,
        "transport": session.transport,
        "sip_messages": session.sip_messages,
        "decryption": session.outcome.name.lower(),
    }


def call(record: CallResult) -> Json:
    return {
        "call_id": record.call_id,
        "outcome": record.outcome,
        "final_status": record.final_status or None,
        "reason": record.reason,
        "ended_by": record.ended_by or None,
        "caller": record.caller,
        "callee": record.callee,
        "agents": {"caller": record.agents.caller or None,
                   "callee": record.agents.callee or None},
        "request_uri": record.request_uri,
        "start": _time(record.start_ns),
        "end": _time(record.end_ns),
        "frames": [record.first_frame, record.last_frame],
        "messages": record.message_count,
        "timings": timings(record.timings),
        "legs": [leg(item) for item in record.legs],
        "dialogs": record.dialog_count,
        "sdp": {"offer": sdp(record.offer), "answer": sdp(record.answer)},
        "retransmissions": [retransmissions(item) for item in record.retransmissions],
        "duplicates": record.duplicates,
        "linked_calls": [{"call_id": link.other, "reason": link.reason,
                          "confidence": link.confidence.value} for link in record.links],
        "findings": _rules(record.findings),
    }


def exchange(record: ExchangeResult) -> Json:
    return {
        "call_id": record.call_id,
        "method": record.method,
        "outcome": record.outcome,
        "final_status": record.final_status or None,
        "reason": record.reason,
        "caller": record.caller,
        "callee": record.callee,
        "start": _time(record.start_ns),
        "end": _time(record.end_ns),
        "frames": [record.first_frame, record.last_frame],
        "messages": record.message_count,
        "transactions": record.transaction_count,
        "retransmissions": [retransmissions(item) for item in record.retransmissions],
        "findings": _rules(record.findings),
    }


def summary(stats: Stats) -> Json:
    """The figures of the summary: ASR and NER in percent (None without attempts), the spread of
    the post-dial delays in seconds, and counts by outcome, final status and severity."""
    return {
        "calls": stats.calls,
        "exchanges": stats.exchanges,
        "attempts": stats.attempts,
        "answered": stats.answered,
        "delivered": stats.delivered,
        "asr": _percent(stats.asr),
        "ner": _percent(stats.ner),
        "post_dial_delay": spread(stats.post_dial_delay),
        "call_outcomes": dict(stats.call_outcomes),
        "exchange_outcomes": dict(stats.exchange_outcomes),
        "final_statuses": {str(code or "none"): n for code, n in stats.final_statuses.items()},
        "findings": {severity: stats.findings[severity] for severity in SEVERITIES},
        "media": {
            "streams": stats.streams,
            "rtp_packets": stats.rtp_packets,
            "unattributed_streams": stats.unattributed,
            "call_states": dict(stats.media_states),
        },
    }


def spread(value: Spread | None) -> Json | None:
    if value is None:
        return None
    return {"count": value.count, "mean": _round(value.mean), "median": _round(value.median),
            "p95": _round(value.p95), "max": _round(value.max)}


def ladder(arrows: Sequence[Arrow] | None, first_ts_ns: int) -> list[Json] | None:
    """Every message of the call as the ladder draws it; None when the analysis kept none."""
    if arrows is None:
        return None
    return [
        {
            "frame": a.frame,
            "time": _round((a.ts_ns - first_ts_ns) / 1e9),
            "src": str(a.src),
            "dst": str(a.dst),
            "transport": a.transport,
            "label": a.label,
            "status": a.status or None,
            "copy": a.copy,
            "sdp": a.has_sdp,
        }
        for a in arrows
    ]


def timings(value: Timings) -> Json:
    return {
        "post_dial_delay": _round(value.post_dial_delay),
        "time_to_answer": _round(value.time_to_answer),
        "talk_time": _round(value.talk_time),
        "total": _round(value.total),
    }


def leg(value: Leg) -> Json:
    return {
        "src": str(value.src),
        "dst": str(value.dst),
        "transport": value.transport,
        "first_frame": value.first_frame,
        "final_status": value.final_status or None,
    }


def sdp(value: SdpRecord | None) -> Json | None:
    if value is None:
        return None
    return {
        "sender": value.sender,
        "frame": value.frame,
        "media": [
            {
                "kind": m.kind,
                "address": m.address,
                "port": m.port,
                "protocol": m.protocol,
                "codecs": list(m.codecs),
                "direction": m.direction,
            }
            for m in value.media
        ],
    }


def media(value: CallMedia | None, first_ts_ns: int) -> Json | None:
    """A call's media: its state, each direction judged, each stream, the telephone events."""
    if value is None:
        return None
    return {
        "state": value.state.value,
        "silent_side": value.silent_side.value if value.silent_side else None,
        "answered": _time(value.answered_ns),
        "acked": _time(value.acked_ns),
        "stopped_before_end": _round(value.stopped_before_end_s),
        "rtcp_packets": value.rtcp_packets,
        "other_packets": value.other_packets,
        "malformed_packets": value.malformed,
        "directions": [direction(d) for d in value.directions],
        "streams": [media_stream(s, first_ts_ns) for s in value.streams],
        "dtmf": [
            {"side": side.value if side else None, "event": event.event, "frame": event.frame,
             "time": _round((event.ts_ns - first_ts_ns) / 1e9),
             "duration_ms": _round(event.duration_ms)}
            for side, event in value.dtmf
        ],
    }


def direction(value: Direction) -> Json:
    return {
        "sender": value.sender.value,
        "expected_seconds": _round(value.expected_s),
        "packets": value.packets,
        "audio_packets": value.audio_packets,
        "silent_percent": _round(value.silent_percent),
        "silent": value.silent,
        "cause": value.cause.value if value.cause else None,
        "start_after_answer": _round(value.start_after_answer_s),
        "start_after_ack": _round(value.start_after_ack_s),
        "stop_before_end": _round(value.stop_before_end_s),
        "on_hold_at_end": value.on_hold_at_end,
        "announced": _endpoint(value.announced),
        "announced_frame": value.announced_frame,
        "sent_to": _endpoint(value.sent_to),
    }


def media_stream(value: MediaStream, first_ts_ns: int) -> Json:
    remote = value.remote
    return {
        **stream(value.stream, first_ts_ns),
        "kind": value.kind,
        "sender": value.sender.value if value.sender else None,
        "hop": value.hop + 1,
        "tie": value.tie.value,
        "announced_frame": value.announcement.frame if value.announcement else None,
        "destination": value.destination.value,
        "from_elsewhere": value.from_elsewhere,
        "unexpected_payload_types": list(value.unexpected_payload_types),
        "follows_ssrc": _ssrc(value.follows_ssrc),
        "upstream_loss_percent": _percent(value.upstream_loss_percent),
        "capture_dropped": value.capture_dropped,
        "icmp_unreachable": value.unreachable,
        "mos": _round(value.mos),
        "r_factor": _round(value.r_factor),
        "mos_delay_ms": _round(value.delay_ms),
        "remote": None if remote is None else {
            "reports": remote.reports,
            "fraction_lost_max_percent": _percent(remote.fraction_lost_max),
            "cumulative_lost": remote.cumulative_lost,
            "round_trip_ms": _round(remote.round_trip_ms),
            "mos_lq": remote.mos_lq,
            "r_factor": remote.r_factor,
        },
    }


def stream(value: Stream, first_ts_ns: int) -> Json:
    """What the stream itself says, in the reports' units (ms, percent, frames)."""
    timeline = value.timeline
    return {
        "from": str(value.src),
        "to": str(value.dst),
        "ssrc": _ssrc(value.ssrc),
        "payload_type": value.payload_type,
        "codec": str(value.codec) or None,
        "payload_types": [{"payload_type": pt, "packets": n} for pt, n in value.payload_types],
        "packets": value.packets,
        "expected": value.expected,
        "lost": value.lost,
        "loss_percent": _percent(value.loss_percent),
        "duplicates": value.duplicates,
        "out_of_order": value.out_of_order,
        "sequence_errors": value.sequence_errors,
        "jitter_ms_mean": _round(value.jitter_ms_mean),
        "jitter_ms_max": _round(value.jitter_ms_max),
        "max_delta_ms": _round(value.max_delta_ms),
        "longest_outage": None if not value.outages else {
            "seconds": _round(value.outages[0].seconds), "lost": value.outages[0].lost,
            "frame": value.outages[0].frame},
        "markers": value.markers,
        "comfort_noise": value.comfort_noise,
        "silent_packets": value.silent,
        "event_packets": value.event_packets,
        "encrypted": value.encrypted,
        "first_frame": value.first_frame,
        "last_frame": value.last_frame,
        "first_time": _round((value.first_ns - first_ts_ns) / 1e9),
        "last_time": _round((value.last_ns - first_ts_ns) / 1e9),
        "timeline": None if timeline is None else {
            "packets": list(timeline.packets), "lost": list(timeline.lost),
            "jitter_ms": list(timeline.jitter_ms)},
    }


def _ssrc(value: int | None) -> str | None:
    return None if value is None else f"0x{value:08X}"


def _endpoint(value: object) -> str | None:
    return None if value is None else str(value)


def retransmissions(value: Retransmissions) -> Json:
    return {
        "what": value.what,
        "frames": list(value.frames),
        "times": [_round(t) for t in value.times],
    }


def _time(ts_ns: int | None) -> str | None:
    return None if ts_ns is None else iso_time(ts_ns)


def _round(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 6)


def _percent(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def finding(item: Finding, first_ts_ns: int, language: str = "en") -> Json:
    """A finding as plain values: stable identifiers, then the words (English by default)."""
    rule = item.rule
    return {
        "rule": rule.id,
        "name": rule.name,
        "severity": rule.severity,
        "title": rule.title.get(language),
        "message": item.message(language),
        "call_id": item.call_id,
        "call_frame": item.call_frame,
        "values": dict(item.values),
        "evidence": [
            {
                "frame": evidence.frame,
                "time": round((evidence.time_ns - first_ts_ns) / 1e9, 6),
                "message": evidence.what,
                "copy": evidence.copy,
            }
            for evidence in item.evidence
        ],
        "see_also": [{"kind": kind, "code": code} for kind, code in item.refs],
    }
