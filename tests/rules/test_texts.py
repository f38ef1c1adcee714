"""Texts in several languages (sipdiag/rules/text.py, rules/README.md): how a text field is
read and every mistake it can hold, placeholders filled by plain substitution with ``{{``/``}}``
for braces, the fall-back to English; and the helpers of sipdiag/rules/__init__.py that find the
built-in rules and list every text of the rules and the catalog."""

from __future__ import annotations

from pathlib import Path

import pytest

import sipdiag.rules
from sipdiag.rules import Engine, builtin_folder, texts_of
from sipdiag.rules.catalog import Catalog, Explained, Q850Cause, ResponseCode, WarningCode
from sipdiag.rules.loader import RuleSet
from sipdiag.rules.model import Rule
from sipdiag.rules.text import Text, need_text, parse_text, placeholders_of
from sipdiag.rules.yamlfile import DataError, Fields, load

GOOD = """\
other: 1
title:
  en: "Frame {bye.frame}: {{literal}} for {call.call_id}"
  ko: "{bye.frame} 프레임: {{literal}} {call.call_id}"
  pt-BR: "Quadro {bye.frame} {call.call_id}"
"""


def fields_of(tmp_path: Path, text: str) -> Fields:
    path = tmp_path / "texts.yaml"
    path.write_text(text, encoding="utf-8")
    return Fields(load(path), path, "the file")


def text_error(tmp_path: Path, text: str, key: str = "title") -> str:
    fields = fields_of(tmp_path, text)
    with pytest.raises(DataError) as caught:
        parse_text(fields, key)
    return str(caught.value).removeprefix(f"{fields.path}")


def test_a_text_field_is_read_with_its_languages_and_where_it_was(tmp_path: Path) -> None:
    fields = fields_of(tmp_path, GOOD)
    text = parse_text(fields, "title")
    assert text is not None
    assert dict(text.by_language) == {
        "en": "Frame {bye.frame}: {{literal}} for {call.call_id}",
        "ko": "{bye.frame} 프레임: {{literal}} {call.call_id}",
        "pt-BR": "Quadro {bye.frame} {call.call_id}",
    }
    assert text.where == f"{fields.path}:2 title"
    assert need_text(fields, "title") == text


def test_only_newlines_around_a_text_are_dropped(tmp_path: Path) -> None:
    """A ``>`` block ends with a newline, which is dropped; quoted spaces are meant."""
    text = parse_text(fields_of(tmp_path, 'title:\n  en: ", "\n  ko: |\n    줄\n\n'), "title")
    assert text is not None and text.get() == ", " and text.get("ko") == "줄"
    kept = parse_text(fields_of(tmp_path, "title:\n  en: XML X\n"), "title")
    assert kept is not None and kept.get() == "XML X"


def test_an_optional_text_that_is_not_there(tmp_path: Path) -> None:
    assert parse_text(fields_of(tmp_path, GOOD), "fix", required=False) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("other: 1\n", ":1: 'title' is missing"),
        ("other: 1\ntitle: plain words\n", ":2: 'title' must be a map (found 'plain words')"),
        ("title:\n  en: Hello\n  korean: 예\n", ":3: 'korean' in 'title' is not a language tag"),
        ("title:\n  en: Hello\n  e: x\n", ":3: 'e' in 'title' is not a language tag"),
        ("title:\n  en: Hello\n  engl: x\n", ":3: 'engl' in 'title' is not a language tag"),
        ("title:\n  en: Hello\n  pt-: x\n", ":3: 'pt-' in 'title' is not a language tag"),
        ("title:\n  en: Hello\n  KO: x\n", ":3: 'KO' in 'title' is not a language tag"),
        ("title:\n  en: Hello\n  ko: 3\n", ":3: 'ko' must be text (found 3)"),
        ("title:\n  en: Hello\n  ko: ' '\n", ":3: the ko text of 'title' is empty"),
        ("title:\n  en: Hello\n  ko: \"\\n\\n\"\n", ":3: the ko text of 'title' is empty"),
        ("other: 1\ntitle:\n  ko: 예\n  ja: はい\n", ":2: 'title' has no English (en) text"),
        ("title:\n  en: '{a} {b}'\n  ko: '{a} {b}'\n  ja: '{a}'\n",
         ":4: the ja text of 'title' has placeholders ['a'], English has ['a', 'b']"),
        ("title:\n  en: '{a}'\n  ko: '{a} {c.d}'\n",
         ":3: the ko text of 'title' has placeholders ['a', 'c.d'], English has ['a']"),
        ("title:\n  en: '{a}'\n  ko: '{{a}}'\n",
         ":3: the ko text of 'title' has placeholders [], English has ['a']"),
    ],
)
def test_mistakes_in_a_text_field(tmp_path: Path, text: str, expected: str) -> None:
    assert text_error(tmp_path, text) == expected


def test_need_text_of_a_missing_key(tmp_path: Path) -> None:
    fields = fields_of(tmp_path, GOOD)
    with pytest.raises(DataError) as caught:
        need_text(fields, "fix")
    assert str(caught.value) == f"{fields.path}:1: 'fix' is missing"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Frame 7: {literal} for abc@host"),
        ("ko", "7 프레임: {literal} abc@host"),
        ("pt-BR", "Quadro 7 abc@host"),
        ("ja", "Frame 7: {literal} for abc@host"),  # no Japanese: the English text
    ],
)
def test_render_fills_the_placeholders_in_a_language(
    tmp_path: Path, language: str, expected: str
) -> None:
    text = parse_text(fields_of(tmp_path, GOOD), "title")
    assert text is not None
    assert text.render({"bye.frame": "7", "call.call_id": "abc@host"}, language) == expected


