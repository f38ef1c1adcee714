"""A live capture's output: one line per call or exchange as soon as it is over.

Text lines for people and log files (start time, outcome, who called whom, final response,
the findings most severe first, the Call-ID), or JSON lines for a log pipeline, each the call
or exchange as the JSON document holds it (``document.result_line``).
"""

from __future__ import annotations

from enum import StrEnum

from sipdiag.analysis import CallResult, Result
from sipdiag.report.call_list import status, user
from sipdiag.report.document import result_line
from sipdiag.report.escape import for_terminal
from sipdiag.report.findings import finding_title
from sipdiag.report.messages import iso_time
from sipdiag.rules.catalog import Catalog


class LineFormat(StrEnum):
    TEXT = "text"
    JSONL = "jsonl"


def line(result: Result, form: LineFormat, catalog: Catalog, first_ts_ns: int,
         language: str = "en") -> str:
    if form is LineFormat.JSONL:
        return result_line(result, first_ts_ns)
    what = "call" if isinstance(result, CallResult) else result.method
    findings = "; ".join(dict.fromkeys(finding_title(f, catalog, language)
                                       for f in result.findings)) or "-"
    text = (f"{iso_time(result.start_ns)}  {result.outcome}  {what}  {user(result.caller)} -> "
            f"{user(result.callee)}  {status(result.final_status)}  {findings}  "
            f"Call-ID {result.call_id}")
    return for_terminal(text)
