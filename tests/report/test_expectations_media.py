"""``sipdiag check``: the media expectations (``media``, ``max_loss_percent``, ``max_jitter_ms``,
``min_mos``) on the crafted media samples, whose truth is samples/media/truth.json.

The state a call must have is truth's ``media_state`` (a side whose audio is not heard makes
the call one-way); the loss is truth's lost / expected packets of the worst stream; the jitter
truth's largest RFC 3550 jitter; the MOS the ITU-T G.107 E-model computed in
tests/report/test_terminal_media.py from truth's losses. Calls on hold at the end and with
early media only are captures built there. A call without media meets no figure (expect.py:
"A call without media (or without a MOS) meets none of the figures").
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from sipdiag.cli import ExitStatus
from tests.conftest import ROOT, SAMPLES
from tests.report.test_expectations_report import expect, run
from tests.report.test_terminal_media import expected_mos, media_call

MEDIA = SAMPLES / "media"
TRUTH = json.loads((MEDIA / "truth.json").read_text(encoding="utf-8"))["files"]
STATES = ("two_way", "one_way", "none", "on_hold", "not_captured", "early_only")
BUSY = SAMPLES / "calls" / "busy.pcap"  # rejected 486 before any answer: no media at all
BASIC = SAMPLES / "calls" / "basic-call.pcap"  # answered with SDP, but only SIP captured


def checked(capture: Path | str, expectations: str) -> tuple[int, list[dict[str, Any]]]:
    """The exit status and the expectations of the JSON verdict."""
    code, out, err = run([str(capture), "--expect", expectations, "--format", "json"])
    assert err == ""
    document = json.loads(out)
    assert document["summary"]["unmet"] == sum(not r["passed"] for r in document["expectations"])
    return code, document["expectations"]


def checks_of(result: dict[str, Any]) -> dict[str, tuple[bool, Any, Any]]:
    """key -> (passed, expected, actual)."""
    return {c["key"]: (c["passed"], c["expected"], c["actual"]) for c in result["checks"]}


def flat(text: str) -> str:
    """The words of the terminal output, without the table's lines."""
    return " ".join(re.sub("[\u2500-\u257f]", " ", text).split())


def truth_state(call: dict[str, Any]) -> str:
    """truth.json's media state, with a side whose audio is not heard making it one-way."""
    silent = [side for side, heard in call["audio_heard"].items() if heard is False]
    if call["media_state"] in ("two_way", "one_way") and len(silent) == 1:
        return "one_way"
    return str(call["media_state"])


def loss_percent(stream: dict[str, Any]) -> float:
    return 100 * stream["lost"] / stream["expected"]


# --- media ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "index"), [
    ("two-way-g711.pcap", 0),
    ("one-way-callee-silent.pcap", 0),
    ("one-way-nat-private-sdp.pcap", 0),
    ("silence-only.pcap", 0),  # RTP both ways, but bob's is digital silence
    ("no-media.pcap", 0),
    ("no-media.pcap", 1),
    ("not-rtp-udp.pcap", 0),
    ("sip-only-not-captured.pcap", 0),
    ("hold-sendonly.pcap", 0),  # held, then resumed
])
def test_the_media_state_passes_when_it_is_the_calls_and_fails_otherwise(
    tmp_path: Path, name: str, index: int
) -> None:
    call = TRUTH[name]["calls"][index]
    state = truth_state(call)
    others = [s for s in STATES if s != state]
    path = expect(tmp_path, f"""\
expect:
  - call_id: "{call['call_id']}"
    media: {state}
  - call_id: "{call['call_id']}"
    media: [{', '.join(others)}]
""")
    code, results = checked(MEDIA / name, path)
    assert code == ExitStatus.FINDINGS
    assert [checks_of(r) for r in results] == [
        {"media": (True, [state], state)},
        {"media": (False, others, state)},
    ]
    assert [r["passed"] for r in results] == [True, False]


