"""The closed sets sipdiag writes are one list each: the enum in the code, the JSON schema's
``enum`` and the catalog's explanations name the same values, in the same order."""

from __future__ import annotations

from sipdiag.dialogs.media import MediaState
from sipdiag.dialogs.outcome import Outcome
from sipdiag.report.document import schema
from sipdiag.rules import load_engine
from sipdiag.rules.model import Severity

DEFINITIONS = schema()["$defs"]


def test_outcomes_are_one_list_in_the_code_the_schema_and_the_catalog() -> None:
    values = [o.value for o in Outcome]
    assert DEFINITIONS["outcome"]["enum"] == values
    assert list(load_engine().catalog.outcomes) == values


def test_severities_are_one_list_in_the_code_and_the_schema() -> None:
    assert DEFINITIONS["severity"]["enum"] == [s.value for s in Severity]


def test_media_states_are_one_list_in_the_code_and_the_schema() -> None:
    assert DEFINITIONS["mediaState"]["enum"] == [s.value for s in MediaState]
