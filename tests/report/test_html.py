"""The HTML report (``--html FILE``): one self-contained page, checked as bytes and in a browser.

The browser tests load the page in headless Chromium (Debian's ``chromium`` and
``chromium-driver``, which .ci/run installs) through Selenium, once per module, with every host
name made unresolvable: the page must need no network. They measure what the browser drew (the
rendered boxes of the SVG arrows, lifelines and labels) and compare it with the messages of the
capture as ``MessageReader`` reads them.

The media of a call (its streams' table, the RTP and DTMF rows of its ladder, a timeline per
stream) is checked against samples/media/truth.json, what the crafted captures hold by
construction: packets, losses and the sequence numbers lost, first and last frames.

The page's one script (sorting and searching the tables) is checked to run by its hash alone and
the page to read the same without it; each message's text, one click from its arrow, against the
bytes tshark reads in the capture. ``SIPDIAG_SCREENSHOTS=DIR`` keeps screenshots of pages with a
message open, for a person to look at.

The golden page is tests/golden/rules/reinvite-481.html (open it in a browser to review it);
``SIPDIAG_UPDATE_GOLDEN=1 python3 -m pytest tests/report/test_html.py`` rewrites it.
"""

from __future__ import annotations

import base64
import hashlib
import io
import itertools
import json
import math
import os
import re
import struct
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement

from sipdiag.analysis import analyze
from sipdiag.cli import Environment, ExitStatus, main
from sipdiag.dialogs.select import Ladders
from sipdiag.media.stream import Timeline
from sipdiag.report.findings import catalog_reference, evidence_text
from sipdiag.report.html import (
    MAX_BARS,
    MAX_LADDERS,
    MAX_PLOT,
    SCRIPT,
    timeline_bars,
    timeline_figure,
)
from sipdiag.report.summary import problem_cells
from sipdiag.rules import load_engine
from sipdiag.sip.message import SipMessage
from tests import packets
from tests.conftest import ROOT, read
from tests.golden import check_golden
from tests.report import hostile
from tests.test_cli import T0, call_capture

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
REINVITE = "samples/rules/reinvite-481.pcap"
SERVER_ERRORS = "samples/rules/server-errors.pcap"
OPTIONS = "samples/calls/options-keepalive.pcap"
HOSTILE_CALL_ID = "<script>alert(1)</script></svg>\"'&amp;\x01@evil"
HOSTILE_REASON = "Busy <img src=x onerror=alert(2)></svg>\x1b[2J"
COLOURS = {0: "rgb(31, 41, 55)", 1: "rgb(107, 114, 128)", 2: "rgb(21, 128, 61)",
           3: "rgb(29, 78, 216)", 4: "rgb(194, 65, 12)", 5: "rgb(185, 28, 28)",
           6: "rgb(185, 28, 28)"}
"""Requests, then each response class, as the page's CSS colours them."""
PAGE_TAGS = frozenset({
    "html", "head", "meta", "title", "style", "body", "main", "nav", "h1", "h2", "h3", "p", "a",
    "b", "span", "div", "dl", "dt", "dd", "table", "thead", "tbody", "tr", "th", "td", "article",
    "header", "section", "svg", "g", "text", "line", "path", "polygon", "rect", "figure",
    "figcaption", "script", "label", "input", "output", "h4", "h5", "pre",
})
"""The elements the page is made of."""


