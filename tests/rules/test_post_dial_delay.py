"""Post-dial delay after a challenge: measured from the INVITE that carried credentials (RFC
3261 22.2: a new request, CSeq one higher), to the first 180, 183 or 2xx (ITU-T E.721: the
ring-back or the answer). One measure for the call list's PDD and for C107; the time the
caller's client took to answer the challenge is C119's. Expected values are read with tshark."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PUBLIC, SAMPLES, needs_public
from tests.flows import Flow, answered, call_of
from tests.rules.analysed import ENGINE, analysed, findings, tshark_fields

RULES = SAMPLES / "rules"
FIELDS = ("frame.number", "frame.time_relative", "ip.src", "sip.Call-ID", "sip.Method",
          "sip.Status-Code", "sip.CSeq.method", "sip.to.tag", "sip.Authorization",
          "sip.Proxy-Authorization")
RINGING_OR_ANSWER = {"180", "183", "200"}




def invite_rows(path: Path) -> tuple[dict[str, str], ...]:
    return tshark_fields(path, 'sip.CSeq.method == "INVITE"', FIELDS)


def time(row: dict[str, str]) -> float:
    return float(row["frame.time_relative"])


def credentials(row: dict[str, str]) -> bool:
    return bool(row["sip.Authorization"] or row["sip.Proxy-Authorization"])


def wait_of(path: Path, call_id: str) -> tuple[dict[str, str], dict[str, str]]:
    """(INVITE, ring) of a call as tshark shows it: the caller's last initial INVITE with
    credentials before the first 180, 183 or 2xx to it (else its first INVITE), and that
    response."""
    rows = [r for r in invite_rows(path) if r["sip.Call-ID"] == call_id]
    caller = rows[0]["ip.src"]
    ring = next(r for r in rows if r["sip.Status-Code"] in RINGING_OR_ANSWER)
    invites = [r for r in rows if r["sip.Method"] == "INVITE" and r["ip.src"] == caller
               and not r["sip.to.tag"] and time(r) <= time(ring)]
    with_credentials = [r for r in invites if credentials(r)]
    return (with_credentials[-1] if with_credentials else invites[0]), ring


def only_call_id(path: Path) -> str:
    return next(r["sip.Call-ID"] for r in invite_rows(path))


@pytest.mark.parametrize("name", ["invite-challenge-quick.pcap", "invite-challenge-slow.pcap"])
def test_the_delay_runs_from_the_invite_that_answered_the_challenge(name: str) -> None:
    path = RULES / name
    invite, ring = wait_of(path, only_call_id(path))
    assert credentials(invite)  # the CSeq 2 INVITE, not the challenged one
    [call] = analysed(path).calls
    assert call.timings.post_dial_delay == pytest.approx(time(ring) - time(invite), abs=1e-6)
    assert findings(path, "C107") == []  # 0.3 s, although 8.3 s from the first INVITE if slow


def test_a_slow_answer_to_the_challenge_is_told_apart() -> None:
    path = RULES / "invite-challenge-slow.pcap"
    rows = invite_rows(path)
    challenge = next(r for r in rows if r["sip.Status-Code"] == "401")
    answer = next(r for r in rows if r["sip.Method"] == "INVITE" and credentials(r))
    [slow] = findings(path, "C119")
    assert slow.values["took"] == f"{time(answer) - time(challenge):.3f}"
    assert [e.frame for e in slow.evidence] == [
        int(rows[0]["frame.number"]), int(challenge["frame.number"]), int(answer["frame.number"])]
    assert findings(RULES / "invite-challenge-quick.pcap", "C119") == []


def test_the_rule_and_the_call_list_give_one_delay() -> None:
    """long-post-dial-delay.pcap: 180 only 9.5 s after the INVITE (no challenge)."""
    path = RULES / "long-post-dial-delay.pcap"
    invite, ring = wait_of(path, only_call_id(path))
    [call] = analysed(path).calls
    [finding] = findings(path, "C107")
    assert call.timings.post_dial_delay is not None
    assert finding.values["pdd"] == f"{call.timings.post_dial_delay:.3f}"
    assert finding.values["pdd"] == f"{time(ring) - time(invite):.3f}"
    assert (finding.values["invite.frame"], finding.values["ring.frame"]) == (
        invite["frame.number"], ring["frame.number"])


def evaluate(flow: Flow) -> set[str]:
    return {f.rule.id for f in ENGINE.evaluate(call_of(flow, end=60))}


@pytest.mark.parametrize(("answer_at", "fires"), [(6.0, False), (6.001, True)])
def test_an_answer_without_ringing_ends_the_wait(answer_at: float, fires: bool) -> None:
    """No 18x: the caller waits until the 2xx (E.721: the answer signal); C107 needs more than
    its 6 s."""
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    flow.response(invite, 100, at=0.01)
    flow.ack(flow.response(invite, 200, at=answer_at), at=answer_at + 0.01)
    call = call_of(flow, end=60)
    assert call.timings.post_dial_delay == pytest.approx(answer_at)
    assert ("C107" in evaluate(flow)) is fires


def challenged(answer_after: float, *, with_credentials: bool = True) -> Flow:
    """INVITE, 407, ACK; ``answer_after`` s later the INVITE again, ringing 0.2 s after it."""
    flow = Flow()
    first = flow.request("INVITE", at=0)
    flow.ack(flow.response(first, 407, at=0.05), at=0.06)
    headers = ('Proxy-Authorization: Digest username="a", nonce="n"',) if with_credentials else ()
    second = flow.request("INVITE", at=0.05 + answer_after, headers=headers)
    flow.response(second, 180, at=0.25 + answer_after)
    return flow


@pytest.mark.parametrize(("answer_after", "fires"), [(2.0, False), (2.001, True)])
def test_c119_needs_more_than_its_threshold(answer_after: float, fires: bool) -> None:
    flow = challenged(answer_after)
    assert call_of(flow, end=60).timings.post_dial_delay == pytest.approx(0.2)
    assert ("C119" in evaluate(flow)) is fires


def test_a_new_invite_without_credentials_answers_no_challenge() -> None:
    """The next INVITE carries no credentials: it did not answer the 407 (RFC 3261 22.3), and
    the caller waited from the first INVITE on."""
    flow = challenged(7.0, with_credentials=False)
    assert call_of(flow, end=60).timings.post_dial_delay == pytest.approx(7.25)  # 180 at 7.25 s
    assert evaluate(flow) & {"C107", "C119"} == {"C107"}


def test_a_call_without_challenge_keeps_its_delay() -> None:
    flow = Flow()
    answered(flow)
    assert call_of(flow, end=60).timings.post_dial_delay == pytest.approx(0.2)


@needs_public
def test_a_phone_slow_to_answer_407_has_no_long_post_dial_delay() -> None:
    """sngrep aaa.pcap: each challenged INVITE is answered with Proxy-Authorization 17 to
    51 s after the 407. The only call that rings (183, frame 620) does so 0.43 s after its
    INVITE with credentials (frame 617): no C107, but C119 for each of the three calls."""
    path = PUBLIC / "irontec__sngrep/tests/aaa.pcap"
    rows = invite_rows(path)
    assert findings(path, "C107") == []
    rung = next(r["sip.Call-ID"] for r in rows if r["sip.Status-Code"] in RINGING_OR_ANSWER)
    invite, ring = wait_of(path, rung)
    [call] = [c for c in analysed(path).calls if c.call_id == rung]
    assert call.timings.post_dial_delay == pytest.approx(time(ring) - time(invite), abs=1e-6)
    slow = {}
    for challenge in (r for r in rows if r["sip.Status-Code"] == "407"):
        answer = next(r for r in rows if r["sip.Call-ID"] == challenge["sip.Call-ID"]
                      and r["sip.Method"] == "INVITE" and credentials(r))
        slow[challenge["sip.Call-ID"]] = f"{time(answer) - time(challenge):.3f}"
    assert {f.call_id: f.values["took"] for f in findings(path, "C119")} == slow
