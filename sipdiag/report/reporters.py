"""Reporters: one class per output format, one registry for every command.

A reporter is built once with what stays the same from one report to the next (the catalog,
the language, the command's settings: ``Settings``) and writes what a command produced to a
text stream: the analysis of a capture (``sipdiag CAPTURE``) or the verdict on expectations
(``sipdiag check``). ``REPORTERS`` maps each ``Format`` to its reporter; a command offers the
formats that write what it produces (``formats_of``). Each reporter imports its writers when
it writes: a run pays only for the format it asked for (rich only for the terminal).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar, TextIO

from sipdiag.rules.catalog import Catalog

if TYPE_CHECKING:
    from sipdiag.analysis import Analysis
    from sipdiag.expectations import Verdict


MAX_LADDERS = 200
"""The most ladders an HTML page draws (the first ones in frame order; the page says so)."""


class Format(StrEnum):
    TERMINAL = "terminal"
    JSON = "json"
    JUNIT = "junit"
    MARKDOWN = "markdown"
    HTML = "html"


class Product(StrEnum):
    """What a command produces for a reporter to write."""

    ANALYSIS = "analysis"
    VERDICT = "verdict"


@dataclass(frozen=True)
class Settings:
    catalog: Catalog
    language: str = "en"
    fail_on: str = "error"
    """The least severity of a finding that fails a JUnit test case."""
    wide: bool = False
    """The terminal's call list with every column, even when they do not fit."""
    no_color: bool = False
    sources: bool = False
    """The per-source summary (``--sources``), in the formats that print tables."""
    environ: Mapping[str, str] = field(default_factory=dict)
    """Where the terminal's size and colour support are read from."""


class Reporter:
    """Writes an analysis, and a verdict where the format has a way to (``writes``)."""

    writes: ClassVar[frozenset[Product]] = frozenset({Product.ANALYSIS})

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def analysis(self, analysis: Analysis, out: TextIO) -> None:
        raise NotImplementedError

    def verdict(self, verdict: Verdict, out: TextIO) -> None:
        raise NotImplementedError(f"{type(self).__name__} writes no verdict")


class TerminalReporter(Reporter):
    """Tables for people, in colour where the terminal has it."""

    writes = frozenset(Product)

    def analysis(self, analysis: Analysis, out: TextIO) -> None:
        from sipdiag.report import terminal
        from sipdiag.report.stats import stats_of
        from sipdiag.report.terminal import report

        s = self.settings
        console = terminal.make_console(out, environ=s.environ, no_color=s.no_color)
        report.print_report(console, analysis, stats_of(analysis), s.catalog, s.language,
                            wide=s.wide, sources=s.sources)

    def verdict(self, verdict: Verdict, out: TextIO) -> None:
        from sipdiag.report import terminal
        from sipdiag.report.terminal.expectations import print_verdict

        s = self.settings
        console = terminal.make_console(out, environ=s.environ, no_color=s.no_color)
        print_verdict(console, verdict, s.catalog, s.language)


class JsonReporter(Reporter):
    """One JSON document (``sipdiag/schema/``)."""

    writes = frozenset(Product)

    def analysis(self, analysis: Analysis, out: TextIO) -> None:
        from sipdiag.report.document import write_json

        write_json(analysis, out, self.settings.language)

    def verdict(self, verdict: Verdict, out: TextIO) -> None:
        from sipdiag.report.expectations import write_verdict_json

        write_verdict_json(verdict, out, self.settings.language)


class JunitReporter(Reporter):
    """JUnit XML for CI: a test case per call and exchange, or per expectation."""

    writes = frozenset(Product)

    def analysis(self, analysis: Analysis, out: TextIO) -> None:
        from sipdiag.report.junit import write_junit

        s = self.settings
        write_junit(analysis, s.catalog, out, s.fail_on, s.language)

    def verdict(self, verdict: Verdict, out: TextIO) -> None:
        from sipdiag.report.expectations import write_verdict_junit

        write_verdict_junit(verdict, self.settings.catalog, out, self.settings.language)


class MarkdownReporter(Reporter):
    """Markdown for a ticket."""

    def analysis(self, analysis: Analysis, out: TextIO) -> None:
        from sipdiag.report import markdown
        from sipdiag.report.stats import stats_of

        s = self.settings
        markdown.write_markdown(analysis, stats_of(analysis), s.catalog, out, s.language,
                                s.sources)


class HtmlReporter(Reporter):
    """One self-contained page, every call drawn."""

    def analysis(self, analysis: Analysis, out: TextIO) -> None:
        from sipdiag.report import html
        from sipdiag.report.stats import stats_of

        s = self.settings
        html.write_html(analysis, stats_of(analysis), s.catalog, out, s.language, s.sources)


REPORTERS: dict[Format, type[Reporter]] = {
    Format.TERMINAL: TerminalReporter,
    Format.JSON: JsonReporter,
    Format.JUNIT: JunitReporter,
    Format.MARKDOWN: MarkdownReporter,
    Format.HTML: HtmlReporter,
}


def formats_of(product: Product) -> tuple[str, ...]:
    """The formats a command that produces ``product`` can write, by name."""
    return tuple(f.value for f, reporter in REPORTERS.items() if product in reporter.writes)


def reporter(name: str, settings: Settings) -> Reporter:
    """The reporter of the format named ``name`` (one of ``Format``)."""
    return REPORTERS[Format(name)](settings)
