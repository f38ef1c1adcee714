"""The report as one HTML page: summary, calls, findings, ladder diagrams, what could not be read.

The page is a single file that needs nothing else: inline CSS, inline SVG, one small inline
script (allowed by its SHA-256 in the page's Content-Security-Policy, which allows nothing else),
no font or image from the network, so it can be attached to a ticket and opened anywhere,
offline. It says what the terminal report says, from the same rows (``summary_rows``,
``call_cells``, ``finding_rows``, ``problem_cells``, ``stream_cells``, and with ``--sources``
``source_rows`` after the findings). The tables of calls, exchanges and sources scroll inside a
box of their own; the script lets them be sorted by a column (a click on its heading) and
searched (a box above each, hidden without the script), and only ever reads and writes text
(``textContent``). Without the script the page reads the same.

Every selected call is drawn as a ladder diagram: the endpoints as columns, one arrow per
message from its sender to its receiver, coloured by response class, retransmissions dashed,
messages with SDP tagged; and, as rows beside them (``with_media``), where each RTP stream
starts (a double line) and ends (dashed) and each telephone event, in colours of their own.
Each message's arrow is a link to its text as captured (the body, SDP or other, set apart),
shown in a panel beside the ladder while it is the page's target (CSS ``:target``, no script).
A call with media also gets its streams as a table and, per stream, a timeline: packets and
packets lost per second as stacked bars, jitter as a line on its own scale. At most
``MAX_LADDERS`` are drawn, the first ones in frame order, and the page says so when there are
more.

Every text from the capture goes through ``for_html``; every word of the page comes from the
catalog. The same analysis always gives the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TextIO

from sipdiag.analysis import Analysis, CallResult, Result
from sipdiag.dialogs.ladder import Arrow, ArrowKind, endpoints
from sipdiag.dialogs.media import CallMedia, MediaStream
from sipdiag.media.stream import Stream
from sipdiag.network import Endpoint
from sipdiag.report import wording
from sipdiag.report.call_list import (
    CALL_COLUMNS,
    EXCHANGE_COLUMNS,
    LINK_COLUMNS,
    call_cells,
    exchange_cells,
    headings,
    link_cells,
)
from sipdiag.report.cells import cell_len, fit
from sipdiag.report.escape import for_html, for_terminal
from sipdiag.report.findings import finding_rows
from sipdiag.report.media import (
    STREAM_COLUMNS,
    dtmf_text,
    side_text,
    state_text,
    stream_cells,
    with_media,
)
from sipdiag.report.messages import time_of_day
from sipdiag.report.reporters import MAX_LADDERS
from sipdiag.report.sources import SOURCE_COLUMNS, more_sources, source_rows
from sipdiag.report.stats import Stats
from sipdiag.report.summary import PROBLEM_COLUMNS, outcome_legend, problem_cells, summary_rows
from sipdiag.rules.catalog import CLASSES, Catalog
from sipdiag.rules.model import Finding, severity_rank

_Row = tuple[list[str], Result | None]
"""The cells of a table row, and the call or exchange it shows (if any)."""
NUMERIC_COLUMNS = frozenset({"col_frame", "col_final", "col_pdd", "col_answer", "col_talk",
                             "col_legs", "col_retr", "col_transactions", "count", "col_hop",
                             "col_packets", "col_lost", "col_jitter", "col_gap", "col_mos",
                             "col_users"})
MONO_COLUMNS = frozenset({"col_source", "col_destination", "col_ssrc"})

# The ladder's geometry, in pixels. Labels are set in a monospace font of FONT_SIZE, so a
# terminal cell (``cell_len``: wide characters count two) is CHAR_WIDTH wide.
FONT_SIZE = 12
CHAR_WIDTH = 7.3
GUTTER = 132
"""The frame number and the time, left of the first lifeline."""
HEADER = 46
ROW = 30
BOTTOM = 14
MIN_COLUMN = 170
MAX_COLUMN = 360
HEAD = 9
"""Length of an arrowhead."""
LOOP = 30
"""Width of the loop of a message an endpoint sends to itself."""
SDP_TAG = 30
ROW_CSS = {ArrowKind.MEDIA: "media", ArrowKind.MEDIA_END: "media-end", ArrowKind.DTMF: "dtmf"}
"""The class of a ladder row that is not a SIP message (coloured by the style sheet)."""
BLANK_LINE = re.compile(r"\r?\n\r?\n")
"""Where a message's headers end and its body starts (RFC 3261 7: an empty line; 7.5: CRLF or
LF alone)."""

# A stream's timeline, in pixels: a plot of PLOT_HEIGHT, its width shared by the bars (one per
# second, or per BUCKETS step when a stream has more seconds than MAX_BARS), within
# [MIN_PLOT, MAX_PLOT]; the counts' axis on the left, the jitter's on the right.
MAX_BARS = 240
BUCKETS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)
"""Seconds per bar, the fewest that keep a stream within MAX_BARS."""
PLOT_HEIGHT = 120
MIN_PLOT = 240
MAX_PLOT = 720
BAR = 24
"""The width of a bar's slot, when MAX_PLOT leaves room."""
PLOT_LEFT = 48
PLOT_RIGHT = 56
PLOT_TOP = 26
PLOT_BOTTOM = 34
X_TICKS = 8
"""At most this many seconds are labelled under a timeline."""
NICE = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)
"""The top of an axis is the first of these (times a power of ten) at or above the largest
value."""


@dataclass(frozen=True)
class _Page:
    catalog: Catalog
    language: str
    first_ts_ns: int
    by_call: dict[tuple[str, int], list[Finding]]
    """The findings of each call or exchange, by (Call-ID, first frame): the very objects of
    the findings section, which ``finding_ids`` names."""
    sections: dict[tuple[str, int], tuple[str, str]]
    """Section id and title (as HTML) of each drawn call or exchange, by (Call-ID, first
    frame)."""
    finding_ids: dict[int, str]
    """Element id of each finding, by its ``id()``."""

    def label(self, key: str, **values: object) -> str:
        return for_html(self.catalog.label(key, self.language, **values))

    def findings_of(self, record: Result) -> list[Finding]:
        return self.by_call.get((record.call_id, record.first_frame), [])


def write_html(
    analysis: Analysis, stats: Stats, catalog: Catalog, out: TextIO, language: str = "en",
    sources: bool = False,
) -> None:
    """``sources``: the per-source summary after the findings."""
    drawn, total = drawn_records(analysis)
    findings = list(analysis.findings)  # a page is read by a person: all of it in memory
    page = _Page(
        catalog=catalog,
        language=language,
        first_ts_ns=analysis.summary.first_ts_ns or 0,
        by_call=_by_call(findings),
        sections=_sections(drawn, catalog, language),
        finding_ids={id(f): f"finding-{n}" for n, f in enumerate(findings, 1)},
    )
    for part in (
        _head(page, analysis.summary.name, sources),
        _summary(page, analysis, stats),
        _tables(page, analysis),
        _findings(page, findings),
        _sources(page, analysis) if sources else "",
        _ladders(page, drawn, total),
        _problems(page, analysis),
        f"</main>\n<script>{SCRIPT}</script>\n</body>\n</html>\n",
    ):
        out.write(part)


