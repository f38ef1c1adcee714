"""Findings for people: what happened, why it matters, the usual causes, the fix, the evidence.

All words come from the rule files and the catalog, in the reader's language; only values
(frames, times, addresses, codes) are filled in, as plain text each format escapes its own way
(``terminal.findings`` prints them on a terminal).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from sipdiag.report import wording
from sipdiag.rules.catalog import Catalog
from sipdiag.rules.model import Evidence, Finding


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