def run(argv: list[str], page: Path) -> tuple[int, str, str, str]:
    """Exit status, stdout, stderr and the page of ``sipdiag ARGV --html PAGE``."""
    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdout=out, stderr=err, stdin=io.BytesIO(), environ={})
    code = main([*argv, "--no-color", "--quiet", "--html", str(page)], env)
    html = page.read_text(encoding="utf-8") if page.exists() else ""
    return code, out.getvalue(), err.getvalue(), html


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs from the project root, so the page names samples by relative paths."""
    monkeypatch.chdir(ROOT)


def hostile_capture() -> bytes:
    """A call whose Call-ID, User-Agent and reason phrase are markup and control characters,
    and an OPTIONS an endpoint sends to itself."""
    invite = packets.sip_request(call_id=HOSTILE_CALL_ID, body=packets.SDP,
                                 extra=["User-Agent: <script>alert(3)</script>\x02\"'"])
    busy = packets.sip_response(486, HOSTILE_REASON, call_id=HOSTILE_CALL_ID)
    ack = packets.sip_request("ACK", call_id=HOSTILE_CALL_ID)
    ping = packets.sip_request("OPTIONS", call_id="self@192.0.2.1")
    pong = packets.sip_response(200, "OK <u>fine</u>", call_id="self@192.0.2.1",
                                method="OPTIONS")
    a, b = "192.0.2.1", "192.0.2.2"
    return packets.pcap([
        (T0, packets.udp4_frame(a, b, invite)),
        (T0 + 1_000_000, packets.udp4_frame(b, a, busy)),
        (T0 + 2_000_000, packets.udp4_frame(a, b, ack)),
        (T0 + 3_000_000, packets.udp4_frame(a, a, ping)),
        (T0 + 4_000_000, packets.udp4_frame(a, a, pong)),
    ])


class _Tags(HTMLParser):
    """Every start tag and all text of a page, and whether every element that was opened was
    closed in order (void elements aside)."""

    VOID = frozenset({"meta", "br", "line", "polygon", "path", "rect", "input"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.text: list[str] = []
        self.open: list[str] = []
        self.misnested: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.misnested.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser


def assert_only_its_own_script(html: str) -> None:
    """One script in the page, SCRIPT, inline: no other, and none from anywhere."""
    assert re.findall(r"<script\b[^>]*>", html) == ["<script>"]
    assert html.split("<script>")[1].split("</script>")[0] == SCRIPT


# -- the page as bytes --------------------------------------------------------------------------


def test_the_page_is_self_contained_and_well_formed(tmp_path: Path) -> None:
    code, _, _, html = run([REINVITE], tmp_path / "page.html")
    assert code == ExitStatus.FINDINGS  # an error finding, as without --html
    for outside in ("<link", "<img", "<iframe", " src=", "url(", "@import", "http:", "https:"):
        assert outside not in html, outside
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert_only_its_own_script(html)
    tags = parsed(html)
    assert tags.misnested == [] and tags.open == []
    assert html.count("<svg") == html.count("</svg>") == 1
    # the sections in their order: summary, calls, findings, ladders, what could not be read
    order = [html.index(f'<h2 id="{section}">') for section in
             ("capture", "calls", "findings", "ladders", "problems")]
    assert order == sorted(order)


def test_what_could_not_be_read_comes_last(tmp_path: Path) -> None:
    _, _, _, html = run(["samples/transport/malformed.pcap"], tmp_path / "page.html")
    rows = problem_cells(read("samples/transport/malformed.pcap")[1])
    assert rows  # the sample is there for its problems
    problems = html[html.index('<h2 id="problems">'):]
    assert problems.count("<tr>") == len(rows) + 1  # the heading row, and a row per kind
    for kind, count, frames, _ in rows:
        assert f"<tr><td>{kind}</td><td class=\"num\">{count}</td><td>{frames}</td>" in problems


def test_capture_text_never_becomes_markup(write_capture: Any, tmp_path: Path) -> None:
    code, _, _, html = run([str(write_capture(hostile_capture()))], tmp_path / "page.html")
    assert code == ExitStatus.OK
    tags = parsed(html)
    assert tags.misnested == [] and tags.open == []
    assert tags.tags <= PAGE_TAGS  # no <img> or <u> from the capture
    assert_only_its_own_script(html)  # and no <script>
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", html)  # controls are shown, not sent
    text = "".join(tags.text)
    shown_call_id = HOSTILE_CALL_ID.replace("\x01", "\\x01")
    assert text.count(shown_call_id) >= 4  # calls table, finding, ladder title and link
    assert ("&lt;script&gt;alert(1)&lt;/script&gt;&lt;/svg&gt;&quot;&#x27;&amp;amp;\\x01@evil"
            in html)
    assert "486 Busy &lt;img src=x onerror=alert(2)&gt;" in html  # the label, cut to fit
    assert HOSTILE_REASON.replace("\x1b", "\\x1b") in text  # whole in the arrow's tooltip


@pytest.mark.parametrize("sample", [SERVER_ERRORS, "samples/media/two-hops-relay.pcap"])
def test_the_same_capture_gives_the_same_bytes(tmp_path: Path, sample: str) -> None:
    _, _, _, first = run([sample], tmp_path / "one.html")
    _, _, _, second = run([sample], tmp_path / "two.html")
    assert first == second
    assert str(ROOT) not in first and str(tmp_path) not in first
    for outside in ("<link", "<img", " src=", "url(", "http:", "https:"):
        assert outside not in first, outside
    assert_only_its_own_script(first)


def test_golden_page(tmp_path: Path) -> None:
    """tests/golden/rules/reinvite-481.html: open it in a browser to review the page."""
    _, _, _, html = run([REINVITE], tmp_path / "page.html")
    check_golden("rules/reinvite-481.html", html)


def test_stdout_is_the_same_with_or_without_html(tmp_path: Path) -> None:
    for options in ([], ["--ladder"], ["--format", "json"], ["--failed"]):
        argv = [SERVER_ERRORS, *options, "--no-color", "--quiet"]
        plain = io.StringIO()
        main(argv, Environment(stdout=plain, stderr=io.StringIO(), stdin=io.BytesIO(),
                               environ={}))
        _, out, _, html = run([SERVER_ERRORS, *options], tmp_path / "page.html")
        assert out == plain.getvalue(), options
        assert html.count('<section class="ladder"') == 3  # the page draws every call


def test_the_page_follows_the_call_selection(tmp_path: Path) -> None:
    def sections(*options: str) -> list[str]:
        _, _, _, html = run([*options], tmp_path / "page.html")
        return re.findall(r'<section class="ladder" id="([^"]+)"', html)

    everything = sections(SERVER_ERRORS)
    assert len(everything) == 3
    _, _, _, html = run([SERVER_ERRORS], tmp_path / "page.html")
    call_ids = re.findall(r'<a href="#call-\d+">([^<]+)</a></td>', html)
    assert len(call_ids) == 3
    assert sections(SERVER_ERRORS, "--call", call_ids[1]) == [everything[1]]
    assert sections(SERVER_ERRORS, "--since", "+4", "--until", "+6") == [everything[1]]
    code, _, _, html = run([SERVER_ERRORS, "--ip", "203.0.113.99"], tmp_path / "none.html")
    assert (code, html) == (ExitStatus.ERROR, "")  # nothing matched: a mistake, and no page
    assert sections(SERVER_ERRORS, "--user", "bob") == everything
    assert len(sections(OPTIONS)) == 5
    assert len(sections(OPTIONS, "--failed")) == 2  # the two OPTIONS never answered


def test_ladders_are_capped_and_the_page_says_so(write_capture: Any, tmp_path: Path) -> None:
    calls = MAX_LADDERS + 5
    _, _, _, html = run([str(write_capture(call_capture(calls=calls)))], tmp_path / "page.html")
    drawn = re.findall(r'<section class="ladder" id="call-(\d+)"', html)
    assert [int(frame) for frame in drawn] == [1 + 4 * n for n in range(MAX_LADDERS)]
    sentence = load_engine().catalog.label("ladders_capped", total=calls, shown=MAX_LADDERS)
    assert sentence.split(":")[0] in html and html.count('<p class="note capped">') == 1
    # calls beyond the cap have no link
    assert html.count('<td class="mono callid"><a href="#call-') == MAX_LADDERS
    assert html.count("</tr>") >= calls  # but every call is in the table


def test_a_page_that_cannot_be_written_is_an_error_before_the_analysis(tmp_path: Path) -> None:
    page = tmp_path / "missing" / "page.html"
    code, out, err, _ = run([REINVITE], page)
    assert (code, out) == (ExitStatus.ERROR, "")  # no report: the mistake is found first
    assert err.splitlines()[-1] == (f"sipdiag analyze: error: argument --html: {page}: the "
                                    f"folder {page.parent} does not exist")


# -- the page in a browser ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,1000", "--host-resolver-rules=MAP * ~NOTFOUND"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def load(browser: WebDriver, page: Path) -> None:
    browser.get(page.resolve().as_uri())
    assert browser.execute_script("return document.readyState") == "complete"
    # nothing fetched: no image, font, style sheet or script from anywhere
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0


ARROWS = """
const box = (e) => { const r = e.getBoundingClientRect();
  return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width,
          height: r.height}; };
return [...document.querySelectorAll('section.ladder')].map((section) => {
  const svg = section.querySelector('svg.ladder');
  return {
    id: section.id, svg: box(svg),
    columns: [...svg.querySelectorAll('text.endpoint')].map(
      (t) => ({name: t.textContent, box: box(t)})),
    lanes: [...svg.querySelectorAll('line.lifeline')].map(box),
    arrows: [...svg.querySelectorAll('g.arrow')].map((g) => {
      const shaft = g.querySelector('line, path');
      const tag = g.querySelector('g.sdp');
      return {
        kind: ['media', 'media-end', 'dtmf'].find((k) => g.classList.contains(k)) || 'sip',
        frame: g.querySelector('text.when').textContent,
        mark: g.querySelector('text.when').getAttribute('class'),
        width: Number.parseFloat(getComputedStyle(shaft).strokeWidth),
        shaft: box(shaft), tip: box(g.querySelector('polygon')),
        label: g.querySelector('text.label').textContent,
        labelBox: box(g.querySelector('text.label')),
        colour: getComputedStyle(g).color,
        dashed: getComputedStyle(shaft).strokeDasharray !== 'none',
        opacity: Number(getComputedStyle(g).opacity),
        sdp: tag ? {text: tag.textContent, box: box(tag)} : null,
      };
    }),
  };
});
"""


def nearest(columns: list[dict[str, Any]], x: float) -> str:
    def distance(column: dict[str, Any]) -> float:
        box = column["box"]
        return abs((float(box["left"]) + float(box["right"])) / 2 - x)

    name: str = min(columns, key=distance)["name"]
    return name


def drawn_direction(arrow: dict[str, Any], columns: list[dict[str, Any]]) -> tuple[str, str]:
    """The columns the rendered arrow goes from and to, from where its head is."""
    shaft, tip = arrow["shaft"], arrow["tip"]
    if shaft["width"] <= 40 and tip["left"] <= shaft["left"] + 1:  # a loop: back to its lane
        lane = nearest(columns, tip["left"])
        return lane, lane
    if (tip["left"] + tip["right"]) / 2 > (shaft["left"] + shaft["right"]) / 2:
        return nearest(columns, shaft["left"]), nearest(columns, tip["right"])
    return nearest(columns, shaft["right"]), nearest(columns, tip["left"])


def sip_arrows(ladder: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of a ladder that are SIP messages (not a stream's start or end, or DTMF)."""
    return [arrow for arrow in ladder["arrows"] if arrow["kind"] == "sip"]