@pytest.mark.parametrize(("kind", "state"), [("held", "on_hold"), ("early", "early_only")])
def test_on_hold_at_the_end_and_early_media_only(
    tmp_path: Path, write_capture: Any, kind: str, state: str
) -> None:
    capture = write_capture(media_call(kind, f"{kind}@example.com"))
    path = expect(tmp_path, f"expect:\n  - media: {state}\n  - call: 1\n    media: two_way\n")
    code, results = checked(capture, path)
    assert code == ExitStatus.FINDINGS
    assert [checks_of(r)["media"] for r in results] == [
        (True, [state], state), (False, ["two_way"], state)]


def test_an_unmet_media_state_is_explained(tmp_path: Path) -> None:
    call = TRUTH["one-way-callee-silent.pcap"]["calls"][0]
    path = expect(tmp_path, "expect:\n  - call: 1\n    media: two_way\n"
                            "  - call: 1\n    media: [two_way, one_way]\n")
    code, out, err = run([str(MEDIA / "one-way-callee-silent.pcap"), "--expect", path])
    assert (code, err) == (ExitStatus.FINDINGS, "")
    text = flat(out)
    assert "media two_way one_way FAIL" in text
    assert "media one of two_way, one_way one_way pass" in text
    assert (f"expected.yaml:2 call: 1 call 1: {call['call_id']} (frame 1) "
            "media: expected two_way, found one_way") in text
    assert text.endswith("1 of 2 expectations met")


# --- max_loss_percent ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["loss-burst.pcap", "loss-random.pcap", "two-hops-relay.pcap",
                                  "srtp-savp.pcap", "g729-loss.pcap", "two-way-g711.pcap"])
def test_the_loss_of_the_worst_stream_against_the_limit(tmp_path: Path, name: str) -> None:
    worst = max(loss_percent(s) for s in TRUTH[name]["rtp_streams"])
    below = round(worst - 0.1, 1)
    path = expect(tmp_path, f"""\
expect:
  - call: 1
    max_loss_percent: {worst!r}
  - call: 1
    max_loss_percent: {below if below >= 0 else 0}
""")
    code, results = checked(MEDIA / name, path)
    (at_limit,), (under,) = (checks_of(r).values() for r in results)
    assert at_limit[0] is True and at_limit[2] == pytest.approx(worst, abs=0.0005)
    assert at_limit[1] == pytest.approx(worst)
    if worst:
        assert under[0] is False and under[2] == at_limit[2] and code == ExitStatus.FINDINGS
    else:  # nothing lost: 0 % is met
        assert under[0] is True and under[2] == 0 and code == ExitStatus.OK


def test_loss_in_the_terminal_report(tmp_path: Path) -> None:
    """loss-burst: bob -> alice lost 3 bursts of 6 of 150 packets: 12 %."""
    (bob,) = [s for s in TRUTH["loss-burst.pcap"]["rtp_streams"] if s["lost"]]
    assert loss_percent(bob) == 12
    path = expect(tmp_path, "expect:\n  - max_loss_percent: 3\n"
                            "  - call: 1\n    max_loss_percent: 12.5\n")
    code, out, _ = run([str(MEDIA / "loss-burst.pcap"), "--expect", path])
    assert code == ExitStatus.FINDINGS
    text = flat(out)
    assert "max_loss_percent at most 3% 12% FAIL" in text
    assert "max_loss_percent at most 12.5% 12% pass" in text
    assert "max_loss_percent: expected at most 3%, found 12%" in text


# --- max_jitter_ms -----------------------------------------------------------------------------


