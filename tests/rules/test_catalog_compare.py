"""``sipdiag explain A B`` (Catalog.compare, rules/README.md "compare.yaml"): which sentences
say how two response codes differ (class, final or provisional, where the cause lies, what to do
next, a sentence of its own for a listed pair), which code each sentence names first, and the
words its placeholders are filled with; and the labels of report.yaml (Catalog.label). The
catalog here is written in the test, so each expected sentence follows from its entries; the
classes are those of RFC 3261 section 7.2 (the first digit of the code)."""

from __future__ import annotations

import pytest

from sipdiag.rules.catalog import Catalog, Explained, ResponseCode
from sipdiag.rules.text import Text

SENTENCE = {
    "same_class": "same class {a}/{b}: {a_class}={b_class}",
    "class_differs": "class {a}={a_class} {b}={b_class}",
    "final_vs_provisional": "final {a} before provisional {b}",
    "neither_a_problem": "no problem {a} {b}",
    "one_normal": "normal {a}, {b} from {b_cause} ({a_cause})",
    "same_cause": "same cause {a}/{b}: {a_cause}={b_cause}",
    "cause_differs": "cause {a}={a_cause} {b}={b_cause}",
    "same_next": "same next {a}/{b}: {a_next}={b_next}",
    "next_differs": "next {a}={a_next} {b}={b_next}",
}
"""Each sentence of compare.yaml, written so that its name and its filled placeholders show."""

CLASS_WORDS = {"provisional": "1xx", "success": "2xx", "redirection": "3xx",
               "client-error": "4xx", "server-error": "5xx", "global-failure": "6xx"}
CAUSE_WORDS = {"normal": "nobody", "routing": "the dial plan", "state": "the dialog",
               "callee": "the callee"}
NEXT_WORDS = {"wait": "wait", "done": "nothing", "new-target": "go there",
              "give-up": "stop", "later": "retry later"}


def korean(english: str) -> Text:
    return Text({"en": english, "ko": f"ko:{english}"})


NOTHING = Explained(Text({"en": "m"}), Text({"en": "s"}), Text({"en": "f"}))
CODES = {
    # code: (cause, next)
    100: ("normal", "wait"),
    180: ("normal", "wait"),
    200: ("normal", "done"),
    302: ("routing", "new-target"),
    480: ("callee", "later"),
    481: ("state", "give-up"),
    486: ("callee", "later"),
    603: ("callee", "give-up"),
}
PAIR = Text({"en": "480 and 486 are often confused"})


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog(
        responses={code: ResponseCode(code, "Reason", "RFC 3261", cause, step, NOTHING)
                   for code, (cause, step) in CODES.items()},
        q850={},
        warnings={},
        outcomes={},
        labels={"plain": korean("Code"), "count": korean("{n} calls in {file}"),
                "braces": Text({"en": "{{x}} {n}"})},
        classes={name: korean(word) for name, word in CLASS_WORDS.items()},
        causes={name: korean(word) for name, word in CAUSE_WORDS.items()},
        next_steps={name: korean(word) for name, word in NEXT_WORDS.items()},
        sentences={name: Text({"en": text}) for name, text in SENTENCE.items()},
        pairs={frozenset((480, 486)): PAIR},
    )