def _by_call(findings: Iterable[Finding]) -> dict[tuple[str, int], list[Finding]]:
    found: dict[tuple[str, int], list[Finding]] = {}
    for finding in findings:
        found.setdefault((finding.call_id, finding.call_frame), []).append(finding)
    return found


def drawn_records(analysis: Analysis) -> tuple[list[Result], int]:
    """The calls and exchanges whose ladders the page draws (the first ``MAX_LADDERS`` in
    frame order), and how many have a ladder in all."""
    records: Iterable[Result] = itertools.chain(analysis.calls, analysis.exchanges)
    with_ladder = sorted((r for r in records if r.ladder is not None),
                         key=lambda r: r.first_frame)
    return with_ladder[:MAX_LADDERS], len(with_ladder)


def _sections(
    records: Sequence[Result], catalog: Catalog, language: str
) -> dict[tuple[str, int], tuple[str, str]]:
    sections: dict[tuple[str, int], tuple[str, str]] = {}
    used: set[str] = set()
    for record in records:
        # two calls can start in one frame (coalesced TCP segments)
        anchor = _unique(f"call-{record.first_frame}", used)
        title = catalog.label("ladder", language, call_id=record.call_id,
                              frame=record.first_frame, outcome=record.outcome)
        sections[(record.call_id, record.first_frame)] = (anchor, for_html(title))
    return sections


def _unique(base: str, used: set[str]) -> str:
    """``base``, else ``base-2``, ``base-3``, ...: the first not in ``used`` (which now holds
    it)."""
    found, suffix = base, 1
    while found in used:
        suffix += 1
        found = f"{base}-{suffix}"
    used.add(found)
    return found


# -- the page around the sections ---------------------------------------------------------------

SCRIPT = """
"use strict";
// Sort the tables of calls and exchanges by a column, search them, and close an open message
// with Escape. The page's text is only ever read and written as textContent.
(() => {
  const collator = new Intl.Collator(document.documentElement.lang, {numeric: true});
  const numberOf = (text) => {
    const value = Number.parseFloat(text);
    return Number.isNaN(value) ? null : value;
  };

  // A click on a heading sorts by its column, ascending then descending; numbers as numbers,
  // cells without one last either way, equal cells in the order the page gave them.
  const sortable = (table) => {
    const body = table.tBodies[0];
    const rows = [...body.rows];
    const heads = [...table.tHead.rows[0].cells];
    heads.forEach((head, column) => {
      const numeric = head.classList.contains("num");
      const button = document.createElement("button");
      button.type = "button";
      button.append(...head.childNodes);
      head.append(button);
      let keys = null;
      button.addEventListener("click", () => {
        keys ??= rows.map((row) => {
          const text = row.cells[column].textContent;
          return numeric ? numberOf(text) : text;
        });
        const ascending = head.getAttribute("aria-sort") !== "ascending";
        for (const other of heads) other.removeAttribute("aria-sort");
        head.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        const order = rows.map((_, index) => index).sort((a, b) => {
          const x = keys[a], y = keys[b];
          if (x === null || y === null) return Number(x === null) - Number(y === null) || a - b;
          const by = numeric ? x - y : collator.compare(x, y);
          return (ascending ? by : -by) || a - b;
        });
        body.append(...order.map((index) => rows[index]));
      });
    });
  };

  // The rows whose text holds what is typed (in any case), and how many they are.
  const searchable = (box) => {
    const input = box.querySelector("input");
    const count = box.querySelector("output");
    const table = document.getElementById(input.getAttribute("aria-controls"));
    const rows = [...table.tBodies[0].rows];
    const texts = rows.map((row) => [...row.cells].map(
      (cell) => cell.textContent.toLowerCase()).join("\\n"));
    const show = () => {
      const query = input.value.trim().toLowerCase();
      let shown = 0;
      rows.forEach((row, index) => {
        row.hidden = !texts[index].includes(query);
        shown += row.hidden ? 0 : 1;
      });
      count.textContent = count.dataset.template.replace("{shown}", String(shown))
        .replace("{total}", String(rows.length));
    };
    input.addEventListener("input", show);
    show();
    box.hidden = false;
  };

  document.querySelectorAll("table.sortable").forEach(sortable);
  document.querySelectorAll("p.filter").forEach(searchable);
  document.addEventListener("keydown", (event) => {
    const open = document.querySelector("article.message:target");
    if (event.key === "Escape" && open) open.querySelector("a.close").click();
  });
})();
"""
"""The page's only script: it adds to the page, which reads the same without it."""
SCRIPT_HASH = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
"""What the Content-Security-Policy allows to run (CSP Level 2, hash-source): this script, to the
byte."""