def test_the_largest_jitter_against_the_limit(tmp_path: Path) -> None:
    """jitter.pcap: bob's packets come in bursts; truth's largest RFC 3550 jitter of any
    stream is bob's."""
    worst = max(s["max_jitter_ms"] for s in TRUTH["jitter.pcap"]["rtp_streams"])
    assert worst > 30
    path = expect(tmp_path, f"""\
expect:
  - call: 1
    max_jitter_ms: {worst + 0.01:.2f}
  - call: 1
    max_jitter_ms: {int(worst)}
""")
    code, results = checked(MEDIA / "jitter.pcap", path)
    (met,), (unmet,) = (checks_of(r).values() for r in results)
    assert code == ExitStatus.FINDINGS
    assert met[:2] == (True, round(worst + 0.01, 2))
    assert unmet[:2] == (False, int(worst))
    assert met[2] == unmet[2] == pytest.approx(worst, abs=0.0006)
    code, out, _ = run([str(MEDIA / "jitter.pcap"), "--expect", path])
    assert f"max_jitter_ms: expected at most {int(worst)} ms, found {met[2]:g} ms" in flat(out)


def test_no_jitter_in_a_clean_call(tmp_path: Path) -> None:
    assert {s["max_jitter_ms"] for s in TRUTH["loss-burst.pcap"]["rtp_streams"]} == {0}
    path = expect(tmp_path, "expect:\n  - max_jitter_ms: 0\n")
    code, results = checked(MEDIA / "loss-burst.pcap", path)
    assert code == ExitStatus.OK
    assert checks_of(results[0]) == {"max_jitter_ms": (True, 0, 0)}


# --- min_mos ---------------------------------------------------------------------------------


MOS_CASES = [  # (file, the codec's Ie, Bpl and look-ahead: G.113 Appendix I, G.729)
    ("loss-burst.pcap", 0, 25.1, 0),
    ("loss-random.pcap", 0, 25.1, 0),
    ("two-hops-relay.pcap", 0, 25.1, 0),
    ("ipv6-rtp.pcap", 0, 25.1, 0),
    ("g729-loss.pcap", 11, 19.0, 5),
]


@pytest.mark.parametrize(("name", "ie", "bpl", "lookahead"), MOS_CASES)
def test_the_lowest_mos_against_the_limit(
    tmp_path: Path, name: str, ie: float, bpl: float, lookahead: float
) -> None:
    lowest = min(expected_mos(s, ie, bpl, lookahead) for s in TRUTH[name]["rtp_streams"])
    path = expect(tmp_path, f"""\
expect:
  - call: 1
    min_mos: {lowest - 0.01:.2f}
  - call: 1
    min_mos: {lowest + 0.01:.2f}
""")
    code, results = checked(MEDIA / name, path)
    (met,), (unmet,) = (checks_of(r).values() for r in results)
    assert code == ExitStatus.FINDINGS
    assert met[:2] == (True, round(lowest - 0.01, 2))
    assert unmet[:2] == (False, round(lowest + 0.01, 2))
    assert met[2] == unmet[2] == pytest.approx(lowest, abs=0.001)


def test_a_low_mos_in_the_terminal_report(tmp_path: Path) -> None:
    (bob,) = [s for s in TRUTH["loss-burst.pcap"]["rtp_streams"] if s["lost"]]
    mos = round(expected_mos(bob), 3)
    path = expect(tmp_path, "expect:\n  - min_mos: 3.6\n")
    code, out, _ = run([str(MEDIA / "loss-burst.pcap"), "--expect", path])
    assert code == ExitStatus.FINDINGS
    text = flat(out)
    assert f"min_mos at least MOS 3.6 MOS {mos:g} FAIL" in text
    assert f"min_mos: expected at least MOS 3.6, found MOS {mos:g}" in text


def test_streams_without_a_mos_are_left_out(tmp_path: Path) -> None:
    """comfort-noise-only: bob sends only comfort noise (no audio to score); alice's clean
    PCMU stream is the call's lowest MOS."""
    alice, bob = TRUTH["comfort-noise-only.pcap"]["rtp_streams"]
    assert (alice["codec"], bob["codec"]) == ("PCMU", "CN")
    path = expect(tmp_path, "expect:\n  - min_mos: 4.3\n")
    code, results = checked(MEDIA / "comfort-noise-only.pcap", path)
    assert code == ExitStatus.OK
    passed, _, actual = checks_of(results[0])["min_mos"]
    assert passed and actual == pytest.approx(expected_mos(alice), abs=0.001)


