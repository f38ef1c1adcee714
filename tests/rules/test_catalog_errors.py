"""Reading the catalog (rules/README.md, "The catalog"): a small catalog written in the test
loads with what its files say, and each mistake a catalog file can hold is reported with its
file, line and what is wrong. The code ranges are those of the registries: response codes 100
to 699 (RFC 3261 section 21), Q.850 causes 1 to 127 (ITU-T Q.850), Warning codes 3xx (RFC 3261
section 20.43)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sipdiag.rules import builtin_folder
from sipdiag.rules.catalog import CAUSES, NEXT_STEPS, Catalog, load_catalog
from sipdiag.rules.yamlfile import DataError
from tests.rules.lines import line_of

EXPLAINED = """\
  meaning: {en: What it means.}
  seen_when: {en: When it is seen.}
  fix: {en: What to do.}
"""

RESPONSES = f"""\
- code: 100
  reason: Trying
  rfc: RFC 3261 section 21.1.1
  cause: normal
  next: wait
{EXPLAINED}- code: 486
  reason: Busy Here
  rfc: RFC 3261 section 21.4.24
  cause: callee
  next: later
{EXPLAINED}- code: 699
  reason: Last
  rfc: none
  cause: server
  next: give-up
{EXPLAINED}"""
"""Entries at lines 1, 9 and 17; 699 is the last code a response can have."""

Q850 = f"""\
- cause: 1
  name: Unallocated (unassigned) number
  group: routing-is-no-group
{EXPLAINED}- cause: 127
  name: Interworking, unspecified
  group: interworking
{EXPLAINED}""".replace("routing-is-no-group", "normal")

WARNINGS = f"""\
- code: 300
  text: First
  rfc: RFC 3261 section 20.43
{EXPLAINED}- code: 399
  text: Miscellaneous warning
  rfc: RFC 3261 section 20.43
{EXPLAINED}"""


def words(names: tuple[str, ...]) -> str:
    return "".join(f"  {name}: {{en: word {name}}}\n" for name in names)


PAIR = "  - codes: [100, 486]\n    text: {en: Pair.}\n"
"""The one entry of compare.yaml's pairs."""

COMPARE = (
    "classes:\n"
    + words(("provisional", "success", "redirection", "client-error", "server-error",
             "global-failure"))
    + "causes:\n" + words(CAUSES)
    + "next_steps:\n" + words(NEXT_STEPS)
    + "sentences:\n"
    + words(("same_class", "class_differs", "final_vs_provisional", "neither_a_problem",
             "one_normal", "same_cause", "cause_differs", "same_next", "next_differs"))
    + "pairs:\n"
    + PAIR
)

FILES = {"responses.yaml": RESPONSES, "q850.yaml": Q850, "warnings.yaml": WARNINGS,
         "compare.yaml": COMPARE}


def catalog_folder(tmp_path: Path, changed: str = "", old: str = "", new: str = "") -> Path:
    """A catalog: the files above, the built-in outcomes.yaml and report.yaml; in file
    ``changed``, ``old`` replaced by ``new``."""
    folder = tmp_path / "catalog"
    folder.mkdir()
    for name in ("outcomes.yaml", "report.yaml"):
        shutil.copy(builtin_folder() / "catalog" / name, folder / name)
    for name, text in FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    if changed:
        text = (folder / changed).read_text(encoding="utf-8")
        assert old in text, old
        (folder / changed).write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


