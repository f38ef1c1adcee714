"""A forked INVITE (RFC 3261 16.7, 13.2.2.4): a branch the proxy cancelled because another
answered is no hang-up by the caller (C101 silent); a second 2xx the caller ACKs and ends by
BYE is handled; one it ignores is reported (D113) with its retransmissions as evidence."""

from __future__ import annotations

import subprocess
import sys
from functools import cache

from sipdiag.analysis import Analysis, analyze
from sipdiag.rules import load_engine
from sipdiag.rules.model import Finding
from tests.conftest import SAMPLES, read

RULES = SAMPLES / "rules"
ENGINE = load_engine()
T1, T2, TIMER_H = 0.5, 4.0, 32.0


@cache
def analysed(name: str) -> Analysis:
    return analyze(RULES / name, engine=ENGINE)


def findings(name: str, rule: str) -> list[Finding]:
    return [f for f in analysed(name).findings if f.rule.id == rule]


def schedule() -> list[float]:
    """When a UAS sends a 2xx and its retransmissions while no ACK comes: at 0, then T1
    doubling up to T2, until 64*T1 (section 13.3.1.4)."""
    times, at, gap = [0.0], 0.0, T1
    while at + gap <= TIMER_H:
        at += gap
        times.append(at)
        gap = min(2 * gap, T2)
    return times


def test_the_fork_samples_are_what_craft_forking_makes() -> None:
    done = subprocess.run([sys.executable, str(SAMPLES / "craft_forking.py"), "--check"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_branch_cancelled_because_another_answered_is_not_the_callers_hang_up() -> None:
    """Bob answers (frame 9), the proxy CANCELs Carol's branch (frame 12), Carol answers 487:
    the caller never cancelled anything."""
    name = "fork-one-answers.pcap"
    assert findings(name, "C101") == []
    assert findings(name, "D113") == []
    [call] = analysed(name).calls
    assert call.final_status == 200


def test_a_second_answer_acked_and_ended_by_bye_is_handled() -> None:
    name = "fork-two-answer.pcap"
    assert findings(name, "D113") == []


def test_a_second_answer_the_caller_ignores_is_reported_with_its_retransmissions() -> None:
    """Carol's 200 (frame 12) is never ACKed: she repeats it on the 2xx schedule until 64*T1,
    then hangs up (her BYE, frame 34). The finding names her 2xx, Bob's answer it stood
    beside (frame 9), the copies on her hop and the time they took."""
    name = "fork-second-answer-ignored.pcap"
    messages, _ = read(RULES / name)
    carol = messages[11]
    assert (carol.frame, carol.status, str(carol.src)) == (12, 200, "198.51.100.30:5060")
    copies = [m for m in messages if m.status == 200 and m.src == carol.src
              and m.to_tag == carol.to_tag]
    expected = schedule()
    assert [round((m.ts_ns - carol.ts_ns) / 1e9, 3) for m in copies] == expected
    [finding] = findings(name, "D113")
    message = finding.message("en")
    assert "the 2xx in frame 12 from 198.51.100.30:5060" in message
    assert "answered in frame 9" in message
    assert f"sent {len(expected)} time(s), over {expected[-1]:.3f} s" in message
    bye = next(m for m in messages if m.method == "BYE" and m.src == carol.src)
    assert [e.frame for e in finding.evidence] == [12, copies[-1].frame, bye.frame]


def test_a_second_answer_acked_and_ended_by_its_callee_is_no_fork_left_up() -> None:
    """Carol's 2xx (frame 12 area) ACKed by the caller, her dialog ended by her own BYE at 6 s,
    accepted: the caller took that answer (as a B2BUA that keeps the Call-ID does), nothing
    was left up to time out."""
    name = "fork-second-answer-kept.pcap"
    messages, _ = read(RULES / name)
    carol = "198.51.100.30"
    assert any(m.method == "ACK" and m.dst.ip == carol for m in messages)
    bye = next(m for m in messages if m.method == "BYE" and m.src.ip == carol)
    assert any(m.status == 200 and m.cseq_method == "BYE" and m.dst == bye.src for m in messages)
    assert findings(name, "D113") == []
