"""Asserting on recorded calls from a test suite: what the ``sipdiag`` pytest fixture returns.

::

    def test_call_to_voicemail(sipdiag):
        result = sipdiag.analyze("calls/voicemail.pcap")   # relative to this test file
        assert result.call(1).outcome == "completed"
        assert result.call(1).timings.post_dial_delay < 2
        result.assert_no_findings(above="info")
        result.assert_expectations("calls/voicemail.yaml")

``Sipdiag.analyze`` reads a capture with the built-in rules (and the rule folders given) into a
``CaptureResult``: its calls (``CallResult``, in the order of their first frames), its other
exchanges, its findings. The assertions raise ``AssertionError`` with every unmet expectation
or unwanted finding explained, in the words of ``sipdiag check``. A broken expectations or rule
file raises ``DataError`` (``file:line: what is wrong``), an unreadable capture
``CaptureError``: errors, not failures.

This module has no pytest in it: it can be used from any test runner.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache, cached_property
from pathlib import Path

from sipdiag.analysis import Analysis, CallResult, ExchangeResult, analyze
from sipdiag.expectations.engine import (
    Checks,
    Expectation,
    Selector,
    Verdict,
    check,
    choose,
)
from sipdiag.expectations.file import load_expectations
from sipdiag.report.expectations import (
    failure_text,
    failures,
    finding_lines,
    problem_text,
    summary_text,
)
from sipdiag.rules import Engine, load_engine
from sipdiag.rules.model import SEVERITIES, Finding, severity_rank

__all__ = ["CaptureResult", "Sipdiag"]


@cache
def _builtin_engine() -> Engine:
    """The built-in rules, read once per process (they do not change while tests run)."""
    return load_engine()


class Sipdiag:
    """Reads captures for a test; relative paths are taken from ``folder`` (the test's)."""

    def __init__(self, folder: Path, rules: Sequence[str | Path] = (), language: str = "en"):
        self.folder = folder
        self.rules = tuple(rules)
        self.language = language

    def path(self, name: str | Path) -> Path:
        """A file named relative to the test's folder (or absolute)."""
        return self.folder / name

    def analyze(self, capture: str | Path, *, rules: Sequence[str | Path] = ()) -> CaptureResult:
        """A capture's calls, exchanges and findings; ``rules``: your own rule folders, besides
        the built-in rules (and those the ``Sipdiag`` was made with)."""
        folders = [self.path(folder) for folder in (*self.rules, *rules)]
        engine = load_engine(folders) if folders else _builtin_engine()
        analysis = analyze(self.path(capture), engine=engine)
        return CaptureResult(analysis, engine, self.folder, self.language)


class CaptureResult:
    """What sipdiag found in one capture, and assertions about it."""

    def __init__(self, analysis: Analysis, engine: Engine, folder: Path, language: str = "en"):
        self.analysis = analysis
        self.engine = engine
        self.folder = folder
        self.language = language

    @cached_property
    def calls(self) -> list[CallResult]:
        """The calls (INVITE dialogs), in the order of their first frames."""
        return list(self.analysis.calls)

    @cached_property
    def exchanges(self) -> list[ExchangeResult]:
        """REGISTER, OPTIONS, SUBSCRIBE, MESSAGE...: the requests outside calls."""
        return list(self.analysis.exchanges)

    @cached_property
    def findings(self) -> list[Finding]:
        """Every finding, most severe first, then by call and frame."""
        return list(self.analysis.findings)

    def call(self, which: int | str) -> CallResult:
        """The call at this place (from 1, in frame order), or with this Call-ID; an
        ``AssertionError`` says why when there is no such call, or several."""
        __tracebackhide__ = True
        if isinstance(which, bool) or (isinstance(which, int) and which < 1):
            raise ValueError(f"calls are counted from 1 (found {which!r})")
        selector = Selector("call", which) if isinstance(which, int) else Selector("call_id",
                                                                                     which)
        chosen = choose(Expectation(0, selector, Checks()), self.calls)
        if chosen.call is None:
            raise AssertionError(problem_text(chosen, len(self.calls), self.engine.catalog,
                                              self.language))
        return chosen.call.record

    def findings_for(self, call: CallResult | ExchangeResult | int | str) -> list[Finding]:
        """The findings of one call (a result, its place from 1, or its Call-ID) or exchange,
        most severe first."""
        __tracebackhide__ = True
        result = call if isinstance(call, CallResult | ExchangeResult) else self.call(call)
        return list(result.findings)

    def check(self, expectations: str | Path) -> Verdict:
        """An expectations file (relative to the test's folder), checked against the capture."""
        loaded = load_expectations(self.folder / expectations, self.engine.rules)
        return check(loaded, self.analysis)

    def assert_expectations(self, expectations: str | Path) -> None:
        """Every expectation of the file met; else an ``AssertionError`` listing each unmet one,
        explained."""
        __tracebackhide__ = True
        verdict = self.check(expectations)
        if verdict.passed:
            return
        catalog, language = self.engine.catalog, self.language
        heading = catalog.label("check_title", language, file=verdict.source,
                                capture=verdict.capture)
        lines = [f"{heading}: {summary_text(verdict, catalog, language)}"]
        lines += [failure_text(failure) for failure in failures(verdict, catalog, language)]
        raise AssertionError("\n".join(lines))

    def assert_no_findings(self, above: str | None = None) -> None:
        """No finding at all, or (``above="info"``, ``"warning"``) none more severe than that;
        else an ``AssertionError`` listing each such finding with its call and evidence."""
        __tracebackhide__ = True
        if above is not None and above not in SEVERITIES:
            raise ValueError(f"above must be one of {', '.join(SEVERITIES)} (found {above!r})")
        limit = -1 if above is None else severity_rank(above)
        unwanted = [f for f in self.findings if severity_rank(f.severity) > limit]
        if not unwanted:
            return
        catalog, language = self.engine.catalog, self.language
        summary = self.analysis.summary
        if above is None:
            heading = catalog.label("check_findings_in", language, count=len(unwanted),
                                    capture=summary.name)
        else:
            heading = catalog.label("check_findings_above", language, count=len(unwanted),
                                    severity=catalog.label(above, language),
                                    capture=summary.name)
        lines = [heading]
        for item in unwanted:
            call = f"{item.call_id} ({catalog.label('frame', language)} {item.call_frame})"
            lines.append(f"{catalog.label('call', language)}: {call}")
            lines += ["  " + line for line in
                      finding_lines(item, catalog, summary.first_ts_ns or 0, language)]
        raise AssertionError("\n".join(lines))
