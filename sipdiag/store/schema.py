"""The results dataset's layout and columns: what ``--out`` writes and every reader relies on.

A results dataset is a folder (or an fsspec URL) of Parquet files, one folder per table::

    calls/day=2026-12-04/hour=9/<run>.parquet       one row per call
    exchanges/day=.../hour=.../<run>.parquet        one row per exchange (REGISTER, OPTIONS, ...)
    findings/day=.../hour=.../<run>.parquet         one row per finding of a call or exchange
    links/day=.../hour=.../<run>.parquet            one row per link between two calls
    streams/day=.../hour=.../<run>.parquet          one row per RTP stream, of a call or of none
    runs/<run>.parquet                              one row per run: what the report needs

The partitions are hive-style: the day (``YYYY-MM-DD``) and hour (``0``-``23``) of the start of
the row's call or exchange, in UTC (a stream of no call: of its first packet). ``<run>`` names
the run that wrote the file (``dataset.run_id``). Each file says in its key-value metadata the
schema it follows (``sipdiag.schema``) and the sipdiag that wrote it (``sipdiag.version``).

The names and types of the ``calls`` columns are a contract with the readers of the dataset
(``sipdiag stats``, DuckDB queries): a column may be added, none renamed or retyped without a
new schema version.
"""

from __future__ import annotations

from enum import StrEnum

import pyarrow as pa

from sipdiag.capture import CaptureError

SCHEMA_VERSION = "1"
SCHEMA_KEY = b"sipdiag.schema"
VERSION_KEY = b"sipdiag.version"


class StoreError(CaptureError):
    """A results dataset that cannot be written or read (missing, not a dataset, another schema,
    a damaged file, a record that is refused): one line for the user, exit 2."""


class Table(StrEnum):
    CALLS = "calls"
    EXCHANGES = "exchanges"
    FINDINGS = "findings"
    LINKS = "links"
    STREAMS = "streams"
    RUNS = "runs"


PARTITIONED = (Table.CALLS, Table.EXCHANGES, Table.FINDINGS, Table.LINKS, Table.STREAMS)
"""The tables partitioned by day and hour (``runs`` is not)."""

# Column names shared by several tables, and those of the calls contract.
RUN = "run"
CALL_ID = "call_id"
FIRST_FRAME = "first_frame"
LAST_FRAME = "last_frame"
START_NS = "start_ns"
END_NS = "end_ns"
CALLER = "caller"
CALLEE = "callee"
REQUEST_URI = "request_uri"
OUTCOME = "outcome"
FINAL_STATUS = "final_status"
REASON = "reason"
POST_DIAL_DELAY = "post_dial_delay"
TIME_TO_ANSWER = "time_to_answer"
TALK_TIME = "talk_time"
SRC = "src"
DST = "dst"
SEVERITY = "severity"
RULES = "rules"
HEADERS = "headers"
DAY = "day"
HOUR = "hour"
METHOD = "method"
ADDRESSES = "addresses"
"""Every IP address the messages came from or went to, as ``--ip`` matches them."""
RECORD = "record"
"""The whole result (``records``), to make the reports from."""

PARTITIONING = pa.schema([(DAY, pa.string()), (HOUR, pa.int32())])
"""The hive partition columns, as readers get them from the files' paths."""

_STRINGS = pa.list_(pa.string())

CALLS = pa.schema([
    (RUN, pa.string()), (CALL_ID, pa.string()), (FIRST_FRAME, pa.int64()),
    (LAST_FRAME, pa.int64()), (START_NS, pa.int64()), (END_NS, pa.int64()),
    (CALLER, pa.string()), (CALLEE, pa.string()), (REQUEST_URI, pa.string()),
    (OUTCOME, pa.string()), (FINAL_STATUS, pa.int32()), (REASON, pa.string()),
    ("ended_by", pa.string()), (POST_DIAL_DELAY, pa.float64()), (TIME_TO_ANSWER, pa.float64()),
    (TALK_TIME, pa.float64()), (SRC, pa.string()), (DST, pa.string()),
    ("legs", pa.int32()), ("messages", pa.int32()), ("retransmissions", pa.int32()),
    ("media_state", pa.string()), (SEVERITY, pa.string()), (RULES, _STRINGS),
    (HEADERS, pa.map_(pa.string(), pa.string())), (ADDRESSES, _STRINGS),
    (RECORD, pa.large_binary()),
])
"""One row per call. Times in ns since the epoch (UTC), durations in seconds (null: did not
happen); ``outcome`` is ``Outcome``'s value; ``src`` the address the first INVITE came from,
``dst`` the one its last hop went to; ``severity`` the worst finding's (null: none); ``rules``
the IDs of its findings as the reports show them; ``headers`` those kept by ``--keep-header``."""