def check_ladders(ladders: list[dict[str, Any]], messages: list[SipMessage]) -> None:
    by_frame = {m.frame: m for m in messages}
    frames_of: dict[str, list[int]] = {}
    for message in messages:
        frames_of.setdefault(message.call_id or "", []).append(message.frame)
    drawn: list[int] = []
    for ladder in ladders:
        svg = ladder["svg"]
        assert svg["width"] > 0 and svg["height"] > 0 and svg["left"] >= 0
        assert [lane["height"] > 0 for lane in ladder["lanes"]] == [True] * len(ladder["lanes"])
        frames = [int(arrow["frame"]) for arrow in sip_arrows(ladder)]
        call_id = by_frame[frames[0]].call_id or ""
        assert frames == frames_of[call_id]  # one arrow per message of the call, in order
        drawn += frames
        for arrow in sip_arrows(ladder):
            message = by_frame[int(arrow["frame"])]
            where = f"{ladder['id']} frame {message.frame}"
            assert drawn_direction(arrow, ladder["columns"]) == (str(message.src),
                                                                 str(message.dst)), where
            label = message.method or f"{message.status} {message.reason}"
            assert arrow["label"].startswith(label[:20]), where
            assert arrow["colour"] == COLOURS[message.status // 100], where
            copy = "(copy " in arrow["label"]
            assert arrow["dashed"] is copy and (arrow["opacity"] < 1) is copy, where
            assert (arrow["sdp"] is not None) == (message.sdp is not None), where
            boxes = [arrow["labelBox"], arrow["tip"], *([arrow["sdp"]["box"]] if arrow["sdp"]
                                                         else [])]
            for box in boxes:  # drawn, and inside the picture (nothing cut off at its edge)
                assert box["width"] > 0 and box["height"] > 0, where
                assert svg["left"] <= box["left"] and box["right"] <= svg["right"] + 0.5, where
                assert svg["top"] <= box["top"] and box["bottom"] <= svg["bottom"], where
    assert sorted(drawn) == sorted(by_frame)  # every message of the capture is drawn once


@pytest.mark.parametrize("sample", [
    REINVITE, "samples/calls/redirect-302.pcap", "samples/calls/no-ack-32s.pcap", OPTIONS,
    "samples/calls/auth-challenge.pcap", "samples/media/dtmf-rfc4733.pcap",
    "samples/media/two-hops-relay.pcap",
])
def test_ladders_draw_every_message_from_sender_to_receiver(
    browser: WebDriver, tmp_path: Path, sample: str
) -> None:
    page = tmp_path / "page.html"
    run([sample], page)
    load(browser, page)
    ladders = browser.execute_script(ARROWS)
    messages, _ = read(sample)
    assert len(ladders) == len({m.call_id for m in messages})
    check_ladders(ladders, messages)
    for svg in browser.find_elements(By.CSS_SELECTOR, "svg.ladder"):
        assert svg.is_displayed()


def test_retransmissions_are_numbered_dashed_and_dimmed(
    browser: WebDriver, tmp_path: Path
) -> None:
    page = tmp_path / "page.html"
    run(["samples/calls/no-ack-32s.pcap"], page)
    load(browser, page)
    (ladder,) = browser.execute_script(ARROWS)
    labels = {int(arrow["frame"]): arrow["label"] for arrow in ladder["arrows"]}
    assert labels[4] == "200 OK"  # the first 200 OK, then ten copies of it
    assert [labels[frame] for frame in range(5, 15)] == [f"200 OK (copy {n})"
                                                         for n in range(2, 12)]
    copies = [arrow for arrow in ladder["arrows"] if "(copy" in arrow["label"]]
    assert len(copies) == 10 and all(a["dashed"] and a["opacity"] < 1 for a in copies)


def test_self_messages_loop_and_hostile_text_stays_text(
    browser: WebDriver, write_capture: Any, tmp_path: Path
) -> None:
    capture = write_capture(hostile_capture())
    page = tmp_path / "page.html"
    run([str(capture)], page)
    load(browser, page)  # an alert() would make every later call fail
    assert browser.execute_script("return document.scripts.length") == 1
    assert browser.find_elements(By.TAG_NAME, "img") == []
    ladders = browser.execute_script(ARROWS)
    messages, _ = read(capture)
    check_ladders(ladders, messages)
    loop = ladders[1]
    assert [a["label"] for a in loop["arrows"]] == ["OPTIONS", "200 OK <u>fine</u>"]
    lane = loop["lanes"][0]["left"]
    for arrow in loop["arrows"]:  # out to the right of its lane and back, head on the lane
        assert abs(arrow["shaft"]["left"] - lane) < 2 and arrow["shaft"]["width"] > 20
        assert abs(arrow["tip"]["left"] - lane) < 2
    shown = HOSTILE_CALL_ID.replace("\x01", "\\x01")
    cell = browser.find_element(By.CSS_SELECTOR, "table.calls td.callid")
    assert cell.text == shown
    assert browser.title.startswith("SIP diagnosis of ")


@pytest.mark.parametrize("sample", [REINVITE, "samples/rules/bye-reason-q850.pcap"])
def test_findings_are_readable_in_order_of_severity(
    browser: WebDriver, tmp_path: Path, sample: str
) -> None:
    page = tmp_path / "page.html"
    run([sample], page)
    load(browser, page)
    engine = load_engine()
    catalog = engine.catalog
    analysis = analyze(sample, engine=engine, ladders=Ladders.NONE)
    first = analysis.summary.first_ts_ns or 0
    articles = browser.find_elements(By.CSS_SELECTOR, "article.finding")
    assert len(articles) == len(analysis.findings) > 0
    for article, finding in zip(articles, analysis.findings, strict=True):
        assert article.is_displayed()
        assert article.size["width"] > 300 and article.size["height"] > 100
        text = " ".join(article.text.split())
        rule = finding.rule
        expected = [rule.severity.upper(), rule.id, rule.name, rule.title.get(),
                    finding.message(), rule.explanation.get(), rule.causes.get(),
                    rule.fix.get(), evidence_text(finding.evidence, catalog, first),
                    *rule.references]
        expected += [reference for kind, code in finding.refs
                     if (reference := catalog_reference(catalog, kind, code))]
        for words in expected:
            assert " ".join(words.split()) in text, words
        badge = article.find_element(By.CSS_SELECTOR, ".badge")
        assert badge.value_of_css_property("background-color") == {
            "error": "rgba(185, 28, 28, 1)", "warning": "rgba(180, 83, 9, 1)",
            "info": "rgba(3, 105, 161, 1)"}[rule.severity]
    if sample == "samples/rules/bye-reason-q850.pcap":
        assert any("Q.850 cause" in article.text for article in articles)


def test_every_link_leads_somewhere_on_the_page(
    browser: WebDriver, tmp_path: Path
) -> None:
    page = tmp_path / "page.html"
    run([SERVER_ERRORS], page)
    load(browser, page)
    missing = browser.execute_script(
        "return [...document.querySelectorAll('a')].map((a) => a.getAttribute('href'))"
        ".filter((h) => !h.startsWith('#') || !document.getElementById(h.slice(1)))")
    assert missing == []
    ids = browser.execute_script("return [...document.querySelectorAll('[id]')].map((e) => e.id)")
    assert len(ids) == len(set(ids))
    assert browser.execute_script("return window.scrollY") == 0
    link = browser.find_elements(By.CSS_SELECTOR, "table.calls td.callid a")[2]
    target = str(link.get_attribute("href")).split("#")[1]
    link.click()  # the call's section comes into the window (as far as the page scrolls)
    top, height, scrolled = browser.execute_script(
        f"return [document.getElementById('{target}').getBoundingClientRect().top, "
        "window.innerHeight, window.scrollY]")
    assert scrolled > 0 and 0 <= top < height / 2


# -- the tables: sorted and searched by the page's script, each in a box of its own -------------

SECOND = 1_000_000_000
CALLERS = (("c1@test", "mike", 700), ("c2@test", "alpha", 50), ("c3@test", "zulu", 12_000),
           ("c4@test", "charlie", None), ("c5@test", "bravo", 2_500), ("c6@test", "echo", 300))
"""Call-ID, the caller's user name, and milliseconds from its INVITE to the 180 (None: never
answered), in the order the calls start."""
TABLE = """
const table = document.querySelector(arguments[0]);
const heads = [...table.tHead.rows[0].cells];
const output = document.querySelector(`p.filter input[aria-controls="${table.id}"]`)
  ?.closest('p').querySelector('output');
return {
  headings: heads.map((th) => th.textContent),
  sorted: heads.map((th) => th.getAttribute('aria-sort')),
  buttons: table.querySelectorAll('thead th button').length,
  rows: [...table.tBodies[0].rows].filter((tr) => tr.getClientRects().length > 0).map(
    (tr) => [...tr.cells].map((td) => td.textContent)),
  count: output ? output.textContent : null,
  search: output ? output.closest('p').checkVisibility() : false,
};
"""
"""What a table shows: its headings and which one it is sorted by, the rows drawn, the count."""


def as_caller(message: bytes, user: str, branch: str) -> bytes:
    """tests/packets.py's message from ``user`` rather than alice, in a transaction of its own."""
    return (message.replace(b"alice", user.encode())
            .replace(b"z9hG4bK776asdhds", f"z9hG4bK{branch}".encode()))


def callers_capture() -> bytes:
    """A call per CALLERS entry, 20 s apart: INVITE, the 180 after its delay, the 200 a second
    later and the ACK; or the INVITE alone."""
    frames = []
    for n, (call_id, user, delay_ms) in enumerate(CALLERS):
        start = T0 + n * 20 * SECOND
        sent = [(start, packets.sip_request(call_id=call_id, body=packets.SDP), f"i{n}")]
        if delay_ms is not None:
            ringing = start + delay_ms * 1_000_000
            sent += [(ringing, packets.sip_response(180, "Ringing", call_id=call_id), f"i{n}"),
                     (ringing + SECOND, packets.sip_response(call_id=call_id, body=packets.SDP),
                      f"i{n}"),
                     (ringing + SECOND + 10_000_000, packets.sip_request("ACK", call_id=call_id),
                      f"a{n}")]
        for at, message, branch in sent:
            ends = (("192.0.2.2", "192.0.2.1") if message.startswith(b"SIP/") else
                    ("192.0.2.1", "192.0.2.2"))
            frames.append((at, packets.udp4_frame(*ends, as_caller(message, user, branch))))
    return packets.pcap(frames)


def callers_page(browser: WebDriver, write_capture: Any, tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    run([str(write_capture(callers_capture()))], page)
    load(browser, page)


def table(browser: WebDriver, css: str) -> dict[str, Any]:
    shown: dict[str, Any] = browser.execute_script(TABLE, css)
    return shown


def call_ids(browser: WebDriver) -> list[str]:
    """The Call-IDs of the rows of the calls table, as drawn from top to bottom."""
    return [row[-1] for row in table(browser, "table.calls")["rows"]]


def heading(browser: WebDriver, css: str, key: str) -> WebElement:
    """The button of the heading of the table's column the catalog's label ``key`` names."""
    column = table(browser, css)["headings"].index(load_engine().catalog.label(key))
    return browser.find_elements(By.CSS_SELECTOR, f"{css} thead th")[column].find_element(
        By.TAG_NAME, "button")


def sorted_by(browser: WebDriver, css: str) -> dict[str, str]:
    """Heading -> aria-sort, for the headings of the table that have one."""
    shown = table(browser, css)
    return {h: s for h, s in zip(shown["headings"], shown["sorted"], strict=True) if s}


def test_a_heading_sorts_the_calls_by_its_column_both_ways(
    browser: WebDriver, write_capture: Any, tmp_path: Path
) -> None:
    callers_page(browser, write_capture, tmp_path)
    catalog = load_engine().catalog
    assert call_ids(browser) == [call_id for call_id, _, _ in CALLERS]  # in frame order at first
    assert sorted_by(browser, "table.calls") == {}
    delays = {call_id: delay for call_id, _, delay in CALLERS if delay is not None}
    answered = sorted(delays, key=delays.__getitem__)
    never = [call_id for call_id, _, delay in CALLERS if delay is None]
    pdd = heading(browser, "table.calls", "col_pdd")
    pdd.click()
    assert call_ids(browser) == answered + never  # 0.050 < ... < 2.500 < 12.000; "-" last
    assert sorted_by(browser, "table.calls") == {catalog.label("col_pdd"): "ascending"}
    pdd.click()
    assert call_ids(browser) == answered[::-1] + never  # and the other way, "-" still last
    assert sorted_by(browser, "table.calls") == {catalog.label("col_pdd"): "descending"}
    users = {call_id: user for call_id, user, _ in CALLERS}
    caller = heading(browser, "table.calls", "col_from")
    caller.send_keys(Keys.ENTER)  # a button: reached and pressed from the keyboard
    assert browser.switch_to.active_element == caller
    assert call_ids(browser) == sorted(users, key=users.__getitem__)
    assert sorted_by(browser, "table.calls") == {catalog.label("col_from"): "ascending"}
    caller.send_keys(Keys.SPACE)
    assert call_ids(browser) == sorted(users, key=users.__getitem__, reverse=True)


def test_the_search_box_keeps_the_calls_holding_what_is_typed(
    browser: WebDriver, write_capture: Any, tmp_path: Path
) -> None:
    callers_page(browser, write_capture, tmp_path)
    catalog = load_engine().catalog
    box = browser.find_element(By.CSS_SELECTOR, 'p.filter input[aria-controls="table-calls"]')
    assert box.is_displayed()
    every = [call_id for call_id, _, _ in CALLERS]
    assert table(browser, "table.calls")["count"] == catalog.label(
        "search_count_calls", shown=len(every), total=len(every))
    for query in ("ECHO", "arL", "@TEST", " mike ", "no such call", ""):
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(Keys.DELETE, query)
        wanted = query.strip().lower()
        expected = [call_id for call_id, user, _ in CALLERS
                    if wanted in f"{user}@example.com".lower() or wanted in call_id.lower()]
        assert call_ids(browser) == expected, query
        assert table(browser, "table.calls")["count"] == catalog.label(
            "search_count_calls", shown=len(expected), total=len(every)), query
    box.send_keys("CHO")
    heading(browser, "table.calls", "col_pdd").click()  # sorting keeps the search
    assert call_ids(browser) == ["c6@test"]


def test_the_exchanges_are_sorted_and_searched_too(browser: WebDriver, tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    run([OPTIONS], page)
    load(browser, page)
    messages, _ = read(OPTIONS)
    first_frames: dict[str, int] = {}
    for message in messages:
        first_frames.setdefault(message.call_id, message.frame)
    frame = heading(browser, "table.exchanges", "col_frame")
    frame.click()
    frame.click()
    shown = table(browser, "table.exchanges")
    assert [int(row[0]) for row in shown["rows"]] == sorted(first_frames.values(), reverse=True)
    wanted = min(first_frames)
    box = browser.find_element(By.CSS_SELECTOR, 'p.filter input[aria-controls="table-exchanges"]')
    box.send_keys(wanted.upper())
    shown = table(browser, "table.exchanges")
    assert [row[-1] for row in shown["rows"]] == [wanted]
    assert shown["count"] == load_engine().catalog.label(
        "search_count_exchanges", shown=1, total=len(first_frames))


def test_without_its_script_the_page_reads_the_same(browser: WebDriver, tmp_path: Path) -> None:
    _, _, _, html = run([SERVER_ERRORS], tmp_path / "page.html")
    bare = tmp_path / "bare.html"
    bare.write_text(html.replace(f"<script>{SCRIPT}</script>", ""), encoding="utf-8")
    load(browser, bare)
    assert browser.execute_script("return document.scripts.length") == 0
    shown = table(browser, "table.calls")
    assert not shown["search"] and shown["buttons"] == 0  # nothing that would do nothing
    assert shown["headings"][0] == load_engine().catalog.label("col_frame")
    assert len(shown["rows"]) == 3  # every call
    first = browser.find_element(By.CSS_SELECTOR, "svg.ladder a")
    first.click()  # the message opens by CSS alone
    assert browser.execute_script(PANEL) is not None


def test_only_the_page_s_own_script_runs(browser: WebDriver, tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    _, _, _, html = run([REINVITE], page)
    (policy,) = re.findall(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', html)
    load(browser, page)
    script = browser.execute_script("return document.scripts[0].textContent")
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert policy == ("default-src 'none'; style-src 'unsafe-inline'; "
                      f"script-src 'sha256-{digest}'")
    assert table(browser, "table.calls")["buttons"] > 0  # it ran
    # one byte of it changed, in a comment: the browser no longer runs it
    assert "// Sort the tables" in html
    altered = tmp_path / "altered.html"
    altered.write_text(html.replace("// Sort the tables", "// sort the tables"), encoding="utf-8")
    load(browser, altered)
    shown = table(browser, "table.calls")
    assert shown["buttons"] == 0 and not shown["search"]


@pytest.mark.parametrize("width", [800, 1280])
def test_the_calls_table_scrolls_inside_its_own_box(
    browser: WebDriver, tmp_path: Path, width: int
) -> None:
    page = tmp_path / "page.html"
    run(["samples/rules/"], page)
    with window(browser, width, 900):
        load(browser, page)
        box = browser.execute_script(BOX, "table.calls")
        assert box["page"] <= box["window"]  # the page itself never scrolls sideways
        assert box["wide"] > box["shown"] and box["right"] <= box["window"]  # the box does
        assert box["tall"] > box["high"] and box["high"] <= 0.7 * box["innerHeight"] + 1
        browser.execute_script(
            "document.querySelector('table.calls').closest('.scroll').scrollTop = 1e6")
        scrolled = browser.execute_script(BOX, "table.calls")
        assert scrolled["boxTop"] == box["boxTop"]  # the rows moved, not the page
        assert abs(scrolled["headTop"] - scrolled["boxTop"]) <= 2  # the headings stay in sight


BOX = """
const box = document.querySelector(arguments[0]).closest('.scroll');
const page = document.documentElement;
const r = box.getBoundingClientRect();
return {page: page.scrollWidth, window: page.clientWidth, innerHeight: innerHeight,
        wide: box.scrollWidth, shown: box.clientWidth, tall: box.scrollHeight,
        high: box.clientHeight, boxTop: r.top, right: r.right,
        headTop: box.querySelector('thead th').getBoundingClientRect().top};
"""
"""The page's width, and the table's box: how much it holds and shows, where its headings are."""


@contextmanager
def window(browser: WebDriver, width: int, height: int) -> Iterator[None]:
    """The browser's window at this size for the block, then as it was."""
    size = browser.get_window_size()
    browser.set_window_size(width, height)
    try:
        yield
    finally:
        browser.set_window_size(size["width"], size["height"])


# -- each message one click from its arrow ------------------------------------------------------

PANEL = """
const panel = document.querySelector('article.message:target');
if (!panel || !panel.checkVisibility()) return null;
const r = panel.getBoundingClientRect();
const text = (css) => { const e = panel.querySelector(css); return e ? e.textContent : null; };
return {
  id: panel.id, title: text('h4'), head: text('pre.head'), heading: text('h5'),
  body: text('pre.body'), box: {left: r.left, right: r.right, top: r.top, bottom: r.bottom},
  window: {width: document.documentElement.clientWidth, height: innerHeight},
  markup: [...panel.querySelectorAll('pre *')].filter((e) => !e.matches('span.line')).length,
  links: [...panel.querySelectorAll('header a')].map(
    (a) => [a.textContent, a.getAttribute('href')]),
};
"""
"""The message open in its panel (the page's target), if one is shown."""
FIELDS = ("frame.number", "frame.time_epoch", "ip.src", "udp.srcport", "ip.dst", "udp.dstport",
          "udp.payload")


def tshark_udp(capture: str | Path) -> dict[int, dict[str, str]]:
    """Frame number -> FIELDS of each frame, as tshark reads the capture."""
    out = subprocess.run(
        ["tshark", "-r", str(capture), "-T", "fields",
         *itertools.chain.from_iterable(("-e", field) for field in FIELDS)],
        capture_output=True, text=True, check=True, timeout=60).stdout
    return {int(row[0]): dict(zip(FIELDS, row, strict=True))
            for row in (line.split("\t") for line in out.splitlines())}


def shown_text(data: bytes) -> str:
    """Bytes as the page shows them: lines ending in LF, controls as ``\\xNN``."""
    text = data.decode("utf-8", "replace").replace("\r\n", "\n")
    return re.sub(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", lambda m: f"\\x{ord(m[0]):02x}", text)


def arrow_of(browser: WebDriver, frame: int, nth: int = 0) -> WebElement:
    """The link of the (nth) message arrow of ``frame``."""
    return browser.find_elements(
        By.CSS_SELECTOR, f'svg.ladder a:has(> g.arrow[data-frame="{frame}"])')[nth]


def open_message(browser: WebDriver, arrow: WebElement) -> dict[str, Any]:
    """Click the arrow, where it is in the window, and what the page then shows."""
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", arrow)
    before = browser.execute_script("return window.scrollY")
    arrow.click()
    panel: dict[str, Any] = browser.execute_script(PANEL)
    assert panel is not None
    assert browser.execute_script("return window.scrollY") == before  # the ladder stays put
    return panel


def test_each_arrow_opens_its_message_as_captured(browser: WebDriver, tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    run([REINVITE], page)
    load(browser, page)
    catalog = load_engine().catalog
    frames = tshark_udp(REINVITE)
    first = Decimal(frames[min(frames)]["frame.time_epoch"])
    assert len(frames) == 10
    for number, fields in frames.items():
        payload = bytes.fromhex(fields["udp.payload"])
        head, _, body = payload.partition(b"\r\n\r\n")  # RFC 3261 7: headers, empty line, body
        panel = open_message(browser, arrow_of(browser, number))
        epoch = Decimal(fields["frame.time_epoch"])
        clock = time.strftime("%H:%M:%S", time.gmtime(int(epoch))) + f"{epoch % 1:.3f}"[1:]
        assert panel["title"] == catalog.label(
            "message_title", frame=number, clock=clock,
            offset="+" + catalog.label("seconds", n=f"{epoch - first:.3f}"),
            src=f"{fields['ip.src']}:{fields['udp.srcport']}",
            dst=f"{fields['ip.dst']}:{fields['udp.dstport']}", transport="UDP")
        assert panel["head"] == shown_text(head), number
        assert panel["body"] == (shown_text(body) if body else None), number
        sdp = b"\r\nContent-Type: application/sdp" in head
        assert panel["heading"] == (catalog.label("message_sdp") if sdp else None), number
        box, seen = panel["box"], panel["window"]
        assert 0 <= box["left"] < box["right"] <= seen["width"]  # in the window, beside the
        assert box["top"] == 0 and box["bottom"] == seen["height"]  # ladder, all its height
        close = browser.find_element(By.CSS_SELECTOR, "article.message:target a.close")
        close.click()
        assert browser.execute_script(PANEL) is None
        # back at the arrow it came from
        assert browser.execute_script("return location.hash") == f"#{panel['id']}-arrow"


def test_a_message_leads_to_the_next_and_escape_closes_it(
    browser: WebDriver, tmp_path: Path
) -> None:
    page = tmp_path / "page.html"
    run([REINVITE], page)
    load(browser, page)
    catalog = load_engine().catalog
    first = open_message(browser, arrow_of(browser, 1))
    assert [text for text, _ in first["links"]] == [catalog.label("message_next"),
                                                     catalog.label("message_close")]
    browser.find_element(By.LINK_TEXT, catalog.label("message_next")).click()
    second = browser.execute_script(PANEL)
    assert second["head"].startswith("SIP/2.0 100 Trying")  # frame 2
    assert second["links"][0] == [catalog.label("message_previous"), f"#{first['id']}"]
    ActionChains(browser).send_keys(Keys.ESCAPE).perform()
    assert browser.execute_script(PANEL) is None
    assert browser.execute_script("return location.hash") == f"#{second['id']}-arrow"


def test_a_message_s_markup_stays_text_in_its_panel(
    browser: WebDriver, write_capture: Any, tmp_path: Path
) -> None:
    capture = write_capture(hostile_capture())
    page = tmp_path / "page.html"
    run([str(capture)], page)
    load(browser, page)
    frames = tshark_udp(capture)
    for number in (1, 2):  # the INVITE (Call-ID, User-Agent) and the 486 (reason)
        head, _, body = bytes.fromhex(frames[number]["udp.payload"]).partition(b"\r\n\r\n")
        panel = open_message(browser, arrow_of(browser, number))
        assert panel["head"] == shown_text(head) and panel["markup"] == 0
        assert panel["body"] == (shown_text(body) if body else None)
        browser.find_element(By.CSS_SELECTOR, "article.message:target a.close").click()
    assert "User-Agent: <script>alert(3)</script>\\x02\"'" in shown_text(
        bytes.fromhex(frames[1]["udp.payload"]))
    assert browser.execute_script("return document.scripts.length") == 1  # and no alert()
    assert browser.find_elements(By.TAG_NAME, "img") == []


def test_two_messages_of_one_frame_open_each_its_own(
    browser: WebDriver, write_capture: Any, tmp_path: Path
) -> None:
    """Over TCP one segment can end two messages: an ACK and a BYE in frame 3."""
    a, b = "192.0.2.1", "192.0.2.2"
    invite, ok, ack, bye = (message.replace(b"SIP/2.0/UDP", b"SIP/2.0/TCP") for message in (
        packets.sip_request(body=packets.SDP), packets.sip_response(body=packets.SDP),
        packets.sip_request("ACK"), packets.sip_request("BYE", cseq=2)))

    def segment(src: str, dst: str, ports: tuple[int, int], seq: int, data: bytes) -> bytes:
        return packets.ethernet(packets.ipv4(src, dst, 6, packets.tcp(*ports, seq, data)))

    capture = write_capture(packets.pcap([
        (T0, segment(a, b, (40000, 5060), 1000, invite)),
        (T0 + 1_000_000, segment(b, a, (5060, 40000), 5000, ok)),
        (T0 + 2_000_000, segment(a, b, (40000, 5060), 1000 + len(invite), ack + bye)),
    ]))
    page = tmp_path / "page.html"
    run([str(capture)], page)
    load(browser, page)
    opened = []
    for nth, message in enumerate((ack, bye)):
        panel = open_message(browser, arrow_of(browser, 3, nth))
        assert panel["head"] == shown_text(message.partition(b"\r\n\r\n")[0])
        assert panel["title"].endswith(f"{a}:40000 → {b}:5060 TCP")
        opened.append(panel["id"])
        browser.find_element(By.CSS_SELECTOR, "article.message:target a.close").click()
    assert len(set(opened)) == 2
    ids = browser.execute_script("return [...document.querySelectorAll('[id]')].map((e) => e.id)")
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("width", [1280, 800])
@pytest.mark.parametrize("sample", [REINVITE, "samples/rules/"])
def test_screenshots_with_a_message_open(
    browser: WebDriver, tmp_path: Path, sample: str, width: int
) -> None:
    """The page with the first message a finding names open, at a desk's width and a narrow
    one: nothing makes the page scroll sideways, the panel is in the window. With
    SIPDIAG_SCREENSHOTS=DIR, each is kept as DIR/NAME-WIDTH.png for a person to look at."""
    page = tmp_path / "page.html"
    run([sample], page)
    with window(browser, width, 900):
        load(browser, page)
        panel = open_message(browser, browser.find_element(
            By.CSS_SELECTOR, "svg.ladder a:has(text.when.error)"))
        box, seen = panel["box"], panel["window"]
        assert 0 <= box["left"] < box["right"] <= seen["width"]
        assert 0 <= box["top"] < box["bottom"] <= seen["height"] and panel["head"]
        assert browser.execute_script(
            "return document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        folder = os.environ.get("SIPDIAG_SCREENSHOTS")
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            name = Path(sample).stem or Path(sample).name
            assert browser.save_screenshot(str(Path(folder) / f"{name}-{width}.png"))


# -- media: the streams' table, their rows in the ladder, a timeline each -----------------------

MEDIA = "samples/media"
PTIME_MS = 20
"""samples/media/README.md: a packet every 20 ms from the stream's first, in every crafted
file (the truth gives sequence numbers; this gives their times)."""
LOSSY = ["audio-gap.pcap", "capture-dropped.pcap", "g729-loss.pcap", "loss-burst.pcap",
         "loss-random.pcap", "srtp-savp.pcap", "two-hops-relay.pcap"]
"""The files whose streams lose packets, each at its steady pace (no jitter, nothing late)."""
SECTIONS = """
const box = (e) => { const r = e.getBoundingClientRect();
  return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width,
          height: r.height}; };
const texts = (svg, selector) => [...svg.querySelectorAll(selector)].map(
  (t) => ({text: t.textContent, box: box(t)}));
const rect = (g, css) => { const r = g.querySelector('rect.' + css); return r ? box(r) : null; };
return [...document.querySelectorAll('section.ladder')].map((section) => {
  const table = section.querySelector('table.streams');
  return {
    id: section.id,
    title: section.querySelector('h3').textContent,
    media: [...section.querySelectorAll('dl.mediastate dd')].map((dd) => dd.textContent),
    headings: table ? [...table.querySelectorAll('thead th')].map((th) => th.textContent) : [],
    rows: table ? [...table.querySelectorAll('tbody tr')].map(
      (tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)) : [],
    timelines: [...section.querySelectorAll('figure.timeline')].map((figure) => {
      const svg = figure.querySelector('svg.timeline');
      const jitter = svg.querySelector('path.jitter');
      const first = (css, property) => { const e = svg.querySelector(css);
        return e ? getComputedStyle(e)[property] : null; };
      return {
        caption: figure.querySelector('figcaption').textContent,
        svg: box(svg), plot: box(svg.querySelector('rect.plot')),
        counts: texts(svg, 'text.count'), jitters: texts(svg, 'text.jitter:not(.title)'),
        seconds: texts(svg, 'text.second'), titles: texts(svg, 'text.title'),
        jitter: jitter ? box(jitter) : null,
        colours: {packets: first('rect.packets', 'fill'), lost: first('rect.lost', 'fill'),
                  jitter: first('path.jitter', 'stroke')},
        bars: [...svg.querySelectorAll('g.bar')].map((g) => ({
          title: g.querySelector('title').textContent,
          packets: rect(g, 'packets'), lost: rect(g, 'lost'),
        })),
      };
    }),
  };
});
"""
WARNING = "rgb(180, 83, 9)"


@cache
def truth(name: str) -> dict[str, Any]:
    files: dict[str, dict[str, Any]] = json.loads(
        (ROOT / MEDIA / "truth.json").read_text(encoding="utf-8"))["files"]
    return files[name]


def media_page(browser: WebDriver, tmp_path: Path, name: str) -> list[dict[str, Any]]:
    """The call sections of the page of samples/media/NAME, as the browser drew them."""
    page = tmp_path / "page.html"
    run([f"{MEDIA}/{name}"], page)
    load(browser, page)
    sections: list[dict[str, Any]] = browser.execute_script(SECTIONS)
    return sections


def section_of(sections: list[dict[str, Any]], call_id: str) -> dict[str, Any]:
    (section,) = [s for s in sections if call_id in s["title"]]
    return section


def cells(section: dict[str, Any], key: str) -> list[str]:
    """The column of the section's media table headed by the catalog's label ``key``."""
    column = section["headings"].index(load_engine().catalog.label(key))
    return [row[column] for row in section["rows"]]


def stream_name(stream: dict[str, Any]) -> str:
    """How a timeline's caption names the truth's stream: from → to, SSRC."""
    return f"{stream['src']} → {stream['dst']}, {stream['ssrc']}"


def timeline_of(section: dict[str, Any], stream: dict[str, Any]) -> dict[str, Any]:
    (timeline,) = [t for t in section["timelines"] if t["caption"].endswith(stream_name(stream))]
    return timeline


def due(stream: dict[str, Any]) -> tuple[list[int], list[int]]:
    """Packets received and packets lost per second from the stream's first packet, each in the
    second it was due: the truth's sequence numbers, one every PTIME_MS."""
    lost = set(stream["lost_seqs"])
    received, missing = Counter[int](), Counter[int]()
    for index in range(stream["expected"]):
        seq = (stream["first_seq"] + index) % 65536
        (missing if seq in lost else received)[index * PTIME_MS // 1000] += 1
    seconds = max(received) + 1
    return [received[n] for n in range(seconds)], [missing[n] for n in range(seconds)]


def centre(box: dict[str, float], axis: str) -> float:
    low, high = ("left", "right") if axis == "x" else ("top", "bottom")
    return (box[low] + box[high]) / 2


def number(text: str) -> float:
    found = re.match(r"[\d.]+", text)
    assert found, text
    return float(found.group())


def drawn_bars(timeline: dict[str, Any]) -> dict[int, tuple[int, int]]:
    """Second -> (packets, lost) as the bars are drawn: read off the axes the browser laid out,
    where each bar is and how tall."""
    plot = timeline["plot"]
    counts = sorted((number(t["text"]), centre(t["box"], "y")) for t in timeline["counts"])
    top, top_y = counts[-1]
    assert counts[0][0] == 0 and abs(counts[0][1] - plot["bottom"]) < 4  # 0 on the baseline
    assert abs(top_y - plot["top"]) < 4  # and the largest figure at the top of the plot
    per_count = plot["height"] / top
    ticks = [(number(t["text"]), centre(t["box"], "x")) for t in timeline["seconds"]]
    (first, first_x), (last, last_x) = ticks[0], ticks[-1]
    assert first == 0 and abs(first_x - plot["left"]) < 1  # time runs from the first packet
    per_second = (last_x - first_x) / (last - first)
    bars: dict[int, tuple[int, int]] = {}
    for bar in timeline["bars"]:
        packets, lost = bar["packets"], bar["lost"]
        if packets is None and lost is None:
            continue
        shown = packets or lost
        second = math.floor((centre(shown, "x") - first_x) / per_second)
        assert second not in bars
        if packets and lost:  # the lost packets stacked on the ones that came
            assert abs(lost["bottom"] - packets["top"]) < 0.5
            assert abs(packets["bottom"] - plot["bottom"]) < 0.5
        bars[second] = (round(packets["height"] / per_count) if packets else 0,
                        round(lost["height"] / per_count) if lost else 0)
    return bars


def test_the_calls_table_has_the_media_of_each_call(tmp_path: Path) -> None:
    _, _, _, html = run([f"{MEDIA}/one-way-callee-silent.pcap"], tmp_path / "page.html")
    catalog = load_engine().catalog
    head = re.search(r'<table class="calls sortable" id="table-calls">\n<thead><tr>(.*?)</tr>',
                     html)
    assert head and f"<th>{catalog.label('col_media')}</th>" in head.group(1)
    one_way = catalog.label("media_one_way", side=catalog.label("side_callee"))
    assert truth("one-way-callee-silent.pcap")["calls"][0]["not_heard"] == "callee"
    assert f"<td>{one_way}</td>" in html


@pytest.mark.parametrize("name", sorted(
    name for name in json.loads((ROOT / MEDIA / "truth.json").read_text())["files"]
    if truth(name)["rtp_streams"]))
def test_every_stream_has_its_row_and_timeline(
    browser: WebDriver, tmp_path: Path, name: str
) -> None:
    sections = media_page(browser, tmp_path, name)
    catalog = load_engine().catalog
    for call in truth(name)["calls"]:
        section = section_of(sections, call["call_id"])
        streams = [s for s in truth(name)["rtp_streams"] if s["call_id"] == call["call_id"]]
        assert len(section["rows"]) == len(section["timelines"]) == len(streams), call
        if not streams:  # a call without media: no table (its Media column says so)
            continue
        rows = list(zip(*(cells(section, key) for key in (
            "col_source", "col_destination", "col_ssrc", "col_packets", "col_lost")), strict=True))
        for stream in streams:
            (row,) = [r for r in rows if r[:3] == (stream["src"], stream["dst"], stream["ssrc"])]
            percent = 100 * stream["lost"] / stream["expected"]
            assert row[3:] == (str(stream["packets"]), catalog.label(
                "lost_value", lost=stream["lost"], percent=f"{percent:.1f}"))
            timeline = timeline_of(section, stream)
            bars = drawn_bars(timeline).values()
            assert sum(packets for packets, _ in bars) == stream["packets"], stream["ssrc"]
            assert sum(lost for _, lost in bars) == stream["lost"], stream["ssrc"]
            titles = [bar["title"] for bar in timeline["bars"]]
            assert sum(int(number(t.split("packets ")[1])) for t in titles) == stream["packets"]
            box, svg = timeline["plot"], timeline["svg"]
            assert box["width"] > 0 and svg["left"] <= box["left"] <= box["right"] <= svg["right"]


@pytest.mark.parametrize("name", LOSSY)
def test_lost_bars_sit_in_the_seconds_the_lost_packets_were_due(
    browser: WebDriver, tmp_path: Path, name: str
) -> None:
    sections = media_page(browser, tmp_path, name)
    for stream in truth(name)["rtp_streams"]:
        timeline = timeline_of(section_of(sections, stream["call_id"]), stream)
        received, lost = due(stream)
        bars = drawn_bars(timeline)
        assert [bars.get(n, (0, 0)) for n in range(len(received))] == list(
            zip(received, lost, strict=True)), stream["ssrc"]
        assert max(bars) < len(received)
        # each bar's tooltip says the same figures, for its second
        for n, bar in enumerate(timeline["bars"]):
            assert bar["title"].startswith(f"{n}–{n + 1} s, "), bar["title"]
            assert f"packets {received[n]}, lost {lost[n]}, " in bar["title"]
        if stream["lost"]:
            assert timeline["colours"]["lost"] == WARNING
            assert timeline["colours"]["packets"] != WARNING


def test_the_jitter_line_reaches_the_largest_jitter(browser: WebDriver, tmp_path: Path) -> None:
    sections = media_page(browser, tmp_path, "jitter.pcap")
    for stream in truth("jitter.pcap")["rtp_streams"]:
        timeline = timeline_of(section_of(sections, stream["call_id"]), stream)
        plot, line = timeline["plot"], timeline["jitter"]
        assert line is not None and abs(line["left"] - plot["left"]) < 1
        assert abs(line["right"] - plot["right"]) < 1  # across every second
        top = max(number(t["text"]) for t in timeline["jitters"])
        highest = (plot["bottom"] - line["top"]) / plot["height"] * top
        assert highest == pytest.approx(stream["max_jitter_ms"], abs=top / plot["height"] + 0.05)
        assert timeline["colours"]["jitter"] not in (WARNING, timeline["colours"]["packets"])
        catalog = load_engine().catalog
        assert [t["text"] for t in timeline["titles"]] == [catalog.label(key) for key in (
            "timeline_packets", "timeline_lost", "timeline_jitter")]


def test_media_rows_are_drawn_where_the_streams_start_and_end(
    browser: WebDriver, tmp_path: Path
) -> None:
    for name in ("loss-burst.pcap", "dtmf-rfc4733.pcap", "two-hops-relay.pcap",
                 "reinvite-moves-media.pcap"):
        page = tmp_path / "page.html"
        run([f"{MEDIA}/{name}"], page)
        load(browser, page)
        ladders = {ladder["id"]: ladder for ladder in browser.execute_script(ARROWS)}
        sections = browser.execute_script(SECTIONS)
        sip_colours = set(COLOURS.values())
        catalog = load_engine().catalog
        for stream in truth(name)["rtp_streams"]:
            ladder = ladders[section_of(sections, stream["call_id"])["id"]]
            frames = [int(arrow["frame"]) for arrow in ladder["arrows"]]
            assert frames == sorted(frames)  # the rows in frame order, messages and media
            rows = {(arrow["kind"], int(arrow["frame"])): arrow for arrow in ladder["arrows"]}
            start = rows[("media", stream["first_frame"])]
            end = rows[("media-end", stream["last_frame"])]
            assert start["label"] == catalog.label("rtp_band", codec=stream["codec"],
                                                   packets=stream["packets"])
            assert end["label"] == catalog.label("rtp_end", ssrc=stream["ssrc"])
            for arrow in (start, end):
                where = f"{name} {stream['ssrc']} frame {arrow['frame']}"
                assert drawn_direction(arrow, ladder["columns"]) == (stream["src"],
                                                                     stream["dst"]), where
                assert arrow["colour"] not in sip_colours, where
            assert start["width"] > 3 and not start["dashed"]  # the stream's start: a band
            assert end["dashed"] and end["colour"] == start["colour"]
            for event in stream.get("dtmf") or ():
                press = rows[("dtmf", event["start_frame"])]
                assert press["label"] == catalog.label("dtmf_event", digit=event["digit"])
                assert press["colour"] not in {*sip_colours, start["colour"]}
                assert drawn_direction(press, ladder["columns"]) == (stream["src"],
                                                                     stream["dst"])
        expected = {("media", s["first_frame"]) for s in truth(name)["rtp_streams"]}
        drawn = {(a["kind"], int(a["frame"])) for ladder in ladders.values()
                 for a in ladder["arrows"] if a["kind"] == "media"}
        assert drawn == expected


def test_findings_mark_the_rtp_frames_they_name(browser: WebDriver, tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    run([f"{MEDIA}/loss-burst.pcap"], page)
    load(browser, page)
    (ladder,) = browser.execute_script(ARROWS)
    (lossy,) = [s for s in truth("loss-burst.pcap")["rtp_streams"] if s["lost"]]
    analysis = analyze(f"{MEDIA}/loss-burst.pcap", engine=load_engine(), ladders=Ladders.NONE)
    (loss,) = [f for f in analysis.findings if f.rule.name == "packet-loss"]
    assert loss.severity == "warning"
    assert {lossy["first_frame"], lossy["last_frame"]} <= {e.frame for e in loss.evidence}
    marks = {int(a["frame"]): a["mark"] for a in ladder["arrows"]}
    assert marks[lossy["first_frame"]] == marks[lossy["last_frame"]] == "when warning"
    (clean,) = [s for s in truth("loss-burst.pcap")["rtp_streams"] if not s["lost"]]
    assert marks[clean["first_frame"]] == "when"


def hostile_media_capture() -> bytes:
    """tests/report/hostile.py's call, answered, with markup and controls as its codec's name
    in both SDPs, and RTP both ways of which five packets are lost."""
    codec = "<img src=x onerror=alert(5)>\x1b[2J&amp;"

    def sdp(ip: str, port: int) -> str:
        return (f"v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
                f"m=audio {port} RTP/AVP 96\r\na=rtpmap:96 {codec}/8000\r\na=sendrecv\r\n")

    def rtp(seq: int, ssrc: int) -> bytes:
        return struct.pack("!BBHII", 0x80, 96, seq, 160 * seq, ssrc) + b"\xd5" * 160

    call_id, a, b = hostile.CALL_ID, "192.0.2.1", "192.0.2.2"
    sip = [packets.sip_request(call_id=call_id, body=sdp(a, 4000)),
           packets.sip_response(call_id=call_id, body=sdp(b, 5000)),
           packets.sip_request("ACK", call_id=call_id)]
    frames = [(T0 + n * 10_000_000, packets.udp4_frame(*((a, b) if n != 1 else (b, a)),
                                                       hostile._hostile_from(message)))
              for n, message in enumerate(sip)]
    for n in range(100):
        at = T0 + 100_000_000 + n * 20_000_000
        if not 30 <= n < 35:
            frames.append((at, packets.udp4_frame(a, b, rtp(n, 0xDEADBEEF), 4000, 5000)))
        frames.append((at + 5_000_000, packets.udp4_frame(b, a, rtp(n, 0x0BADF00D), 5000, 4000)))
    return packets.pcap(frames)


def test_media_text_from_the_capture_stays_text(
    browser: WebDriver, write_capture: Any, tmp_path: Path
) -> None:
    page = tmp_path / "page.html"
    _, _, _, html = run([str(write_capture(hostile_media_capture()))], page)
    tags = parsed(html)
    assert tags.misnested == [] and tags.open == [] and tags.tags <= PAGE_TAGS
    assert_only_its_own_script(html)
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", html)
    load(browser, page)
    assert browser.execute_script("return document.scripts.length") == 1
    assert browser.find_elements(By.TAG_NAME, "img") == []
    (section,) = browser.execute_script(SECTIONS)
    shown = "<img src=x onerror=alert(5)>\\x1b[2J&amp;/8000"
    assert cells(section, "col_codec") == [shown, shown]  # as text, controls shown
    assert section["title"].startswith(f"Ladder of {hostile.CALL_ID[:10]}")
    (ladder,) = browser.execute_script(ARROWS)
    starts = [a["label"] for a in ladder["arrows"] if a["kind"] == "media"]
    assert len(starts) == 2 and all(s.startswith("RTP <img src=x") for s in starts)
    lossy = timeline_of(section, {"src": "192.0.2.1:4000", "dst": "192.0.2.2:5000",
                                  "ssrc": "0xDEADBEEF"})
    assert drawn_bars(lossy) == {0: (45, 5), 1: (50, 0)}  # packets 30-34 were due at 0.6 s


def test_a_long_stream_is_drawn_in_buckets_within_the_width() -> None:
    analysis = analyze(f"{MEDIA}/loss-burst.pcap", engine=load_engine(), ladders=Ladders.ALL)
    (call,) = analysis.calls
    assert call.media is not None
    item = call.media.streams[1]
    catalog = load_engine().catalog
    for seconds in (1, 3, MAX_BARS, MAX_BARS + 1, 3 * 3600 + 7):
        timeline = Timeline(tuple(range(seconds)), (0, 3) * (seconds // 2), (0.5,) * seconds)
        stream = item.stream._replace(timeline=timeline, outages=())
        bars = timeline_bars(stream)
        assert len(bars) <= MAX_BARS and bars[0].start == 0 and bars[-1].end == seconds
        assert all(a.end == b.start for a, b in itertools.pairwise(bars))
        assert sum(bar.packets for bar in bars) == sum(timeline.packets)
        assert sum(bar.lost for bar in bars) == sum(timeline.lost)
        figure = timeline_figure(item._replace(stream=stream), catalog)
        width = number(figure.split('<svg class="timeline" width="')[1])
        assert width <= MAX_PLOT + 200 and figure.count('<g class="bar">') == len(bars)
        assert figure == timeline_figure(item._replace(stream=stream), catalog)
    assert len(timeline_bars(item.stream._replace(timeline=Timeline(
        (50,) * (MAX_BARS + 1), (), ())))) == -(-(MAX_BARS + 1) // 2)
