"""The message list: every SIP message of a capture, as a table or as JSON lines.

One record per message (``message_record``) is the single source for both forms, so the table a
person reads and the JSON a program reads always say the same thing. The JSON form is what the
differential tests compare with tshark. Times come from the capture, never from the clock.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TextIO

from sipdiag.report.escape import for_terminal
from sipdiag.sip.message import SipMessage

Record = dict[str, object]


def iso_time(ts_ns: int) -> str:
    """2024-05-01T10:00:00.123456789Z (UTC, nanoseconds)."""
    seconds, nanos = divmod(ts_ns, 1_000_000_000)
    if 0 <= seconds < _YEAR_10000:  # the common case, the quick way (a JSON report has many)
        return _ISO.format(*time.gmtime(seconds)[:6], nanos)
    when = datetime.fromtimestamp(seconds, tz=UTC)  # before 1970; after 9999: an error
    return f"{when:%Y-%m-%dT%H:%M:%S}.{nanos:09d}Z"


_ISO = "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:09d}Z"
_YEAR_10000 = 253_402_300_800
"""Seconds from 1970 to the year 10000, past the last time ``datetime`` can show."""


def time_of_day(ts_ns: int) -> str:
    """``22:13:20.010``: the wall-clock time (UTC) to the millisecond (a ladder's rows)."""
    seconds, nanos = divmod(ts_ns, 1_000_000_000)
    return f"{time.strftime('%H:%M:%S', time.gmtime(seconds))}.{nanos // 1_000_000:03d}"


def epoch_text(ts_ns: int) -> str:
    """Seconds since 1970 with nine decimals, as Wireshark's frame.time_epoch shows them."""
    seconds, nanos = divmod(ts_ns, 1_000_000_000)
    return f"{seconds}.{nanos:09d}"


def message_record(message: SipMessage, first_ts_ns: int | None) -> Record:
    """Everything the message list says about one message, with stable keys."""
    relative = (message.ts_ns - first_ts_ns) / 1e9 if first_ts_ns is not None else 0.0
    return {
        "frame": message.frame,
        "frames": list(message.frames),
        "time": iso_time(message.ts_ns),
        "epoch": epoch_text(message.ts_ns),
        "relative": round(relative, 9),
        "src": str(message.src),
        "dst": str(message.dst),
        "transport": message.transport,
        "first_line": message.first_line,
        "method": message.method or None,
        "status": message.status or None,
        "call_id": message.call_id,
        "cseq": message.cseq if message.cseq >= 0 else None,
        "cseq_method": message.cseq_method or None,
        "defects": [{"kind": kind, "detail": detail} for kind, detail in message.defects],
    }


def json_line(record: Record) -> str:
    return json.dumps(record, sort_keys=True, ensure_ascii=False)


def write_json_lines(records: Iterable[Record], out: TextIO) -> None:
    for record in records:
        out.write(json_line(record))
        out.write("\n")


TABLE_COLUMNS: tuple[tuple[str, int], ...] = (
    ("col_frame", 7),
    ("col_time", 12),
    ("col_source", 22),
    ("col_destination", 22),
    ("col_proto", 5),
    ("col_message", 0),
    ("col_call_id", 0),
    ("col_cseq", 14),
)
"""(label key of the heading, width); width 0 shares what the terminal has left."""


def table_cells(record: Record) -> list[str]:
    cseq = f"{record['cseq']} {record['cseq_method']}" if record["cseq"] is not None else "?"
    return [
        str(record["frame"]),
        f"{record['relative']:.6f}",
        str(record["src"]),
        str(record["dst"]),
        str(record["transport"]),
        for_terminal(str(record["first_line"])),
        for_terminal(str(record["call_id"])),
        for_terminal(cseq),
    ]


def column_widths(total: int) -> list[int]:
    fixed = sum(width for _, width in TABLE_COLUMNS) + len(TABLE_COLUMNS) - 1
    flexible = [i for i, (_, width) in enumerate(TABLE_COLUMNS) if not width]
    share = max((total - fixed) // len(flexible), 16)
    return [width or share for _, width in TABLE_COLUMNS]
