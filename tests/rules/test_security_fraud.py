"""Toll fraud read across Call-IDs (issue 18): calls to international or premium numbers from
a source new to the capture (S106), bursts of short calls (S107), calls placed with an account
just taken (S108), and calls to such numbers accepted without a challenge (S112); and
``--home-cc``, the home country that makes ``+CC`` numbers international.

Numbers are classed as tests/rules/test_numbers.py pins them (``00``/``011`` international,
``+8816`` and ``+1900`` premium); the flows are built here.
"""

from __future__ import annotations

import json
from pathlib import Path

from sipdiag.cli import ExitStatus
from sipdiag.network import Endpoint
from tests.rules.test_security_ledger import (
    SERVER,
    Capture,
    Subject,
    attempt,
    call,
    digest,
    values,
)
from tests.test_cli import run

DESKS = [Endpoint(f"192.168.10.{21 + n}", 5060) for n in range(4)]
NEWCOMER = Endpoint("192.168.10.66", 5060)
PBX = Endpoint("192.168.10.1", 5060)
ATTACKER = Endpoint("203.0.113.99", 5060)
CARRIER_CALLER = Endpoint("198.51.100.50", 5060)
NO_CACHE = {"SIPDIAG_CACHE": "off"}


def office(capture: Capture, desks: int = 3, at: float = 0.0) -> list[Subject]:
    """``desks`` phones each call an extension, 40 s apart: ordinary calls."""
    return [call(capture, f"20{n + 1}", at=at + 40.0 * n, src=DESKS[n], dst=PBX,
                 user=f"10{n + 1}") for n in range(desks)]


# -- S106: toll numbers from a new source ----------------------------------------------------


def test_each_toll_call_of_a_newcomer_is_told_once_callers_are_known() -> None:
    """Three desks call extensions; then a newcomer calls 011 972... (international) and
    +8816... (premium): two findings, one per call."""
    capture = Capture()
    subjects = office(capture)
    toll = [call(capture, number, at=200.0 + 70.0 * n, src=NEWCOMER, dst=PBX, user="105")
            for n, number in enumerate(("011972599123456", "+8816312345678"))]
    found = values("S106", [*subjects, *toll])
    assert [(v["source"], v["number"], v["kind"], v["known"], v["account"], v["status"],
             v["frame"]) for v in found] == [
        (NEWCOMER.ip, "011972599123456", "international", "3", "105", "200",
         str(toll[0].messages[0].frame)),
        (NEWCOMER.ip, "+8816312345678", "premium", "3", "105", "200",
         str(toll[1].messages[0].frame))]
    assert [v["count"] for v in found] == ["1", "1"]


def test_too_few_known_callers_or_a_known_caller_are_no_newcomer() -> None:
    capture = Capture()
    assert values("S106", [*office(capture, desks=2),
                           call(capture, "00442079460000", at=200.0, src=NEWCOMER,
                                dst=PBX)]) == []
    capture = Capture()
    # a desk that called an extension, then abroad: known
    assert values("S106", [*office(capture), call(capture, "00442079460000", at=200.0,
                                                  src=DESKS[0], dst=PBX)]) == []
    capture = Capture()
    # the newcomer's ordinary call first makes it known
    assert values("S106", [*office(capture), call(capture, "204", at=190.0, src=NEWCOMER,
                                                  dst=PBX),
                           call(capture, "00442079460000", at=200.0, src=NEWCOMER,
                                dst=PBX)]) == []
    capture = Capture()
    assert len(values("S106", [*office(capture, desks=2), call(
        capture, "00442079460000", at=200.0, src=NEWCOMER, dst=PBX)], known=2)) == 1


def test_callers_are_known_only_by_calls_placed_before() -> None:
    """The newcomer's toll call comes first; the desks call afterwards."""
    capture = Capture()
    first = call(capture, "00442079460000", at=0.0, src=NEWCOMER, dst=PBX)
    assert values("S106", [first, *office(capture, at=10.0)]) == []


# -- S107: a burst of short calls -------------------------------------------------------------

DIALER = Endpoint("203.0.113.40", 5060)


