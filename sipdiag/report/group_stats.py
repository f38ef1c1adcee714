"""Figures per group of stored calls: ``sipdiag stats RESULTS --by hour,trunk``.

For each group of calls (one value of each ``--by`` key), the figures of the report's summary
(``report.stats``, the same definitions: ASR after ITU-T E.411, NER after E.425, the post-dial
delay to the first 180, 183 or answer): calls, attempts, answered, delivered, ASR and NER in
percent, the spread of the post-dial delays, and the findings the most calls of the group have.

Theory of operation. The calls of the time window are read from the dataset with only the
columns the keys and figures need (``store.dataset.calls_table``, which opens only the hours
the window overlaps), and every figure is computed by pyarrow over whole columns: each key
becomes a column (hour and day: the start time divided; trunk and source: an address, or a
header's value; ``(no X)`` where a call has none); calls are counted by key and outcome (a few
rows per group), which ``stats.attempts_of`` reads as the summary does; the post-dial delays
are sorted within their group to pick the median and the 95th percentile at the places
``stats.median_places`` and ``stats.p95_place`` say; the rule IDs of each call's findings are
flattened and counted once per call. Only per-group rows reach Python.

The JSON document (``document``)::

    {
      "by": ["hour", "trunk"],                  the --by keys, in order
      "trunk": "dst",                           what names a trunk: dst, src or header:NAME
      "since": "2026-12-04T10:00:00.000000000Z" (or null), "until": the same,
      "groups": [                               sorted by their keys
        {"keys": {"hour": "2026-12-04 10:00", "trunk": "192.0.2.7"}, FIGURES...},
        ...
      ],
      "total": {FIGURES...}                     every call of the window
    }

FIGURES are ``calls``, ``attempts``, ``answered``, ``delivered`` (counts), ``asr`` and ``ner``
(percent of the attempts, null without any), ``post_dial_delay`` (null when no call rang or was
answered, else ``count``, ``mean``, ``median``, ``p95`` and ``max``, in seconds, as in the
summary of ``sipdiag CAPTURE --format json``) and ``top_findings``: ``[{"rule": "D104", "name":
"...", "calls": 12}, ...]``, the ``--top`` rules that most calls of the group have, ties by rule
ID (``name`` null for a rule this sipdiag does not know: a rule folder the run was given).
An hour is ``YYYY-MM-DD HH:00`` and a day ``YYYY-MM-DD``, of the call's start, in UTC.

CSV (``write_csv``): a row per group and a last one for the total, columns ``row`` (``group``
or ``total``), the keys, the counts, ``asr``, ``ner``, ``pdd_median``, ``pdd_p95`` (empty
where there is none) and ``top_findings`` as ``D104:12;A102:3``.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TextIO

import pyarrow as pa
import pyarrow.compute as pc

from sipdiag.report.document import spread
from sipdiag.report.escape import for_spreadsheet
from sipdiag.report.messages import iso_time
from sipdiag.report.stats import (
    Attempts,
    Spread,
    attempts_of,
    median_places,
    p95_place,
    percent_of,
)
from sipdiag.store import schema as s
from sipdiag.store.dataset import HOUR_NS, NS, calls_table

DAY_NS = 24 * HOUR_NS
KeyValue = int | str
"""A key of a group as computed: an hour or a day since the epoch, or a text."""
Key = tuple[KeyValue, ...]


class GroupBy(StrEnum):
    """What calls can be grouped by (``--by``)."""

    HOUR = "hour"
    DAY = "day"
    TRUNK = "trunk"
    SOURCE = "source"


class TrunkSide(StrEnum):
    """What names a call's trunk (``--trunk``)."""

    DST = "dst"
    """The address the INVITE's last hop went to."""
    SRC = "src"
    """The address the first INVITE came from."""
    HEADER = "header"
    """A header of the INVITE kept with ``--keep-header``."""


# RFC 3261 section 25.1: a header name is a token
_TOKEN = re.compile(r"[A-Za-z0-9.!%*_+`'~-]+")