# --- calls without media -----------------------------------------------------------------------


EVERY_MEDIA_KEY = """\
expect:
  - call: 1
    media: [two_way, one_way, none, on_hold, early_only]
    max_loss_percent: 100
    max_jitter_ms: 1000
    min_mos: 1
"""


def test_a_call_without_media_meets_no_media_expectation(tmp_path: Path) -> None:
    """busy.pcap: no answer, no RTP: no media state, and no figure to meet any limit, however
    loose."""
    path = expect(tmp_path, EVERY_MEDIA_KEY)
    code, results = checked(BUSY, path)
    assert code == ExitStatus.FINDINGS
    assert checks_of(results[0]) == {
        "media": (False, ["two_way", "one_way", "none", "on_hold", "early_only"], None),
        "max_loss_percent": (False, 100, None),
        "max_jitter_ms": (False, 1000, None),
        "min_mos": (False, 1, None),
    }
    code, out, _ = run([str(BUSY), "--expect", path])
    text = flat(out)
    for line in ("media one of two_way, one_way, none, on_hold, early_only no media FAIL",
                 "max_loss_percent at most 100% no audio stream measured FAIL",
                 "max_jitter_ms at most 1000 ms no audio stream measured FAIL",
                 "min_mos at least MOS 1 no audio stream measured FAIL",
                 "max_loss_percent: expected at most 100%, found no audio stream measured",
                 "min_mos: expected at least MOS 1, found no audio stream measured"):
        assert line in text


@pytest.mark.parametrize("capture", [BASIC, MEDIA / "sip-only-not-captured.pcap"])
def test_a_call_whose_media_was_not_captured(tmp_path: Path, capture: Path) -> None:
    """Answered with SDP both ways, but the capture holds only SIP: its state is not_captured,
    and it has no figure to meet a limit with."""
    path = expect(tmp_path, EVERY_MEDIA_KEY + "  - call: 1\n    media: not_captured\n")
    code, results = checked(capture, path)
    assert code == ExitStatus.FINDINGS
    assert checks_of(results[0]) == {
        "media": (False, ["two_way", "one_way", "none", "on_hold", "early_only"],
                  "not_captured"),
        "max_loss_percent": (False, 100, None),
        "max_jitter_ms": (False, 1000, None),
        "min_mos": (False, 1, None),
    }
    assert checks_of(results[1]) == {"media": (True, ["not_captured"], "not_captured")}


def test_media_defaults_and_an_expectation_that_overrides_them(tmp_path: Path) -> None:
    """no-media.pcap: alice -> bob without RTP (none), then alice -> carol, clean."""
    first, second = TRUTH["no-media.pcap"]["calls"]
    path = expect(tmp_path, f"""\
defaults:
  media: two_way
  max_loss_percent: 0
expect:
  - call_id: "{first['call_id']}"
    media: none
  - call_id: "{second['call_id']}"
""")
    code, results = checked(MEDIA / "no-media.pcap", path)
    assert code == ExitStatus.FINDINGS
    assert [checks_of(r) for r in results] == [
        {"media": (True, ["none"], "none"), "max_loss_percent": (False, 0, None)},
        {"media": (True, ["two_way"], "two_way"), "max_loss_percent": (True, 0, 0)},
    ]


def test_junit_names_the_first_unmet_media_check(tmp_path: Path) -> None:
    path = expect(tmp_path, "expect:\n  - media: two_way\n    max_loss_percent: 1\n")
    code, out, _ = run([str(MEDIA / "one-way-callee-silent.pcap"), "--expect", path,
                        "--format", "junit"])
    assert code == ExitStatus.FINDINGS
    (failure,) = ET.fromstring(out).iter("failure")
    assert failure.get("message") == "media: expected two_way, found one_way"
    assert failure.text is not None and "max_loss_percent" not in failure.text  # 0 % lost