def test_a_small_catalog_loads_with_what_its_files_say(tmp_path: Path) -> None:
    catalog = load_catalog(catalog_folder(tmp_path))
    assert isinstance(catalog, Catalog)
    assert sorted(catalog.responses) == [100, 486, 699]
    busy = catalog.responses[486]
    assert (busy.code, busy.reason, busy.rfc, busy.cause, busy.next) == (
        486, "Busy Here", "RFC 3261 section 21.4.24", "callee", "later")
    assert (busy.text.meaning.get(), busy.text.seen_when.get(), busy.text.fix.get()) == (
        "What it means.", "When it is seen.", "What to do.")
    assert sorted(catalog.q850) == [1, 127]
    last = catalog.q850[127]
    assert (last.cause, last.name, last.group) == (127, "Interworking, unspecified",
                                                   "interworking")
    assert last.text.fix.get() == "What to do."
    assert sorted(catalog.warnings) == [300, 399]
    misc = catalog.warnings[399]
    assert (misc.code, misc.name, misc.rfc) == (399, "Miscellaneous warning",
                                               "RFC 3261 section 20.43")
    assert misc.text.meaning.get() == "What it means."
    assert catalog.classes["client-error"].get() == "word client-error"
    assert catalog.causes["callee"].get() == "word callee"
    assert catalog.next_steps["give-up"].get() == "word give-up"
    assert catalog.sentences["one_normal"].get() == "word one_normal"
    assert catalog.pairs == {frozenset((100, 486)): catalog.pairs[frozenset((486, 100))]}
    assert catalog.pairs[frozenset((100, 486))].get() == "Pair."
    builtin = load_catalog(builtin_folder() / "catalog")
    for mine, theirs in ((catalog.outcomes, builtin.outcomes), (catalog.labels, builtin.labels)):
        assert {key: text.by_language for key, text in mine.items()} == {
            key: text.by_language for key, text in theirs.items()}
    report = tmp_path / "catalog" / "report.yaml"
    line = line_of(report.read_text(encoding="utf-8"), "  code:", once=False)
    assert catalog.labels["code"].where == f"{report}:{line} code"


def assert_reported(tmp_path: Path, changed: str, old: str, new: str, at: str,
                    expected: str) -> None:
    """The catalog with ``old`` replaced by ``new`` in ``changed`` is refused, with the file
    and the line where ``at`` starts (its first occurrence) and ``expected`` as the reason."""
    folder = catalog_folder(tmp_path, changed, old, new)
    with pytest.raises(DataError) as caught:
        load_catalog(folder)
    text = (folder / changed).read_text(encoding="utf-8")
    assert str(caught.value) == f"{folder / changed}:{line_of(text, at, once=False)}: {expected}"