def burst(capture: Capture, statuses: list[int], *, every: float = 3.0, lasting: float = 3.5,
          first_number: int = 447700900110, prefix: str = "00") -> list[Subject]:
    """Calls from the dialer to one number after another (abroad: dialled with 00 unless
    ``prefix`` says otherwise), ``every`` seconds apart, each refused or answered
    (``statuses``); those answered hung up ``lasting`` s after the INVITE."""
    return [call(capture, f"{prefix}{first_number + n}", at=every * n, src=DIALER, dst=SERVER,
                 answers=(status,), lasting=lasting) for n, status in enumerate(statuses)]


def test_ten_short_calls_to_ten_numbers_within_a_minute_are_a_burst() -> None:
    capture = Capture()
    subjects = burst(capture, [404, 403, 503, 200, 404, 486, 200, 603, 404, 480])
    [found] = values("S107", subjects)
    assert {k: found[k] for k in ("source", "count", "destinations", "answered", "span")} == {
        "source": DIALER.ip, "count": "10", "destinations": "10", "answered": "2",
        "span": "27.000"}
    assert found["examples"] == ("00447700900110, 00447700900111, 00447700900112, "
                                 "00447700900113, 00447700900114 (+5)")
    assert values("S107", subjects, answered=3) == []  # two were answered


def test_a_burst_of_calls_at_home_is_a_load_test_or_a_dialler() -> None:
    """The same ten calls to numbers at home (no international prefix, no premium range):
    what a SIPp load test reading its numbers from a file does."""
    capture = Capture()
    at_home = burst(capture, [404, 403, 503, 200, 404, 486, 200, 603, 404, 480],
                    first_number=2025550110, prefix="")
    assert values("S107", at_home) == []


def test_bursts_that_fail_all_or_last_or_are_few_are_none() -> None:
    capture = Capture()
    assert values("S107", burst(capture, [404] * 12)) == []  # every call refused: S102's
    capture = Capture()
    # the answered calls last 10.5 s from their INVITE: not short (the limit is 10 s)
    long = burst(capture, [404, 200, 404, 404, 404, 200, 404, 404, 404, 404], lasting=10.5)
    assert values("S107", long) == []
    capture = Capture()
    assert values("S107", burst(capture, [200] + [404] * 8)) == []  # nine
    capture = Capture()
    # calls still ringing when the capture ends are not over: not short
    assert values("S107", burst(capture, [200, 404] + [0] * 8)) == []
    capture = Capture()
    assert values("S107", burst(capture, [200] + [404] * 9, every=6.7)) == []  # 60.3 s


# -- S108: calls after a takeover -------------------------------------------------------------


def takeover(capture: Capture, *, user: str = "2001", at: float = 0.0) -> list[Subject]:
    """Five REGISTERs for ``user`` refused 403 after their challenges, then one accepted."""
    refused = [attempt(capture, at=at + n, src=ATTACKER, user=user, answers=(401, 403),
                       credentials=digest(user)) for n in range(5)]
    return [*refused, attempt(capture, at=at + 10.0, src=ATTACKER, user=user,
                              answers=(401, 200), credentials=digest(user))]


def test_a_call_with_an_account_just_taken_is_told() -> None:
    capture = Capture()
    taken = takeover(capture)
    placed = call(capture, "011972599123456", at=70.0, src=ATTACKER, user="2001",
                  answers=(407, 200), credentials=digest("2001"))
    [found] = values("S108", [*taken, placed])
    assert {k: found[k] for k in ("source", "user", "number", "frame", "success_frame",
                                  "after", "status")} == {
        "source": ATTACKER.ip, "user": "2001", "number": "011972599123456",
        "frame": str(placed.messages[0].frame),
        "success_frame": str(taken[-1].messages[0].frame), "after": "60.000",
        "status": "200"}


def test_calls_after_the_window_or_with_another_account_are_not_told() -> None:
    def after_takeover(at: float, user: str = "2001") -> list[dict[str, str]]:
        capture = Capture()
        taken = takeover(capture)  # accepted at 10 s
        placed = call(capture, "011972599123456", at=at, src=ATTACKER, user=user)
        return [dict(v) for v in values("S108", [*taken, placed])]

    assert after_takeover(3610.001) == []
    assert [v["after"] for v in after_takeover(3610.0)] == ["3600.000"]
    assert after_takeover(20.0, user="2002") == []
    capture = Capture()
    before = call(capture, "011972599123456", at=0.0, src=ATTACKER, user="2001")
    assert values("S108", [before, *takeover(capture, at=1.0)]) == []


# -- S112: calls accepted without a challenge -------------------------------------------------


