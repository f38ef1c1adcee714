"""How a call's BYEs were answered: a 481 from a far end that lost the dialog (D101) told apart
from a 481 to a BYE that named another dialog (D112, the sender's mistake), a BYE refused
outright (D111), and the call's outcome agreeing with them (RFC 3261 sections 12.2.1.1, 15.1)."""

from __future__ import annotations

import subprocess
import sys
from functools import cache

import pytest

from sipdiag.analysis import Analysis, analyze
from sipdiag.rules import load_engine
from sipdiag.rules.model import Finding
from tests.conftest import SAMPLES, read

RULES = SAMPLES / "rules"
ENGINE = load_engine()


@cache
def analysed(name: str) -> Analysis:
    return analyze(RULES / name if "/" not in name else SAMPLES / name, engine=ENGINE)


def findings(name: str, rule: str) -> list[Finding]:
    return [f for f in analysed(name).findings if f.rule.id == rule]


def dialog_tags(name: str) -> tuple[str, str]:
    """(caller's tag, callee's tag) of the dialog, from the 2xx to the INVITE (section 12.1)."""
    messages, _ = read(RULES / name)
    ok = next(m for m in messages if m.status == 200 and m.cseq_method == "INVITE")
    assert ok.from_tag and ok.to_tag
    return ok.from_tag, ok.to_tag


def test_the_bye_samples_are_what_craft_byes_makes() -> None:
    done = subprocess.run([sys.executable, str(SAMPLES / "craft_byes.py"), "--check"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_bye_with_a_wrong_to_tag_is_the_senders_mistake() -> None:
    """The caller's BYE (frame 6) names To tag 0badf00d; the 2xx gave the callee's tag. The
    481 (frame 7) is right: D112 names the tag, D101 (a far end that lost the call) stays
    silent, and the call is still up at the callee."""
    name = "bye-wrong-to-tag.pcap"
    [finding] = findings(name, "D112")
    _, callee_tag = dialog_tags(name)
    message = finding.message("en")
    assert "the To tag 0badf00d" in message and f"has {callee_tag}:" in message
    assert [e.frame for e in finding.evidence] == [6, 7]
    assert findings(name, "D101") == []
    [call] = analysed(name).calls
    assert call.outcome == "answered"


def test_a_callee_bye_with_a_wrong_from_tag_names_the_from_tag() -> None:
    """The callee hangs up (frame 6) with From tag 0badf00d instead of its own tag: the From
    tag is the wrong one, and its right value is the callee's tag of the 2xx."""
    name = "bye-wrong-from-tag.pcap"
    [finding] = findings(name, "D112")
    _, callee_tag = dialog_tags(name)
    assert "the From tag 0badf00d" in finding.message("en")
    assert f"has {callee_tag}:" in finding.message("en")


def test_a_bye_with_both_tags_wrong_gives_the_dialogs_in_the_senders_order() -> None:
    """The callee's BYE (frame 6, from where the 2xx came) with both tags made up: the dialog's
    tags are given as the callee should have sent them, its own first (From), the caller's
    (To) second."""
    name = "bye-wrong-tags-both.pcap"
    [finding] = findings(name, "D112")
    caller_tag, callee_tag = dialog_tags(name)
    message = finding.message("en")
    assert "the From and To tag 5ca1ab1e, 0badf00d" in message
    assert f"has {callee_tag}, {caller_tag}:" in message


def test_a_481_to_the_dialogs_own_bye_is_a_far_end_that_lost_it() -> None:
    """samples/calls/bye-481.pcap: the BYE carries the dialog's tags and is answered 481."""
    name = "calls/bye-481.pcap"
    assert len(findings(name, "D101")) == 1
    assert findings(name, "D112") == []


def test_a_bye_refused_outright_drops_the_call() -> None:
    """The BYE (frame 6) answered 500 and never sent again: the call is not completed, and
    D111 says why, with the BYE and its answer as evidence."""
    name = "bye-refused-500.pcap"
    [finding] = findings(name, "D111")
    assert [e.frame for e in finding.evidence] == [6, 7]
    assert "answered 500 Server Internal Error" in finding.message("en")
    [call] = analysed(name).calls
    assert call.outcome == "dropped"


def test_a_challenged_bye_sent_again_with_credentials_completes_the_call() -> None:
    """BYE challenged 407 (frame 7), sent again with Proxy-Authorization (frame 8), 200
    (frame 9): the call ended normally, by the caller (section 22.2)."""
    name = "bye-challenged-then-accepted.pcap"
    assert findings(name, "D111") == []
    [call] = analysed(name).calls
    assert (call.outcome, call.ended_by) == ("completed", "caller")


@pytest.mark.parametrize("name", ["bye-wrong-to-tag.pcap", "bye-wrong-from-tag.pcap",
                                  "bye-wrong-tags-both.pcap", "bye-refused-500.pcap"])
def test_every_bye_problem_leaves_a_call_that_is_not_completed(name: str) -> None:
    [call] = analysed(name).calls
    assert call.outcome != "completed"