@dataclass(frozen=True, slots=True)
class Trunk:
    side: TrunkSide
    header: str = ""
    """The header's name, for ``TrunkSide.HEADER``."""

    @classmethod
    def parse(cls, text: str) -> Trunk:
        """``dst``, ``src`` or ``header:NAME``; ValueError for anything else."""
        side, colon, header = text.partition(":")
        if side == TrunkSide.HEADER and colon and _TOKEN.fullmatch(header):
            return cls(TrunkSide.HEADER, header)
        if not colon and side in (TrunkSide.DST, TrunkSide.SRC):
            return cls(TrunkSide(side))
        raise ValueError(f"--trunk {text!r}: give dst, src or header:NAME (NAME a header kept "
                         f"with --keep-header, such as header:X-Trunk)")

    def __str__(self) -> str:
        return f"{self.side.value}:{self.header}" if self.header else self.side.value

    @property
    def missing(self) -> str:
        """The group of the calls that have no trunk of this kind."""
        return f"(no {self.header or self.side.value})"


@dataclass(frozen=True, slots=True)
class TopFinding:
    rule: str
    name: str | None
    """None for a rule this sipdiag does not know."""
    calls: int
    """Calls of the group that have it (once each, however often it fired in one)."""


@dataclass(frozen=True, slots=True)
class GroupFigures:
    keys: tuple[str, ...]
    """The group's value of each ``--by`` key, in order (none for the total)."""
    calls: int
    counted: Attempts
    post_dial_delay: Spread | None
    top_findings: tuple[TopFinding, ...]

    @property
    def asr(self) -> float | None:
        return percent_of(self.counted.answered, self.counted.attempts)

    @property
    def ner(self) -> float | None:
        return percent_of(self.counted.delivered, self.counted.attempts)


@dataclass(frozen=True, slots=True)
class GroupStats:
    by: tuple[GroupBy, ...]
    trunk: Trunk
    since_ns: int | None
    until_ns: int | None
    groups: tuple[GroupFigures, ...]
    """Sorted by their keys."""
    total: GroupFigures


def group_stats(url: str, by: Sequence[GroupBy], trunk: Trunk, *, since_ns: int | None = None,
                until_ns: int | None = None, top: int = 3,
                rule_names: Mapping[str, str] | None = None) -> GroupStats:
    """The figures of each group of the calls of the dataset at ``url`` that started in
    [since, until); ``rule_names``: rule IDs to names. Raises ``StoreError`` for a dataset
    that cannot be read."""
    chosen = tuple(dict.fromkeys(by))  # hour,hour is hour
    table = calls_table(url, _columns(chosen, trunk), since_ns, until_ns)
    keys = [f"key_{index}" for index in range(len(chosen))]
    for name, group in zip(keys, chosen, strict=True):
        table = table.append_column(name, _KEY_COLUMNS[group](table, trunk))
    names = rule_names or {}
    grouped = _figures(table, keys, top, names)
    total = _figures(table, [], top, names).get((), _nothing())
    groups = tuple(dataclasses.replace(grouped[key], keys=tuple(
        _LABELS[group](value) for group, value in zip(chosen, key, strict=True)))
        for key in sorted(grouped))
    return GroupStats(chosen, trunk, since_ns, until_ns, groups, total)


def _columns(by: Sequence[GroupBy], trunk: Trunk) -> list[str]:
    """The columns of the calls table the figures and the keys need."""
    columns = [s.START_NS, s.OUTCOME, s.POST_DIAL_DELAY, s.RULES]
    if GroupBy.SOURCE in by:
        columns.append(s.SRC)
    if GroupBy.TRUNK in by:
        columns.append(_TRUNK_COLUMNS[trunk.side])
    return list(dict.fromkeys(columns))


_TRUNK_COLUMNS = {TrunkSide.DST: s.DST, TrunkSide.SRC: s.SRC, TrunkSide.HEADER: s.HEADERS}


def _trunk_column(table: pa.Table, trunk: Trunk) -> pa.ChunkedArray:
    if trunk.side is TrunkSide.HEADER:
        return pc.fill_null(_header_values(table[s.HEADERS], trunk.header), trunk.missing)
    return pc.fill_null(table[_TRUNK_COLUMNS[trunk.side]], trunk.missing)