@pytest.mark.parametrize(
    ("changed", "old", "new", "at", "expected"),
    [
        # responses.yaml
        ("responses.yaml", RESPONSES, "code: 100\n", "code: 100",
         "the catalog must be a list of entries"),
        ("responses.yaml", "- code: 486\n", "- 486\n- code: 486\n", "- 486",
         "entry 2 must be a map of keys"),
        ("responses.yaml", "- code: 486", "- code: 100", "- code: 100\n  reason: Busy",
         "code 100 is listed twice"),
        ("responses.yaml", "- code: 486", "- code: '486'", "- code: '486'",
         "'code' must be a whole number (found '486')"),
        ("responses.yaml", "- code: 486", "- reason: x\n  code: 486", "  reason: Busy",
         "'reason' is given twice"),
        ("responses.yaml", "- code: 100", "- code: 99", "- code: 99",
         "99 is not a response code (100 to 699)"),
        ("responses.yaml", "- code: 699", "- code: 700", "- code: 700",
         "700 is not a response code (100 to 699)"),
        # a code out of range is reported on its own line, not the first line of its entry
        ("responses.yaml", "- code: 699\n  reason: Last\n", "- reason: Last\n  code: 700\n",
         "  code: 700", "700 is not a response code (100 to 699)"),
        ("responses.yaml", "  reason: Busy Here\n", "", "- code: 486", "'reason' is missing"),
        ("responses.yaml", "  rfc: RFC 3261 section 21.4.24\n", "", "- code: 486",
         "'rfc' is missing"),
        ("responses.yaml", "  cause: callee", "  cause: the-callee", "  cause: the-callee",
         "'cause' must be one of normal, request, callee, routing, auth, capability, state, "
         "network, server (found 'the-callee')"),
        ("responses.yaml", "  next: later", "  next: soon", "  next: soon",
         "'next' must be one of wait, done, credentials, new-target, change, later, elsewhere, "
         "give-up (found 'soon')"),
        ("responses.yaml", "  next: later\n", "  next: later\n  colour: red\n", "  colour",
         "unknown key 'colour'"),
        ("responses.yaml", EXPLAINED + "- code: 699",
         EXPLAINED.replace("  fix: {en: What to do.}\n", "") + "- code: 699", "- code: 486",
         "'fix' is missing"),
        ("responses.yaml", EXPLAINED + "- code: 486",
         EXPLAINED.replace("  meaning: {en: What it means.}\n", "") + "- code: 486", "- code: 100",
         "'meaning' is missing"),
        ("responses.yaml", EXPLAINED + "- code: 486",
         EXPLAINED.replace("  seen_when: {en: When it is seen.}\n", "") + "- code: 486",
         "- code: 100",
         "'seen_when' is missing"),
        # q850.yaml
        ("q850.yaml", "- cause: 1\n", "- cause: 0\n", "- cause: 0",
         "0 is not a Q.850 cause value (1 to 127)"),
        ("q850.yaml", "- cause: 127\n", "- cause: 128\n", "- cause: 128",
         "128 is not a Q.850 cause value (1 to 127)"),
        ("q850.yaml", "- cause: 127\n  name: Interworking, unspecified\n",
         "- name: Interworking, unspecified\n  cause: 128\n", "  cause: 128",
         "128 is not a Q.850 cause value (1 to 127)"),
        ("q850.yaml", "- cause: 127\n", "- cause: 1\n", "- cause: 1\n  name: Inter",
         "cause 1 is listed twice"),
        ("q850.yaml", "  group: normal", "  group: fine", "  group: fine",
         "'group' must be one of normal, resource, service, implementation, invalid, protocol, "
         "interworking (found 'fine')"),
        ("q850.yaml", "  name: Interworking, unspecified\n", "", "- cause: 127",
         "'name' is missing"),
        ("q850.yaml", Q850, "{}", "{}", "the catalog must be a list of entries"),
        # warnings.yaml
        ("warnings.yaml", "- code: 300\n", "- code: 299\n", "- code: 299",
         "299 is not a Warning code (300 to 399)"),
        ("warnings.yaml", "- code: 399\n", "- code: 400\n", "- code: 400",
         "400 is not a Warning code (300 to 399)"),
        ("warnings.yaml", "- code: 399\n  text: Miscellaneous warning\n",
         "- text: Miscellaneous warning\n  code: 400\n", "  code: 400",
         "400 is not a Warning code (300 to 399)"),
        ("warnings.yaml", "  text: First\n", "", "- code: 300", "'text' is missing"),
        ("warnings.yaml", "  rfc: RFC 3261 section 20.43\n", "", "- code: 300", "'rfc' is missing"),
        ("warnings.yaml", "  text: First\n", "  text: First\n  name: First\n", "  name: First",
         "unknown key 'name'"),
        # compare.yaml
        ("compare.yaml", "  - codes: [100, 486]", "  - codes: [100, 486, 699]", "  - codes",
         "'codes' must be two different response codes"),
        ("compare.yaml", "  - codes: [100, 486]", "  - codes: [100]", "  - codes",
         "'codes' must be two different response codes"),
        ("compare.yaml", "  - codes: [100, 486]", "  - codes: [486, 486]", "  - codes",
         "'codes' must be two different response codes"),
        ("compare.yaml", "  - codes: [100, 486]", "  - codes: [100, '486']", "  - codes",
         "'codes' must be two different response codes"),
        # the line of 'codes' itself, when it is not the first key of its pair
        ("compare.yaml", PAIR, "  - text: {en: Pair.}\n    codes: [486, 486]\n", "    codes",
         "'codes' must be two different response codes"),
        ("compare.yaml", PAIR, "  - text: {en: Pair.}\n    codes: [100, 487]\n", "    codes",
         "487 is not in responses.yaml"),
        ("compare.yaml", "  - codes: [100, 486]", "  - codes: [100, 487]", "  - codes",
         "487 is not in responses.yaml"),
        ("compare.yaml", "  - codes: [100, 486]", "  - codes: [101, 487]", "  - codes",
         "101 is not in responses.yaml"),
        ("compare.yaml", PAIR,
         "  - codes: [100, 486]\n    text: {en: Pair.}\n"
         "  - codes: [699, 100]\n    text: {en: Other.}\n"
         "  - codes: [486, 100]\n    text: {en: Again.}\n", "  - codes: [486, 100]",
         "the pair 486 and 100 is given twice"),
        ("compare.yaml", "    text: {en: Pair.}\n", "", "  - codes", "'text' is missing"),
        ("compare.yaml", "    text: {en: Pair.}\n", "    text: {en: Pair.}\n    why: x\n",
         "    why",
         "unknown key 'why'"),
        ("compare.yaml", PAIR, "  - [100, 486]\n",
         "  - [100, 486]",
         "pair 1 must be a map of keys"),
        ("compare.yaml", PAIR, "  - 486\n", "  - 486", "pair 1 must be a map of keys"),
        ("compare.yaml", "  same_cause: {en: word same_cause}\n", "", "  same_class",
         "'same_cause' is missing"),
        ("compare.yaml", "  server: {en: word server}\n", "", "  normal", "'server' is missing"),
        ("compare.yaml", "  give-up: {en: word give-up}\n",
         "  give-up: {en: word give-up}\n  retry: {en: word}\n", "  retry", "unknown key 'retry'"),
        ("compare.yaml", "  global-failure: {en: word global-failure}\n", "", "  provisional",
         "'global-failure' is missing"),
        ("compare.yaml", "pairs:\n", "colours: 3\npairs:\n", "colours", "unknown key 'colours'"),
        ("compare.yaml", "pairs:\n  - codes: [100, 486]\n    text: {en: Pair.}\n", "", "classes",
         "'pairs' is missing"),
        ("compare.yaml", "  success: {en: word success}", "  success: {en: ''}", "  success",
         "the en text of 'success' is empty"),
    ],
)
def test_catalog_mistakes_are_reported_with_file_and_line(
    tmp_path: Path, changed: str, old: str, new: str, at: str, expected: str
) -> None:
    assert_reported(tmp_path, changed, old, new, at, expected)