STYLE = """
:root { --ink: #1f2937; --muted: #6b7280; --line: #e5e7eb; --paper: #ffffff; --band: #f8fafc;
  --info: #0369a1; --warning: #b45309; --error: #b91c1c;
  --c1: #6b7280; --c2: #15803d; --c3: #1d4ed8; --c4: #c2410c; --c5: #b91c1c; --req: #1f2937;
  --media: #0e7490; --dtmf: #a21caf; --packets: #60a5fa; --jitter: #7c3aed; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; color: var(--ink); background: var(--paper);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; }
main { max-width: 1200px; margin: 0 auto; padding: 24px 28px 64px; }
h1 { font-size: 26px; margin: 0 0 8px; overflow-wrap: anywhere; }
h2 { font-size: 20px; margin: 40px 0 12px; padding-bottom: 6px; border-bottom: 2px solid
  var(--line); }
h3 { font-size: 16px; margin: 0; overflow-wrap: anywhere; }
h3.sub { margin: 20px 0 8px; }
nav { display: flex; flex-wrap: wrap; gap: 4px 18px; margin: 0 0 8px; font-size: 14px; }
a { color: #1d4ed8; text-decoration: none; }
a:hover { text-decoration: underline; }
code, .mono, td.mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas,
  "DejaVu Sans Mono", monospace; font-size: 13px; }
dl.pairs { display: grid; grid-template-columns: max-content 1fr; gap: 4px 20px; margin: 0; }
dl.pairs dt { font-weight: 600; color: var(--muted); }
dl.pairs dd { margin: 0; overflow-wrap: anywhere; }
.scroll { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; }
.scroll.rows { max-height: 70vh; overflow: auto; }
.scroll.rows td { white-space: nowrap; }
.filter { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 16px; margin: 0 0 8px;
  font-size: 14px; }
.filter label { display: flex; align-items: center; gap: 8px; flex: 0 1 26rem; }
.filter input { flex: 1; min-width: 0; font: inherit; padding: 4px 8px; color: inherit;
  border: 1px solid #cbd5e1; border-radius: 4px; }
.filter output { color: var(--muted); }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { padding: 6px 10px; text-align: left; vertical-align: top; border-bottom: 1px solid
  var(--line); }
thead th { background: var(--band); font-weight: 600; white-space: nowrap; position: sticky;
  top: 0; z-index: 1; box-shadow: inset 0 -1px var(--line); }
th button { font: inherit; color: inherit; text-align: inherit; background: none; border: 0;
  padding: 0; cursor: pointer; white-space: nowrap; }
th button:hover { text-decoration: underline; }
th button::after { content: "↕"; display: inline-block; width: 1.1em; margin-left: 2px;
  color: var(--muted); opacity: .45; text-align: center; }
th[aria-sort=ascending] button::after { content: "▲"; opacity: 1; }
th[aria-sort=descending] button::after { content: "▼"; opacity: 1; }
tbody tr:nth-child(even of :not([hidden])) { background: var(--band); }
tbody tr:last-child td { border-bottom: none; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.callid { overflow-wrap: anywhere; min-width: 16ch; }
tr.sev-error td:first-child { box-shadow: inset 4px 0 var(--error); }
tr.sev-warning td:first-child { box-shadow: inset 4px 0 var(--warning); }
tr.sev-info td:first-child { box-shadow: inset 4px 0 var(--info); }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; color: #fff;
  font-size: 12px; font-weight: 700; letter-spacing: .04em; text-transform: uppercase;
  vertical-align: 2px; }
.badge.error { background: var(--error); }
.badge.warning { background: var(--warning); }
.badge.info { background: var(--info); }
article.finding { border: 1px solid var(--line); border-left: 5px solid var(--muted);
  border-radius: 6px; padding: 14px 18px; margin: 0 0 16px; }
article.finding.error { border-left-color: var(--error); }
article.finding.warning { border-left-color: var(--warning); }
article.finding.info { border-left-color: var(--info); }
article.finding header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 6px 10px;
  margin-bottom: 10px; }
.rule { font-weight: 700; }
.rulename { color: var(--muted); }
.tocall { margin-left: auto; font-size: 13px; }
section.ladder { margin: 0 0 36px; }
section.ladder h3 { margin-bottom: 6px; }
.callfindings { display: flex; flex-wrap: wrap; gap: 6px 12px; margin: 0 0 8px;
  font-size: 14px; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 18px; margin: 0 0 18px; font-size: 13px;
  color: var(--muted); }
.legend span::before { content: ""; display: inline-block; width: 22px; height: 0;
  margin-right: 6px; vertical-align: middle; border-top: 2px solid currentColor; }
.legend .copy::before { border-top-style: dashed; }
.legend .media::before { border-top: 5px double currentColor; }
.legend .sdp::before { display: none; }
.legend .sdp b { display: inline-block; margin-right: 6px; padding: 0 4px; border: 1px solid
  var(--muted); border-radius: 3px; font-size: 10px; }
.k1 { color: var(--c1); } .k2 { color: var(--c2); } .k3 { color: var(--c3); }
.k4 { color: var(--c4); } .k5, .k6 { color: var(--c5); } .k0 { color: var(--req); }
.legend .media, .arrow.media, .arrow.media-end { color: var(--media); }
.legend .dtmf, .arrow.dtmf { color: var(--dtmf); }
svg.ladder { display: block; max-width: none; background: var(--paper); }
svg.ladder text { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas,
  "DejaVu Sans Mono", monospace; font-size: 12px; }
svg.ladder .endpoint { font-weight: 700; fill: var(--ink); }
svg.ladder .lifeline { stroke: #cbd5e1; stroke-width: 1.5; }
svg.ladder .when { fill: var(--muted); }
svg.ladder .when.error { fill: var(--error); font-weight: 700; }
svg.ladder .when.warning { fill: var(--warning); font-weight: 700; }
svg.ladder .when.info { fill: var(--info); font-weight: 700; }
svg.ladder .arrow.copy { opacity: .55; }
svg.ladder rect.row { fill: transparent; }
svg.ladder a:hover rect.row, svg.ladder a:focus rect.row, svg.ladder a:target rect.row {
  fill: #eef2ff; }
svg.ladder .arrow:hover { opacity: 1; }
svg.ladder .arrow:hover text.label { font-weight: 700; }
svg.ladder .tag { font-size: 9px; font-weight: 700; }
dl.mediastate { margin: 0 0 8px; }
table.streams { margin: 0 0 12px; }
.timelines { display: flex; flex-wrap: wrap; gap: 16px 32px; margin: 14px 0 0; }
figure.timeline { margin: 0; max-width: 100%; overflow-x: auto; }
figure.timeline figcaption { font-size: 13px; margin: 0 0 2px; overflow-wrap: anywhere; }
svg.timeline { display: block; }
svg.timeline text { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas,
  "DejaVu Sans Mono", monospace; font-size: 11px; fill: var(--muted); }
svg.timeline .plot { fill: var(--band); }
svg.timeline .grid, svg.timeline line.second { stroke: var(--line); }
svg.timeline rect.slot { fill: transparent; }
svg.timeline g.bar:hover rect.slot { fill: var(--line); }
svg.timeline rect.packets { fill: var(--packets); }
svg.timeline rect.lost { fill: var(--warning); }
svg.timeline path.jitter { fill: none; stroke: var(--jitter); stroke-width: 2;
  pointer-events: none; }
svg.timeline text.title { font-weight: 700; }
svg.timeline text.packets { fill: var(--c3); }
svg.timeline text.lost { fill: var(--warning); }
svg.timeline text.jitter { fill: var(--jitter); }
.note { color: var(--muted); }
article.message { display: none; }
article.message:target { display: block; position: fixed; z-index: 10; top: 0; right: 0;
  bottom: 0; width: min(46rem, 100vw); overflow: auto; padding: 0 18px 24px;
  background: var(--paper); border-left: 1px solid var(--line);
  box-shadow: -8px 0 28px rgba(15, 23, 42, .2); }
@media (min-width: 1000px) {
  article.message:target { width: clamp(30rem, 45vw, 46rem); }
}
article.message header { position: sticky; top: 0; padding: 12px 0 8px; margin: 0 0 12px;
  background: var(--paper); border-bottom: 1px solid var(--line); }
article.message h4 { font-size: 14px; margin: 0 0 6px; overflow-wrap: anywhere; }
.steps { display: flex; flex-wrap: wrap; gap: 4px 16px; font-size: 13px; }
.steps .close { margin-left: auto; font-weight: 600; }
article.message h5 { font-size: 12px; margin: 16px 0 6px; color: var(--muted);
  text-transform: uppercase; letter-spacing: .05em; }
article.message pre { margin: 0; padding: 10px 12px; white-space: pre-wrap;
  overflow-wrap: anywhere; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas,
  "DejaVu Sans Mono", monospace; font-size: 12.5px; line-height: 1.45; background: var(--band);
  border: 1px solid var(--line); border-radius: 4px; }
article.message pre.body { border-left: 4px solid var(--c3); }
article.message pre .line { display: block; padding-left: 4ch; text-indent: -4ch; }
@page { size: landscape; margin: 12mm; }
@media print {
  body { font-size: 11pt; }
  main { max-width: none; padding: 0; }
  nav, .tocall, .filter, .steps { display: none; }
  a { color: inherit; }
  .scroll, .scroll.rows { overflow: visible; max-height: none; border: none; }
  thead th { position: static; }
  table { font-size: 9pt; }
  th, td { padding: 4px 6px; }
  thead th, th button, .scroll.rows td { white-space: normal; }
  th:not([aria-sort]) button::after { content: none; }
  article.message:target { position: static; width: auto; overflow: visible; padding: 0;
    box-shadow: none; border: none; break-inside: avoid; }
  article.message header { position: static; }
  article.finding, section.ladder, figure.timeline, tr { break-inside: avoid; }
  h2 { break-after: avoid; }
  svg.ladder { max-width: 100%; height: auto; }
}
"""


