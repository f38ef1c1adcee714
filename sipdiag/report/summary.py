"""The top of a report: what the capture holds, and how its calls went, in figures.

``summary_rows`` gives (label, value) pairs that every format lays out its own way (a table in
the terminal, ``terminal.summary``, and in Markdown, a definition list in HTML), so they all
say the same.
"""

from __future__ import annotations

from collections import Counter
from functools import partial

from sipdiag.analysis import Analysis, CaptureSummary
from sipdiag.capture import linktypes
from sipdiag.report import wording
from sipdiag.report.messages import iso_time
from sipdiag.report.stats import Spread, Stats
from sipdiag.rules.catalog import Catalog


def summary_rows(
    analysis: Analysis, stats: Stats, catalog: Catalog, language: str = "en"
) -> list[tuple[str, str]]:
    label = partial(catalog.label, language=language)
    summary = analysis.summary
    rows = [(label("file"), summary.name), (label("format"), _format(summary)),
            (label("link_types"), ", ".join(linktypes.name(t) for t in summary.linktypes) or "-"),
            (label("frames"), str(summary.frames))]
    if summary.first_ts_ns is not None and summary.last_ts_ns is not None:
        span = (summary.last_ts_ns - summary.first_ts_ns) / 1e9
        rows += [(label("first_frame"), iso_time(summary.first_ts_ns)),
                 (label("last_frame"), iso_time(summary.last_ts_ns)),
                 (label("span"), label("seconds", n=f"{span:.3f}"))]
    rows += [
        (label("sip_messages"), str(summary.sip_messages)),
        (label("defects"), str(summary.defective_messages)),
    ]
    if summary.tls_sessions:
        rows.append((label("tls_sessions"), _tls(summary, catalog, language)))
    if not analysis.selection.everything:
        rows.append((label("selected"), label("selected_note")))
    rows += [
        (label("calls"), _total(catalog, stats.calls, stats.call_outcomes, language)),
        (label("exchanges"), _total(catalog, stats.exchanges, stats.exchange_outcomes, language)),
    ]
    if stats.attempts:
        rows.append((label("asr"), _ratio(catalog, stats.asr, stats.answered, stats.attempts,
                                          language)))
        rows.append((label("ner"), _ratio(catalog, stats.ner, stats.delivered, stats.attempts,
                                          language)))
    if stats.post_dial_delay is not None:
        rows.append((label("pdd"), spread_text(catalog, stats.post_dial_delay, language)))
    if stats.streams:
        rows.append((label("media"), _media(catalog, stats, language)))
    if stats.final_statuses:
        statuses = sorted(stats.final_statuses.items())
        rows.append((label("final_responses"), wording.counted(
            catalog, [(str(code or "-"), n) for code, n in statuses], language, "times")))
    if stats.findings:
        rows.append((label("findings"), wording.counted(
            catalog, [(label(s), n) for s, n in sorted(stats.findings.items())], language)))
    return rows


def _media(catalog: Catalog, stats: Stats, language: str) -> str:
    """``12 RTP streams, 3456 packets (3 two_way, 1 one_way)``."""
    text = catalog.label("media_figures", language, streams=stats.streams,
                         packets=stats.rtp_packets)
    if stats.media_states:
        text += f" ({wording.counted(catalog, sorted(stats.media_states.items()), language)})"
    return text


TLS_SHOWN = 5
"""TLS sessions named one by one in the summary; the JSON document lists them all."""


def _tls(summary: CaptureSummary, catalog: Catalog, language: str) -> str:
    """``2: TLS 1.3 [::1]:50613 -> [::1]:5061 (SNI sip.example.test): decrypted, 11 SIP
    messages; ...``."""
    sessions = summary.tls_sessions
    told = [f"{s.describe()}{' WSS' if s.transport == 'WSS' else ''}: {s.outcome.value}"
            + (f", {s.sip_messages} {catalog.label('sip_messages', language)}"
               if s.sip_messages else "")
            for s in sessions[:TLS_SHOWN]]
    if len(sessions) > TLS_SHOWN:
        told.append(catalog.label("and_more", language, count=len(sessions) - TLS_SHOWN))
    return f"{len(sessions)}: " + "; ".join(told)


def _format(summary: CaptureSummary) -> str:
    return summary.format + (f" ({summary.compression})" if summary.compression else "")


def _total(catalog: Catalog, total: int, outcomes: Counter[str], language: str) -> str:
    """``12 (2 busy, 10 completed)``."""
    if not total:
        return "0"
    return f"{total} ({wording.counted(catalog, sorted(outcomes.items()), language)})"


def _ratio(catalog: Catalog, percent: float | None, count: int, attempts: int,
           language: str) -> str:
    return catalog.label("ratio", language, percent=f"{percent or 0:.1f}", count=count,
                         attempts=attempts)


def spread_text(catalog: Catalog, spread: Spread, language: str = "en") -> str:
    return catalog.label("spread", language, count=spread.count, mean=f"{spread.mean:.3f}",
                         median=f"{spread.median:.3f}", p95=f"{spread.p95:.3f}",
                         max=f"{spread.max:.3f}")


def outcome_legend(stats: Stats, catalog: Catalog, language: str = "en") -> list[tuple[str, str]]:
    """The meaning of each outcome that occurs."""
    present = sorted({*stats.call_outcomes, *stats.exchange_outcomes})
    return [(outcome, catalog.outcomes[outcome].get(language)) for outcome in present]


PROBLEM_COLUMNS = ("col_problem", "count", "col_frames", "col_example")


def problem_cells(summary: CaptureSummary) -> list[list[str]]:
    """One row per kind of problem: kind, count, first frames, first example (plain text)."""
    rows = []
    for kind, count in sorted(summary.problems.counts.items()):
        examples = summary.problems.examples.get(kind, [])
        frames = ", ".join(str(p.frame) for p in examples[:5]) + (", ..." if len(examples) > 5
                                                                   else "")
        detail = examples[0].detail if examples else ""
        rows.append([kind, str(count), frames, detail])
    return rows