def _header_values(headers: pa.ChunkedArray, name: str) -> pa.ChunkedArray:
    """Each call's value of the header ``name``, null where it has none. The names are kept
    as ``--keep-header`` spelt them; header names are case-insensitive (RFC 3261 section
    7.3.5), so each spelling of ``name`` the dataset has is looked up."""
    entries = headers.cast(pa.list_(pa.struct([("key", pa.string()), ("value", pa.string())])))
    spellings = pc.unique(pc.struct_field(pc.list_flatten(entries), [0])).to_pylist()
    found = pa.chunked_array([pa.nulls(len(headers), pa.string())])
    for spelling in spellings:
        if spelling.lower() == name.lower():
            found = pc.coalesce(found, pc.map_lookup(headers, pa.scalar(spelling), "first"))
    return found


_KEY_COLUMNS: dict[GroupBy, Callable[[pa.Table, Trunk], pa.ChunkedArray]] = {
    GroupBy.HOUR: lambda table, _: pc.divide(table[s.START_NS], HOUR_NS),
    GroupBy.DAY: lambda table, _: pc.divide(table[s.START_NS], DAY_NS),
    GroupBy.TRUNK: _trunk_column,
    GroupBy.SOURCE: lambda table, _: pc.fill_null(table[s.SRC], Trunk(TrunkSide.SRC).missing),
}
"""Each key as a column: hours and days since the epoch (start times are after it), texts."""


def _hour_label(value: KeyValue) -> str:
    return f"{datetime.fromtimestamp(int(value) * HOUR_NS // NS, UTC):%Y-%m-%d %H:00}"


def _day_label(value: KeyValue) -> str:
    return f"{datetime.fromtimestamp(int(value) * DAY_NS // NS, UTC):%Y-%m-%d}"


_LABELS: dict[GroupBy, Callable[[KeyValue], str]] = {
    GroupBy.HOUR: _hour_label, GroupBy.DAY: _day_label, GroupBy.TRUNK: str, GroupBy.SOURCE: str,
}


def _nothing() -> GroupFigures:
    return GroupFigures((), 0, attempts_of({}), None, ())


def _figures(table: pa.Table, keys: list[str], top: int,
             names: Mapping[str, str]) -> dict[Key, GroupFigures]:
    """The figures of each group of ``table`` by the columns ``keys`` (none: one group, all)."""
    outcomes = _outcomes(table, keys)
    delays = _delays(table, keys)
    findings = _top_findings(table, keys, top, names)
    return {key: GroupFigures((), counted.total(), attempts_of(counted), delays.get(key),
                              findings.get(key, ()))
            for key, counted in outcomes.items()}


def _key_of(row: Mapping[str, Any], keys: Sequence[str]) -> Key:
    return tuple(row[name] for name in keys)


def _outcomes(table: pa.Table, keys: list[str]) -> dict[Key, Counter[str]]:
    """Each group's calls, counted by outcome."""
    counts = table.group_by([*keys, s.OUTCOME]).aggregate([([], "count_all")])
    grouped: dict[Key, Counter[str]] = defaultdict(Counter)
    for row in counts.to_pylist():
        grouped[_key_of(row, keys)][row[s.OUTCOME]] += row["count_all"]
    return grouped


def _delays(table: pa.Table, keys: list[str]) -> dict[Key, Spread]:
    """The spread of each group's post-dial delays: the delays sorted within their group (a
    group's rows one after the other, in the order of its keys), then the median and the 95th
    percentile taken at their places."""
    delay = s.POST_DIAL_DELAY
    rung = table.select([*keys, delay]).filter(pc.is_valid(table[delay]))
    ordered = rung.sort_by([(name, "ascending") for name in [*keys, delay]])
    # without threads, groups come out in the order they first appear: the sorted order
    sizes = [row for row in ordered.group_by(keys, use_threads=False).aggregate(
        [(delay, "count"), (delay, "mean"), (delay, "max")]).to_pylist()
        if row[f"{delay}_count"]]  # the one group of no keys, even of no rows
    places: list[int] = []
    start = 0
    for row in sizes:
        count = row[f"{delay}_count"]
        low, high = median_places(count)
        places += [start + low, start + high, start + p95_place(count)]
        start += count
    picked = pc.take(ordered[delay], pa.array(places, pa.int64())).to_pylist()
    return {_key_of(row, keys): Spread(count=row[f"{delay}_count"], mean=row[f"{delay}_mean"],
                                       median=(low + high) / 2, p95=p95,
                                       max=row[f"{delay}_max"])
            for row, (low, high, p95) in zip(sizes, _triples(picked), strict=True)}