def _head(page: _Page, name: str, sources: bool) -> str:
    title = page.label("report_title", file=name)
    sections = (("capture", "capture"), ("calls", "calls"), ("findings", "findings"),
                *((("sources", "sources_title"),) if sources else ()),
                ("ladders", "ladders"), ("problems", "problems"))
    nav = "".join(f'<a href="#{anchor}">{page.label(key)}</a>' for anchor, key in sections)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{for_html(page.language)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        # no request to anywhere, no script but the page's own: the page is read offline, as sent
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        f"style-src 'unsafe-inline'; script-src 'sha256-{SCRIPT_HASH}'\">\n"
        f"<title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n"
        f"<h1>{title}</h1>\n<nav>{nav}</nav>\n"
    )


def _pairs(rows: Sequence[tuple[str, str]], css: str) -> str:
    items = "".join(f"<dt>{for_html(key)}</dt><dd>{for_html(value)}</dd>\n" for key, value in rows)
    return f'<dl class="pairs {css}">\n{items}</dl>\n'


def _summary(page: _Page, analysis: Analysis, stats: Stats) -> str:
    html = (f'<h2 id="capture">{page.label("capture")}</h2>\n'
            + _pairs(summary_rows(analysis, stats, page.catalog, page.language), "summary"))
    legend = outcome_legend(stats, page.catalog, page.language)
    if legend:
        html += f'<h3 class="sub">{page.label("outcomes")}</h3>\n' + _pairs(legend, "outcomes")
    return html


# -- tables -------------------------------------------------------------------------------------


def _tables(page: _Page, analysis: Analysis) -> str:
    html = f'<h2 id="calls">{page.label("calls")}</h2>\n'
    if analysis.calls:
        calls: list[_Row] = [(call_cells(c, page.catalog, page.language), c)
                             for c in analysis.calls]
        html += _table(page, CALL_COLUMNS, calls, "calls", "search_count_calls")
    if analysis.links:
        html += f'<h3 class="sub">{page.label("linked_legs")}</h3>\n'
        html += _table(page, LINK_COLUMNS, [(link_cells(link, page.catalog, page.language), None)
                                            for link in analysis.links], "links")
    if analysis.exchanges:
        html += f'<h2 id="exchanges">{page.label("exchanges")}</h2>\n'
        exchanges: list[_Row] = [(exchange_cells(e), e)
                                 for e in analysis.exchanges]
        html += _table(page, EXCHANGE_COLUMNS, exchanges, "exchanges", "search_count_exchanges")
    return html


def _table(
    page: _Page, columns: Sequence[str], rows: Sequence[_Row], css: str, count: str | None = None
) -> str:
    """A table in a box that scrolls sideways; with ``count`` (the catalog's words for "N of M
    rows"), one that can be sorted and searched, in a box of bounded height."""
    head = "".join(f"<th{_cell_class(column)}>{for_html(text)}</th>" for column, text in
                   zip(columns, headings(page.catalog, columns, page.language), strict=True))
    body = []
    for cells, record in rows:
        tds = []
        section = page.sections.get((record.call_id, record.first_frame)) if record else None
        for column, cell in zip(columns, cells, strict=True):
            text = for_html(cell)
            if column == "col_call_id" and section:
                text = f'<a href="#{section[0]}">{text}</a>'
            tds.append(f"<td{_cell_class(column)}>{text}</td>")
        worst = _worst(page.findings_of(record)) if record else None
        row_class = f' class="sev-{worst}"' if worst else ""
        body.append(f"<tr{row_class}>{''.join(tds)}</tr>\n")
    table = (f"<thead><tr>{head}</tr></thead>\n<tbody>\n{''.join(body)}</tbody>\n</table></div>\n")
    if count is None:
        return f'<div class="scroll"><table class="{css}">\n{table}'
    return (_search_box(page, f"table-{css}", count)
            + f'<div class="scroll rows"><table class="{css} sortable" id="table-{css}">\n{table}')


def _sources(page: _Page, analysis: Analysis) -> str:
    """The per-source summary, to sort and search like the calls, and how many sources more
    the JSON has (if any)."""
    rows: list[_Row] = [(cells, None) for cells in source_rows(analysis.sources)]
    html = (f'<h2 id="sources">{page.label("sources_title")}</h2>\n'
            + _table(page, SOURCE_COLUMNS, rows, "sources", "search_count_sources"))
    more = more_sources(analysis.sources, page.catalog, page.language)
    return html + (f'<p class="note">{for_html(more)}</p>\n' if more is not None else "")


def _search_box(page: _Page, table_id: str, count: str) -> str:
    """A search box for the script to show (a box that does nothing has no place on a page
    without it) and the line it counts the rows shown on."""
    return (f'<p class="filter" hidden><label>{page.label("table_search")} '
            f'<input type="search" aria-controls="{table_id}" autocomplete="off" '
            f'spellcheck="false"></label> <output data-template="{page.label(count)}">'
            "</output></p>\n")


def _cell_class(column: str) -> str:
    if column in NUMERIC_COLUMNS:
        return ' class="num"'
    if column in ("col_call_id", "col_linked"):
        return ' class="mono callid"'
    if column in MONO_COLUMNS:
        return ' class="mono"'
    return ""


def _worst(findings: Sequence[Finding]) -> str | None:
    return max((f.severity for f in findings), key=severity_rank, default=None)


# -- findings -----------------------------------------------------------------------------------


def _findings(page: _Page, findings: Sequence[Finding]) -> str:
    html = f'<h2 id="findings">{page.label("findings")}</h2>\n'
    if not findings:
        return html + f'<p class="note">{page.label("no_findings")}</p>\n'
    return html + "".join(_finding(page, finding) for finding in findings)


