"""Registrations (RFC 3261 section 10): refused without a challenge (A107), an interval too
brief given up on (A104) or sent again still too brief (A108, 10.2.8), a binding that ran out
with no refresh (A109, 10.2.4), and de-registration shown for what it is (A110, 10.2.2).
Expected values are read with tshark from the samples craft_registrations.py makes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sipdiag.dialogs.registrations import (
    granted_seconds,
    is_deregistration,
    requested_bindings,
    requested_expiry,
)
from sipdiag.rules.model import Finding, Statuses
from tests.conftest import PUBLIC, SAMPLES, needs_public
from tests.flows import Flow, read
from tests.rules.analysed import ENGINE, analysed, findings, tshark_fields

RULES = SAMPLES / "rules"
FIELDS = ("frame.number", "frame.time_relative", "sip.Call-ID", "sip.Method", "sip.Status-Code",
          "sip.Contact", "sip.Expires", "sip.Min-Expires")




def rows(path: Path) -> tuple[dict[str, str], ...]:
    return tshark_fields(path, 'sip.CSeq.method == "REGISTER"', FIELDS)


def frames(finding: Finding) -> list[int]:
    return [e.frame for e in finding.evidence]


def frame(row: dict[str, str]) -> int:
    return int(row["frame.number"])


def test_the_samples_are_what_craft_registrations_makes() -> None:
    done = subprocess.run([sys.executable, str(SAMPLES / "craft_registrations.py"), "--check"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("code", [403, 404])
def test_a_register_refused_without_a_challenge_is_the_registrars_verdict(code: int) -> None:
    name = {403: "register-forbidden-403.pcap", 404: "register-not-found-404.pcap"}[code]
    path = RULES / name
    request, final = rows(path)
    assert (request["sip.Method"], final["sip.Status-Code"]) == ("REGISTER", str(code))
    [finding] = findings(path, "A107")
    assert finding.values["refused.status"] == str(code)
    assert frames(finding) == [frame(request), frame(final)]
    assert finding.refs == (("response", code),)  # the catalog explains the code beside it


def test_a_refusal_another_rule_explains_is_left_to_it() -> None:
    """503 is C111's (any request); 403 to credentials after a 401 is A103's."""
    unavailable = RULES / "register-unavailable-503.pcap"
    assert findings(unavailable, "A107") == [] and len(findings(unavailable, "C111")) == 1
    wrong = RULES / "register-wrong-password.pcap"
    assert findings(wrong, "A107") == [] and len(findings(wrong, "A103")) == 1


def registration(*statuses: int, credentials_from: int = 99) -> Flow:
    """REGISTERs answered with these statuses in turn; from the ``credentials_from``-th on
    (0-based) they carry credentials."""
    flow = Flow()
    for index, status in enumerate(statuses):
        headers = ('Authorization: Digest username="a", nonce="n"',) if (
            index >= credentials_from) else ()
        request = flow.request("REGISTER", at=index, headers=("Expires: 60", *headers))
        flow.response(request, status, at=index + 0.01)
    return flow


def rules_of(flow: Flow, end: float | None = None) -> list[str]:
    return sorted(f.rule.id for f in ENGINE.evaluate(read(flow, end)))


@pytest.mark.parametrize(("statuses", "credentials_from", "a107"), [
    ((480,), 99, 1),             # temporarily unavailable
    ((603,), 99, 1),
    ((404, 200), 99, 0),         # accepted afterwards
    ((401, 404), 1, 1),          # a 404 to credentials: the registrar's verdict still
    ((401, 403), 1, 0),          # A103's
    ((403,), 0, 1),              # credentials sent unasked (no challenge): refused outright
    ((302,), 99, 0),             # not a refusal
    ((408,), 99, 0), ((500,), 99, 0), ((513,), 99, 0),   # C108, C109, N103
])
def test_which_refusals_are_a107s(statuses: tuple[int, ...], credentials_from: int,
                                  a107: int) -> None:
    found = rules_of(registration(*statuses, credentials_from=credentials_from))
    assert found.count("A107") == a107


def refused_once(code: int) -> list[str]:
    """The rules that fire on a REGISTER answered ``code``, nothing before or after it."""
    flow = Flow()
    request = flow.request("REGISTER", at=0, headers=("Contact: <sip:a@192.0.2.10>",))
    flow.response(request, code, at=0.01)
    return rules_of(flow)


def test_a_refusal_left_to_another_rule_is_explained_by_it_and_the_others_by_a107() -> None:
    """Whatever the code (the catalog's, 400 to 699), a REGISTER refused without a challenge
    is explained: by A107 unless its ``explained_elsewhere`` names the code, and then by
    another rule (a bare 401 or 407 is a challenge, not a refusal)."""
    rule = ENGINE.rules.by_id("A107")
    assert rule is not None
    elsewhere = rule.params["explained_elsewhere"]
    assert isinstance(elsewhere, Statuses)
    for code in (c for c in ENGINE.catalog.responses if c >= 400 and c not in (401, 407)):
        found = refused_once(code)
        assert ("A107" in found) is not elsewhere.matches(code), (code, found)
        assert found, code


def test_a_423_loop_is_one_finding_and_not_a_423_given_up() -> None:
    path = RULES / "register-423-loop.pcap"
    requests = [r for r in rows(path) if r["sip.Method"] == "REGISTER"]
    finals = [r for r in rows(path) if r["sip.Status-Code"] == "423"]
    assert len(requests) == len(finals) == 4
    [loop] = findings(path, "A108")
    minimum = finals[0]["sip.Min-Expires"]
    assert int(requests[1]["sip.Expires"]) < int(minimum)  # RFC 3261 10.2.8: at least this
    assert (loop.values["minimum"], loop.values["asked"]) == (minimum, requests[1]["sip.Expires"])
    assert loop.values["retry.frame"] == requests[1]["frame.number"]
    assert frames(loop) == sorted({frame(r) for r in requests} | {frame(r) for r in finals[:3]})
    assert findings(path, "A104") == []


def test_a_423_given_up_at_once_is_a104s() -> None:
    path = RULES / "register-423.pcap"
    assert len(findings(path, "A104")) == 1 and findings(path, "A108") == []
    retried = RULES / "register-423-retried.pcap"
    assert findings(retried, "A104") == [] and findings(retried, "A108") == []


def too_brief(*asked: str) -> Flow:
    """REGISTERs asking for these Expires values, each answered 423 with Min-Expires 300,
    except one asking for at least 300 (answered 200)."""
    flow = Flow()
    for index, expires in enumerate(asked):
        request = flow.request("REGISTER", at=index,
                               headers=("Contact: <sip:alice@192.0.2.10>", f"Expires: {expires}"))
        enough = int(expires) >= 300
        flow.response(request, 200 if enough else 423, at=index + 0.01,
                      headers=() if enough else ("Min-Expires: 300",))
    return flow


@pytest.mark.parametrize(("asked", "found"), [
    (("60",), ["A104"]),
    (("60", "300"), []),                 # corrected
    (("60", "299"), ["A108"]),           # still below, then given up on: the loop's last 423
    (("60", "60", "300"), ["A108"]),     # a loop that ends corrected is a loop still
])
def test_423_given_up_looped_or_corrected(asked: tuple[str, ...], found: list[str]) -> None:
    assert [r for r in rules_of(too_brief(*asked)) if r in ("A104", "A108")] == found


def test_a_binding_never_refreshed_expires() -> None:
    """register-expired.pcap: the 200 (frame 2) binds the Contact for 60 s (its expires
    parameter); no other REGISTER follows, and the capture runs on to 120 s."""
    path = RULES / "register-expired.pcap"
    request, ok = rows(path)
    granted = int(ok["sip.Contact"].rsplit("expires=", 1)[1])
    [expired] = findings(path, "A109")
    assert (expired.values["granted"], expired.values["ok.frame"]) == (str(granted), "2")
    assert expired.values["refresh.frame"] == "-"
    assert frames(expired) == [frame(request), frame(ok)]
    assert findings(RULES / "register-refreshed.pcap", "A109") == []


def refreshed(after: float, *, expires_param: bool = True) -> Flow:
    """REGISTER, 200 binding it for 60 s (in the Contact's expires, or in Expires), then the
    same REGISTER again ``after`` s after the 200."""
    flow = Flow()
    contact = "Contact: <sip:alice@192.0.2.10>"
    granted = (f"{contact};expires=60",) if expires_param else (contact, "Expires: 60")
    first = flow.request("REGISTER", at=0, headers=(contact, "Expires: 3600"))
    flow.response(first, 200, at=0.01, headers=granted)
    second = flow.request("REGISTER", at=0.01 + after, headers=(contact, "Expires: 3600"))
    flow.response(second, 200, at=0.02 + after, headers=granted)
    return flow


@pytest.mark.parametrize("expires_param", [True, False])
@pytest.mark.parametrize(("after", "expired"), [(59.0, False), (61.9, False), (62.1, True)])
def test_a_refresh_after_the_granted_time_and_its_grace_is_late(
    after: float, expired: bool, expires_param: bool
) -> None:
    """RFC 3261 10.2.4: the 200's expires parameter, else its Expires header, not the 3600 s
    asked for; a refresh up to 2 s late (A109's grace) still counts as in time."""
    flow = refreshed(after, expires_param=expires_param)
    assert ("A109" in rules_of(flow)) is expired


def test_a_binding_refreshed_in_time_does_not_expire_however_long_the_capture() -> None:
    """Refreshed 59 s after its 200, then never again in a capture of 200 s: only the second
    binding ran out."""
    flow = refreshed(59.0)
    second = [m for m in flow.messages if m.method == "REGISTER"][1]
    [expired] = [f for f in ENGINE.evaluate(read(flow, end=200)) if f.rule.id == "A109"]
    assert expired.values["register.frame"] == str(second.frame)


def test_a_registration_watched_for_less_than_its_time_did_not_expire() -> None:
    flow = Flow()
    request = flow.request("REGISTER", at=0, headers=("Contact: <sip:a@192.0.2.10>",))
    flow.response(request, 200, at=0.01, headers=("Contact: <sip:a@192.0.2.10>;expires=60",))
    assert "A109" not in rules_of(flow, end=62.0)
    assert "A109" in rules_of(flow, end=62.02)


def test_de_registrations_are_shown_as_such() -> None:
    """register-deregistration.pcap: expires=0 on the Contact (frame 3), and Contact: * with
    Expires: 0 (frame 5), each answered 200 (RFC 3261 10.2.2)."""
    path = RULES / "register-deregistration.pcap"
    removals = [r for r in rows(path) if r["sip.Method"] == "REGISTER"
                and ("expires=0" in r["sip.Contact"] or r["sip.Expires"] == "0")]
    found = findings(path, "A110")
    assert [f.values["register.frame"] for f in found] == [r["frame.number"] for r in removals]
    assert [f.values["how"] for f in found] == ["expires=0", "Contact: *"]
    assert findings(path, "A109") == []  # the 60 s binding was removed at 30 s: no expiry
    assert {e.outcome for e in analysed(path).exchanges} == {"ok"}


def test_a_de_registration_not_accepted_is_no_de_registration() -> None:
    flow = Flow()
    request = flow.request("REGISTER", at=0, headers=("Contact: *", "Expires: 0"))
    flow.response(request, 401, at=0.01)
    assert "A110" not in rules_of(flow)


@pytest.mark.parametrize(("headers", "removes"), [
    (("Contact: *", "Expires: 0"), True),
    (("Contact: <sip:a@h>;expires=0", "Expires: 3600"), True),   # the parameter wins (10.2.1.1)
    (("Contact: <sip:a@h>", "Expires: 0"), True),
    (("Contact: <sip:a@h>;expires=0, <sip:a@k>",), False),         # only one of two
    (("Expires: 0",), False),                                     # no Contact: a query (10.2.3)
])
def test_what_a_de_registration_is(headers: tuple[str, ...], removes: bool) -> None:
    flow = Flow()
    assert is_deregistration(flow.request("REGISTER", at=0, headers=headers)) is removes


def test_bindings_asked_and_granted() -> None:
    flow = Flow()
    request = flow.request("REGISTER", at=0, headers=(
        "Contact: <sip:a@192.0.2.10:5062;line=1>;expires=120, <sip:a@192.0.2.11>",
        "Expires: 600"))
    assert [(b.contact, b.expires) for b in requested_bindings(request)] == [
        ("sip:a@192.0.2.10:5062;line=1", 120), ("sip:a@192.0.2.11", 600)]
    assert requested_expiry(request) == 120
    ok = flow.response(request, 200, at=0.01, headers=(
        "Contact: <sip:a@192.0.2.10:5062;line=1>;expires=90, <sip:a@192.0.2.11>;expires=300, "
        "<sip:other@198.51.100.7>;expires=30",))   # another device's binding: not ours
    assert granted_seconds(request, ok) == 90


@needs_public
@pytest.mark.parametrize(("capture", "frame_of"), [
    ("arkime__arkime/tests/pcap/gtp-iphone.pcap", "100"),
    ("javier-pastor__ptavi-p5/sip.cap", "952"),
    ("MaryLS__Laborator09/sip.pcap", "193"),
])
def test_de_registrations_of_the_public_captures(capture: str, frame_of: str) -> None:
    """An IMS phone (Expires: 0, frame 100), Ekiga (Expires: 0 after a 401, frame 952) and a
    softphone (expires=0 after a stale nonce, frame 193), each answered 200."""
    path = PUBLIC / capture
    removals = [r for r in rows(path) if r["sip.Method"] == "REGISTER"
                and ("expires=0" in r["sip.Contact"] or r["sip.Expires"] == "0")]
    assert frame_of in {r["frame.number"] for r in removals}
    assert [f.values["register.frame"] for f in findings(path, "A110")] == [frame_of]
    assert findings(path, "A107") == [] and findings(path, "A109") == []
