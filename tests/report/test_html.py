"""The HTML report (``--html FILE``): one self-contained page, checked as bytes and in a browser.

The browser tests load the page in headless Chromium (Debian's ``chromium`` and
``chromium-driver``, which .ci/run installs) through Selenium, once per module, with every host
name made unresolvable: the page must need no network. They measure what the browser drew (the
rendered boxes of the SVG arrows, lifelines and labels) and compare it with the messages of the
capture as ``MessageReader`` reads them.

The golden page is tests/golden/rules/reinvite-481.html (open it in a browser to review it);
``SIPDIAG_UPDATE_GOLDEN=1 python3 -m pytest tests/report/test_html.py`` rewrites it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By

from sipdiag.cli import Environment, ExitStatus, main
from sipdiag.pipeline import Ladders, analyze
from sipdiag.report.findings import catalog_reference, evidence_text
from sipdiag.report.html import MAX_LADDERS
from sipdiag.report.summary import problem_cells
from sipdiag.rules import load_engine
from sipdiag.sip.message import SipMessage
from tests import packets
from tests.conftest import ROOT, read
from tests.golden import check_golden
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
    "header", "section", "svg", "g", "text", "line", "path", "polygon", "rect",
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

    VOID = frozenset({"meta", "br", "line", "polygon", "path", "rect"})

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


# -- the page as bytes --------------------------------------------------------------------------


def test_the_page_is_self_contained_and_well_formed(tmp_path: Path) -> None:
    code, _, _, html = run([REINVITE], tmp_path / "page.html")
    assert code == ExitStatus.FINDINGS  # an error finding, as without --html
    for outside in ("<script", "<link", "<img", "<iframe", " src=", "url(", "@import",
                    "http:", "https:"):
        assert outside not in html, outside
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
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
    assert tags.tags <= PAGE_TAGS  # no <script>, <img> or <u> from the capture
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", html)  # controls are shown, not sent
    text = "".join(tags.text)
    shown_call_id = HOSTILE_CALL_ID.replace("\x01", "\\x01")
    assert text.count(shown_call_id) >= 4  # calls table, finding, ladder title and link
    assert ("&lt;script&gt;alert(1)&lt;/script&gt;&lt;/svg&gt;&quot;&#x27;&amp;amp;\\x01@evil"
            in html)
    assert "486 Busy &lt;img src=x onerror=alert(2)&gt;" in html  # the label, cut to fit
    assert HOSTILE_REASON.replace("\x1b", "\\x1b") in text  # whole in the arrow's tooltip


def test_the_same_capture_gives_the_same_bytes(tmp_path: Path) -> None:
    _, _, _, first = run([SERVER_ERRORS], tmp_path / "one.html")
    _, _, _, second = run([SERVER_ERRORS], tmp_path / "two.html")
    assert first == second
    assert str(ROOT) not in first and str(tmp_path) not in first


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
    assert sections(SERVER_ERRORS, "--ip", "203.0.113.99") == []
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
    assert html.count('<a href="#call-') == MAX_LADDERS  # calls beyond the cap have no link
    assert html.count("</tr>") >= calls  # but every call is in the table


def test_a_page_that_cannot_be_written_is_an_error(tmp_path: Path) -> None:
    code, _, err, _ = run([REINVITE], tmp_path / "missing" / "page.html")
    assert code == ExitStatus.ERROR
    assert err.startswith("sipdiag: error: cannot write ") and err.count("\n") == 1


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
        frame: g.querySelector('text.when').textContent,
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
        frames = [int(arrow["frame"]) for arrow in ladder["arrows"]]
        call_id = by_frame[frames[0]].call_id or ""
        assert frames == frames_of[call_id]  # one arrow per message of the call, in order
        drawn += frames
        for arrow in ladder["arrows"]:
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
    "samples/calls/auth-challenge.pcap",
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
    assert browser.execute_script("return document.scripts.length") == 0
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
    assert browser.execute_script("return window.scrollY") == 0
    link = browser.find_elements(By.CSS_SELECTOR, "table.calls td.callid a")[2]
    target = str(link.get_attribute("href")).split("#")[1]
    link.click()  # the call's section comes into the window (as far as the page scrolls)
    top, height, scrolled = browser.execute_script(
        f"return [document.getElementById('{target}').getBoundingClientRect().top, "
        "window.innerHeight, window.scrollY]")
    assert scrolled > 0 and 0 <= top < height / 2
