"""The per-source summary (``sipdiag CAPTURE --sources``) in the terminal, Markdown and HTML
reports, run through the command line: the same cells in every format, checked against tshark's
reading of the capture; text from the capture (a User-Agent, a method) shown as written and never
taken for markup; without ``--sources`` the reports as they were; in the page, a table sorted and
searched by the page's script like the calls."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from sipdiag.cli import Environment, ExitStatus, main
from sipdiag.report.html import SCRIPT
from sipdiag.report.sources import ROWS_SHOWN, SOURCE_COLUMNS
from sipdiag.rules import load_engine
from sipdiag.rules.catalog import Catalog
from tests import packets
from tests.conftest import SAMPLES
from tests.report import test_html
from tests.report.test_html import (
    PAGE_TAGS,
    assert_only_its_own_script,
    heading,
    load,
    parsed,
    table,
)
from tests.report.test_json_fields import sources_expected
from tests.report.test_markdown import cells, check_structure
from tests.test_cli import T0

SCANNER = SAMPLES / "security" / "scanner-friendly-scanner.pcap"
ENVIRON = {"SIPDIAG_CACHE": "off"}
AGENT = "<b>|x</b> [red]x[/red] `tick`"
"""The User-Agent of the crafted capture's caller: HTML, a Markdown cell's end, rich markup and
a code span."""
METHOD = "EVIL`*_~"
"""An extension method: every one of its characters is a token character (RFC 3261 25.1), and
each is Markdown emphasis, code or strikethrough."""
browser = test_html.browser
"""Headless Chromium, started once for this module's page tests."""
STATUS_CLASSES = ("2xx", "3xx", "4xx", "5xx", "6xx", "none")
"""The classes of final answers (RFC 3261 7.2), in the order the table names them, then the
requests that got none."""


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdout=out, stderr=err, stdin=io.BytesIO(), environ=ENVIRON)
    code = main([*argv, "--quiet"], env)
    return code, out.getvalue(), err.getvalue()


@cache
def catalog() -> Catalog:
    return load_engine().catalog


def labels() -> list[str]:
    return [catalog().label(column) for column in SOURCE_COLUMNS]


def labels_title() -> str:
    return catalog().label("sources_title")


def expected_rows(path: Path, verdicts: dict[str, str]) -> dict[str, list[str]]:
    """Each source's cells as tshark reads the capture (``sources_expected``): its requests by
    method, the most sent first; the classes of their final answers, 2xx to 6xx then none; its
    first and last request to the second (UTC); its first User-Agent. ``verdicts``: what the
    rules say of the sources they name."""
    rows = {}
    for address, source in sources_expected(path).items():
        requests = sorted(source["requests"].items(), key=lambda item: (-item[1], item[0]))
        statuses = [(name, source["statuses"][name]) for name in STATUS_CLASSES
                    if source["statuses"][name]]
        rows[address] = [
            address,
            " ".join(f"{method} {count}" for method, count in requests),
            str(source["users"]),
            " ".join(f"{status} {count}" for status, count in statuses),
            source["first_seen"][:19].replace("T", " "),
            source["last_seen"][:19].replace("T", " "),
            source["user_agents"][0] if source["user_agents"] else "-",
            verdicts.get(address, "-"),
        ]
    return rows


# -- each format's table, read back the way its reader reads it ----------------------------------


def terminal_rows(text: str) -> list[list[str]]:
    """The heading and the rows of the boxed table under the title ``Sources``."""
    lines, title = text.splitlines(), labels_title()
    start = next(n for n, line in enumerate(lines) if line.rstrip() == title)
    end = next(n for n in range(start, len(lines)) if lines[n].startswith("└"))
    return [[cell.strip() for cell in line.split(line[0])[1:-1]]
            for line in lines[start + 1:end] if line[0] in "┃│"]


def markdown_rows(text: str) -> list[list[str]]:
    """The cells of the table under ``## Sources`` as a CommonMark reader (with GitHub tables)
    sees them; the part is checked to hold no markup and as many cells in each row."""
    part = text.split(f"\n## {labels_title()}\n", 1)[1]
    return cells(check_structure(part))


