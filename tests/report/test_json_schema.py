"""The JSON document: valid against the schema shipped in the package, on every sample, with the
summary, the findings of each call and the ladders; the same bytes every time."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, ValidationError

from sipdiag.analysis import Analysis, analyze
from sipdiag.dialogs.media import MediaState, SilenceCause
from sipdiag.dialogs.select import Ladders
from sipdiag.report.document import SCHEMA_VERSION, document, schema, write_json
from sipdiag.rules import load_engine
from sipdiag.rules.catalog import OUTCOMES
from sipdiag.rules.model import SEVERITIES
from tests.conftest import PUBLIC, ROOT, SAMPLES, needs_public, sample_captures

ENGINE = load_engine()


def analysis_of(path: Path | str, ladders: Ladders = Ladders.ALL) -> Analysis:
    return analyze(path, engine=ENGINE, ladders=ladders)


def as_json(analysis: Analysis) -> str:
    out = io.StringIO()
    write_json(analysis, out)
    return out.getvalue()


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    value = schema()
    Draft202012Validator.check_schema(value)
    return Draft202012Validator(value)


def test_the_schema_is_the_file_in_the_package_and_knows_every_outcome() -> None:
    path = ROOT / "sipdiag" / "schema" / "analysis-v1.schema.json"
    assert schema() == json.loads(path.read_text(encoding="utf-8"))
    definitions = schema()["$defs"]
    assert isinstance(definitions, dict)
    assert tuple(definitions["outcome"]["enum"]) == OUTCOMES
    assert tuple(definitions["severity"]["enum"]) == SEVERITIES
    assert tuple(definitions["mediaState"]["enum"]) == tuple(s.value for s in MediaState)
    causes = definitions["direction"]["properties"]["cause"]["enum"]
    assert tuple(causes) == (*(c.value for c in SilenceCause), None)
    assert schema()["properties"]["schema_version"] == {  # type: ignore[index]
        "const": SCHEMA_VERSION, "description": "Version of this document's shape."}


@pytest.mark.parametrize("path", sample_captures(), ids=lambda p: str(p.relative_to(SAMPLES)))
def test_every_sample_gives_a_valid_document(path: Path, validator: Draft202012Validator) -> None:
    value = json.loads(as_json(analysis_of(path)))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(value)]
    assert errors == []


def test_a_wrong_type_or_an_unknown_field_is_refused(validator: Draft202012Validator) -> None:
    value = json.loads(as_json(analysis_of(SAMPLES / "calls" / "no-ack-32s.pcap")))
    validator.validate(value)
    for path, bad in [
        (("calls", 0, "final_status"), "200"),
        (("summary", "asr"), "100%"),
        (("calls", 0, "ladder", 0, "copy"), 0),
        (("findings", 0, "severity"), "fatal"),
        (("capture", "first_time"), "yesterday"),
    ]:
        broken = copy.deepcopy(value)
        target = broken
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = bad
        with pytest.raises(ValidationError):
            validator.validate(broken)
    extra = copy.deepcopy(value)
    extra["calls"][0]["colour"] = "red"
    with pytest.raises(ValidationError):
        validator.validate(extra)


def test_summary_figures() -> None:
    summary = document(analysis_of(SAMPLES / "rules" / "codec-mismatch-488-606.pcap"))["summary"]
    assert summary == {
        "calls": 2, "exchanges": 0, "attempts": 2, "answered": 0, "delivered": 0,
        "asr": 0.0, "ner": 0.0, "post_dial_delay": None,
        "call_outcomes": {"rejected": 2}, "exchange_outcomes": {},
        "final_statuses": {"488": 1, "606": 1},
        "findings": {"info": 1, "warning": 0, "error": 2},
        "media": {"streams": 0, "rtp_packets": 0, "unattributed_streams": 0, "call_states": {}},
    }
    summary = document(analysis_of(SAMPLES / "calls" / "no-ack-32s.pcap"))["summary"]
    assert isinstance(summary, dict)
    assert (summary["asr"], summary["ner"]) == (100.0, 100.0)
    assert summary["post_dial_delay"] == {"count": 1, "mean": 0.20365, "median": 0.20365,
                                          "p95": 0.20365, "max": 0.20365}
    keepalive = document(analysis_of(SAMPLES / "calls" / "options-keepalive.pcap"))["summary"]
    assert isinstance(keepalive, dict)
    assert keepalive["asr"] is None and keepalive["final_statuses"] == {}
    assert keepalive["exchange_outcomes"] == {"ok": 3, "timeout": 2}


def test_calls_and_exchanges_list_their_findings() -> None:
    value = document(analysis_of(SAMPLES / "rules" / "codec-mismatch-488-606.pcap"))
    assert [c["findings"] for c in value["calls"]] == [["C116", "I102"], ["C116"]]  # type: ignore[index, union-attr]
    value = document(analysis_of(SAMPLES / "calls" / "options-keepalive.pcap"))
    assert [e["findings"] for e in value["exchanges"]] == [[], [], [], ["N105"], ["N105"]]  # type: ignore[index, union-attr]


def test_ladders_are_kept_as_asked() -> None:
    path = SAMPLES / "calls" / "no-ack-32s.pcap"
    [call] = document(analysis_of(path))["calls"]  # type: ignore[misc]
    ladder = call["ladder"]
    assert len(ladder) == 16
    assert ladder[0] == {"frame": 1, "time": 0.0, "src": "127.0.0.1:5080",
                         "dst": "127.0.0.1:5070", "transport": "UDP", "label": "INVITE",
                         "status": None, "copy": 1, "sdp": True}
    assert ladder[13]["label"] == "200 OK" and ladder[13]["copy"] == 11
    assert ladder[13]["status"] == 200 and ladder[13]["time"] == 32.751763
    [call] = document(analysis_of(path, Ladders.NONE))["calls"]  # type: ignore[misc]
    assert call["ladder"] is None
    healthy = document(analysis_of(SAMPLES / "calls" / "basic-call.pcap", Ladders.FAILING))
    assert [c["ladder"] for c in healthy["calls"]] == [None]  # type: ignore[union-attr]


def test_the_same_capture_gives_the_same_bytes_new_fields_included() -> None:
    path = SAMPLES / "rules" / "reinvite-481.pcap"
    texts = {as_json(analysis_of(path)) for _ in range(3)}
    assert len(texts) == 1
    text = texts.pop()
    value = json.loads(text)
    assert list(value) == sorted(value)
    assert value["calls"][0]["findings"] == ["D102", "D101"]
    assert [a["frame"] for a in value["calls"][0]["ladder"]] == list(range(1, 11))
    assert value["summary"]["findings"] == {"info": 0, "warning": 1, "error": 1}


@needs_public
def test_a_recorded_capture_gives_the_same_bytes_every_time(
    validator: Draft202012Validator,
) -> None:
    path = PUBLIC / "irontec__sngrep/tests/aaa.pcap"
    texts = {as_json(analysis_of(path)) for _ in range(2)}
    assert len(texts) == 1
    value = json.loads(texts.pop())
    validator.validate(value)
    assert all(call["ladder"] for call in value["calls"])
    assert value["summary"]["calls"] == len(value["calls"]) == 4