def test_render_defaults_to_english() -> None:
    text = Text({"en": "A {x}", "ko": "가 {x}"})
    assert text.render({"x": "1"}) == "A 1"
    assert text.get() == "A {x}"


@pytest.mark.parametrize(
    ("written", "values", "expected"),
    [
        ("{a} and {b}", {"a": "1"}, "1 and {b}"),  # unknown placeholders stay as written
        ("{{a}} is {a}", {"a": "1"}, "{a} is 1"),
        ("}}{{", {}, "}{"),
        ("{a}{a}", {"a": "{b}", "b": "2"}, "{b}{b}"),  # a value is not filled again
        ("{ a }", {"a": "1", " a ": "2"}, "{ a }"),  # not a placeholder
        ("{a.b.c}", {"a.b.c": "1"}, "{a.b.c}"),  # at most one dot
        ("{step.frame}", {"step.frame": "9", "step": "x"}, "9"),
        ("{0} {__class__}", {"0": "zero"}, "{0} {__class__}"),
    ],
)
def test_render_is_plain_substitution(written: str, values: dict[str, str],
                                      expected: str) -> None:
    assert Text({"en": written}).render(values) == expected


def test_an_empty_translation_falls_back_to_english() -> None:
    text = Text({"en": "Yes {a}", "ko": ""})
    assert text.get("ko") == "Yes {a}" and text.render({"a": "1"}, "ko") == "Yes 1"


def test_has_says_which_languages_are_written() -> None:
    text = Text({"en": "Yes", "ko": "예"})
    assert text.has("en") and text.has("ko") and not text.has("ja")


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("{a} {b.c} {a}", {"a", "b.c"}),
        ("{{a}} {_x1}", {"_x1"}),
        ("{1a} {a-b} {}", set()),
        ("no braces", set()),
    ],
)
def test_placeholders(written: str, expected: set[str]) -> None:
    assert placeholders_of(written) == expected
    assert Text({"en": written}).placeholders() == expected
    assert Text({"en": "x", "ko": written}).placeholders("ko") == expected


def test_the_built_in_folder_of_a_source_checkout() -> None:
    root = Path(__file__).resolve().parents[2]
    assert builtin_folder() == root / "rules"


def fake_package(tmp_path: Path, folders: tuple[str, ...]) -> Path:
    """A tree like an installed sipdiag (``sipdiag/rules/__init__.py``) with these folders,
    each with a ``catalog/`` of its own."""
    package = tmp_path / "site" / "sipdiag"
    (package / "rules").mkdir(parents=True)
    for folder in folders:
        (tmp_path / "site" / folder / "catalog").mkdir(parents=True, exist_ok=True)
    return package


@pytest.mark.parametrize(
    ("folders", "expected"),
    [
        (("sipdiag/builtin_rules", "rules"), "sipdiag/builtin_rules"),  # installed: its copy
        (("rules",), "rules"),  # a source checkout: rules/ beside the package
    ],
)
def test_where_the_built_in_rules_are_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, folders: tuple[str, ...], expected: str
) -> None:
    package = fake_package(tmp_path, folders)
    monkeypatch.setattr(sipdiag.rules, "__file__", str(package / "rules" / "__init__.py"))
    assert builtin_folder() == tmp_path / "site" / expected


def test_a_folder_without_its_catalog_is_not_the_built_in_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = fake_package(tmp_path, ())
    (package / "builtin_rules").mkdir()  # no catalog/ in it
    (package.parent / "rules" / "calls").mkdir(parents=True)
    monkeypatch.setattr(sipdiag.rules, "__file__", str(package / "rules" / "__init__.py"))
    with pytest.raises(DataError) as caught:
        builtin_folder()
    assert str(caught.value) == f"{package}: the built-in rules folder is missing"


def numbered(prefix: str, count: int) -> list[Text]:
    return [Text({"en": f"{prefix} {n}"}) for n in range(count)]


def test_texts_of_lists_every_text_of_the_rules_and_the_catalog_once() -> None:
    """Each rule's title, message, explanation, causes and fix; each catalog entry's meaning,
    seen_when and fix; then outcomes, labels, classes, causes, next steps, sentences, pairs."""
    rule_texts = numbered("rule", 10)
    rules = [
        Rule(id=f"X90{n}", name=f"r{n}", title=rule_texts[5 * n], severity="info", scope="any",
             message=rule_texts[5 * n + 1], explanation=rule_texts[5 * n + 2],
             causes=rule_texts[5 * n + 3], fix=rule_texts[5 * n + 4], references=(), tests=(),
             path=Path(f"X90{n}-r{n}.yaml"))
        for n in range(2)
    ]
    entry_texts = numbered("entry", 9)
    explained = [Explained(*entry_texts[3 * n: 3 * n + 3]) for n in range(3)]
    named = numbered("named", 7)
    catalog = Catalog(
        responses={481: ResponseCode(481, "No", "RFC", "state", "give-up", explained[0])},
        q850={16: Q850Cause(16, "Normal", "normal", explained[1])},
        warnings={399: WarningCode(399, "Misc", "RFC", explained[2])},
        outcomes={"ok": named[0]},
        labels={"code": named[1], "class": named[2]},
        classes={"success": named[3]},
        causes={"normal": named[4]},
        next_steps={"done": named[5]},
        sentences={"same_class": named[6]},
        pairs={frozenset((401, 407)): Text({"en": "pair"})},
    )
    engine = Engine(RuleSet(tuple(rules)), catalog)
    assert list(texts_of(engine)) == [*rule_texts, *entry_texts, *named, Text({"en": "pair"})]
