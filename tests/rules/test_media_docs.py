"""rules/README.md documents the media rule language the loader accepts: every fact of each
subject, with its kind, and every placeholder, no more and no fewer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sipdiag.rules.media import FACTS, VALUES, FactKind
from sipdiag.rules.model import MediaSubject

README = (Path(__file__).resolve().parents[2] / "rules" / "README.md").read_text("utf-8")
KIND_WORDS = {FactKind.BOOL: "true/false", FactKind.CHOICE: "word", FactKind.COUNT: "count",
              FactKind.NUMBER: "number", FactKind.DURATION: "duration"}


def documented_facts(subject: MediaSubject) -> dict[str, str]:
    """The fact table under "`<subject>` facts": each fact named in a row, with its kind."""
    section = README.split(f"`{subject.value}` facts")[1].split("\n\n", 2)[1]
    found = {}
    for row in section.splitlines()[2:]:
        names, kind = row.split(" | ")[0:2]
        for name in re.findall(r"`([a-z_]+)`", names):
            found[name] = kind
    return found


@pytest.mark.parametrize("subject", list(MediaSubject))
def test_every_fact_is_documented_with_its_kind(subject: MediaSubject) -> None:
    documented = documented_facts(subject)
    assert set(documented) == set(FACTS[subject])
    assert {name: KIND_WORDS[fact.kind] for name, fact in FACTS[subject].items()} == documented


def test_every_placeholder_is_documented() -> None:
    section = README.split("Placeholders of a media rule's texts:")[1].split("\n\n")[0]
    documented = set(re.findall(r"\{((?:media|direction|stream)\.[a-z_]+)\}", section))
    prefixes = {MediaSubject.CALL: "media"}
    known = {f"{prefixes.get(subject, subject.value)}.{name}"
             for subject, values in VALUES.items() for name in values}
    assert documented == known
