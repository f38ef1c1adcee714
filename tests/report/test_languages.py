"""Korean and Japanese: every text in all three languages, the language chosen from --lang or
the locale, English standing in for a missing text (and listed), identifiers kept in English,
and wide characters aligned in tables and ladders."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
import yaml
from rich.cells import cell_len

from sipdiag.cli import Environment, ExitStatus, main
from sipdiag.cli.common import language
from sipdiag.rules import load_engine, texts_of
from sipdiag.rules.text import LANGUAGES
from tests.conftest import ROOT

ENGINE = load_engine()
CATALOG = ENGINE.catalog
SAMPLE = "samples/rules/reinvite-481.pcap"
HUMAN_KEYS = {"title", "message"}
"""The keys of the JSON document whose values are words for people (translated)."""


def run(argv: list[str], environ: dict[str, str] | None = None) -> tuple[int, str]:
    out = io.StringIO()
    env = Environment(stdout=out, stderr=io.StringIO(), stdin=io.BytesIO(),
                      environ=environ or {})
    return main(argv, env), out.getvalue()


def test_every_text_is_in_every_language_with_the_same_placeholders() -> None:
    texts = list(texts_of(ENGINE))
    assert len(texts) > 800
    for text in texts:
        for lang in LANGUAGES:
            assert text.has(lang), f"{text.where}: no {lang}"
            assert text.placeholders(lang) == text.placeholders(), text.where


@pytest.mark.parametrize(
    ("option", "environ", "expected"),
    [
        (None, {}, "en"),
        (None, {"LANG": "ko_KR.UTF-8"}, "ko"),
        (None, {"LANG": "ko_KR.UTF-8", "LC_ALL": "ja_JP.UTF-8"}, "ja"),
        (None, {"LANG": "ja_JP.UTF-8", "LC_MESSAGES": "ko_KR"}, "ko"),
        (None, {"LANG": "fr_FR.UTF-8"}, "en"),  # no French: English
        (None, {"LC_ALL": "C.UTF-8", "LANG": "ja_JP.UTF-8"}, "en"),  # LC_ALL decides
        ("ko", {"LANG": "ja_JP.UTF-8"}, "ko"),
    ],
)
def test_the_language_comes_from_the_option_then_the_locale(
    option: str | None, environ: dict[str, str], expected: str
) -> None:
    class Args:
        lang = option

    assert language(Args(), environ) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("lang", ["ko", "ja"])
def test_terminal_report_speaks_the_language(lang: str) -> None:
    code, out = run([str(ROOT / SAMPLE), "--no-color", "--ladder", "--lang", lang])
    assert code == ExitStatus.FINDINGS
    for key in ("capture", "calls", "findings", "what_happened", "how_to_fix", "evidence"):
        assert CATALOG.label(key, lang) in out, key
    d101 = ENGINE.rules.by_id("D101")
    assert d101 is not None and d101.title.get(lang) in out
    assert CATALOG.label("what_happened") not in out  # no English label left


@pytest.mark.parametrize("lang", ["ko", "ja"])
def test_locale_chooses_the_language_when_no_option_is_given(lang: str) -> None:
    _, out = run([str(ROOT / SAMPLE), "--no-color"], {"LANG": f"{lang}_XX.UTF-8"})
    assert CATALOG.label("findings", lang) in out


@pytest.mark.parametrize("lang", ["ko", "ja"])
def test_markdown_and_html_speak_the_language(lang: str, tmp_path: Path) -> None:
    _, markdown = run([str(ROOT / SAMPLE), "--format", "markdown", "--lang", lang])
    assert CATALOG.label("how_to_fix", lang) in markdown
    page = tmp_path / "page.html"
    run([str(ROOT / SAMPLE), "--html", str(page), "--lang", lang, "-q"])
    html = page.read_text(encoding="utf-8")
    assert f'<html lang="{lang}"' in html
    assert CATALOG.label("how_to_fix", lang) in html


def _identifiers(value: object) -> object:
    """The document without its words for people."""
    if isinstance(value, dict):
        return {k: _identifiers(v) for k, v in value.items() if k not in HUMAN_KEYS}
    if isinstance(value, list):
        return [_identifiers(v) for v in value]
    return value


@pytest.mark.parametrize("lang", ["ko", "ja"])
def test_json_keeps_its_identifiers_in_english(lang: str) -> None:
    english = json.loads(run([str(ROOT / SAMPLE), "--format", "json"])[1])
    translated = json.loads(run([str(ROOT / SAMPLE), "--format", "json", "--lang", lang])[1])
    assert _identifiers(translated) == _identifiers(english)
    assert [f["rule"] for f in translated["findings"]] == ["D102", "D101"]
    assert translated["findings"][1]["title"] == ENGINE.rules.by_id("D101").title.get(lang)  # type: ignore[union-attr]
    assert translated["calls"][0]["outcome"] == "dropped"


@pytest.mark.parametrize("lang", ["ko", "ja"])
def test_junit_keeps_identifiers_and_translates_words(lang: str) -> None:
    english = run([str(ROOT / SAMPLE), "--format", "junit"])[1]
    translated = run([str(ROOT / SAMPLE), "--format", "junit", "--lang", lang])[1]
    types = re.compile(r'type="([^"]*)"')
    assert types.findall(translated) == types.findall(english) == ["D102"]  # errors fail
    assert 'classname="sipdiag.calls"' in translated


@pytest.mark.parametrize("lang", ["ko", "ja"])
def test_wide_characters_stay_aligned_in_tables_and_ladders(lang: str) -> None:
    _, out = run([str(ROOT / SAMPLE), "--no-color", "--ladder", "--lang", lang])
    lines = out.splitlines()
    boxes = [line.rstrip() for line in lines if line and line[0] in "┏┃┡│└"]
    tables: list[list[str]] = []
    for line in boxes:
        if line.startswith("┏"):
            tables.append([])
        tables[-1].append(line)
    assert tables
    for table in tables:  # every line of a box is as wide as its top edge
        assert {cell_len(line) for line in table} == {cell_len(table[0])}, table[0]
        for line in table[1:]:  # and its column rules stand at the same places
            assert _rule_positions(line) <= _rule_positions(table[1]) | _rule_positions(table[0])
    ladder = [line for line in lines if "│" in line and ("▶" in line or "◀" in line)]
    assert len(ladder) == 10
    assert len({tuple(sorted(_rule_positions(line, "│"))) for line in ladder}) == 1


def _rule_positions(line: str, rules: str = "┃│┳╇┼┯┿┏┓┡┩└┘┴") -> set[int]:
    positions, x = set(), 0
    for char in line:
        if char in rules:
            positions.add(x)
        x += cell_len(char)
    return positions


def test_a_missing_translation_falls_back_to_english_and_is_listed(tmp_path: Path) -> None:
    # a folder named by 80 characters: the listing's table would wrap the file name if it could
    mine = tmp_path / ("r" * (80 - len(str(tmp_path)) - 1))
    mine.mkdir()
    rule = yaml.safe_load((ROOT / "rules/calls/D101-bye-answered-481.yaml").read_text("utf-8"))
    for key in ("title", "message", "explanation", "causes", "fix"):
        rule[key] = {"en": rule[key]["en"]}  # English only
    rule["id"], rule["name"] = "X2", "bye-481-again"
    (mine / "X2-bye-481-again.yaml").write_text(yaml.safe_dump(rule, sort_keys=False), "utf-8")
    code, out = run([str(ROOT / "samples/calls/bye-481.pcap"), "--no-color", "--lang", "ko",
                     "--rules", str(mine)])
    assert "BYE answered 481 (the far end had lost the dialog)" in out  # X2's English title
    assert ENGINE.rules.by_id("D101").title.get("ko") in out  # type: ignore[union-attr]
    code, listing = run(["translations", "--lang", "ko", "--rules", str(mine), "--no-color"])
    assert code == ExitStatus.FINDINGS
    assert "X2-bye-481-again.yaml" in listing and "D101" not in listing
    code, listing = run(["translations", "--lang", "ja", "--no-color"])
    assert code == ExitStatus.OK and listing.strip() == CATALOG.labels[
        "translations_complete"].render({"language": "ja"}, "ja")