class _TableCells(HTMLParser):
    """The text of each cell of the table ``table_id``, and any element inside a cell."""

    def __init__(self, table_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.table_id = table_id
        self.inside = False
        self.cell: list[str] | None = None
        self.rows: list[list[str]] = []
        self.markup: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.inside = dict(attrs).get("id") == self.table_id
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag in ("td", "th"):
            self.cell = []
        elif self.cell is not None:
            self.markup.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.inside and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append("".join(self.cell))
            self.cell = None
        elif tag == "table":
            self.inside = False

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def html_rows(text: str) -> list[list[str]]:
    """The cells of the page's sources table, as text; no element inside any of them."""
    parser = _TableCells("table-sources")
    parser.feed(text)
    parser.close()
    assert parser.markup == []
    return parser.rows


FORMATS: dict[str, tuple[list[str], Callable[[str], list[list[str]]]]] = {
    # name: (options, what reads the rows of its sources table)
    "terminal": (["--no-color"], terminal_rows),
    "markdown": (["--format", "markdown"], markdown_rows),
    "html": (["--format", "html"], html_rows),
}


def rows_of(kind: str, text: str) -> list[list[str]]:
    return FORMATS[kind][1](text)


# -- the captures -------------------------------------------------------------------------------


def request(method: str, n: int, user: str, agent: str | None = None,
            uri: str | None = None) -> bytes:
    """tests/packets.py's request to ``user``, in a dialog and transaction of its own (Call-ID
    and branch ``n``)."""
    extra = [f"User-Agent: {agent}"] if agent else []
    message = packets.sip_request(method, call_id=f"c{n}@test", uri=uri or f"sip:{user}@test",
                                  extra=extra)
    return _as(message, n, user)


def answer(status: int, reason: str, method: str, n: int, user: str) -> bytes:
    return _as(packets.sip_response(status, reason, call_id=f"c{n}@test", method=method), n, user)


def _as(message: bytes, n: int, user: str) -> bytes:
    return (message.replace(b"z9hG4bK776asdhds", f"z9hG4bK{n}".encode())
            .replace(b"<sip:bob@example.com>", f"<sip:{user}@test>".encode()))


SERVER = "192.0.2.2"
CALLER, ODD, PROBER = "192.0.2.1", "192.0.2.7", "192.0.2.9"


def hostile_capture() -> bytes:
    """Three sources: CALLER, whose User-Agent is AGENT, sends an INVITE (486, then its ACK) and
    an OPTIONS (200) to bob; ODD sends METHOD, with a User-Agent of rich markup, to carol and
    dave (501 each); PROBER sends a REGISTER for each of ten users (401 each)."""
    sent = [(CALLER, SERVER, request("INVITE", 1, "bob", AGENT)),
            (SERVER, CALLER, answer(486, "Busy Here", "INVITE", 1, "bob")),
            (CALLER, SERVER, request("ACK", 1, "bob", AGENT)),
            (CALLER, SERVER, request("OPTIONS", 2, "bob", AGENT)),
            (SERVER, CALLER, answer(200, "OK", "OPTIONS", 2, "bob"))]
    for n, user in enumerate(("carol", "dave"), 10):
        sent += [(ODD, SERVER, request(METHOD, n, user, "[red]x[/red]")),
                 (SERVER, ODD, answer(501, "Not Implemented", METHOD, n, user))]
    for n in range(20, 30):
        user = str(n + 180)
        sent += [(PROBER, SERVER, request("REGISTER", n, user, uri="sip:test")),
                 (SERVER, PROBER, answer(401, "Unauthorized", "REGISTER", n, user))]
    return packets.pcap([(T0 + i * 10_000_000, packets.udp4_frame(src, dst, message))
                         for i, (src, dst, message) in enumerate(sent)])


HOSTILE_VERDICTS = {PROBER: "S102 user-enumeration"}
"""S102 (rules/security/S102-user-enumeration.yaml): one source, 10 users or more in 60 s, at
least 80 % refused: PROBER's ten REGISTERs, all 401. No other rule names a source."""


def crowd_capture() -> bytes:
    """ROWS_SHOWN + 1 sources, each sending one OPTIONS, answered 200."""
    frames = []
    for n in range(1, ROWS_SHOWN + 2):
        source = f"198.51.100.{n}"
        frames += [(source, SERVER, request("OPTIONS", n, "bob")),
                   (SERVER, source, answer(200, "OK", "OPTIONS", n, "bob"))]
    return packets.pcap([(T0 + i * 1_000_000, packets.udp4_frame(src, dst, message))
                         for i, (src, dst, message) in enumerate(frames)])


@pytest.fixture
def hostile(write_capture: Any) -> Path:
    path: Path = write_capture(hostile_capture(), "hostile.pcap")
    return path


# -- the tests ----------------------------------------------------------------------------------


def test_tshark_reads_the_scanner_sample_as_one_source() -> None:
    """What the other tests compare with: one source, 127.0.0.1, 32 requests (30 INVITE, one
    OPTIONS, one REGISTER), its User-Agent friendly-scanner."""
    expected = sources_expected(SCANNER)
    assert list(expected) == ["127.0.0.1"]
    source = expected["127.0.0.1"]
    assert source["request_count"] == 32
    assert dict(source["requests"]) == {"INVITE": 30, "OPTIONS": 1, "REGISTER": 1}
    assert source["user_agents"] == ["friendly-scanner"]


@pytest.mark.parametrize("kind", FORMATS)
def test_the_scanner_s_row_in_every_format(kind: str) -> None:
    """The one row of the scanner sample, cell by cell, as tshark reads the capture. Verdict:
    S101 (its User-Agent holds friendly-scanner, in rules/security/S101's list) and S102 (30
    users, 31 of the 32 requests answered 401 or 404, within a minute)."""
    code, out, err = run([str(SCANNER), "--sources", *FORMATS[kind][0]])
    assert code == ExitStatus.OK and err == ""
    verdicts = {"127.0.0.1": "S101 scanner-user-agent, S102 user-enumeration"}
    assert rows_of(kind, out) == [labels(), *expected_rows(SCANNER, verdicts).values()]


def test_the_page_written_with_html_file_has_the_table_too(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    code, out, _ = run([str(SCANNER), "--sources", "--no-color", "--html", str(page)])
    assert code == ExitStatus.OK
    html = page.read_text(encoding="utf-8")
    verdicts = {"127.0.0.1": "S101 scanner-user-agent, S102 user-enumeration"}
    assert html_rows(html) == [labels(), *expected_rows(SCANNER, verdicts).values()]
    assert terminal_rows(out) == html_rows(html)  # and stdout the terminal's, with its own
    assert f'<a href="#sources">{labels_title()}</a>' in html


@pytest.mark.parametrize("kind", FORMATS)
def test_capture_text_in_a_source_stays_text(kind: str, hostile: Path) -> None:
    """AGENT and METHOD shown as written, every other cell as tshark reads the capture; no
    markup made of them (checked by each format's reader)."""
    code, out, _ = run([str(hostile), "--sources", *FORMATS[kind][0]])
    assert code == ExitStatus.OK
    expected = expected_rows(hostile, HOSTILE_VERDICTS)
    assert expected[CALLER][6] == AGENT and expected[ODD][1] == f"{METHOD} 2"  # tshark's reading
    shown = rows_of(kind, out)
    assert shown[0] == labels()
    assert {row[0]: row for row in shown[1:]} == expected
    if kind == "html":
        tags = parsed(out)
        assert tags.misnested == [] and tags.open == [] and tags.tags <= PAGE_TAGS
        assert_only_its_own_script(out)
        assert "&lt;b&gt;|x&lt;/b&gt; [red]x[/red] `tick`" in out
    if kind == "markdown":
        assert r"\<b\>\|x\</b\> \[red\]x\[/red\] \`tick\`" in out


@pytest.mark.parametrize("options", [["--format", "markdown"], ["--format", "html"]],
                         ids=["markdown", "html"])
def test_without_sources_the_report_is_as_it_was(options: list[str], hostile: Path) -> None:
    """Without --sources no table; with it, the table (and the page's link to it) and nothing
    else changed."""
    _, plain, _ = run([str(hostile), *options])
    _, with_sources, _ = run([str(hostile), "--sources", *options])
    title = labels_title()
    if options[-1] == "markdown":
        assert f"## {title}" not in plain
        before, _ = with_sources.split(f"\n\n## {title}\n", 1)
        assert before + "\n" == plain and markdown_rows(with_sources)
        return
    assert 'id="table-sources"' not in plain and 'href="#sources"' not in plain
    section = re.search(r'<h2 id="sources">.*?</table></div>\n', with_sources, re.DOTALL)
    assert section is not None and html_rows(section.group())
    link = f'<a href="#sources">{title}</a>'
    assert with_sources.replace(section.group(), "").replace(link, "") == plain


def test_the_terminal_without_sources_has_no_table(hostile: Path) -> None:
    _, plain, _ = run([str(hostile), "--no-color"])
    _, with_sources, _ = run([str(hostile), "--no-color", "--sources"])
    assert labels_title() not in plain.splitlines()
    assert len(terminal_rows(with_sources)) == 1 + len(sources_expected(hostile))


@pytest.mark.parametrize("kind", FORMATS)
def test_a_table_shows_the_first_sources_and_counts_the_rest(kind: str,
                                                             write_capture: Any) -> None:
    path = write_capture(crowd_capture())
    code, out, _ = run([str(path), "--sources", *FORMATS[kind][0]])
    assert code == ExitStatus.OK
    assert len(sources_expected(path)) == ROWS_SHOWN + 1
    assert len(rows_of(kind, out)) == 1 + ROWS_SHOWN
    more = catalog().label("sources_more", count=1)
    assert more in out


# -- the page's table in a browser --------------------------------------------------------------


ALIGNED = """
return [...document.querySelectorAll('table.sources tbody tr')].map(
  (row) => getComputedStyle(row.cells[arguments[0]]).textAlign);
"""
"""How the cells of a column of the sources table are aligned."""


def addresses(browser: WebDriver) -> list[str]:
    """The sources the page's table shows, from top to bottom."""
    return [row[0] for row in table(browser, "table.sources")["rows"]]


@pytest.fixture
def hostile_page(browser: WebDriver, hostile: Path, tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    code, _, _ = run([str(hostile), "--sources", "--no-color", "--html", str(page)])
    assert code == ExitStatus.OK and SCRIPT in page.read_text(encoding="utf-8")
    load(browser, page)


@pytest.mark.usefixtures("hostile_page")
def test_the_sources_are_sorted_and_searched_like_the_calls(browser: WebDriver,
                                                            hostile: Path) -> None:
    expected = {address: source["users"] for address, source in sources_expected(hostile).items()}
    assert sorted(expected.values()) == [1, 2, 10]  # as text, 10 would come before 2
    column = SOURCE_COLUMNS.index("col_users")
    assert browser.execute_script(ALIGNED, column) == ["right"] * len(expected)  # a count
    by_users = heading(browser, "table.sources", "col_users")
    by_users.click()  # as numbers: 1 < 2 < 10
    assert addresses(browser) == sorted(expected, key=expected.__getitem__)
    by_users.click()
    assert addresses(browser) == sorted(expected, key=expected.__getitem__, reverse=True)
    box = browser.find_element(By.CSS_SELECTOR, 'p.filter input[aria-controls="table-sources"]')
    for query, shown in (("[RED]", [ODD, CALLER]), ("<b>|x", [CALLER]), ("evil`", [ODD]),
                         ("", [PROBER, ODD, CALLER])):
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(Keys.DELETE, query)
        assert addresses(browser) == shown, query
        assert table(browser, "table.sources")["count"] == catalog().label(
            "search_count_sources", shown=len(shown), total=len(expected)), query