def sentences(catalog: Catalog, a: int, b: int, language: str = "en") -> list[str]:
    compared = catalog.compare(catalog.responses[a], catalog.responses[b], language)
    assert (compared.a.code, compared.b.code) == (a, b)
    return [text.render(values) for text, values in compared.differences]


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (302, 481, ["class 302=3xx 481=4xx", "cause 302=the dial plan 481=the dialog",
                    "next 302=go there 481=stop"]),
        (603, 486, ["class 603=6xx 486=4xx", "same cause 603/486: the callee=the callee",
                    "next 603=stop 486=retry later"]),
        (486, 480, ["same class 486/480: 4xx=4xx", "same cause 486/480: the callee=the callee",
                    "same next 486/480: retry later=retry later",
                    "480 and 486 are often confused"]),
        (480, 486, ["same class 480/486: 4xx=4xx", "same cause 480/486: the callee=the callee",
                    "same next 480/486: retry later=retry later",
                    "480 and 486 are often confused"]),
        # both provisional, both normal: nothing but the class and the next step
        (100, 180, ["same class 100/180: 1xx=1xx", "no problem 100 180",
                    "same next 100/180: wait=wait"]),
        # the final code first, whichever was asked first
        (100, 200, ["class 100=1xx 200=2xx", "final 200 before provisional 100",
                    "no problem 100 200", "next 100=wait 200=nothing"]),
        (200, 100, ["class 200=2xx 100=1xx", "final 200 before provisional 100",
                    "no problem 200 100", "next 200=nothing 100=wait"]),
        # the normal code first, whichever was asked first
        (200, 481, ["class 200=2xx 481=4xx", "normal 200, 481 from the dialog (nobody)",
                    "next 200=nothing 481=stop"]),
        (481, 200, ["class 481=4xx 200=2xx", "normal 200, 481 from the dialog (nobody)",
                    "next 481=stop 200=nothing"]),
        # a provisional normal code against a final failure: each sentence its own order
        (180, 486, ["class 180=1xx 486=4xx", "final 486 before provisional 180",
                    "normal 180, 486 from the callee (nobody)", "next 180=wait 486=retry later"]),
        (486, 180, ["class 486=4xx 180=1xx", "final 486 before provisional 180",
                    "normal 180, 486 from the callee (nobody)", "next 486=retry later 180=wait"]),
    ],
)
def test_the_sentences_of_a_comparison(
    catalog: Catalog, a: int, b: int, expected: list[str]
) -> None:
    assert sentences(catalog, a, b) == expected


def test_the_words_of_a_comparison_are_in_the_language_asked(catalog: Catalog) -> None:
    compared = catalog.compare(catalog.responses[302], catalog.responses[481], "ko")
    _, words = compared.differences[0]
    assert words == {
        "a": "302", "a_class": "ko:3xx", "a_cause": "ko:the dial plan", "a_next": "ko:go there",
        "b": "481", "b_class": "ko:4xx", "b_cause": "ko:the dialog", "b_next": "ko:stop",
    }
    assert [values for _, values in compared.differences[1:]] == [words, words]


def test_the_words_default_to_english(catalog: Catalog) -> None:
    compared = catalog.compare(catalog.responses[480], catalog.responses[486])
    texts = [text for text, _ in compared.differences]
    assert texts == [catalog.sentences["same_class"], catalog.sentences["same_cause"],
                     catalog.sentences["same_next"], PAIR]
    assert compared.differences[0][1]["a_class"] == "4xx"
    assert compared.differences[-1][1] == {}  # the pair's own sentence has no placeholders


@pytest.mark.parametrize(
    ("code", "klass", "final"),
    [(100, "provisional", False), (180, "provisional", False), (200, "success", True),
     (302, "redirection", True), (481, "client-error", True), (603, "global-failure", True)],
)
def test_class_and_finality_follow_from_the_first_digit(
    catalog: Catalog, code: int, klass: str, final: bool
) -> None:
    """RFC 3261 7.2: 1xx provisional, 2xx to 6xx final."""
    entry = catalog.responses[code]
    assert (entry.klass, entry.final) == (klass, final)
    assert catalog.response(code) is entry
    assert catalog.response(999) is None


@pytest.mark.parametrize(
    ("key", "language", "values", "expected"),
    [
        ("plain", "en", {}, "Code"),
        ("plain", "ko", {}, "ko:Code"),
        ("plain", "ja", {}, "Code"),  # no Japanese: English
        ("count", "en", {"n": 3, "file": "a.pcap"}, "3 calls in a.pcap"),
        ("count", "ko", {"n": 3, "file": "a.pcap"}, "ko:3 calls in a.pcap"),
        ("count", "en", {"n": 3}, "3 calls in {file}"),
        ("braces", "en", {"n": 1.5}, "{x} 1.5"),
        ("braces", "en", {}, "{{x}} {n}"),  # without values the text is given as written
    ],
)
def test_a_label_with_its_values(
    catalog: Catalog, key: str, language: str, values: dict[str, object], expected: str
) -> None:
    assert catalog.label(key, language, **values) == expected


def test_a_label_defaults_to_english(catalog: Catalog) -> None:
    assert catalog.label("plain") == "Code"
    assert catalog.label("count", n=2, file="x") == "2 calls in x"