def _triples(values: list[float]) -> list[tuple[float, float, float]]:
    return [(values[n], values[n + 1], values[n + 2]) for n in range(0, len(values), 3)]


def _top_findings(table: pa.Table, keys: list[str], top: int,
                  names: Mapping[str, str]) -> dict[Key, tuple[TopFinding, ...]]:
    """The ``top`` rules that most calls of each group have, ties by rule ID."""
    rules = table[s.RULES]
    calls = pc.list_parent_indices(rules)
    fired = pa.table({**{name: pc.take(table[name], calls) for name in keys},
                      "call": calls, "rule": pc.list_flatten(rules)})
    once = fired.group_by([*keys, "call", "rule"]).aggregate([])  # a rule once per call
    counts = once.group_by([*keys, "rule"]).aggregate([([], "count_all")]).to_pylist()
    ranked: dict[Key, list[tuple[int, str]]] = defaultdict(list)
    for row in counts:
        ranked[_key_of(row, keys)].append((-row["count_all"], row["rule"]))
    return {key: tuple(TopFinding(rule, names.get(rule), -negative)
                       for negative, rule in sorted(found)[:top])
            for key, found in ranked.items()}


def document(stats: GroupStats) -> dict[str, Any]:
    """The figures as one JSON document (the shape is in this module's docstring)."""
    return {
        "by": [group.value for group in stats.by],
        "trunk": str(stats.trunk),
        "since": None if stats.since_ns is None else iso_time(stats.since_ns),
        "until": None if stats.until_ns is None else iso_time(stats.until_ns),
        "groups": [{"keys": dict(zip((g.value for g in stats.by), figures.keys, strict=True)),
                    **_figures_json(figures)} for figures in stats.groups],
        "total": _figures_json(stats.total),
    }


def _figures_json(figures: GroupFigures) -> dict[str, Any]:
    return {
        "calls": figures.calls,
        "attempts": figures.counted.attempts,
        "answered": figures.counted.answered,
        "delivered": figures.counted.delivered,
        "asr": _percent(figures.asr),
        "ner": _percent(figures.ner),
        "post_dial_delay": spread(figures.post_dial_delay),
        "top_findings": [{"rule": f.rule, "name": f.name, "calls": f.calls}
                         for f in figures.top_findings],
    }


def _percent(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def write_json(stats: GroupStats, out: TextIO) -> None:
    json.dump(document(stats), out, indent=2, ensure_ascii=False)
    out.write("\n")


CSV_FIGURES = ("calls", "attempts", "answered", "delivered", "asr", "ner", "pdd_median",
               "pdd_p95", "top_findings")


def write_csv(stats: GroupStats, out: TextIO) -> None:
    """A row per group, then the total's (its key cells empty)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["row", *(group.value for group in stats.by), *CSV_FIGURES])
    for figures in stats.groups:
        writer.writerow(["group", *map(for_spreadsheet, figures.keys), *csv_cells(figures)])
    writer.writerow(["total", *([""] * len(stats.by)), *csv_cells(stats.total)])


def csv_cells(figures: GroupFigures) -> list[str]:
    delay = spread(figures.post_dial_delay) or {}
    return [str(figures.calls), str(figures.counted.attempts), str(figures.counted.answered),
            str(figures.counted.delivered), _number(_percent(figures.asr)),
            _number(_percent(figures.ner)), _number(delay.get("median")),
            _number(delay.get("p95")), top_text(figures)]


def _number(value: object) -> str:
    return "" if value is None else str(value)


def top_text(figures: GroupFigures) -> str:
    """``D104:12;A102:3``."""
    return ";".join(f"{f.rule}:{f.calls}" for f in figures.top_findings)
