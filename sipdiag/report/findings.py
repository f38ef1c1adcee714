"""Findings for people: what happened, why it matters, the usual causes, the fix, the evidence.

All words come from the rule files and the catalog, in the reader's language; only values
(frames, times, addresses, codes) are filled in. Values that come from the capture go through
``for_terminal`` before they reach rich.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from rich.console import Console
from rich.table import Table
from rich.text import Text

from sipdiag.report import wording
from sipdiag.report.escape import for_terminal
from sipdiag.report.terminal import print_fields
from sipdiag.rules.catalog import Catalog
from sipdiag.rules.model import Evidence, Finding
from sipdiag.spool import Listing

SEVERITY_STYLES = {"info": "cyan", "warning": "yellow", "error": "bold red"}
INDENT = 2


def print_findings(
    console: Console, findings: Listing[Finding], catalog: Catalog, first_ts_ns: int,
    language: str = "en",
) -> None:
    label = partial(catalog.label, language=language)
    console.print(Text(label("findings"), style="bold underline"))
    if not findings:
        console.print(Text(label("no_findings")))
        return
    explained: set[str] = set()
    for finding in findings:
        console.print()
        _print_finding(console, finding, catalog, first_ts_ns, language,
                       again=finding.rule.id in explained)
        explained.add(finding.rule.id)


def _print_finding(
    console: Console, finding: Finding, catalog: Catalog, first_ts_ns: int, language: str,
    again: bool,
) -> None:
    """A finding with its explanation, or, ``again`` (its rule explained above), only what
    happened in this call and its evidence."""
    console.print(heading(finding, catalog, language))
    rows = finding_rows(finding, catalog, first_ts_ns, language)
    if again:
        keep = {catalog.label(key, language)
                for key in ("call", "what_happened", "evidence", "see_also")}
        rows = [row for row in rows if row[0] in keep]
        rows.append(("", catalog.label("as_above", language, rule=finding.rule.id)))
    print_fields(console, [(name, for_terminal(text)) for name, text in rows], INDENT)


def heading(finding: Finding, catalog: Catalog, language: str, count: str = "") -> Table:
    """``ERROR  D104 ack-missing  Answer never ACKed`` (``count``: `` x3`` after the name); a
    title too long for the line wraps under itself, not under the severity."""
    rule = finding.rule
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column(ratio=1)
    text = Text(f"{rule.id} {rule.name}{count}  ", style="bold")
    text.append(rule.title.get(language), style="bold")
    grid.add_row(Text(catalog.label(rule.severity, language).upper(),
                      style=SEVERITY_STYLES[rule.severity]), text)
    return grid


def finding_rows(
    finding: Finding, catalog: Catalog, first_ts_ns: int, language: str = "en"
) -> list[tuple[str, str]]:
    """(label, text) rows of a finding: the call, what happened, why it matters, the usual
    causes, the fix, the evidence, the catalog entries it names and the rule's references.

    The text is plain, capture text as it came: each format escapes it its own way.
    """
    label = partial(catalog.label, language=language)
    rule = finding.rule
    call = label("call_ref", call_id=finding.call_id, frame=finding.call_frame)
    rows = [(label(key), text) for key, text in (
        ("call", call),
        ("what_happened", finding.message(language)),
        ("why", rule.explanation.get(language)),
        ("causes", rule.causes.get(language)),
        ("how_to_fix", rule.fix.get(language)),
        ("evidence", evidence_text(finding.evidence, catalog, first_ts_ns, language)),
    )]
    for kind, code in finding.refs:
        reference = catalog_reference(catalog, kind, code, language)
        if reference:
            rows.append((label("see_also"), reference))
    if rule.references:
        rows.append((label("references"), wording.references(catalog, rule.references, language)))
    return rows


def finding_title(finding: Finding, catalog: Catalog, language: str = "en") -> str:
    """``ERROR D104 ack-missing: Answer never ACKed ...``: the heading of a finding in text."""
    rule = finding.rule
    severity = catalog.label(rule.severity, language).upper()
    return f"{severity} {rule.id} {rule.name}: {rule.title.get(language)}"


def evidence_text(
    evidence: Sequence[Evidence], catalog: Catalog, first_ts_ns: int, language: str = "en"
) -> str:
    """``4 200 INVITE +1.208 s; 5 200 INVITE (copy 2) +1.712 s``: frame, message, time."""
    parts = []
    for item in evidence:
        mark = wording.copy_mark(catalog, item.copy, language)
        time = wording.offset(catalog, (item.time_ns - first_ts_ns) / 1e9, language)
        parts.append(f"{item.frame} {item.what}{mark} {time}")
    return "; ".join(parts)


def catalog_reference(catalog: Catalog, kind: str, code: int, language: str = "en") -> str | None:
    """``Q.850 cause 41 (Temporary failure): what it means.``"""
    if kind == "q850" and code in catalog.q850:
        cause = catalog.q850[code]
        name, meaning, what = cause.name, cause.text.meaning, "q850_cause"
    elif kind == "warning" and code in catalog.warnings:
        warning = catalog.warnings[code]
        name, meaning, what = warning.name, warning.text.meaning, "warning_code"
    elif kind == "response" and code in catalog.responses:
        response = catalog.responses[code]
        name, meaning, what = response.reason, response.text.meaning, "response_code"
    else:
        return None
    return f"{catalog.label(what, language)} {code} ({name}): {meaning.get(language)}"