EXCHANGES = pa.schema([
    (RUN, pa.string()), (CALL_ID, pa.string()), (METHOD, pa.string()),
    (FIRST_FRAME, pa.int64()), (LAST_FRAME, pa.int64()), (START_NS, pa.int64()),
    (END_NS, pa.int64()), (CALLER, pa.string()), (CALLEE, pa.string()), (OUTCOME, pa.string()),
    (FINAL_STATUS, pa.int32()), (REASON, pa.string()), ("messages", pa.int32()),
    (SEVERITY, pa.string()), (RULES, _STRINGS), (ADDRESSES, _STRINGS),
    (RECORD, pa.large_binary()),
])

FINDINGS = pa.schema([
    (RUN, pa.string()), ("kind", pa.string()), (CALL_ID, pa.string()),
    (FIRST_FRAME, pa.int64()), (START_NS, pa.int64()), ("rule", pa.string()),
    ("name", pa.string()), (SEVERITY, pa.string()), ("message", pa.string()),
    ("evidence_frames", pa.list_(pa.int64())),
    ("values", pa.map_(pa.string(), pa.string())),
])
"""One row per finding, as the reports show them: ``kind`` call or exchange, ``first_frame``
and ``start_ns`` those of its call or exchange, ``message`` in English."""

LINKS = pa.schema([
    (RUN, pa.string()), (CALL_ID, pa.string()), ("other", pa.string()),
    ("reason", pa.string()), ("confidence", pa.string()), (START_NS, pa.int64()),
])
"""One row per link between two legs (``start_ns``: of the call ``call_id``)."""

STREAMS = pa.schema([
    (RUN, pa.string()), (CALL_ID, pa.string()), ("call_first_frame", pa.int64()),
    ("ssrc", pa.int64()), (SRC, pa.string()), (DST, pa.string()), ("codec", pa.string()),
    ("packets", pa.int64()), ("expected", pa.int64()), ("lost", pa.int64()),
    ("jitter_ms_max", pa.float64()), ("mos", pa.float64()), (FIRST_FRAME, pa.int64()),
    (START_NS, pa.int64()), (END_NS, pa.int64()), ("tie", pa.string()),
])
"""One row per RTP stream: ``call_id`` and ``call_first_frame`` null for a stream of no call
(then partitioned by its first packet; else by its call's start); ``src`` and ``dst`` as
``address:port``; ``mos`` null where not estimated (a stream of no call)."""

RUNS = pa.schema([
    (RUN, pa.string()), ("sipdiag_version", pa.string()), ("captures", _STRINGS),
    ("first_ns", pa.int64()), ("last_ns", pa.int64()), ("frames", pa.int64()),
    ("sip_messages", pa.int64()), ("calls", pa.int64()), ("exchanges", pa.int64()),
    ("findings", pa.int64()), ("selection", pa.string()), ("headers", _STRINGS),
    ("message_counts", pa.map_(pa.string(), pa.int64())),
    ("partitions", pa.list_(pa.struct([("table", pa.string()), (DAY, pa.string()),
                                       (HOUR, pa.int32()), ("rows", pa.int64()),
                                       ("max_end_ns", pa.int64())]))),
    (RECORD, pa.large_binary()),
])
"""One row per run: the captures (as named), their time span, counts, the ``--keep-header``
names, the selection it was made with (JSON; ``{}``: every call), every partition file it wrote
with the latest end of a row in it, and ``record``: the capture's summary, the message counts,
the sources and the streams of no call (``records.RunState``)."""

SCHEMAS = {Table.CALLS: CALLS, Table.EXCHANGES: EXCHANGES, Table.FINDINGS: FINDINGS,
           Table.LINKS: LINKS, Table.STREAMS: STREAMS, Table.RUNS: RUNS}
