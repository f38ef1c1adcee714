"""A challenge answered with credentials and challenged again (RFC 3261 22.2, 22.3): refused
credentials (A102), a nonce gone stale (A105, RFC 7616 3.3: ``stale=true``), or an answer so
late its nonce may have expired, which a server that never says ``stale`` leaves undecided
(A106). Expected frames and delays are read with tshark."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pytest

from sipdiag.analysis import analyze
from sipdiag.dialogs.challenges import digest_params, offered_nonces, says_stale
from sipdiag.rules.model import Finding
from tests.conftest import PUBLIC, SAMPLES, needs_public
from tests.flows import Flow, read
from tests.rules.analysed import ENGINE, WITHOUT_SECURITY, findings, tshark_fields

RULES = SAMPLES / "rules"
FIELDS = ("frame.number", "frame.time_relative", "sip.Call-ID", "sip.CSeq.seq", "sip.Method",
          "sip.Status-Code", "sip.WWW-Authenticate", "sip.Authorization")




def rows(path: Path) -> tuple[dict[str, str], ...]:
    """The REGISTERs and their responses as tshark reads them."""
    return tshark_fields(path, 'sip.CSeq.method == "REGISTER"', FIELDS)


@dataclass(frozen=True)
class Attempt:
    """A REGISTER (its first copy) and its final response, as tshark reads them."""

    request: dict[str, str]
    final: dict[str, str]

    @property
    def frame(self) -> int:
        return int(self.request["frame.number"])

    @property
    def status(self) -> str:
        return self.final["sip.Status-Code"]

    @property
    def answered_nonce(self) -> str:
        return digest_params(self.request["sip.Authorization"]).get("nonce", "")

    @property
    def offered_nonce(self) -> str:
        return digest_params(self.final["sip.WWW-Authenticate"]).get("nonce", "")


def attempts(path: Path) -> list[Attempt]:
    """Each REGISTER with its final response, paired by Call-ID and CSeq, in frame order."""
    finals: dict[tuple[str, str], dict[str, str]] = {}
    requests: dict[tuple[str, str], dict[str, str]] = {}
    for row in rows(path):
        key = (row["sip.Call-ID"], row["sip.CSeq.seq"])
        if row["sip.Method"] == "REGISTER":
            requests.setdefault(key, row)
        elif int(row["sip.Status-Code"]) >= 200:
            finals.setdefault(key, row)
    return [Attempt(request, finals[key]) for key, request in requests.items() if key in finals]


def rechallenged(path: Path) -> list[tuple[Attempt, Attempt]]:
    """(challenged, answer): each REGISTER with credentials challenged again, with the attempt
    whose challenge it answered (the one before it in its Call-ID, RFC 3261 22.2)."""
    every = attempts(path)
    return [(before, after) for before, after in pairwise(every)
            if before.request["sip.Call-ID"] == after.request["sip.Call-ID"]
            and before.status == "401" and after.request["sip.Authorization"]
            and after.status == "401"]


def time(row: dict[str, str]) -> float:
    return float(row["frame.time_relative"])


def frames(finding: Finding) -> list[int]:
    return [e.frame for e in finding.evidence]


def test_digest_parameters_are_read_around_quoted_commas_and_case() -> None:
    value = 'Digest  realm="a, b",nonce="1471336048/6f0f",algorithm=md5,qop="auth",STALE=TRUE'
    assert digest_params(value) == {"realm": "a, b", "nonce": "1471336048/6f0f",
                                    "algorithm": "md5", "qop": "auth", "stale": "TRUE"}


def test_stale_is_a_case_insensitive_flag_of_any_challenge() -> None:
    """RFC 7616 3.3: stale is a case-insensitive flag; a 401 may offer several challenges."""
    flow = Flow()
    register = flow.request("REGISTER", at=0)
    response = flow.response(register, 401, at=0.01, headers=(
        'WWW-Authenticate: Digest realm="r", nonce="n1", algorithm=SHA-256',
        'WWW-Authenticate: Digest realm="r", nonce="n2", stale=True',
    ))
    assert says_stale(response) and offered_nonces(response) == {"n1", "n2"}
    fresh = flow.response(register, 401, at=0.02,
                          headers=('WWW-Authenticate: Digest realm="r", nonce="n3", stale=false',))
    assert not says_stale(fresh)


def test_a_stale_nonce_is_not_refused_credentials() -> None:
    """The refresh (frame 5) reuses the nonce of the first challenge and is challenged again
    with stale=true (frame 6): the credentials were right, the next REGISTER is accepted."""
    path = RULES / "register-stale-nonce.pcap"
    [stale] = [a for a in attempts(path) if "stale=true" in a.final["sip.WWW-Authenticate"]]
    assert stale.request["sip.Authorization"]
    [finding] = findings(path, "A105")
    assert frames(finding) == [stale.frame, int(stale.final["frame.number"])]
    assert findings(path, "A102") == [] and findings(path, "A106") == []


def test_a_late_answer_challenged_with_a_new_nonce_is_undecided_the_same_nonce_is_refusal(
) -> None:
    """Alice answers 20 s late and gets a new nonce without stale: an expired nonce or a wrong
    password (A106). Carol answers 20 s late too, but the server offers again the nonce she
    answered: it is still good, so her credentials were refused (A102)."""
    path = RULES / "register-late-answers.pcap"
    (alice_first, alice), (_, carol) = rechallenged(path)
    took = time(alice.request) - time(alice_first.final)
    assert took > 10 and alice.offered_nonce != alice.answered_nonce
    [late] = findings(path, "A106")
    assert late.values["took"] == f"{took:.3f}"
    assert (late.values["again.frame"], late.values["challenge.final_frame"]) == (
        str(alice.frame), alice_first.final["frame.number"])
    assert frames(late) == [alice_first.frame, int(alice_first.final["frame.number"]),
                            alice.frame, int(alice.final["frame.number"])]
    assert carol.offered_nonce == carol.answered_nonce
    [refused] = findings(path, "A102")
    assert refused.values["again.frame"] == str(carol.frame)


def test_repeated_challenges_answered_at_once_are_refused_credentials() -> None:
    path = RULES / "register-repeated-challenge.pcap"
    assert len(findings(path, "A102")) == 1
    assert findings(path, "A105") == [] and findings(path, "A106") == []


def registration(second: str, delay: float, *, later_success: bool = False) -> Flow:
    """REGISTER, 401 (nonce n1), REGISTER with credentials for n1 ``delay`` s later answered
    401 with the challenge ``second``; with ``later_success`` a third REGISTER is accepted."""
    flow = Flow()
    first = flow.request("REGISTER", at=0)
    flow.response(first, 401, at=0.01, headers=('WWW-Authenticate: Digest realm="r", nonce="n1"',))
    retry = flow.request("REGISTER", at=0.01 + delay,
                         headers=('Authorization: Digest username="a", realm="r", nonce="n1"',))
    flow.response(retry, 401, at=0.02 + delay, headers=(f"WWW-Authenticate: {second}",))
    if later_success:
        last = flow.request("REGISTER", at=0.03 + delay,
                            headers=('Authorization: Digest username="a", realm="r", nonce="n2"',))
        flow.response(last, 200, at=0.04 + delay)
    return flow


NEW = 'Digest realm="r", nonce="n2"'
SAME = 'Digest realm="r", nonce="n1"'
STALE = 'Digest realm="r", nonce="n2", stale=true'


@pytest.mark.parametrize(("second", "delay", "found"), [
    (STALE, 0.01, {"A105"}),          # stale=true: only the nonce expired (RFC 7616 3.3)
    (STALE, 30.0, {"A105"}),
    (NEW, 0.01, {"A102"}),            # answered at once, challenged again: refused
    (NEW, 10.0, {"A102"}),            # not later than late (10 s)
    (NEW, 10.5, {"A106"}),            # later: an expired nonce cannot be ruled out
    (SAME, 30.0, {"A102"}),           # the same nonce is still good: refused however late
])
def test_how_a_new_challenge_is_read(second: str, delay: float, found: set[str]) -> None:
    rules = {f.rule.id for f in ENGINE.evaluate(read(registration(second, delay)))}
    assert rules & {"A102", "A105", "A106"} == found


@pytest.mark.parametrize("second", [NEW, SAME])
@pytest.mark.parametrize("delay", [0.01, 30.0])
def test_accepted_afterwards_neither_refused_nor_undecided(second: str, delay: float) -> None:
    flow = registration(second, delay, later_success=True)
    rules = {f.rule.id for f in ENGINE.evaluate(read(flow))}
    assert not rules & {"A102", "A106"}


@needs_public
def test_a_brute_force_never_accepted_is_refused_credentials() -> None:
    """CESNET sip.pcap: a friendly-scanner tries passwords for user 6001, each answered at
    once (ms later) and challenged again (Asterisk, no stale): Call-ID 1744316116 is never
    accepted; 1080421403 is accepted in frame 48 (a guessed password), so it is no refusal.
    (With the security rules, S105 tells the whole run and supersedes A102 on its calls: the
    rule is seen here without them.)"""
    path = PUBLIC / "CESNET__ipfixprobe/tests/functional/inputs/sip.pcap"
    accepted = {r["sip.Call-ID"] for r in rows(path) if r["sip.Status-Code"] == "200"}
    again = rechallenged(path)  # the scanner sends CSeq 2 again and again: first answers only
    assert all(time(a.request) - time(c.final) < 1 for c, a in again)
    refused = {a.request["sip.Call-ID"] for _, a in again} - accepted
    found = analyze(path, engine=WITHOUT_SECURITY, jobs=1).findings
    assert [f.call_id for f in found if f.rule.id == "A102"] == sorted(refused) == ["1744316116"]
    assert [f for f in found if f.rule.id == "A106"] == []
    assert [f.values["user"] for f in findings(path, "S105")] == ["6001"]
    assert findings(path, "A102") == []


@needs_public
def test_the_same_nonce_challenged_again_is_refused_credentials() -> None:
    """heplify ipip0.pcap: a Polycom answers a 401 with credentials 27 ms later, and again:
    each time challenged again with the very nonce it answered."""
    path = PUBLIC / "sipcapture__heplify/src/decoder/testdata/ipip0.pcap"
    again = rechallenged(path)
    assert again and all(a.offered_nonce == a.answered_nonce for _, a in again)
    [finding] = findings(path, "A102")
    assert finding.values["again.frame"] == str(again[0][1].frame)


@needs_public
def test_late_answers_to_a_server_that_never_says_stale_are_not_called_a_wrong_password(
) -> None:
    """sngrep aaa.pcap: the phone answers every challenge about 17 s late; the registrar
    answers some of these answers 401 "nonce has changed" with a new nonce and stale=false,
    and accepts others (frames 182, 527, 650): not refused credentials. The registration of
    frames 421-454 never succeeds after such a 401: A106, once, with every late answer."""
    path = PUBLIC / "irontec__sngrep/tests/aaa.pcap"
    assert findings(path, "A102") == []
    late_again = [a for c, a in rechallenged(path)
                  if time(a.request) - time(c.final) > 10 and a.offered_nonce != a.answered_nonce
                  and "stale=false" in a.final["sip.WWW-Authenticate"]]
    [late] = findings(path, "A106")
    undecided = [a for a in late_again if 421 <= a.frame <= 454]
    assert late.values["again.frame"] == str(undecided[0].frame)
    assert {a.frame for a in undecided} <= set(frames(late))
