"""The analysis as a JSON document: every call and exchange, with stable keys.

The document is made of plain values only (numbers, strings, lists, objects), holds no
wall-clock time, and lists everything in frame order, so the same capture always gives the same
bytes. Times are ISO 8601 UTC strings with nanoseconds; durations are seconds.
"""

from __future__ import annotations

import json
from typing import TextIO

from sipdiag import __version__
from sipdiag.dialogs.calls import Leg, Retransmissions, Timings
from sipdiag.dialogs.correlate import Link
from sipdiag.dialogs.records import CallRecord, ExchangeRecord, SdpRecord
from sipdiag.pipeline import Analysis, CaptureSummary
from sipdiag.report.messages import iso_time
from sipdiag.rules.model import Finding

SCHEMA_VERSION = 1
Json = dict[str, object]


def document(analysis: Analysis) -> Json:
    linked = _linked(analysis.links)
    first = analysis.summary.first_ts_ns or 0
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "sipdiag", "version": __version__},
        "capture": capture(analysis.summary),
        "calls": [call(record, linked.get(record.call_id, [])) for record in analysis.calls],
        "exchanges": [exchange(record) for record in analysis.exchanges],
        "links": [
            {"call_id": a.call_id, "other": a.other, "reason": a.reason} for a in analysis.links
        ],
        "findings": [finding(item, first) for item in analysis.findings],
    }


def write_json(analysis: Analysis, out: TextIO) -> None:
    """The document, with each call, exchange and link on a line of its own: readable in a
    diff, and written by the C encoder (an indented dump of a large capture takes minutes)."""
    write_document(document(analysis), out)


def write_document(value: Json, out: TextIO) -> None:
    out.write("{\n")
    keys = sorted(value)
    for index, key in enumerate(keys):
        item = value[key]
        out.write(f"  {json.dumps(key)}: ")
        if isinstance(item, list) and item:
            out.write("[\n")
            out.write(",\n".join("    " + _compact(element) for element in item))
            out.write("\n  ]")
        else:
            out.write(_compact(item))
        out.write(",\n" if index < len(keys) - 1 else "\n")
    out.write("}\n")


def _compact(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(", ", ": "))


def capture(summary: CaptureSummary) -> Json:
    return {
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


def call(record: CallRecord, linked: list[Json]) -> Json:
    return {
        "call_id": record.call_id,
        "outcome": record.outcome,
        "final_status": record.final_status or None,
        "reason": record.reason,
        "ended_by": record.ended_by or None,
        "caller": record.caller,
        "callee": record.callee,
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
        "linked_calls": linked,
    }


def exchange(record: ExchangeRecord) -> Json:
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
    }


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


def retransmissions(value: Retransmissions) -> Json:
    return {
        "what": value.what,
        "frames": list(value.frames),
        "times": [_round(t) for t in value.times],
    }


def _linked(links: list[Link]) -> dict[str, list[Json]]:
    found: dict[str, list[Json]] = {}
    for link in links:
        found.setdefault(link.call_id, []).append({"call_id": link.other, "reason": link.reason})
        found.setdefault(link.other, []).append({"call_id": link.call_id, "reason": link.reason})
    return found


def _time(ts_ns: int | None) -> str | None:
    return None if ts_ns is None else iso_time(ts_ns)


def _round(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 6)


def finding(item: Finding, first_ts_ns: int) -> Json:
    """A finding as plain values: stable identifiers, then the English words."""
    rule = item.rule
    return {
        "rule": rule.id,
        "name": rule.name,
        "severity": rule.severity,
        "title": rule.title.get(),
        "message": item.message(),
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
