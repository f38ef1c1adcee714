"""Calls and exchanges as rows of cells: the same facts in every format (the terminal's
one-line-per-call list, for narrow screens, is ``terminal.calls``).

``call_cells`` and ``exchange_cells`` give plain text (as it came from the capture); each format
escapes it its own way (``for_terminal``, Markdown, HTML). Headings are label keys of
report.yaml, so they follow the reader's language.
"""

from __future__ import annotations

from collections.abc import Sequence

from sipdiag.analysis import CallResult, ExchangeResult
from sipdiag.dialogs.correlate import Link
from sipdiag.report.media import state_text
from sipdiag.rules.catalog import Catalog
from sipdiag.rules.model import Finding

CALL_COLUMNS = ("col_frame", "col_from", "col_to", "col_outcome", "col_media", "col_final",
                "col_pdd", "col_answer", "col_talk", "col_legs", "col_retr", "col_findings",
                "col_call_id")
EXCHANGE_COLUMNS = ("col_frame", "col_method", "col_from", "col_to", "col_outcome", "col_final",
                    "col_transactions", "col_retr", "col_findings", "col_call_id")
LINK_COLUMNS = ("col_call_id", "col_linked", "col_sure", "col_because")


def link_cells(link: Link, catalog: Catalog, language: str = "en") -> list[str]:
    return [link.call_id, link.other, catalog.label(f"sure_{link.confidence.value}", language),
            link.reason]


def headings(catalog: Catalog, columns: Sequence[str], language: str = "en") -> list[str]:
    return [catalog.label(column, language) for column in columns]


def call_cells(call: CallResult, catalog: Catalog, language: str = "en") -> list[str]:
    timings = call.timings
    return [
        str(call.first_frame),
        user(call.caller),
        user(call.callee),
        call.outcome,
        state_text(catalog, call.media, language),
        status(call.final_status),
        seconds(timings.post_dial_delay),
        seconds(timings.time_to_answer),
        seconds(timings.talk_time),
        str(len(call.legs)),
        str(call.retransmission_count),
        rule_ids(call.findings),
        call.call_id,
    ]


def exchange_cells(exchange: ExchangeResult) -> list[str]:
    return [
        str(exchange.first_frame),
        exchange.method,
        user(exchange.caller),
        user(exchange.callee),
        exchange.outcome,
        status(exchange.final_status),
        str(exchange.transaction_count),
        str(exchange.retransmission_count),
        rule_ids(exchange.findings),
        exchange.call_id,
    ]


def worst(findings: Sequence[Finding]) -> str:
    """The most severe rule that fired (``findings`` most severe first), and how many others
    did: ``D104 +2``."""
    if not findings:
        return "-"
    ids = dict.fromkeys(f.rule.id for f in findings)
    first = next(iter(ids))
    return f"{first} +{len(ids) - 1}" if len(ids) > 1 else first


def rule_ids(findings: Sequence[Finding]) -> str:
    return " ".join(dict.fromkeys(f.rule.id for f in findings)) or "-"


def user(uri: str) -> str:
    """``sip:alice@example.com;user=phone`` -> ``alice@example.com``."""
    bare = uri.split(";")[0]
    return bare.split(":", 1)[1] if ":" in bare else bare


def status(code: int) -> str:
    return str(code) if code else "-"


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
