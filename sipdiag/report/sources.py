"""The per-source summary (``sipdiag CAPTURE --sources``) as cells, for every format that
prints it as a table: each address, what it sent and got back, and the security rules that
named it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sipdiag.analysis.model import SourceSummary
from sipdiag.report.messages import iso_time
from sipdiag.rules.catalog import Catalog

SOURCE_COLUMNS = ("col_source", "col_requests", "col_users", "col_answers", "col_first_seen",
                  "col_last_seen", "col_agent", "col_verdict")
ROWS_SHOWN = 50
"""Sources a table shows (the first ones: named by a rule, then the busiest); the JSON has
every one."""


def source_rows(sources: Sequence[SourceSummary]) -> Iterator[list[str]]:
    for item in sources[:ROWS_SHOWN]:
        verdict = ", ".join(dict.fromkeys(f"{f.rule.id} {f.rule.name}" for f in item.findings))
        yield [
            item.address,
            " ".join(f"{method} {count}" for method, count in item.requests),
            str(item.users),
            " ".join(f"{status} {count}" for status, count in item.statuses),
            iso_time(item.first_ns)[:19].replace("T", " "),
            iso_time(item.last_ns)[:19].replace("T", " "),
            item.agents[0] if item.agents else "-",
            verdict or "-",
        ]


def more_sources(sources: Sequence[SourceSummary], catalog: Catalog, language: str
                 ) -> str | None:
    """The line that says how many sources the table left out, if any."""
    left = len(sources) - ROWS_SHOWN
    return catalog.label("sources_more", language, count=left) if left > 0 else None
