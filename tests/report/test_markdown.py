"""The Markdown report: what a ticket shows, parsed back with a CommonMark parser (markdown-it,
with the GitHub tables and strikethrough), so that escaping is checked the way it is read."""

from __future__ import annotations

import io
import itertools
import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from sipdiag.cli import Environment, main
from sipdiag.report.call_list import CALL_COLUMNS, user
from sipdiag.report.escape import for_terminal
from tests.conftest import SAMPLES, sample_captures
from tests.report.hostile import CALL_ID, REASON, USER, hostile_capture

PARSER = MarkdownIt("commonmark").enable("table").enable("strikethrough")
MARKUP = {"em_open", "code_inline", "link_open", "image", "html_inline", "html_block", "s_open",
          "code_block", "fence", "hr"}
"""Tokens the report never writes on purpose: seeing one means capture text became markup."""
PIPE = re.compile(r"(?<!\\)(?:\\\\)*\|")


def markdown(path: Path | str) -> str:
    out = io.StringIO()
    env = Environment(stdout=out, stderr=io.StringIO(), stdin=io.BytesIO(), environ={})
    assert main([str(path), "--format", "markdown"], env) in (0, 1)
    return out.getvalue()


def cells(tokens: list[Token]) -> list[list[str]]:
    """The text of every cell of every table row, as a reader sees it."""
    rows: list[list[str]] = []
    for token, following in itertools.pairwise(tokens):
        if token.type == "tr_open":
            rows.append([])
        elif token.type in ("th_open", "td_open") and following.type == "inline":
            rows[-1].append("".join(child.content for child in following.children or []))
    return rows


def check_structure(text: str) -> list[Token]:
    tokens = PARSER.parse(text)
    every = [*tokens, *(child for t in tokens for child in t.children or [])]
    assert not {t.type for t in every} & MARKUP
    # our only emphasis is the bold label at the start of each item of a finding
    assert sum(t.type == "strong_open" for t in every) == text.count("\n- **")
    table: list[str] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            table.append(line)
        elif table:
            widths = {len(PIPE.findall(row)) for row in table}
            assert len(widths) == 1, table  # every row has as many cells as the heading
            table = []
    return tokens


def test_capture_text_stays_text(write_capture) -> None:
    text = markdown(write_capture(hostile_capture()))
    assert "\x1b" not in text and "\x07" not in text
    tokens = check_structure(text)
    rows = cells(tokens)
    [call] = [row for row in rows if len(row) == len(CALL_COLUMNS) and row[0] == "1"]
    assert call[CALL_COLUMNS.index("col_from")] == for_terminal(user(f"sip:{USER}@evil.example"))
    assert call[CALL_COLUMNS.index("col_call_id")] == for_terminal(CALL_ID)
    [item] = [t for t in tokens if t.type == "inline" and "INVITE in frame 1" in t.content]
    shown = "".join(child.content for child in item.children or [])
    assert f"answered 500 {for_terminal(REASON)} by 192.0.2.2:5060" in shown
    rendered = PARSER.render(text)
    assert "<b>" not in rendered and "&lt;b&gt;d&lt;/b&gt;" in rendered


@pytest.mark.parametrize("path", sample_captures(), ids=lambda p: str(p.relative_to(SAMPLES)))
def test_every_sample_gives_well_formed_markdown(path: Path) -> None:
    check_structure(markdown(path))


def test_findings_most_severe_first_with_their_catalog_entries() -> None:
    text = markdown(SAMPLES / "rules" / "codec-mismatch-488-606.pcap")
    headings = re.findall(r"^### (\w+) (\w+)", text, re.M)
    assert headings == [("ERROR", "C116"), ("ERROR", "C116"), ("INFO", "I102")]
    assert text.count("- **See also:** SIP Warning 305 (Incompatible media format)") == 2
    sections = re.findall(r"^## (.+)$", text, re.M)
    assert sections == ["Capture", "Outcomes", "Calls", "Findings"]
