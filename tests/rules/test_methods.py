"""The methods beside INVITE refused or failing (rules E101 to E115, and C113 naming its
extension): what each finding names, read off the crafted samples of samples/craft_methods.py
(their frames as tshark shows them) and the RFC sections that say what the answers mean; the
flows that go well, which must stay silent; and the public captures, read as an engineer reads
them."""

from __future__ import annotations

import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from sipdiag.analysis import Analysis, analyze
from sipdiag.rules import load_engine
from sipdiag.rules.loader import load_rule
from sipdiag.rules.matcher import transaction_values
from sipdiag.rules.model import Finding, step_placeholders
from sipdiag.rules.yamlfile import DataError
from sipdiag.sip.message import SipMessage
from tests.conftest import PUBLIC, SAMPLES, needs_public, read
from tests.flows import Flow, call_of
from tests.flows import read as read_flow

RULES = SAMPLES / "rules"
ENGINE = load_engine()
HEALTHY = ("subscribe-healthy.pcap", "transfer-healthy.pcap", "publish-healthy.pcap",
           "prack-healthy.pcap", "retry-healthy.pcap")
"""The samples where every subscription, transfer, publication, PRACK and retry goes well."""


@cache
def analysed(path: Path) -> Analysis:
    return analyze(path, engine=ENGINE)


def findings(name: str | Path, rule: str) -> list[Finding]:
    path = name if isinstance(name, Path) else RULES / name
    return [f for f in analysed(path).findings if f.rule.id == rule]


def frames(finding: Finding) -> list[int]:
    return [e.frame for e in finding.evidence]


def messages(name: str) -> list[SipMessage]:
    return read(RULES / name)[0]


def first(name: str, line: str) -> SipMessage:
    """The first message of a sample whose first line starts with ``line``."""
    return next(m for m in messages(name) if m.first_line.startswith(line))