def _finding(page: _Page, finding: Finding) -> str:
    rule = finding.rule
    severity = for_html(rule.severity)
    section = page.sections.get((finding.call_id, finding.call_frame))
    to_call = f'<a class="tocall" href="#{section[0]}">{section[1]}</a>' if section else ""
    rows = finding_rows(finding, page.catalog, page.first_ts_ns, page.language)
    return (
        f'<article class="finding {severity}" id="{page.finding_ids[id(finding)]}">\n'
        f'<header><span class="badge {severity}">{page.label(rule.severity)}</span>'
        f'<span class="rule">{for_html(rule.id)}</span>'
        f'<span class="rulename mono">{for_html(rule.name)}</span>'
        f"<h3>{for_html(rule.title.get(page.language))}</h3>{to_call}</header>\n"
        + _pairs(rows, "finding")
        + "</article>\n"
    )


# -- ladders ------------------------------------------------------------------------------------


def _ladders(page: _Page, drawn: Sequence[Result], total: int) -> str:
    html = f'<h2 id="ladders">{page.label("ladders")}</h2>\n'
    if total > len(drawn):
        html += (f'<p class="note capped">'
                 f'{page.label("ladders_capped", total=total, shown=len(drawn))}</p>\n')
    if drawn:
        html += _legend(page, any(_streams(record) for record in drawn))
        html += f'<p class="note">{page.label("ladder_hint")}</p>\n'
    return html + "".join(_ladder_section(page, record) for record in drawn)


def _legend(page: _Page, media: bool) -> str:
    classes = [f'<span class="k0">{page.label("request")}</span>']
    classes += [f'<span class="k{k}">{for_html(page.catalog.classes[name].get(page.language))}'
                f"</span>" for k, name in sorted(CLASSES.items())]
    classes.append(f'<span class="copy">{page.label("retransmission")}</span>')
    classes.append(f'<span class="sdp"><b>{page.label("sdp")}</b>{page.label("sdp_body")}</span>')
    if media:
        classes.append(f'<span class="media">{page.label("media")}</span>')
        classes.append(f'<span class="dtmf">{page.label("dtmf")}</span>')
    return f'<p class="legend">{"".join(classes)}</p>\n'


def _media_of(record: Result) -> CallMedia | None:
    return record.media if isinstance(record, CallResult) else None


def _streams(record: Result) -> tuple[MediaStream, ...]:
    media = _media_of(record)
    return media.streams if media is not None else ()


def _ladder_section(page: _Page, record: Result) -> str:
    assert record.ladder is not None
    anchor, title = page.sections[(record.call_id, record.first_frame)]
    findings = page.findings_of(record)
    links = "".join(
        f'<a href="#{page.finding_ids[id(f)]}"><span class="badge {for_html(f.severity)}">'
        f'{page.label(f.severity)}</span> {for_html(f.rule.id)} '
        f"{for_html(f.rule.title.get(page.language))}</a>"
        for f in findings
    )
    found = f'<p class="callfindings">{links}</p>\n' if links else ""
    media = _media_of(record)
    arrows = with_media(record.ladder, media, page.catalog, page.language)
    ids = _message_ids(anchor, arrows)
    svg = ladder_svg(arrows, ids, page.catalog, page.first_ts_ns, findings, page.language)
    return (f'<section class="ladder" id="{anchor}">\n<h3>{title}</h3>\n{found}'
            + (_media(page, media) if media is not None and media.streams else "")
            + f'<div class="scroll">{svg}</div>\n'
            + _messages(page, arrows, ids)
            + _timelines(page, _streams(record))
            + "</section>\n")


def _message_ids(anchor: str, arrows: Sequence[Arrow]) -> list[str | None]:
    """The element id of each message's text, unique in the page (over TCP a frame can end two
    messages); None for a row that is not a message."""
    used: set[str] = set()
    return [_unique(f"{anchor}-frame-{arrow.frame}", used) if arrow.kind is ArrowKind.SIP
            else None for arrow in arrows]


def _messages(page: _Page, arrows: Sequence[Arrow], ids: Sequence[str | None]) -> str:
    """Each message of the ladder as captured, each with links to the one before and after."""
    shown = [(arrow, ident) for arrow, ident in zip(arrows, ids, strict=True) if ident]
    around = [None, *(ident for _, ident in shown), None]
    panels = "".join(_message(page, arrow, ident, around[n], around[n + 2])
                     for n, (arrow, ident) in enumerate(shown))
    return f'<div class="messages">\n{panels}</div>\n'


def _message(
    page: _Page, arrow: Arrow, ident: str, previous: str | None, following: str | None
) -> str:
    """A message's text, hidden until its arrow makes it the page's target: the headers, and
    the body under a heading of its own."""
    seconds = (arrow.ts_ns - page.first_ts_ns) / 1e9
    title = page.catalog.label(
        "message_title", page.language, frame=arrow.frame, clock=time_of_day(arrow.ts_ns),
        offset=wording.offset(page.catalog, seconds, page.language), src=arrow.src,
        dst=arrow.dst, transport=arrow.transport,
    ) + wording.copy_mark(page.catalog, arrow.copy, page.language)
    steps = "".join(f'<a href="#{target}">{page.label(key)}</a>' for target, key in
                    ((previous, "message_previous"), (following, "message_next")) if target)
    head, body = _head_and_body(arrow.text)
    html = (f'<article class="message" id="{ident}">\n<header><h4>{for_html(title)}</h4>'
            f'<div class="steps">{steps}<a class="close" href="#{ident}-arrow">'
            f'{page.label("message_close")}</a></div></header>\n'
            f'<pre class="head">{_preformatted(head)}</pre>\n')
    if body:
        heading = page.label("message_sdp" if arrow.has_sdp else "message_body")
        html += f'<h5>{heading}</h5>\n<pre class="body">{_preformatted(body)}</pre>\n'
    return html + "</article>\n"


def _head_and_body(text: str) -> tuple[str, str]:
    """A message's start line and headers, and its body (empty when it has none)."""
    blank = BLANK_LINE.search(text)
    return (text, "") if blank is None else (text[:blank.start()], text[blank.end():])


def _preformatted(text: str) -> str:
    """Text for a ``<pre>``: each line escaped, its controls shown, in a span of its own (a line
    too long for the panel goes on indented), its end (CRLF or LF) kept as one LF."""
    *lines, last = (for_html(line.removesuffix("\r")) for line in text.split("\n"))
    return ("".join(f'<span class="line">{line}\n</span>' for line in lines)
            + f'<span class="line">{last}</span>')


def _media(page: _Page, media: CallMedia) -> str:
    """How the call's audio went, the telephone events, and a row per stream."""
    rows = [(page.catalog.label("col_media", page.language),
             state_text(page.catalog, media, page.language))]
    events = dtmf_text(page.catalog, media, page.language)
    if events:
        rows.append((page.catalog.label("dtmf", page.language), events))
    streams: list[_Row] = [(stream_cells(page.catalog, item, page.language), None)
                           for item in media.streams]
    return _pairs(rows, "mediastate") + _table(page, STREAM_COLUMNS, streams, "streams")