# --- broken values --------------------------------------------------------------------------------


BROKEN = [
    ("expect:\n  - call: 1\n    media: talking\n",
     "3: 'media': 'talking' is not a media state (two_way, one_way, none, on_hold, "
     "not_captured, early_only)"),
    ("expect:\n  - media: [two_way, both]\n",
     "2: 'media': 'both' is not a media state (two_way, one_way, none, on_hold, not_captured, "
     "early_only)"),
    ("expect:\n  - media: []\n", "2: 'media': the list is empty"),
    ("expect:\n  - call: 1\n    media: 2\n",
     "3: 'media': 2 is not a media state (two_way, one_way, none, on_hold, not_captured, "
     "early_only)"),
    ("expect:\n  - max_loss_percent: -1\n",
     "2: 'max_loss_percent': -1 is not a number from 0 to 100"),
    ("expect:\n  - max_loss_percent: 101\n",
     "2: 'max_loss_percent': 101 is not a number from 0 to 100"),
    ("expect:\n  - max_loss_percent: 5%\n",
     "2: 'max_loss_percent': '5%' is not a number from 0 to 100"),
    ("expect:\n  - max_loss_percent: true\n",
     "2: 'max_loss_percent': True is not a number from 0 to 100"),
    ("expect:\n  - max_jitter_ms: -0.5\n", "2: 'max_jitter_ms': -0.5 is not a number 0 or more"),
    ("expect:\n  - max_jitter_ms: 30ms\n",
     "2: 'max_jitter_ms': '30ms' is not a number 0 or more"),
    ("expect:\n  - min_mos: 0.5\n", "2: 'min_mos': 0.5 is not a number from 1 to 4.5"),
    ("expect:\n  - min_mos: 5\n", "2: 'min_mos': 5 is not a number from 1 to 4.5"),
    ("expect:\n  - min_mos: good\n", "2: 'min_mos': 'good' is not a number from 1 to 4.5"),
    ("defaults:\n  media: [two_way]\n  min_mos: 4.6\nexpect:\n  - call: 1\n",
     "3: 'min_mos': 4.6 is not a number from 1 to 4.5"),
    ("expect:\n  - call: 1\n    max_los_percent: 5\n",
     "3: unknown key 'max_los_percent' (known: call, call_id, user, outcome, final_status, "
     "max_post_dial_delay, media, max_loss_percent, max_jitter_ms, min_mos, retransmissions, "
     "max_retransmissions, max_severity, findings, no_findings)"),
]


@pytest.mark.parametrize(("text", "error"), BROKEN,
                         ids=[error.split(":", 1)[1][:40] for _, error in BROKEN])
def test_a_broken_media_value_is_reported_with_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, error: str
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("expected.yaml").write_text(text, encoding="utf-8")
    code, out, err = run([str(ROOT / "samples/media/two-way-g711.pcap"),
                          "--expect", "expected.yaml"])
    assert (code, out) == (ExitStatus.ERROR, "")
    assert err == f"sipdiag: error: expected.yaml:{error}\n"


@pytest.mark.parametrize(("key", "value"), [("max_loss_percent", 0), ("max_loss_percent", 100),
                                            ("max_jitter_ms", 0), ("min_mos", 1),
                                            ("min_mos", 4.5), ("max_jitter_ms", 2.5)])
def test_the_bounds_are_accepted(tmp_path: Path, key: str, value: float) -> None:
    path = expect(tmp_path, f"expect:\n  - {key}: {value}\n")
    code, results = checked(MEDIA / "ipv6-rtp.pcap", path)
    ((passed, expected, _),) = checks_of(results[0]).values()
    assert expected == value
    # ipv6-rtp is clean: no loss, no jitter, MOS below 4.5 (G.107's narrowband ceiling)
    met = key != "min_mos" or value < 4.4
    assert passed is met
    assert code == (ExitStatus.OK if met else ExitStatus.FINDINGS)
