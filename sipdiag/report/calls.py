"""Calls and exchanges as terminal tables (the same facts as the JSON document)."""

from __future__ import annotations

from rich.console import Console

from sipdiag.dialogs.records import CallRecord, ExchangeRecord
from sipdiag.pipeline import Analysis
from sipdiag.report import terminal
from sipdiag.report.escape import for_terminal

CALL_HEADINGS = [
    "Frame",
    "From",
    "To",
    "Outcome",
    "Final",
    "PDD s",
    "Answer s",
    "Talk s",
    "Legs",
    "Retr",
    "Call-ID",
]
EXCHANGE_HEADINGS = [
    "Frame",
    "Method",
    "From",
    "To",
    "Outcome",
    "Final",
    "Trans",
    "Retr",
    "Call-ID",
]


def print_calls(console: Console, analysis: Analysis) -> None:
    if analysis.calls:
        terminal.print_table(
            console, "Calls", CALL_HEADINGS, [call_row(call) for call in analysis.calls]
        )


def print_exchanges(console: Console, analysis: Analysis) -> None:
    if analysis.exchanges:
        terminal.print_table(
            console,
            "Other exchanges",
            EXCHANGE_HEADINGS,
            [exchange_row(exchange) for exchange in analysis.exchanges],
        )


def print_links(console: Console, analysis: Analysis) -> None:
    """Legs of back-to-back user agents (different Call-IDs) and what links them."""
    if analysis.links:
        rows = [
            [for_terminal(link.call_id), for_terminal(link.other), for_terminal(link.reason)]
            for link in analysis.links
        ]
        terminal.print_table(console, "Linked legs", ["Call-ID", "Linked to", "Because of"], rows)


def call_row(call: CallRecord) -> list[str]:
    timings = call.timings
    return [
        str(call.first_frame),
        for_terminal(_user(call.caller)),
        for_terminal(_user(call.callee)),
        call.outcome,
        _status(call.final_status),
        _seconds(timings.post_dial_delay),
        _seconds(timings.time_to_answer),
        _seconds(timings.talk_time),
        str(len(call.legs)),
        str(call.retransmission_count),
        for_terminal(call.call_id),
    ]


def exchange_row(exchange: ExchangeRecord) -> list[str]:
    return [
        str(exchange.first_frame),
        exchange.method,
        for_terminal(_user(exchange.caller)),
        for_terminal(_user(exchange.callee)),
        exchange.outcome,
        _status(exchange.final_status),
        str(exchange.transaction_count),
        str(sum(len(r.frames) - 1 for r in exchange.retransmissions)),
        for_terminal(exchange.call_id),
    ]


def _user(uri: str) -> str:
    """``sip:alice@example.com;user=phone`` -> ``alice@example.com``."""
    bare = uri.split(";")[0]
    return bare.split(":", 1)[1] if ":" in bare else bare


def _status(status: int) -> str:
    return str(status) if status else "-"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