def challenged_caller(capture: Capture, at: float = 0.0) -> Subject:
    """Another source's call, challenged 407 and accepted on its retry."""
    return call(capture, "+442079460000", at=at, src=CARRIER_CALLER, user="3001",
                answers=(407, 200), credentials=digest("3001"))


def test_toll_calls_accepted_unchallenged_from_a_public_source_are_told() -> None:
    capture = Capture()
    subjects = [challenged_caller(capture),
                *(call(capture, number, at=10.0 + n, src=ATTACKER, user="9001")
                  for n, number in enumerate(("00972599123456", "+8816312345678")))]
    [found] = values("S112", subjects)
    assert {k: found[k] for k in ("source", "server", "numbers", "challenged", "count")} == {
        "source": ATTACKER.ip, "server": SERVER.ip,
        "numbers": "00972599123456, +8816312345678", "challenged": "1", "count": "2"}


def test_s112_needs_a_public_source_a_toll_number_and_a_server_that_challenges() -> None:
    capture = Capture()
    private = [challenged_caller(capture),
               call(capture, "00972599123456", at=10.0, src=Endpoint("10.0.0.9", 5060))]
    assert values("S112", private) == []
    capture = Capture()
    national = [challenged_caller(capture), call(capture, "2025550100", at=10.0,
                                                 src=ATTACKER)]
    assert values("S112", national) == []
    capture = Capture()
    # the server challenges no one: it authenticates callers some other way (by address)
    assert values("S112", [call(capture, "00972599123456", at=10.0, src=ATTACKER)]) == []
    capture = Capture()
    # the only source challenged is the one accepted unchallenged later
    itself = [call(capture, "00972599123456", at=0.0, src=ATTACKER, answers=(407, 200),
                   credentials=digest("9001")),
              call(capture, "00972599123456", at=10.0, src=ATTACKER)]
    assert values("S112", itself) == []
    capture = Capture()
    refused = [challenged_caller(capture),
               call(capture, "00972599123456", at=10.0, src=ATTACKER, answers=(403,))]
    assert values("S112", refused) == []


# -- --home-cc on the command line ------------------------------------------------------------


def written(capture: Capture, folder: Path) -> str:
    path = folder / "capture.pcap"
    path.write_bytes(capture.pcap())
    return str(path)


def rules_of(out: str, rule: str) -> list[dict[str, str]]:
    found: list[dict[str, str]] = [f["values"] for f in json.loads(out)["findings"]
                                   if f["rule"] == rule]
    return found


def test_home_cc_makes_a_plus_number_international(tmp_path: Path) -> None:
    """Three desks call extensions, then a newcomer calls +1 202 555 0100 (Washington): a
    national number at home in the North American plan, unknown without a home country,
    international from the UK (+44)."""
    capture = Capture()
    office(capture)
    call(capture, "+12025550100", at=200.0, src=NEWCOMER, dst=PBX)
    path = written(capture, tmp_path)
    found: dict[str, list[dict[str, str]]] = {}
    for options in ([], ["--home-cc", "1"], ["--home-cc", "44"], ["--home-cc", "+44"]):
        code, out, err = run([path, "--format", "json", "--fail-on", "never", *options],
                             environ=NO_CACHE)
        assert (code, err) == (ExitStatus.OK, "")
        found[" ".join(options)] = rules_of(out, "S106")
    assert found[""] == found["--home-cc 1"] == []
    assert found["--home-cc 44"] == found["--home-cc +44"]
    [toll] = found["--home-cc 44"]
    assert (toll["source"], toll["number"], toll["kind"], toll["known"]) == (
        NEWCOMER.ip, "+12025550100", "international", "3")


def test_a_home_cc_that_is_no_country_code_is_a_usage_error(tmp_path: Path) -> None:
    capture = Capture()
    office(capture, desks=1)
    path = written(capture, tmp_path)
    for wrong in ("abc", "1234"):
        code, out, err = run([path, "--home-cc", wrong], environ=NO_CACHE)
        assert (code, out) == (ExitStatus.ERROR, "")
        assert "Traceback" not in err
        errors = [line for line in err.splitlines() if not line.startswith(("usage:", " "))]
        assert errors == [f"sipdiag analyze: error: argument --home-cc: {wrong!r} is not a "
                          f"country code (1 to 3 digits, such as 44 or 1)"]
        assert err.startswith("usage: sipdiag")  # argparse's usage, then the one error line