@pytest.mark.parametrize(
    ("changed", "old", "new", "at", "expected"),
    [
        ("outcomes.yaml", "completed:", "finished: {en: Done.}\ncompleted:", "finished",
         "unknown key 'finished'"),
        ("report.yaml", "labels:\n", "labels:\n  colour: {en: Colour}\n", "  colour",
         "unknown key 'colour'"),
        ("report.yaml", "labels:\n", "title: x\nlabels:\n", "title", "unknown key 'title'"),
        ("report.yaml", "labels:\n", "words:\n", "words:\n", "'labels' is missing"),
        ("report.yaml", '  code: {en: "Code", ko: "코드", ja: "コード"}\n', "", "  class",
         "'code' is missing"),
    ],
)
def test_outcomes_and_labels_must_be_exactly_those_sipdiag_uses(
    tmp_path: Path, changed: str, old: str, new: str, at: str, expected: str
) -> None:
    """rules/README.md: "a missing or unknown key is an error"."""
    assert_reported(tmp_path, changed, old, new, at, expected)


@pytest.mark.parametrize(
    ("name", "what"),
    [("report.yaml", "report.yaml"), ("compare.yaml", "compare.yaml"),
     ("outcomes.yaml", "the file")],
)
def test_a_catalog_file_of_named_entries_must_be_a_map(tmp_path: Path, name: str,
                                                      what: str) -> None:
    folder = catalog_folder(tmp_path)
    (folder / name).write_text("- completed\n", encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load_catalog(folder)
    assert str(caught.value) == f"{folder / name}:1: {what} must be a map of keys"
