"""Writing an analysis into a results dataset, and finding a dataset's files again.

Theory of operation. A run (one ``sipdiag CAPTURES --out RESULTS``) is named by what it read:
the captures' file names and the times of their first and last frames (``run_id``). Each table
gets one file per partition the run has rows in, named after the run, so a new run only adds
files. Each file is written under a name no reader globs (``<run>.parquet.part``) and renamed
once complete; the run's row in ``runs/`` is written last and removed first: it is what makes
the run's files part of the dataset for ``sipdiag report`` (which goes by it), so a run cut
short leaves nothing it reads. Running the same captures again first withdraws that run,
deletes its files (and any a run cut short left), then writes them anew: the run is replaced,
never duplicated. A run of more captures (the day's files after each hour's) then withdraws
every run whose captures were all among them, within its time; no other run's file is touched.

Rows are written as the analysis yields them, in start order: memory holds the rows of one row
group, of the partition rows last went to, not the run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import fsspec
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from sipdiag import __version__
from sipdiag.analysis.model import Analysis, CallResult, ExchangeResult, Result
from sipdiag.analysis.reading import CaptureSummary
from sipdiag.dialogs.ladder import ArrowKind
from sipdiag.dialogs.media import MediaStream
from sipdiag.rules.model import Finding
from sipdiag.store import schema as s
from sipdiag.store.records import RecordWriter, RunState
from sipdiag.store.schema import StoreError, Table

if TYPE_CHECKING:
    from sipdiag.media.model import TiedStream

NS = 1_000_000_000
ROW_GROUP_BYTES = 4 << 20
"""Records buffered before they are written as a row group (of the partition rows last went
to: the others' are written as soon as rows go to another)."""
ROW_GROUP_ROWS = 10_000
PART = ".part"
"""The end of the name of a file being written."""
Row = dict[str, object]


def run_id(captures: Sequence[str], first_ns: int | None, last_ns: int | None) -> str:
    """The run's name: when its first frame was (UTC, for people and for sorting) and a hash of
    the captures' file names (without their folders: the same files moved are the same run)
    and of their first and last frame times."""
    names = _file_names(captures)
    digest = hashlib.sha256(json.dumps([names, first_ns, last_ns]).encode()).hexdigest()
    when = datetime.fromtimestamp((first_ns or 0) // NS, UTC)
    return f"{when:%Y%m%dT%H%M%SZ}-{digest[:12]}"


def _began(path: str) -> int | None:
    """When a run's first frame was, in whole seconds, from its ``runs`` file's name (None
    for a name ``run_id`` did not make)."""
    stamp = path.rsplit("/", 1)[-1].split("-", 1)[0]
    try:
        when = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None
    return int(when.timestamp())


def _file_names(captures: Sequence[str]) -> list[str]:
    return [name.rstrip("/").rsplit("/", 1)[-1] for name in captures]


def partition_of(ns: int) -> tuple[str, int]:
    """The day (``YYYY-MM-DD``) and hour of a time, in UTC."""
    when = datetime.fromtimestamp(ns // NS, UTC)
    return f"{when:%Y-%m-%d}", when.hour


def partition_folder(table: Table, day: str, hour: int) -> str:
    return f"{table.value}/{s.DAY}={day}/{s.HOUR}={hour}"  # unpadded: DuckDB reads an integer


def file_metadata() -> dict[bytes, bytes]:
    return {s.SCHEMA_KEY: s.SCHEMA_VERSION.encode(), s.VERSION_KEY: __version__.encode()}


@dataclass(slots=True)
class _Partition:
    """One partition's file of one table, open while the run is written."""

    path: str
    """Where it goes once complete (it is written to this name plus ``PART``)."""
    writer: pq.ParquetWriter
    file: Any
    rows: list[Row] = field(default_factory=list)
    bytes: int = 0
    written: int = 0
    max_end_ns: int = 0


class _TableWriter:
    """The rows of one table, each into the file of its partition."""

    def __init__(self, results: Results, table: Table, run: str) -> None:
        self._results, self._table, self._run = results, table, run
        self._schema = s.SCHEMAS[table].with_metadata(file_metadata())
        self._open: dict[tuple[str, int], _Partition] = {}
        self._last: _Partition | None = None

    def add(self, row: Row, start_ns: int, end_ns: int) -> None:
        key = partition_of(start_ns)
        part = self._open.get(key)
        if part is None:
            part = self._open[key] = self._start(*key)
        if part is not self._last:  # rows come in start order: the last hour is likely done
            if self._last is not None:
                self._flush(self._last)
            self._last = part
        part.rows.append(row)
        record = row.get(s.RECORD)
        part.bytes += len(record) if isinstance(record, bytes) else 0
        part.max_end_ns = max(part.max_end_ns, end_ns)
        if part.bytes >= ROW_GROUP_BYTES or len(part.rows) >= ROW_GROUP_ROWS:
            self._flush(part)

    def _start(self, day: str, hour: int) -> _Partition:
        folder = f"{self._results.root}/{partition_folder(self._table, day, hour)}"
        path = f"{folder}/{self._run}.parquet"
        self._results.fs.makedirs(folder, exist_ok=True)
        file = self._results.fs.open(path + PART, "wb")
        writer = pq.ParquetWriter(file, self._schema, compression="zstd")
        return _Partition(path, writer, file)

    def _flush(self, part: _Partition) -> None:
        if part.rows:
            part.writer.write_table(pa.Table.from_pylist(part.rows, schema=self._schema))
            part.written += len(part.rows)
            part.rows, part.bytes = [], 0

    def close(self) -> list[Row]:
        """Write what is left and close every file; the partitions written, for ``runs``."""
        written: list[Row] = []
        for (day, hour), part in sorted(self._open.items()):
            self._flush(part)
            part.writer.close()
            part.file.close()
            self._results.fs.mv(part.path + PART, part.path)
            written.append({"table": self._table.value, s.DAY: day, s.HOUR: hour,
                            "rows": part.written, "max_end_ns": part.max_end_ns})
        return written


class Results:
    """A results dataset: a folder or fsspec URL (``memory://r``, ``s3://bucket/results``)."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self.fs, self.root = fsspec.core.url_to_fs(url)
        except (ValueError, ImportError) as exc:
            raise StoreError(f"{url}: cannot open results there ({exc})") from None
        self.root = self.root.rstrip("/")

    def run_path(self, run: str) -> str:
        return f"{self.root}/{Table.RUNS.value}/{run}.parquet"

    def run_files(self) -> list[str]:
        """The ``runs`` file of every run of the dataset, sorted by name."""
        return sorted(self.fs.glob(f"{self.root}/{Table.RUNS.value}/*.parquet"))

    def check_appendable(self) -> None:
        """Raise ``StoreError`` unless runs can be added here: a new or empty folder, or a
        dataset of this schema."""
        if self.fs.exists(self.root) and not self.fs.isdir(self.root):
            raise StoreError(f"{self.url}: is a file, not a results folder")
        for path in self.run_files()[:1]:
            check_schema(self, path, read_table(self, path, schema_only=True).schema.metadata)

    def write(self, analysis: Analysis, captures: Sequence[str], shared: Mapping[str, object],
              headers: Sequence[str] = ()) -> str:
        """Write the analysis (made with every ladder kept, ``Ladders.ALL``) as a run of
        ``captures``, replacing any earlier run of the same captures, or of some of them (an
        hour's files, then the whole day's: ``Run.read_within``); its name."""
        summary = analysis.summary
        run = run_id(captures, summary.first_ts_ns, summary.last_ts_ns)
        try:
            self.check_appendable()
            self._withdraw(run)
            records = RecordWriter(shared)
            partitions = _RunWriter(self, run, records).write(analysis)
            self._commit(run, analysis, captures, headers, partitions, records)
            for earlier in self._runs_begun_within(summary):
                if earlier.name != run and earlier.read_within(captures, summary):
                    self._withdraw(earlier.name)
        except OSError as exc:
            raise StoreError(f"{self.url}: cannot write results ({exc.strerror or exc})") from None
        return run

    def _runs_begun_within(self, summary: CaptureSummary) -> list[Run]:
        """The runs whose first frame falls within the capture's time, to the second their
        names give (``run_id``): only those can be runs of some of its files, and only their
        ``runs`` rows are read, not those of the whole dataset."""
        since, until = ((ns or 0) // NS for ns in (summary.first_ts_ns, summary.last_ts_ns))
        begun = {path: _began(path) for path in self.run_files()}
        return [_run_of(self, path) for path, second in begun.items()
                if second is not None and since <= second <= until]

    def _withdraw(self, run: str) -> None:
        """Take an earlier run of the same name out of the dataset: its ``runs`` file first
        (readers then ignore its other files), then every file it wrote."""
        if self.fs.exists(self.run_path(run)):
            self.fs.rm(self.run_path(run))
        for table in s.PARTITIONED:
            for written in ("", PART):
                for path in self.fs.glob(f"{self.root}/{table.value}/*/*/{run}.parquet{written}"):
                    self.fs.rm(path)

    def _commit(self, run: str, analysis: Analysis, captures: Sequence[str],
                headers: Sequence[str], partitions: list[Row],
                writer: RecordWriter) -> None:
        summary, tally = analysis.summary, analysis.tally
        state = RunState(summary, analysis.message_counts, list(analysis.sources),
                         list(analysis.unattributed))
        row = {
            s.RUN: run, "sipdiag_version": __version__, "captures": list(captures),
            "first_ns": summary.first_ts_ns, "last_ns": summary.last_ts_ns,
            "frames": summary.frames, "sip_messages": summary.sip_messages,
            "calls": tally.call_outcomes.total(), "exchanges": tally.exchange_outcomes.total(),
            "findings": tally.severities.total(), "selection": _selection_json(analysis),
            "headers": list(headers), "message_counts": sorted(analysis.message_counts.items()),
            "partitions": partitions, s.RECORD: writer.dumps(state),
        }
        schema = s.RUNS.with_metadata(file_metadata())
        self.fs.makedirs(f"{self.root}/{Table.RUNS.value}", exist_ok=True)
        with self.fs.open(self.run_path(run), "wb") as file:
            pq.write_table(pa.Table.from_pylist([row], schema=schema), file, compression="zstd")


def _selection_json(analysis: Analysis) -> str:
    """The calls the run chose (``--failed``, ``--call``, ...), as JSON: ``{}`` for all."""
    chosen = {name: value for name, value in dataclasses.asdict(analysis.selection).items()
              if value not in ((), None, False)}
    return json.dumps(chosen, sort_keys=True)


def check_schema(results: Results, path: str, metadata: Mapping[bytes, bytes] | None) -> None:
    """Raise ``StoreError`` unless the file's metadata says it follows this schema."""
    found = (metadata or {}).get(s.SCHEMA_KEY)
    if found is None:
        raise StoreError(f"{path}: not a sipdiag results file (no {s.SCHEMA_KEY.decode()} "
                         f"in its metadata)")
    if found.decode() != s.SCHEMA_VERSION:
        version = (metadata or {}).get(s.VERSION_KEY, b"?").decode()
        raise StoreError(f"{results.url}: written by sipdiag {version} (schema "
                         f"{found.decode()}); this sipdiag reads schema {s.SCHEMA_VERSION}")


class _RunWriter:
    """One run's rows of every partitioned table."""

    def __init__(self, results: Results, run: str, records: RecordWriter) -> None:
        self._run, self._records = run, records
        self._tables = {table: _TableWriter(results, table, run) for table in s.PARTITIONED}

    def write(self, analysis: Analysis) -> list[Row]:
        linked = {call_id for link in analysis.links for call_id in (link.call_id, link.other)}
        spans: dict[str, tuple[int, int]] = {}
        for call in analysis.calls:
            self._add_call(call)
            if call.call_id in linked:
                spans.setdefault(call.call_id, (call.start_ns, call.end_ns))
        for exchange in analysis.exchanges:
            self._add_exchange(exchange)
        for link in analysis.links:
            start, end = spans[link.call_id]  # a link joins two calls of the run
            self._tables[Table.LINKS].add(
                {s.RUN: self._run, s.CALL_ID: link.call_id, "other": link.other,
                 "reason": link.reason, "confidence": link.confidence.value, s.START_NS: start},
                start, end)
        for orphan in analysis.unattributed:
            self._add_stream(orphan, None)
        return [written for table in self._tables.values() for written in table.close()]

    def _add_call(self, call: CallResult) -> None:
        first_leg, last_leg = (call.legs[0], call.legs[-1]) if call.legs else (None, None)
        timings = call.timings
        row = {
            **self._common(call), s.REQUEST_URI: call.request_uri,
            "ended_by": call.ended_by, s.POST_DIAL_DELAY: timings.post_dial_delay,
            s.TIME_TO_ANSWER: timings.time_to_answer, s.TALK_TIME: timings.talk_time,
            s.SRC: first_leg.src.ip if first_leg else None,
            s.DST: last_leg.dst.ip if last_leg else None, "legs": len(call.legs),
            "retransmissions": call.retransmission_count,
            "media_state": call.media.state.value if call.media else None,
            s.HEADERS: list(call.headers),
        }
        self._tables[Table.CALLS].add(row, call.start_ns, call.end_ns)
        self._add_findings("call", call)
        for tied in call.media.streams if call.media else ():
            self._add_stream(tied, call)

    def _add_exchange(self, exchange: ExchangeResult) -> None:
        row = {**self._common(exchange), s.METHOD: exchange.method}
        self._tables[Table.EXCHANGES].add(row, exchange.start_ns, exchange.end_ns)
        self._add_findings("exchange", exchange)

    def _common(self, result: Result) -> Row:
        """The columns calls and exchanges share."""
        if result.ladder is None:
            raise ValueError("results are stored with their ladders (analyse with Ladders.ALL)")
        return {
            s.RUN: self._run, s.CALL_ID: result.call_id, s.FIRST_FRAME: result.first_frame,
            s.LAST_FRAME: result.last_frame, s.START_NS: result.start_ns,
            s.END_NS: result.end_ns, s.CALLER: result.caller, s.CALLEE: result.callee,
            s.OUTCOME: result.outcome.value, s.FINAL_STATUS: result.final_status,
            s.REASON: result.reason, "messages": result.message_count,
            s.SEVERITY: result.findings[0].severity.value if result.findings else None,
            s.RULES: [finding.rule.id for finding in result.findings],
            s.ADDRESSES: addresses_of(result), s.RECORD: self._records.dumps(result),
        }

    def _add_findings(self, kind: str, result: Result) -> None:
        for finding in result.findings:
            self._tables[Table.FINDINGS].add(_finding_row(self._run, kind, result, finding),
                                             result.start_ns, result.end_ns)

    def _add_stream(self, tied: TiedStream | MediaStream, call: CallResult | None) -> None:
        stream = tied.stream
        start = call.start_ns if call is not None else stream.first_ns
        row: Row = {
            s.RUN: self._run, s.CALL_ID: call.call_id if call else None,
            "call_first_frame": call.first_frame if call else None, "ssrc": stream.ssrc,
            s.SRC: str(stream.src), s.DST: str(stream.dst), "codec": stream.codec.name,
            "packets": stream.packets, "expected": stream.expected, "lost": stream.lost,
            "jitter_ms_max": stream.jitter_ms_max,
            "mos": tied.mos if isinstance(tied, MediaStream) else None,
            s.FIRST_FRAME: stream.first_frame, s.START_NS: stream.first_ns,
            s.END_NS: stream.last_ns, "tie": tied.tie.value,
        }
        self._tables[Table.STREAMS].add(row, start, stream.last_ns)


def _finding_row(run: str, kind: str, result: Result, finding: Finding) -> Row:
    return {
        s.RUN: run, "kind": kind, s.CALL_ID: result.call_id, s.FIRST_FRAME: result.first_frame,
        s.START_NS: result.start_ns, "rule": finding.rule.id, "name": finding.rule.name,
        s.SEVERITY: finding.severity.value, "message": finding.message(),
        "evidence_frames": [evidence.frame for evidence in finding.evidence],
        "values": sorted(finding.values.items()),
    }


def addresses_of(result: Result) -> list[str]:
    """Every address the result's SIP messages came from or went to, sorted."""
    assert result.ladder is not None
    return sorted({endpoint.ip for arrow in result.ladder if arrow.kind is ArrowKind.SIP
                   for endpoint in (arrow.src, arrow.dst)})


def calls_table(url: str, columns: Sequence[str] | None = None, since_ns: int | None = None,
                until_ns: int | None = None) -> pa.Table:
    """The calls of the dataset at ``url`` that started at or after ``since_ns`` and before
    ``until_ns`` (either may be None), with ``columns`` (default: all but ``record``; ``day``
    and ``hour`` may be asked for): only the files of the hours the window overlaps are read."""
    results = Results(url)
    files = [path for run in committed_runs(results)
             for path in run.started(Table.CALLS, since_ns, until_ns)]
    full = pa.unify_schemas([s.CALLS, s.PARTITIONING])
    wanted = list(columns) if columns is not None else [
        name for name in full.names if name != s.RECORD]
    dataset = ds.dataset(files, schema=full, format="parquet", filesystem=results.fs,
                         partitioning=ds.partitioning(s.PARTITIONING, flavor="hive"),
                         partition_base_dir=f"{results.root}/{Table.CALLS.value}")
    window = ds.field(s.START_NS) >= (since_ns if since_ns is not None else -(1 << 63))
    if until_ns is not None:
        window &= ds.field(s.START_NS) < until_ns
    try:
        return dataset.to_table(columns=wanted, filter=window)
    except (OSError, pa.ArrowException) as exc:
        raise StoreError(f"{url}: a calls file cannot be read ({exc})") from None


HOUR_NS = 3600 * NS


@dataclass(frozen=True, slots=True)
class Partition:
    """A partition file of a run, as its ``runs`` row lists it."""

    table: Table
    day: str
    hour: int
    rows: int
    max_end_ns: int

    @property
    def start_ns(self) -> int:
        when = datetime.strptime(self.day, "%Y-%m-%d").replace(hour=self.hour, tzinfo=UTC)
        return int(when.timestamp()) * NS


@dataclass(frozen=True, slots=True)
class Run:
    """A run of the dataset: its ``runs`` row."""

    results: Results
    name: str
    path: str
    first_ns: int | None
    partitions: tuple[Partition, ...]
    row: dict[str, Any]

    def overlaps(self, since_ns: int | None, until_ns: int | None) -> bool:
        """Whether the run's captures span some of the time from ``since_ns`` to ``until_ns``
        (a call of the run lies between its first and last frames)."""
        first, last = self.row["first_ns"], self.row["last_ns"]
        return ((since_ns is None or last is None or last >= since_ns)
                and (until_ns is None or first is None or first <= until_ns))

    def read_within(self, captures: Sequence[str], summary: CaptureSummary) -> bool:
        """Whether every capture this run read is among ``captures`` (by file name, as
        ``run_id`` names them) and its frames within their time: a run of them read again."""
        first, last = self.row["first_ns"], self.row["last_ns"]
        since, until = summary.first_ts_ns, summary.last_ts_ns
        inside = first is None or (since is not None and until is not None
                                   and since <= first and last <= until)
        return inside and set(_file_names(self.row["captures"])) <= set(_file_names(captures))

    def path_of(self, partition: Partition) -> str:
        folder = partition_folder(partition.table, partition.day, partition.hour)
        return f"{self.results.root}/{folder}/{self.name}.parquet"

    def started(self, table: Table, since_ns: int | None, until_ns: int | None) -> list[str]:
        """The files of ``table`` whose hours overlap [since, until): where rows that started
        in that window are."""
        return [self.path_of(p) for p in self.partitions if p.table is table
                and (since_ns is None or p.start_ns + HOUR_NS > since_ns)
                and (until_ns is None or p.start_ns < until_ns)]

    def going(self, table: Table, since_ns: int | None, until_ns: int | None) -> list[str]:
        """The files of ``table`` that may hold rows still going at ``since_ns`` (one ended at
        or after it) and started by ``until_ns``: the time window of ``--since``/``--until``."""
        return [self.path_of(p) for p in self.partitions if p.table is table
                and (since_ns is None or p.max_end_ns >= since_ns)
                and (until_ns is None or p.start_ns <= until_ns)]


def committed_runs(results: Results) -> list[Run]:
    """Every run the dataset lists, by the time of its first frame, then by name. Raises
    ``StoreError`` when ``results`` is no dataset, or a ``runs`` file is of another schema or
    cannot be read."""
    if not results.fs.exists(results.root):
        raise StoreError(f"{results.url}: no such results folder")
    paths = results.run_files()
    if not paths:
        raise StoreError(f"{results.url}: not a results dataset (no run in {Table.RUNS.value}/; "
                         f"sipdiag CAPTURE --out {results.url} writes one)")
    runs = [_run_of(results, path) for path in paths]
    return sorted(runs, key=lambda run: (run.first_ns or 0, run.name))


def read_table(results: Results, path: str, *, schema_only: bool = False) -> pa.Table:
    """A whole Parquet file of the dataset (or only its schema, as an empty table)."""
    try:
        with results.fs.open(path, "rb") as file:
            if schema_only:
                return pq.read_schema(file).empty_table()
            return pq.read_table(file)
    except (OSError, pa.ArrowException) as exc:
        raise StoreError(f"{path}: not a readable Parquet file ({exc})") from None


def _run_of(results: Results, path: str) -> Run:
    table = read_table(results, path)
    check_schema(results, path, table.schema.metadata)
    if table.num_rows != 1 or not table.schema.equals(s.RUNS, check_metadata=False):
        raise StoreError(f"{path}: not the one row of a run this schema describes")
    [row] = table.to_pylist()
    partitions = tuple(Partition(Table(p["table"]), p[s.DAY], p[s.HOUR], p["rows"],
                                 p["max_end_ns"]) for p in row["partitions"])
    return Run(results, row[s.RUN], path, row["first_ns"], partitions, row)