@dataclass(frozen=True)
class _Geometry:
    width: int
    """Of one column."""
    total: int
    """Of the whole diagram."""

    def x(self, column: int) -> int:
        return GUTTER + column * self.width + self.width // 2

    def y(self, row: int) -> int:
        return HEADER + row * ROW + ROW // 2 + 4


def ladder_svg(
    arrows: Sequence[Arrow], ids: Sequence[str | None], catalog: Catalog, first_ts_ns: int,
    findings: Sequence[Finding] = (), language: str = "en",
) -> str:
    """One ladder as an inline SVG, sized from its columns and rows: each row with an id in
    ``ids`` a link to the element of that id (the message's text), the frames that are evidence
    of ``findings`` marked in the colour of the most severe."""
    columns = endpoints(arrows)
    index = {endpoint: n for n, endpoint in enumerate(columns)}
    labels = [_label(arrow, catalog, language) for arrow in arrows]
    width = _column_width(arrows, labels, index, [str(c) for c in columns])
    last = len(columns) - 1
    loops_right = any(index[a.src] == last and a.src == a.dst for a in arrows)
    svg_width = GUTTER + len(columns) * width + (width // 2 if loops_right else 0)
    geometry = _Geometry(width, svg_width)
    svg_height = HEADER + len(arrows) * ROW + BOTTOM
    marks = _evidence_marks(findings)
    parts = [
        f'<svg class="ladder" width="{svg_width}" height="{svg_height}" '
        f'viewBox="0 0 {svg_width} {svg_height}">\n',
        f'<text class="when" x="{GUTTER - 86}" y="{HEADER - 22}" text-anchor="end">'
        f'{for_html(catalog.label("col_frame", language))}</text>'
        f'<text class="when" x="{GUTTER - 14}" y="{HEADER - 22}" text-anchor="end">'
        f'{for_html(catalog.label("col_time", language))}</text>\n',
    ]
    for n, endpoint in enumerate(columns):
        x = geometry.x(n)
        name = for_html(_fit(str(endpoint), width - 12))
        parts.append(f'<text class="endpoint" x="{x}" y="{HEADER - 22}" text-anchor="middle" '
                     f'data-column="{n}">{name}</text>'
                     f'<line class="lifeline" x1="{x}" y1="{HEADER - 12}" x2="{x}" '
                     f'y2="{svg_height - BOTTOM // 2}"/>\n')
    for row, (arrow, label, ident) in enumerate(zip(arrows, labels, ids, strict=True)):
        parts.append(_arrow_svg(geometry, row, arrow, label, ident, index, first_ts_ns,
                                marks.get(arrow.frame), catalog, language))
    parts.append("</svg>")
    return "".join(parts)


def _label(arrow: Arrow, catalog: Catalog, language: str) -> str:
    """The arrow's label as plain text, controls shown: ``200 OK (copy 2)``."""
    label = for_terminal(arrow.label)
    if arrow.copy > 1:
        label += wording.copy_mark(catalog, arrow.copy, language)
    return label


def _column_width(
    arrows: Sequence[Arrow], labels: Sequence[str], index: dict[Endpoint, int],
    headers: Sequence[str],
) -> int:
    """Wide enough for the widest label over the columns it spans, and every address."""
    need = max((_text_width(h) + 16 for h in headers), default=0)
    for arrow, label in zip(arrows, labels, strict=True):
        span = abs(index[arrow.src] - index[arrow.dst])
        tag = SDP_TAG + 6 if arrow.has_sdp else 0
        if span:
            need = max(need, -(-(_text_width(label) + tag + 2 * HEAD + 16) // span))
        else:
            need = max(need, _text_width(label) + tag + LOOP + 24)
    return max(MIN_COLUMN, min(MAX_COLUMN, need))


def _text_width(text: str) -> int:
    return round(cell_len(text) * CHAR_WIDTH)


def _fit(text: str, pixels: int) -> str:
    """Cut text (already free of controls) to what fits in ``pixels``, with an ellipsis."""
    cells = max(1, round(pixels / CHAR_WIDTH))  # the inverse of _text_width
    return fit(text, cells).rstrip() if cell_len(text) > cells else text


def _evidence_marks(findings: Sequence[Finding]) -> dict[int, tuple[str, str]]:
    """Frame -> (worst severity, rule ids) of the findings that name it as evidence."""
    marks: dict[int, tuple[str, str]] = {}
    for finding in sorted(findings, key=lambda f: -severity_rank(f.severity)):
        for item in finding.evidence:
            severity, rules = marks.get(item.frame, (finding.severity, ""))
            if finding.rule.id not in rules.split():
                rules = f"{rules} {finding.rule.id}".strip()
            marks[item.frame] = (severity, rules)
    return marks


def _arrow_svg(
    geometry: _Geometry, row: int, arrow: Arrow, label: str, ident: str | None,
    index: dict[Endpoint, int], first_ts_ns: int, mark: tuple[str, str] | None,
    catalog: Catalog, language: str,
) -> str:
    """An arrow; with ``ident``, a link to the element of that id (its message's text), the whole
    width of its row to click on, and the link's own id (``ident-arrow``) for the way back."""
    src, dst = index[arrow.src], index[arrow.dst]
    y = geometry.y(row)
    seconds = (arrow.ts_ns - first_ts_ns) / 1e9
    when_css = f"when {mark[0]}" if mark else "when"
    frame_label = for_html(catalog.label("frame", language))
    # a media row's label names what it is (RTP ..., DTMF ...): its transport would repeat it
    transport = f" {for_html(arrow.transport)}" if arrow.kind is ArrowKind.SIP else ""
    tooltip = (f"{frame_label} {arrow.frame}: {for_html(str(arrow.src))} → "
               f"{for_html(str(arrow.dst))}{transport} {for_html(label)}"
               + (f" [{for_html(mark[1])}]" if mark else ""))
    head = (f'<g class="{_arrow_css(arrow)}" data-frame="{arrow.frame}" data-src="{src}" '
            f'data-dst="{dst}">'
            f"<title>{tooltip}</title>"
            + (f'<rect class="row" x="0" y="{HEADER + row * ROW}" width="{geometry.total}" '
               f'height="{ROW}"/>' if ident else "")
            + f'<text class="{when_css}" x="{GUTTER - 86}" y="{y + 4}" text-anchor="end">'
            f"{arrow.frame}</text>"
            f'<text class="{when_css}" x="{GUTTER - 14}" y="{y + 4}" text-anchor="end">'
            f"+{seconds:.3f}</text>")
    tag_width = SDP_TAG + 6 if arrow.has_sdp else 0
    sdp = for_html(catalog.label("sdp", language))
    if src == dst:
        x = geometry.x(src)
        room = geometry.width - LOOP - 24 - tag_width
        text = _fit(label, room)
        text_x = x + LOOP + 8
        body = (_shaft("path", f'd="M{x} {y - 8} h{LOOP} v16 h{-(LOOP - HEAD)}"', arrow) +
                f'<polygon points="{x},{y + 8} {x + HEAD},{y + 4} {x + HEAD},{y + 12}" '
                'fill="currentColor"/>'
                f'<text class="label" x="{text_x}" y="{y + 4}" fill="currentColor">'
                f"{for_html(text)}</text>")
        tag_x = text_x + _text_width(text) + 6
    else:
        x1, x2 = geometry.x(src), geometry.x(dst)
        step = HEAD if x2 > x1 else -HEAD
        room = abs(x2 - x1) - 2 * HEAD - 16 - tag_width
        text = _fit(label, room)
        middle = (x1 + x2) // 2 - tag_width // 2
        body = (_shaft("line", f'x1="{x1}" y1="{y}" x2="{x2 - step}" y2="{y}"', arrow) +
                f'<polygon points="{x2},{y} {x2 - step},{y - 4.5} {x2 - step},{y + 4.5}" '
                'fill="currentColor"/>'
                f'<text class="label" x="{middle}" y="{y - 6}" text-anchor="middle" '
                f'fill="currentColor">{for_html(text)}</text>')
        tag_x = middle + _text_width(text) // 2 + 6
        y -= 10
    if arrow.has_sdp:
        body += (f'<g class="sdp"><rect x="{tag_x}" y="{y - 7}" width="{SDP_TAG}" height="13" '
                 f'rx="3" fill="none" stroke="currentColor"/><text class="tag" '
                 f'x="{tag_x + SDP_TAG // 2}" y="{y + 3}" text-anchor="middle" '
                 f'fill="currentColor">{sdp}</text></g>')
    svg = head + body + "</g>"
    return f'<a href="#{ident}" id="{ident}-arrow">{svg}</a>\n' if ident else svg + "\n"


def _arrow_css(arrow: Arrow) -> str:
    """A message: ``k`` and its response class (0 for a request), and ``copy`` for a
    retransmission; a media row: its kind."""
    if arrow.kind is not ArrowKind.SIP:
        return f"arrow {ROW_CSS[arrow.kind]}"
    klass = min(arrow.status // 100, 6) if arrow.status else 0
    return f"arrow k{klass}" + (" copy" if arrow.copy > 1 else "")


def _shaft(tag: str, shape: str, arrow: Arrow) -> str:
    """The line of an arrow: a message's plain (dashed for a copy), a stream's start double,
    its end dashed."""
    fill = ' fill="none"' if tag == "path" else ""
    if arrow.kind is ArrowKind.MEDIA:  # a wide stroke with a narrow one of the paper inside
        return (f'<{tag} {shape}{fill} stroke="currentColor" stroke-width="5"/>'
                f'<{tag} class="inner" {shape}{fill} stroke="#ffffff" stroke-width="1.6"/>')
    if arrow.kind is ArrowKind.MEDIA_END:
        dash = ' stroke-dasharray="3 3"'
    else:
        dash = ' stroke-dasharray="6 4"' if arrow.copy > 1 else ""
    return f'<{tag} {shape}{fill} stroke="currentColor" stroke-width="1.6"{dash}/>'


# -- timelines ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    """One bar of a timeline: seconds [start, end) from the stream's first packet."""

    start: int
    end: int
    packets: int
    lost: int
    jitter_ms: float | None
    """The largest jitter of its seconds; None when none of them had a packet."""


def _timelines(page: _Page, streams: Sequence[MediaStream]) -> str:
    figures = "".join(timeline_figure(item, page.catalog, page.language) for item in streams
                      if item.stream.timeline is not None and item.stream.timeline.packets)
    return f'<div class="timelines">\n{figures}</div>\n' if figures else ""


def timeline_bars(stream: Stream) -> list[Bar]:
    """The stream's timeline in at most ``MAX_BARS`` bars."""
    timeline = stream.timeline
    assert timeline is not None
    seconds = len(timeline.packets)
    lost = [*timeline.lost, *[0] * seconds][:seconds]
    measured = timeline.jitter_ms  # shorter than packets when the last seconds had none
    jitter = [measured[n] if n < len(measured) and timeline.packets[n] else None
              for n in range(seconds)]
    step = _bar_seconds(seconds)
    bars = []
    for start in range(0, seconds, step):
        end = min(start + step, seconds)
        known = [j for j in jitter[start:end] if j is not None]
        bars.append(Bar(start, end, sum(timeline.packets[start:end]), sum(lost[start:end]),
                        max(known) if known else None))
    return bars


def _bar_seconds(seconds: int) -> int:
    for step in BUCKETS:
        if -(-seconds // step) <= MAX_BARS:
            return step
    hour = BUCKETS[-1]
    return hour * -(-seconds // (MAX_BARS * hour))


def _nice(value: float) -> float:
    """The top of an axis for values up to ``value`` (at least 1)."""
    power = 1.0
    while value > NICE[-1] * power:
        power *= 10
    return next((n * power for n in NICE if n * power >= value), NICE[-1] * power)


def _px(value: float) -> str:
    """A coordinate, rounded to a hundredth of a pixel (the same bytes every run)."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _tick(value: float) -> str:
    return f"{value:g}"


@dataclass(frozen=True)
class _Plot:
    """Where a timeline's values go: x by second, y by count or by jitter."""

    bar_seconds: int
    slot: float
    """Pixels per bar."""
    count_top: float
    jitter_top: float

    def x(self, second: float) -> float:
        return PLOT_LEFT + second / self.bar_seconds * self.slot

    def y(self, value: float, top: float) -> float:
        return PLOT_TOP + PLOT_HEIGHT - value / top * PLOT_HEIGHT


def timeline_figure(item: MediaStream, catalog: Catalog, language: str = "en") -> str:
    """A stream's timeline: a caption naming the stream, and an SVG of packets (bars), packets
    lost (stacked on them, in the warning colour) and jitter (a line, on the right-hand axis)
    per second from its first packet, each bar with a tooltip of its figures."""
    stream = item.stream
    bars = timeline_bars(stream)
    titles = [catalog.label(key, language) for key in
              ("timeline_packets", "timeline_lost", "timeline_jitter")]
    need = sum(_text_width(title) for title in titles) + 40 - PLOT_LEFT - PLOT_RIGHT
    width = min(MAX_PLOT, max(MIN_PLOT, need, BAR * len(bars)))
    jitters = [bar.jitter_ms for bar in bars if bar.jitter_ms is not None]
    plot = _Plot(bars[0].end - bars[0].start, width / len(bars),
                 _nice(max(bar.packets + bar.lost for bar in bars)),
                 _nice(max(jitters, default=0.0)))
    svg_width, svg_height = PLOT_LEFT + width + PLOT_RIGHT, PLOT_TOP + PLOT_HEIGHT + PLOT_BOTTOM
    parts = [
        f'<svg class="timeline" width="{_px(svg_width)}" height="{svg_height}" '
        f'viewBox="0 0 {_px(svg_width)} {svg_height}">\n'
        f'<rect class="plot" x="{PLOT_LEFT}" y="{PLOT_TOP}" width="{_px(width)}" '
        f'height="{PLOT_HEIGHT}"/>\n',
        _axes(plot, width, bars[-1].end, titles, bool(jitters), catalog, language),
        *(_bar_svg(plot, bar, catalog, language) for bar in bars),
    ]
    if jitters:
        parts.append(_jitter_line(plot, bars))
    parts.append("</svg>")
    caption = (f'<b>{for_html(catalog.label("timeline", language))}</b> '
               f"{for_html(_stream_name(item, catalog, language))}")
    return (f'<figure class="timeline">\n<figcaption>{caption}</figcaption>\n'
            + "".join(parts) + "\n</figure>\n")


def _stream_name(item: MediaStream, catalog: Catalog, language: str) -> str:
    """``caller → callee, 192.0.2.10:49170 → 198.51.100.20:3456, 0x80F31720``."""
    sender, stream = item.sender, item.stream
    direction = catalog.label("direction_value", language,
                              sender=side_text(catalog, sender, language),
                              receiver=side_text(catalog, sender.other if sender else None,
                                                 language))
    path = catalog.label("direction_value", language, sender=stream.src, receiver=stream.dst)
    return catalog.label("separator", language).join(
        (direction, path, f"0x{stream.ssrc:08X}"))


def _axes(plot: _Plot, width: float, seconds: int, titles: Sequence[str], jitter: bool,
          catalog: Catalog, language: str) -> str:
    """Grid and figures of the counts (left) and the jitter (right), the seconds below, and
    what each axis counts above it, in the colour it is drawn in."""
    bottom, right = PLOT_TOP + PLOT_HEIGHT, PLOT_LEFT + width
    parts = []
    for share in (0.0, 0.5, 1.0):
        y = _px(plot.y(share, 1.0))
        parts.append(f'<line class="grid" x1="{PLOT_LEFT}" y1="{y}" x2="{_px(right)}" '
                     f'y2="{y}"/><text class="count" x="{PLOT_LEFT - 6}" y="{y}" '
                     f'dy="4" text-anchor="end">{_tick(share * plot.count_top)}</text>')
        if jitter:
            parts.append(f'<text class="jitter" x="{_px(right + 6)}" y="{y}" dy="4">'
                         f"{_tick(share * plot.jitter_top)}</text>")
    for second in _x_ticks(seconds, plot.bar_seconds):
        x = _px(plot.x(second))
        label = for_html(catalog.label("seconds", language, n=second))
        parts.append(f'<line class="second" x1="{x}" y1="{bottom}" x2="{x}" y2="{bottom + 5}"/>'
                     f'<text class="second" x="{x}" y="{bottom + 18}" text-anchor="middle">'
                     f"{label}</text>")
    packets, lost, jitter_ms = (for_html(title) for title in titles)
    parts.append(f'<text class="title packets" x="4" y="14">{packets}</text>'
                 f'<text class="title lost" x="{4 + _text_width(titles[0]) + 8}" y="14">'
                 f"{lost}</text>")
    if jitter:
        parts.append(f'<text class="title jitter" x="{_px(right + PLOT_RIGHT - 4)}" y="14" '
                     f'text-anchor="end">{jitter_ms}</text>')
    return "".join(parts) + "\n"


def _x_ticks(seconds: int, bar_seconds: int) -> range:
    """Every n seconds from 0 to the end, n a multiple of a bar's seconds, at most X_TICKS."""
    steps = [step for step in BUCKETS if step % bar_seconds == 0]
    step = next((s for s in steps if seconds // s < X_TICKS), None)
    if step is None:
        step = BUCKETS[-1] * -(-seconds // (X_TICKS * BUCKETS[-1]))
    return range(0, seconds + 1, step)


def _bar_svg(plot: _Plot, bar: Bar, catalog: Catalog, language: str) -> str:
    """A bar's slot (for its tooltip), packets from the axis up and packets lost on top."""
    x = plot.x(bar.start)
    gap = max(1.0, plot.slot / 4)
    left, width = _px(x + gap / 2), _px(plot.slot - gap)
    packets_top = plot.y(bar.packets, plot.count_top)
    lost_top = plot.y(bar.packets + bar.lost, plot.count_top)
    shapes = [f'<rect class="slot" x="{_px(x)}" y="{PLOT_TOP}" width="{_px(plot.slot)}" '
              f'height="{PLOT_HEIGHT}"/>']
    if bar.packets:
        shapes.append(f'<rect class="packets" x="{left}" y="{_px(packets_top)}" '
                      f'width="{width}" height="{_px(PLOT_TOP + PLOT_HEIGHT - packets_top)}"/>')
    if bar.lost:
        shapes.append(f'<rect class="lost" x="{left}" y="{_px(lost_top)}" width="{width}" '
                      f'height="{_px(packets_top - lost_top)}"/>')
    return (f'<g class="bar"><title>{for_html(_bar_text(bar, catalog, language))}</title>'
            + "".join(shapes) + "</g>\n")


def _bar_text(bar: Bar, catalog: Catalog, language: str) -> str:
    """``2–3 s, packets 44, lost 6, jitter ms 0.4``."""
    label = partial(catalog.label, language=language)
    jitter = "-" if bar.jitter_ms is None else f"{bar.jitter_ms:.1f}"
    return label("separator").join((
        label("seconds", n=f"{bar.start}–{bar.end}"),
        f"{label('timeline_packets')} {bar.packets}",
        f"{label('timeline_lost')} {bar.lost}",
        f"{label('timeline_jitter')} {jitter}",
    ))


def _jitter_line(plot: _Plot, bars: Sequence[Bar]) -> str:
    """A step across each bar that had packets, at its jitter; broken where none came."""
    path = []
    joined = False
    for bar in bars:
        if bar.jitter_ms is None:
            joined = False
            continue
        y = _px(plot.y(bar.jitter_ms, plot.jitter_top))
        x = _px(plot.x(bar.start))
        path.append(f"V{y}" if joined else f"M{x} {y}")
        path.append(f"H{_px(plot.x(bar.start + plot.bar_seconds))}")
        joined = True
    return f'<path class="jitter" d="{"".join(path)}"/>\n'


# -- what could not be read ---------------------------------------------------------------------


def _problems(page: _Page, analysis: Analysis) -> str:
    html = f'<h2 id="problems">{page.label("problems")}</h2>\n'
    rows = problem_cells(analysis.summary)
    if not rows:
        return html + f'<p class="note">{page.label("no_problems")}</p>\n'
    head = "".join(f"<th{_cell_class(c)}>{page.label(c)}</th>" for c in PROBLEM_COLUMNS)
    body = "".join(
        "<tr>" + "".join(f"<td{_cell_class(c)}>{for_html(cell)}</td>"
                         for c, cell in zip(PROBLEM_COLUMNS, cells, strict=True)) + "</tr>\n"
        for cells in rows
    )
    return (f'{html}<div class="scroll"><table class="problems">\n'
            f"<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table></div>\n")