def test_the_method_samples_are_what_craft_methods_makes() -> None:
    done = subprocess.run([sys.executable, str(SAMPLES / "craft_methods.py"), "--check"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("name", HEALTHY)
def test_flows_that_go_well_give_no_event_finding(name: str) -> None:
    found = [f.message() for f in analysed(RULES / name).findings if f.rule.id.startswith("E")]
    assert found == []


def test_a_check_names_a_transaction_with_every_placeholder_a_step_has() -> None:
    """The checks declare ``request.*`` and ``notify.*`` as a step's placeholders: the values
    the matcher fills for a transaction must be exactly those."""
    flow = Flow()
    flow.response(flow.request("OPTIONS", at=0.0), 200, at=0.01)
    [transaction] = read_flow(flow).transactions
    assert set(transaction_values("request", transaction, 0)) == set(step_placeholders("request"))


# -- subscriptions (RFC 6665) --------------------------------------------------------------


def test_489_names_the_package_asked_for_and_those_offered() -> None:
    """Frame 1: SUBSCRIBE with Event: dialog; frame 2: 489 Bad Event with Allow-Events:
    presence, message-summary. RFC 6665 4.2.1.1: the notifier does not understand the
    package. A feature not offered, not a failure of calls: info."""
    subscribe = first("subscribe-489-bad-event.pcap", "SUBSCRIBE")
    assert subscribe.first_value("event") == "dialog"
    [finding] = findings("subscribe-489-bad-event.pcap", "E101")
    assert finding.severity == "info"
    assert (finding.values["event"], finding.values["allowed"]) == (
        "dialog", "presence, message-summary")
    assert frames(finding) == [1, 2]


def test_a_refused_subscription_names_its_package_and_resource() -> None:
    """Frames 1-4: SUBSCRIBE presence of bob, 407, again with credentials, 404 (the challenge
    is no refusal of the resource); frames 5-6: SUBSCRIBE message-summary of carol, 403."""
    found = sorted(findings("subscribe-refused-404-403.pcap", "E102"), key=frames)
    assert [(f.values["request.status"], f.values["event"], f.values["resource"], frames(f))
            for f in found] == [
        ("404", "presence", "sip:bob@198.51.100.1", [3, 4]),
        ("403", "message-summary", "sip:carol@198.51.100.1", [5, 6]),
    ]
    assert all(f.severity == "warning" for f in found)


def test_a_refresh_refused_481_ends_the_subscription() -> None:
    """Frame 5: SUBSCRIBE inside the subscription's dialog (To tag), frame 6: 481. RFC 6665
    4.1.2.2: the subscriber must consider the subscription terminated. A new SUBSCRIBE (no To
    tag) refused is E102's, not this rule's."""
    refresh = messages("subscribe-refresh-481.pcap")[4]
    assert refresh.method == "SUBSCRIBE" and refresh.to_tag
    [finding] = findings("subscribe-refresh-481.pcap", "E103")
    assert frames(finding) == [5, 6] and finding.values["refresh.status"] == "481"
    assert findings("subscribe-refresh-481.pcap", "E102") == []


def test_a_new_subscription_refused_is_not_a_refresh_refused() -> None:
    """The same 404, to a SUBSCRIBE without To tag (a new subscription: E102) and to one with
    the dialog's To tag (a refresh: the subscription that was there is over, E103)."""
    assert findings("subscribe-refused-404-403.pcap", "E103") == []
    flow = Flow()
    refresh = flow.request("SUBSCRIBE", at=0.0, in_dialog=True, headers=("Event: presence",))
    flow.response(refresh, 404, at=0.01)
    assert [f.rule.id for f in ENGINE.evaluate(read_flow(flow))
            if f.rule.id in ("E102", "E103")] == ["E103"]


def test_a_notify_answered_481_is_the_subscriber_without_the_subscription() -> None:
    [finding] = findings("notify-481.pcap", "E104")
    assert frames(finding) == [3, 4]
    assert finding.values["notify.sender"] == "198.51.100.20:5060"  # the notifier, bob


def test_the_notifier_ending_a_subscription_says_why() -> None:
    """Frames 5, 11, 17: NOTIFY terminated with reason rejected, timeout and deactivated (RFC
    6665 4.1.3). rejected and timeout end the watching (warning); deactivated asks for a new
    subscription, which follows (info)."""
    ended = findings("subscription-terminated.pcap", "E105")
    assert [(frames(f), f.values["reason"]) for f in ended] == [
        ([5], "rejected"), ([11], "timeout")]
    [reset] = findings("subscription-terminated.pcap", "E106")
    assert (frames(reset), reset.values["reason"], reset.severity) == ([17], "deactivated", "info")
    assert ended[0].values["resource"] == "sip:bob@198.51.100.20"


def test_the_end_the_subscriber_asked_for_is_no_finding() -> None:
    """subscribe-healthy: SUBSCRIBE with Expires: 0 at 40 s, then NOTIFY terminated;reason=
    timeout: an unsubscription (RFC 6665 4.1.2.3), not a subscription that ran out."""
    last = [m for m in messages("subscribe-healthy.pcap") if m.method == "NOTIFY"][-1]
    assert last.first_value("subscription-state") == "terminated;reason=timeout"
    assert findings("subscribe-healthy.pcap", "E105") == []


# -- transfers (RFC 3515) ------------------------------------------------------------------


def test_a_refused_refer_names_the_target() -> None:
    [finding] = findings("refer-refused-403.pcap", "E107")
    assert (finding.values["target"], finding.values["request.status"]) == (
        "sip:carol@198.51.100.30", "403")
    assert frames(finding) == [6, 7]


def test_a_transfer_failed_with_the_status_of_its_sipfrag() -> None:
    """Frame 10: NOTIFY (Event: refer;id=2) whose message/sipfrag body is SIP/2.0 486 Busy
    Here: the transferee's call to carol failed (RFC 3515 2.4.5). The 100 Trying of frame 8
    is progress, and the terminated;reason=noresource of frame 10 is how every transfer report
    ends (RFC 3515 2.4.7): no subscription finding."""
    notify = messages("transfer-failed-486.pcap")[9]
    assert notify.body == b"SIP/2.0 486 Busy Here\r\n"
    [finding] = findings("transfer-failed-486.pcap", "E108")
    assert (finding.values["status"], finding.values["reason"], finding.values["target"]) == (
        "486", "Busy Here", "sip:carol@198.51.100.30")
    assert frames(finding) == [6, 10]  # the REFER, then the NOTIFY
    assert findings("transfer-failed-486.pcap", "E105") == []


def test_a_transfer_report_refused_names_what_it_reported() -> None:
    [finding] = findings("transfer-notify-refused-488.pcap", "E109")
    assert (finding.values["reported"], finding.values["request.status"]) == ("200 OK", "488")
    assert frames(finding) == [8, 9]
    assert findings("transfer-notify-refused-488.pcap", "E108") == []  # the transfer worked


# -- publication (RFC 3903) ----------------------------------------------------------------


def test_412_not_followed_by_a_fresh_publication() -> None:
    """Frame 5: PUBLISH with SIP-If-Match: e2, frame 6: 412; nothing after it. RFC 3903 4.2:
    the publisher must publish afresh without SIP-If-Match. publish-healthy does (frame 7)."""
    stale = messages("publish-412.pcap")[4]
    assert stale.first_value("sip-if-match") == "e2"
    [finding] = findings("publish-412.pcap", "E110")
    assert frames(finding) == [5, 6]
    assert findings("publish-healthy.pcap", "E110") == []


# -- methods, INFO, UPDATE, extensions -----------------------------------------------------


def test_405_and_501_name_the_method_and_what_is_allowed() -> None:
    found = sorted(findings("method-not-allowed.pcap", "E111"), key=frames)
    assert [(f.values["request.method"], f.values["request.status"], f.values["allow"])
            for f in found] == [
        ("INFO", "501", "INVITE, ACK, CANCEL, BYE"),
        ("UPDATE", "405", "INVITE, ACK, CANCEL, BYE"),
        ("MESSAGE", "405", "INVITE, ACK, CANCEL, BYE"),
    ]


def test_a_service_not_offered_is_information() -> None:
    """OPTIONS 405 and SUBSCRIBE 501 (no Allow): the element offers no such service (RFC
    3261 8.2.1, RFC 6665 4.1.1); E111 stays for the methods whose refusal loses something."""
    found = sorted(findings("method-not-offered.pcap", "E112"), key=frames)
    assert [(f.values["request.method"], f.values["allow"], f.severity) for f in found] == [
        ("OPTIONS", "INVITE, ACK, CANCEL, BYE", "info"), ("SUBSCRIBE", "-", "info")]
    assert findings("method-not-offered.pcap", "E111") == []


def test_info_refused_names_its_body_and_what_the_receiver_takes() -> None:
    """415 carries Accept (RFC 3261 21.4.13), 469 Recv-Info (RFC 6086 4.2.2)."""
    found = sorted(findings("info-415-469.pcap", "E113"), key=frames)
    assert [(f.values["request.status"], f.values["content_type"], f.values["package"],
             f.values["accepted"]) for f in found] == [
        ("415", "application/dtmf-relay", "-", "application/sdp"),
        ("469", "application/foo+xml", "foo", "dtmf"),
    ]


def test_update_refusals_are_the_offer_and_glare_rules() -> None:
    """An UPDATE carrying an offer refused 488 is a codec mismatch (C116, RFC 3311 5.2), and
    an UPDATE answered 491 and never sent again is unresolved glare (D108): no E rule
    repeats them."""
    assert frames(findings("update-488-491.pcap", "C116")[0]) == [6, 7]
    assert [frames(f) for f in findings("update-488-491.pcap", "D108")] == [[8, 9]]
    assert [f for f in analysed(RULES / "update-488-491.pcap").findings
            if f.rule.id.startswith("E")] == []


def test_420_and_421_name_the_extension() -> None:
    """extension-420-421: 420 with Unsupported: foo, 421 with Require: 100rel (RFC 3261
    21.4.15, 21.4.16; RFC 3262 3)."""
    found = sorted(findings("extension-420-421.pcap", "C113"), key=frames)
    assert [(f.values["request.status"], f.values["extension"]) for f in found] == [
        ("420", "foo"), ("421", "100rel")]
    assert "(named in the answer: 100rel)" in found[1].message()


# -- reliable provisional responses (RFC 3262) ---------------------------------------------


def test_a_prack_answered_481_shows_its_rack_against_the_rseq_sent() -> None:
    """Frame 2: 183 with RSeq 1 for INVITE CSeq 1; frame 3: PRACK with RAck 2 1 INVITE
    (RSeq 2 was never sent), 481 in frame 4 (RFC 3262 3). Then the 183 again and a PRACK
    with RAck 1 1 INVITE, answered 200: the response was acknowledged in the end."""
    [finding] = findings("prack-481.pcap", "E114")
    assert (finding.values["rack"], finding.values["rseqs"]) == ("2 1 INVITE", "1")
    assert frames(finding) == [3, 4]
    assert findings("prack-481.pcap", "E115") == []


def test_a_reliable_provisional_never_pracked_until_the_uas_gives_up() -> None:
    """The 183 (RSeq 1) at 0.2 s and its copies at T1 doubling to 31.7 s: frames 2 to 8;
    the 504 at 32.2 s (frame 9) after 64*T1 (RFC 3262 3)."""
    copies = [m for m in messages("prack-never-sent.pcap") if m.status == 183]
    assert len(copies) == 7
    [finding] = findings("prack-never-sent.pcap", "E115")
    assert finding.severity == "error"
    assert (finding.values["copies"], finding.values["span"], finding.values["final.status"]) == (
        "7", "31.500", "504")
    assert frames(finding) == [m.frame for m in copies] + [9]


def test_a_reliable_provisional_not_yet_due_is_no_finding() -> None:
    """The same 183 sent twice, no PRACK, and the capture ends 1 s later: the UAS has not
    given up yet (64*T1 has not passed, no final answer)."""
    flow = Flow()
    invite = flow.request("INVITE", at=0.0, headers=("Supported: 100rel",))
    early = flow.response(invite, 183, at=0.2, headers=("Require: 100rel", "RSeq: 1"))
    flow.copy(early, at=0.7)
    assert [f.rule.id for f in ENGINE.evaluate(call_of(flow, end=1.7))
            if f.rule.id == "E115"] == []
    assert [f.rule.id for f in ENGINE.evaluate(call_of(flow, end=32.3))
            if f.rule.id == "E115"] == ["E115"]


def test_a_prack_that_matches_nothing_acknowledges_nothing() -> None:
    """The 183 (RSeq 1) is PRACKed with RAck 2 1 INVITE only, refused 481; the UAS goes on
    sending the 183 and rejects the INVITE 500: the response was never acknowledged."""
    flow = Flow()
    invite = flow.request("INVITE", at=0.0, headers=("Supported: 100rel",))
    early = flow.response(invite, 183, at=0.2, headers=("Require: 100rel", "RSeq: 1"))
    wrong = flow.request("PRACK", at=0.21, in_dialog=True, headers=("RAck: 2 1 INVITE",))
    flow.response(wrong, 481, at=0.22)
    flow.copy(early, at=0.7)
    flow.response(invite, 500, at=32.2)
    assert sorted(f.rule.id for f in ENGINE.evaluate(call_of(flow))
                  if f.rule.id.startswith("E")) == ["E114", "E115"]


# -- the rules' parameters -----------------------------------------------------------------


def test_a_list_parameter_that_is_no_list_of_words_is_refused(tmp_path: Path) -> None:
    text = (ENGINE.rules.by_id("E112").path.read_text("utf-8")  # type: ignore[union-attr]
            .replace("methods: [SUBSCRIBE, PUBLISH, OPTIONS]", "methods: [SUBSCRIBE, 5]"))
    path = tmp_path / "E112-service-not-offered.yaml"
    path.write_text(text, "utf-8")
    line = text[: text.index("methods:")].count("\n") + 1
    with pytest.raises(DataError, match=rf":{line}: 'methods': must be a word or a list of"):
        load_rule(path)


# -- public captures -----------------------------------------------------------------------

PTAVI = PUBLIC / "javier-pastor__ptavi-p5/sip.cap"
ZFONE = PUBLIC / "NormB__sipnab/tests/pcap-samples/Asterisk_ZFONE_XLITE.pcap"
ERSPAN = PUBLIC / "sipcapture__heplify/example/pcap/erspan_sip_ipv4_udp.pcapng"
GTP = PUBLIC / "arkime__arkime/tests/pcap/gtp-iphone.pcap"
PRACKS = (PUBLIC / "irontec__sngrep/tests/ipv6frag.pcap",
          PUBLIC / "sipcapture__heplify/example/pcap/sip_ipv4_tcp_fragmented.pcap")


@needs_public
def test_ekiga_asks_for_message_waiting_that_the_service_lacks() -> None:
    """Frame 56: Ekiga's SUBSCRIBE with Event: message-summary; frame 57: ekiga.net answers
    489 Unsupported event package, without Allow-Events."""
    [finding] = findings(PTAVI, "E101")
    assert (frames(finding), finding.values["event"], finding.values["allowed"]) == (
        [56, 57], "message-summary", "-")


@needs_public
def test_asterisk_has_no_mailbox_nor_hint_for_what_x_lite_watches() -> None:
    """Frames 11-12: SUBSCRIBE message-summary of 10009, 404; frames 13-14: SUBSCRIBE
    presence of 10008, 404 (both after a 401 answered with credentials)."""
    found = sorted(findings(ZFONE, "E102"), key=frames)
    assert [(frames(f), f.values["event"], f.values["resource"]) for f in found] == [
        ([11, 12], "message-summary", "sip:10009@192.168.10.2"),
        ([13, 14], "presence", "sip:10008@192.168.10.2"),
    ]


@needs_public
def test_the_sbc_forgets_subscriptions_and_a_second_pbx_node_notifies() -> None:
    """Every 10 s the phone subscribes to user-profile with a new Call-ID (frames 1, 13, 35,
    86); 5 s later its refresh is answered 481 by the SBC (frames 11/12, 29/30, 73/74,
    139/140: E103). The NOTIFYs of frames 9, 22, 40 and 91 (the last three from a second PBX
    node, 192.168.1.198) are answered 481 by the SBC (E104). The phone's attended transfer
    (REFER with Replaces, frames 116/117) is refused 488 on both legs (frames 118/119) after a
    407 answered with credentials: one E107 for the call."""
    assert sorted(frames(f)[0] for f in findings(ERSPAN, "E103")) == [11, 29, 73, 139]
    assert sorted(frames(f) for f in findings(ERSPAN, "E104")) == [
        [9, 10], [22, 23], [40, 41], [91, 93]]
    [refer] = findings(ERSPAN, "E107")
    assert frames(refer) == [116, 117, 118, 119]
    assert (refer.values["request.status"], refer.values["target"]) == (
        "488", "sip:20008910@101.231.48.19:5260")


@needs_public
def test_the_ims_core_does_not_serve_the_reg_event() -> None:
    """Frame 31: the iPhone's SUBSCRIBE (Event: reg) to tel:+88270006, frame 34: 405 whose
    Allow lists SUBSCRIBE all the same. The UE goes on (calls work): information only."""
    [finding] = findings(GTP, "E112")
    assert frames(finding) == [31, 34] and finding.severity == "info"
    assert finding.values["allow"].endswith("MESSAGE, SUBSCRIBE")
    assert all(f.severity == "info" for f in analysed(GTP).findings if f.rule.id.startswith("E"))


@needs_public
@pytest.mark.parametrize("path", PRACKS, ids=lambda p: p.name)
def test_reliable_provisionals_pracked_and_answered_give_nothing(path: Path) -> None:
    """Every 183 with Require: 100rel is PRACKed and the PRACK answered 200 (ipv6frag frames
    6-11 and 16-21; tcp_fragmented frames 453-458 and the like); the UPDATEs answered 200."""
    assert [f.message() for f in analysed(path).findings if f.rule.id.startswith("E")] == []
