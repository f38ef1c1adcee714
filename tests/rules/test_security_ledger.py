"""The source ledger of the security rules (issue 18, ``dialogs.sources``): what each source
address tried, read from SIP flows built here byte by byte.

Expected values come from the flows and the RFCs: a request relayed by a proxy keeps its
method, CSeq and From tag (RFC 3261 16.6), so it is one request, sent by the first hop's
sender; a retry with credentials answers the 401 or 407 before it (RFC 3261 22.2), so a
request and its retries are one attempt; a request with a To tag is inside a dialog (RFC 3261
12.2). Basic credentials are ``base64(user:password)`` (RFC 7617 2): the user name is kept,
the password nowhere. The builders here are shared by the other test_security_* files.
"""

from __future__ import annotations

import base64
import itertools
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path

import pytest

from sipdiag.analysis import analyze
from sipdiag.analysis.model import sources_of
from sipdiag.dialogs.calls import Call, Exchange
from sipdiag.dialogs.sources import ExposureKind, SourceLedger
from sipdiag.network import Endpoint
from sipdiag.rules.capture import CAPTURE_CHECKS
from sipdiag.rules.model import Finding
from sipdiag.sip.message import SipMessage
from sipdiag.sip.parser import parse_message
from tests.conftest import SAMPLES
from tests.flows import T0, Flow, read
from tests.rules.analysed import ENGINE, tshark_fields

SECOND = 1_000_000_000
PHONE = Endpoint("203.0.113.5", 5062)
SERVER = Endpoint("198.51.100.1", 5060)
PROXY = Endpoint("198.51.100.7", 5060)
DOMAIN = "example.com"
REALM = "example.com"
PASSWORD = "Tr0ub4dor-and-3"
"""The password of the Basic credentials: it must appear nowhere sipdiag keeps or says."""
SDES = "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"
Subject = Call | Exchange


def digest(user: str, realm: str = REALM) -> str:
    """Digest credentials (RFC 3261 22.4, RFC 2617 3.2.2); the response need not be right."""
    return (f'Digest username="{user}", realm="{realm}", nonce="4f2a9c", '
            f'uri="sip:{DOMAIN}", response="6629fae49393a05397450978507c4ef1", algorithm=MD5')


def basic(user: str, password: str = PASSWORD) -> str:
    """Basic credentials: the scheme, then ``base64(user:password)`` (RFC 7617 2)."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def sdp(crypto: str = SDES, ip: str = "203.0.113.5") -> str:
    """An SRTP offer or answer (RFC 4568 section 4) whose ``a=crypto`` line is ``crypto``."""
    return (f"v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
            f"m=audio 4000 RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\n{crypto}\r\n")


class Capture:
    """Calls and exchanges numbered as one capture numbers them (``Flow`` alone starts each
    flow at frame 1), each with a Call-ID of its own."""

    def __init__(self, first_call_id: int = 1) -> None:
        self.frames = itertools.count(1)
        self.call_ids = itertools.count(first_call_id)
        self.flows: list[Flow] = []

    def flow(self, src: Endpoint = PHONE, dst: Endpoint = SERVER, user: str = "alice",
             to: str | None = None) -> Flow:
        """A Call-ID from ``user`` (From) at ``src`` to ``to`` (To; ``user`` by default) at
        ``dst``."""
        flow = Flow(call_id=f"call-{next(self.call_ids)}@{DOMAIN}", caller=src, callee=dst,
                    caller_user=user, callee_user=to or user, _frames=self.frames)
        self.flows.append(flow)
        return flow

    def pcap(self) -> bytes:
        """Every message built, in a libpcap file (UDP over IPv4)."""
        from tests import packets

        messages = sorted((m for f in self.flows for m in f.messages),
                          key=lambda m: (m.ts_ns, m.frame))
        return packets.pcap((m.ts_ns, packets.udp4_frame(
            m.src.ip, m.dst.ip, m.raw, m.src.port, m.dst.port)) for m in messages)


def attempt(capture: Capture, *, at: float, method: str = "REGISTER", src: Endpoint = PHONE,
            dst: Endpoint = SERVER, user: str = "alice", to: str | None = None,
            uri: str = f"sip:{DOMAIN}", answers: Iterable[int] = (200,),
            credentials: str | None = None, preemptive: bool = False, agent: str = "",
            lasting: float = 30.0, body: str = "", answer_body: str = "",
            ringing: bool = False, transport: str = "UDP") -> Subject:
    """A request from ``user`` sent once per status in ``answers`` (each try's final status;
    0: none came), 20 ms apart, answered 10 ms after each try. A try after a 401 carries
    ``credentials`` in Authorization, after a 407 in Proxy-Authorization (RFC 3261 22.2,
    22.3); the first try too if ``preemptive``. An INVITE rings first (180) if ``ringing``;
    answered 2xx, it is ACKed and hung up (BYE, 200) ``lasting`` seconds after its INVITE;
    refused, it is ACKed. ``transport``: what every message was carried over."""
    flow = capture.flow(src, dst, user, to)
    header = "Authorization" if preemptive else None
    now = at
    for status in answers:
        headers = tuple(h for h in (
            f"User-Agent: {agent}" if agent else "",
            f"{header}: {credentials}" if header and credentials else "") if h)
        request = flow.request(method, at=now, uri=uri, headers=headers, body=body)
        if ringing and status >= 200:
            flow.response(request, 180, at=now + 0.005)
        if status:
            final = flow.response(request, status, at=now + 0.01,
                                  body=answer_body if 200 <= status < 300 else "")
            if method == "INVITE":
                flow.ack(final, at=now + 0.011)
                if 200 <= status < 300:
                    bye = flow.request("BYE", at=at + lasting, in_dialog=True, uri=uri)
                    flow.response(bye, 200, at=at + lasting + 0.01)
        header = {401: "Authorization", 407: "Proxy-Authorization"}.get(status, header)
        now += 0.02
    if transport != "UDP":
        flow.messages[:] = [reread(m, transport=transport) for m in flow.messages]
    return read(flow)


def reread(message: SipMessage, *, transport: str | None = None,
           substitute: tuple[bytes, bytes] = (b"", b"")) -> SipMessage:
    """The same message, read as carried over ``transport``, with ``substitute``'s first bytes
    replaced by its second."""
    raw = message.raw.replace(*substitute) if substitute[0] else message.raw
    return parse_message(raw, message.frame, message.ts_ns, message.src, message.dst,
                         transport or message.transport)


def call(capture: Capture, number: str, *, at: float, src: Endpoint = PHONE,
         dst: Endpoint = SERVER, user: str = "alice", answers: Iterable[int] = (200,),
         credentials: str | None = None, lasting: float = 30.0, ringing: bool = False
         ) -> Subject:
    """An INVITE from ``user`` to ``number`` (Request-URI and To sip:NUMBER@example.com)."""
    return attempt(capture, at=at, method="INVITE", src=src, dst=dst, user=user, to=number,
                   uri=f"sip:{number}@{DOMAIN}", answers=answers, credentials=credentials,
                   lasting=lasting, ringing=ringing)


def host_probe(capture: Capture, *, at: float, src: Endpoint = PHONE) -> Subject:
    """An OPTIONS to the server's address (Request-URI and To sip:ADDRESS, no user), answered
    404."""
    flow = capture.flow(src, SERVER, to="host")
    flow.response(flow.request("OPTIONS", at=at, uri=f"sip:{SERVER.ip}"), 404, at=at + 0.01)
    named = (b"<sip:host@example.com>", f"<sip:{SERVER.ip}>".encode())
    flow.messages[:] = [reread(m, substitute=named) for m in flow.messages]
    return read(flow)


def ledger_of(subjects: Iterable[Subject]) -> SourceLedger:
    ledger = SourceLedger()
    for subject in subjects:
        ledger.observe(subject)
    return ledger


def findings(rule_id: str, subjects: Iterable[Subject] | SourceLedger,
             **params: object) -> list[Finding]:
    """What rule ``rule_id`` (its check, with its params from its file and ``params``) finds
    in the ledger of these calls and exchanges."""
    ledger = subjects if isinstance(subjects, SourceLedger) else ledger_of(subjects)
    found = ENGINE.rules.by_id(rule_id)
    assert found is not None and found.check is not None
    rule = replace(found, params={**found.params, **params})
    return [Finding(rule, hit.call_id, hit.call_frame, hit.hit.values, hit.hit.evidence,
                    hit.hit.refs)
            for hit in CAPTURE_CHECKS[found.check].find(ledger, rule.params)]


def values(rule_id: str, subjects: Iterable[Subject] | SourceLedger,
           **params: object) -> list[Mapping[str, str]]:
    return [f.values for f in findings(rule_id, subjects, **params)]


def ns(seconds: float) -> int:
    """The capture time of ``seconds`` after the flows' start."""
    return T0 + round(seconds * SECOND)


# -- one request, one attempt ----------------------------------------------------------------


def test_a_request_relayed_by_a_proxy_counts_once_on_its_first_hop() -> None:
    """The phone's INVITE reaches the server through a proxy, which keeps the method, CSeq and
    From tag (RFC 3261 16.6); so does the BYE. One attempt and one tally: the phone's. The
    proxy, which only relayed, is no source."""
    flow = Capture().flow(PHONE, SERVER, "alice", "bob")
    invite = flow.request("INVITE", at=0.0, dst=PROXY, uri="sip:bob@example.com")
    relayed = flow.request("INVITE", at=0.01, cseq=invite.cseq, src=PROXY, dst=SERVER,
                           uri="sip:bob@10.0.0.8")
    flow.response(relayed, 200, at=0.5)
    ok = flow.response(invite, 200, at=0.51)
    flow.ack(ok, at=0.52)
    bye = flow.request("BYE", at=9.0, in_dialog=True, dst=PROXY)
    flow.response(bye, 200, at=9.01)
    relayed_bye = flow.request("BYE", at=9.005, cseq=bye.cseq, in_dialog=True, src=PROXY,
                               dst=SERVER)
    flow.response(relayed_bye, 200, at=9.008)
    ledger = ledger_of([read(flow)])
    [only] = ledger.attempts
    assert (only.source, only.server, only.method, only.target, only.status) == (
        PHONE.ip, PROXY.ip, "INVITE", "bob", 200)
    assert (only.request.frame, only.call_frame) == (invite.frame, invite.frame)
    assert list(ledger.tallies) == [PHONE.ip]
    assert ledger.tallies[PHONE.ip].requests == Counter({"INVITE": 1, "BYE": 1})


@pytest.mark.parametrize(("answers", "status", "refused", "accepted"), [
    ((401, 200), 200, False, True),
    ((407, 200), 200, False, True),
    ((401, 401), 401, True, False),
    ((401, 403), 403, True, False),
    ((407, 407), 407, True, False),
])
def test_a_challenge_and_its_retry_with_credentials_are_one_attempt(
    answers: tuple[int, ...], status: int, refused: bool, accepted: bool,
) -> None:
    capture = Capture()
    subject = attempt(capture, at=0.0, answers=answers, credentials=digest("1001"))
    [one] = ledger_of([subject]).attempts
    assert (one.status, one.challenged, one.credentials) == (status, True, True)
    assert (one.credentials_refused, one.answered, one.refused) == (refused, accepted,
                                                                   not accepted)
    # the attempt is its first request; its answer, the last try's final response
    first, last_answer = subject.messages[0], subject.messages[-1]
    assert (one.request.frame, one.request.what) == (first.frame, "REGISTER")
    assert one.answer is not None
    assert (one.answer.frame, one.answer.what) == (last_answer.frame, f"{status} REGISTER")
    assert (one.account, one.realm) == ("1001", REALM)


def test_credentials_tried_again_after_a_refusal_are_another_attempt() -> None:
    """REGISTER, 401, REGISTER with credentials, 401 again, REGISTER with credentials, 401: the
    second credentials are another try of a password, not the answer to a challenge, since a
    UAC MUST NOT re-attempt credentials just rejected (RFC 3261 22.1): two attempts, both
    refused."""
    made = ledger_of([attempt(Capture(), at=0.0, answers=(401, 401, 401),
                              credentials=digest("1001"))]).in_order()
    assert [(a.status, a.challenged, a.credentials_refused) for a in made] == [
        (401, True, True), (401, True, True)]


def test_credentials_answering_a_stale_nonce_are_the_same_attempt() -> None:
    """The second 401 says ``stale=true`` (RFC 7616 3.3): the password was right, its nonce
    old; the client answers the new nonce, accepted: one attempt."""
    flow = Capture().flow()
    challenge = 'WWW-Authenticate: Digest realm="example.com", nonce="{}"{}'
    credentials = (f"Authorization: {digest('1001')}",)
    first = flow.request("REGISTER", at=0.0, uri=f"sip:{DOMAIN}")
    flow.response(first, 401, at=0.01, headers=(challenge.format("n1", ""),))
    second = flow.request("REGISTER", at=0.02, uri=f"sip:{DOMAIN}", headers=credentials)
    flow.response(second, 401, at=0.03, headers=(challenge.format("n2", ", stale=true"),))
    third = flow.request("REGISTER", at=0.04, uri=f"sip:{DOMAIN}", headers=credentials)
    ok = flow.response(third, 200, at=0.05)
    [one] = ledger_of([read(flow)]).attempts
    assert (one.request.frame, one.status, one.credentials_refused) == (first.frame, 200, False)
    assert one.answer is not None and one.answer.frame == ok.frame


def test_a_challenge_left_unanswered_is_refused_without_credentials() -> None:
    """A scanner's REGISTER challenged 401 and never retried: refused, but no credentials
    were refused (it sent none)."""
    [one] = ledger_of([attempt(Capture(), at=0.0, answers=(401,))]).attempts
    assert (one.status, one.refused, one.challenged, one.credentials) == (401, True, True, False)
    assert not one.credentials_refused
    assert (one.account, one.realm) == ("alice", "")  # From's user, no realm


def test_credentials_sent_unasked_and_refused_are_refused_credentials() -> None:
    [one] = ledger_of([attempt(Capture(), at=0.0, answers=(403,), credentials=digest("1001"),
                               preemptive=True)]).attempts
    assert (one.challenged, one.credentials, one.credentials_refused) == (False, True, True)


def test_an_attempt_without_a_final_answer_is_unanswered() -> None:
    [one] = ledger_of([attempt(Capture(), at=0.0, answers=(0,))]).attempts
    assert (one.status, one.answer, one.refused, one.answered) == (0, None, False, False)


def test_a_new_request_after_a_challenge_is_another_attempt() -> None:
    """After the 401 the client sends a REGISTER for another user: not a retry of the first
    (RFC 3261 22.2 retries the same request), so two attempts."""
    flow = Capture().flow()
    first = flow.request("REGISTER", at=0.0, uri=f"sip:{DOMAIN}")
    flow.response(first, 401, at=0.01)
    flow.callee_user = flow.caller_user = "bob"
    second = flow.request("REGISTER", at=0.02, uri=f"sip:{DOMAIN}",
                          headers=(f"Authorization: {digest('bob')}",))
    flow.response(second, 200, at=0.03)
    made = ledger_of([read(flow)]).in_order()
    assert [(a.target, a.status, a.credentials) for a in made] == [
        ("alice", 401, False), ("bob", 200, True)]


def test_the_same_request_again_without_credentials_is_another_attempt() -> None:
    """A scanner sends the same REGISTER again after each 401, never with credentials: each
    is refused on its own (it answers no challenge, RFC 3261 22.2)."""
    made = ledger_of([attempt(Capture(), at=0.0, answers=(401, 401, 401))]).in_order()
    assert [(a.status, a.challenged, a.credentials) for a in made] == [(401, True, False)] * 3


def test_requests_inside_a_dialog_and_acks_are_no_attempts_but_are_tallied() -> None:
    """INVITE, 200, ACK, a re-INVITE and the caller's BYE, then a BYE from the callee of a
    second call: one attempt per call (the initial INVITEs); the tallies count every request
    but the ACKs (RFC 3261 17: an ACK gets no response), each on its sender."""
    capture = Capture()
    flow = capture.flow(PHONE, SERVER, "alice", "bob")
    invite = flow.request("INVITE", at=0.0, uri="sip:bob@example.com")
    ok = flow.response(invite, 200, at=0.5)
    flow.ack(ok, at=0.51)
    reinvite = flow.request("INVITE", at=5.0, in_dialog=True)
    flow.ack(flow.response(reinvite, 200, at=5.01), at=5.02)
    bye = flow.request("BYE", at=9.0, in_dialog=True)
    flow.response(bye, 200, at=9.01)
    second = capture.flow(PHONE, SERVER, "alice", "carol")
    invite2 = second.request("INVITE", at=20.0, uri="sip:carol@example.com")
    second.ack(second.response(invite2, 200, at=20.5), at=20.51)
    callee_bye = second.request("BYE", at=30.0, in_dialog=True, reverse=True)
    unanswered_bye = callee_bye  # the capture ends before its 200
    ledger = ledger_of([read(flow), read(second)])
    assert [(a.method, a.target, a.request.frame) for a in ledger.in_order()] == [
        ("INVITE", "bob", invite.frame), ("INVITE", "carol", invite2.frame)]
    phone, server = ledger.tallies[PHONE.ip], ledger.tallies[SERVER.ip]
    assert phone.requests == Counter({"INVITE": 3, "BYE": 1})
    assert phone.statuses == Counter({"2xx": 4})
    assert phone.users == {"bob", "carol"}
    assert (phone.first_frame, phone.first_ns) == (invite.frame, invite.ts_ns)
    assert (phone.last_frame, phone.last_ns) == (invite2.frame, invite2.ts_ns)
    assert server.requests == Counter({"BYE": 1})
    assert server.statuses == Counter({"none": 1})
    assert server.users == set()  # its BYE was inside a dialog
    assert (server.first_frame, server.last_frame) == (unanswered_bye.frame,) * 2


def test_a_cancel_is_no_attempt_and_the_statuses_are_counted_by_class() -> None:
    """INVITE, 180, CANCEL (200), 487, ACK; then an OPTIONS answered 404 and a MESSAGE
    answered 503: three attempts; the tally's classes 4xx x2, 2xx (the CANCEL), 5xx."""
    capture = Capture()
    flow = capture.flow(PHONE, SERVER, "alice", "bob")
    invite = flow.request("INVITE", at=0.0, uri="sip:bob@example.com")
    flow.response(invite, 180, at=0.1)
    cancel = flow.request("CANCEL", at=2.0, cseq=invite.cseq, branch=invite.branch,
                          uri="sip:bob@example.com")
    flow.response(cancel, 200, at=2.01)
    flow.ack(flow.response(invite, 487, at=2.02), at=2.03)
    options = attempt(capture, at=3.0, method="OPTIONS", to="dave", uri="sip:dave@example.com",
                      answers=(404,))
    message = attempt(capture, at=4.0, method="MESSAGE", to="erin", uri="sip:erin@example.com",
                      answers=(503,))
    ledger = ledger_of([read(flow), options, message])
    assert [(a.method, a.status) for a in ledger.in_order()] == [
        ("INVITE", 487), ("OPTIONS", 404), ("MESSAGE", 503)]
    tally = ledger.tallies[PHONE.ip]
    assert tally.requests == Counter({"INVITE": 1, "CANCEL": 1, "OPTIONS": 1, "MESSAGE": 1})
    assert tally.statuses == Counter({"4xx": 2, "2xx": 1, "5xx": 1})


# -- who and what the attempt was for --------------------------------------------------------


@pytest.mark.parametrize(("method", "uri", "to", "target"), [
    # RFC 3261 10.2: a REGISTER's Request-URI names the registrar; To names whose binding it is
    ("REGISTER", "sip:example.com", "alice", "alice"),
    ("REGISTER", "sip:carol@example.com", "alice", "alice"),
    # any other request is for the user of its Request-URI (RFC 3261 8.1.1.1)
    ("INVITE", "sip:+4930123456@example.com;user=phone", "bob", "+4930123456"),
    ("INVITE", "tel:+1-900-555-0100", "bob", "+1-900-555-0100"),  # RFC 3966
    ("INVITE", "tel:7042;phone-context=example.com", "bob", "7042"),
    ("MESSAGE", "sips:dave@example.com", "bob", "dave"),
    ("OPTIONS", "sip:example.com", "bob", "bob"),  # a URI naming a host: To's user
])
def test_the_user_an_attempt_is_for(method: str, uri: str, to: str, target: str) -> None:
    [one] = ledger_of([attempt(Capture(), at=0.0, method=method, uri=uri, to=to,
                               answers=(404,))]).attempts
    assert one.target == target


def test_a_password_in_a_uri_is_no_part_of_the_user() -> None:
    """sip:bob:PASSWORD@host is the user bob and a password (RFC 3261 19.1.1), which the
    findings about targets (S101, S102, S106) must never print."""
    [one] = ledger_of([attempt(Capture(), at=0.0, method="INVITE", to="bob",
                               uri=f"sip:bob:{PASSWORD}@example.com", answers=(404,))]).attempts
    assert one.target == "bob"
    assert PASSWORD not in repr(one)


def test_an_attempt_that_names_no_user_is_no_user_of_the_tally() -> None:
    """A probe of a host (OPTIONS sip:198.51.100.1, To the same) names no user: the source's
    tally of distinct users stays empty."""
    ledger = ledger_of([host_probe(Capture(), at=0.0)])
    [probe] = ledger.attempts
    assert probe.target == ""
    assert ledger.tallies[PHONE.ip].users == set()


@pytest.mark.parametrize(("credentials", "account"), [
    (digest("1001"), "1001"),
    (basic("bob"), "bob"),
    (basic("carol", "with:colons:inside"), "carol"),  # RFC 7617 2: the user has no colon
    (None, "alice"),  # none: From's user
])
def test_the_account_is_the_credentials_user_name(credentials: str | None,
                                                  account: str) -> None:
    answers = (401, 200) if credentials else (200,)
    [one] = ledger_of([attempt(Capture(), at=0.0, answers=answers,
                               credentials=credentials)]).attempts
    assert one.account == account


def test_a_basic_password_is_kept_and_said_nowhere() -> None:
    """Ten REGISTERs with Basic credentials refused 403 within 10 s, then one accepted: a
    password guess (S103), a success after failures (S105) and Basic credentials (S110), all
    about bob. Neither the password nor the base64 that holds it is in any attempt, exposure,
    finding value or message."""
    capture = Capture()
    tries = [attempt(capture, at=float(n), answers=(401, 403), credentials=basic("bob"))
             for n in range(10)]
    tries.append(attempt(capture, at=10.0, answers=(401, 200), credentials=basic("bob")))
    ledger = ledger_of(tries)
    token = basic("bob").split()[1]
    kept = repr(ledger.attempts) + repr(ledger.exposures) + repr(ledger.tallies)
    said = [f for rule in ("S103", "S105", "S110") for f in findings(rule, ledger)]
    assert sorted(f.rule.id for f in said) == ["S103", "S105", "S110"]
    assert {f.values["user"] for f in said} == {"bob"}
    texts = [repr(dict(f.values)) + repr(f.evidence) + "".join(
        f.message(language) for language in ("en", "ko", "ja")) for f in said]
    for secret in (PASSWORD, token):
        assert secret not in kept
        assert not [text for text in texts if secret in text]


# -- exposures -------------------------------------------------------------------------------


@pytest.mark.parametrize(("transport", "kept"), [
    ("UDP", True), ("TCP", True), ("SCTP", True), ("WS", True),
    ("TLS", False), ("WSS", False),  # RFC 3261 26.2.1: only the ends read it
])
def test_exposures_are_kept_only_over_a_plain_transport(transport: str, kept: bool) -> None:
    subject = attempt(Capture(), at=0.0, method="INVITE", uri="sip:bob@example.com", to="bob",
                      answers=(407, 200), credentials=digest("1001"), body=sdp(),
                      answer_body=sdp(ip="198.51.100.1"), transport=transport)
    exposures = ledger_of([subject]).exposures
    # the offer of each try, the Proxy-Authorization of the second, the answer of the 200
    offer, retry, answer = (subject.messages[i] for i in (0, 3, 4))
    expected = [(offer.frame, "SDES"), (retry.frame, "DIGEST"), (retry.frame, "SDES"),
                (answer.frame, "SDES")]
    assert sorted((e.message.frame, e.kind.name) for e in exposures) == (
        expected if kept else [])
    for exposure in exposures:
        assert exposure.transport == transport


def test_digest_and_basic_exposures_name_user_realm_and_header() -> None:
    capture = Capture()
    subjects = [attempt(capture, at=0.0, answers=(401, 200), credentials=digest("1001")),
                attempt(capture, at=1.0, answers=(407, 200), credentials=basic("bob"))]
    found = ledger_of(subjects).exposures
    assert [(e.kind, e.source, e.server, e.user, e.realm, e.header) for e in found] == [
        (ExposureKind.DIGEST, PHONE.ip, SERVER.ip, "1001", REALM, "Authorization"),
        (ExposureKind.BASIC, PHONE.ip, SERVER.ip, "bob", "", "Proxy-Authorization")]


@pytest.mark.parametrize(("crypto", "exposed"), [
    (SDES, True),
    ("a=crypto:2 AES_256_CM_HMAC_SHA1_32 inline:YUJDZGVmZ2hpSktMbW9QUXJzVFVWd1h5WkFCQ0RF"
     "|2^31|1:1;inline:QUJDZGVmZ2hpSktMbW9QUXJzVFVWd1h5WkFCQ0RF|2^31|2:1 KDR=1", True),
    # a key method other than inline carries no key in the SDP (RFC 4568 5.1)
    ("a=crypto:1 AES_CM_128_HMAC_SHA1_80 mikey:bm90LWEta2V5", False),
    # DTLS-SRTP: a certificate fingerprint, no key (RFC 5763)
    ("a=fingerprint:sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB", False),
    ("a=x-note:crypto inline:not-an-attribute", False),
])
def test_sdes_keys_are_an_exposure_only_when_given_inline(crypto: str, exposed: bool) -> None:
    subject = attempt(Capture(), at=0.0, method="INVITE", uri="sip:bob@example.com", to="bob",
                      body=sdp(crypto))
    kinds = [e.kind for e in ledger_of([subject]).exposures]
    assert kinds == ([ExposureKind.SDES] if exposed else [])


@pytest.mark.parametrize("crypto", [
    "a=crypto:1  AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz",
    "a=crypto:1\tAES_CM_128_HMAC_SHA1_80\tinline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz",
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 INLINE:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz",
])
def test_sdes_keys_written_with_other_white_space_or_case_are_an_exposure(crypto: str) -> None:
    subject = attempt(Capture(), at=0.0, method="INVITE", uri="sip:bob@example.com", to="bob",
                      body=sdp(crypto))
    assert [e.kind for e in ledger_of([subject]).exposures] == [ExposureKind.SDES]


# -- ledgers of several processes ------------------------------------------------------------


def mixed(capture: Capture) -> list[Subject]:
    """Calls and exchanges of three sources: registrations (one refused), a call, an OPTIONS
    scan with a scanner's User-Agent, and Digest credentials and SDES keys in clear."""
    other, scanner = Endpoint("192.0.2.40", 5060), Endpoint("203.0.113.66", 5070)
    subjects = [
        attempt(capture, at=0.0, answers=(401, 200), credentials=digest("1001"), agent="P/1"),
        attempt(capture, at=1.0, src=other, user="bob", answers=(401, 403),
                credentials=digest("bob"), agent="Q/2"),
        attempt(capture, at=2.0, method="INVITE", uri="sip:+4420794600@example.com", to="carol",
                body=sdp(), answer_body=sdp(ip=SERVER.ip), agent="P/1", lasting=12.0),
    ]
    subjects += [attempt(capture, at=3.0 + n, method="OPTIONS", src=scanner, to=f"{100 + n}",
                         uri=f"sip:{100 + n}@{DOMAIN}", answers=(404,),
                         agent="friendly-scanner") for n in range(4)]
    subjects.append(attempt(capture, at=8.0, src=other, user="bob", answers=(401, 200),
                            credentials=digest("bob"), agent="Q/3"))
    return subjects


@pytest.mark.parametrize("split", [1, 3, 5])
def test_two_ledgers_merged_are_one_ledger_fed_everything(split: int) -> None:
    """Each process observes its own calls; merged, the ledgers hold what one would."""
    subjects = mixed(Capture())
    whole = ledger_of(subjects)
    first, second = ledger_of(subjects[:split]), ledger_of(subjects[split:])
    first.merge(second)
    assert list(first.in_order()) == list(whole.in_order())
    assert sorted(first.exposures, key=lambda e: (e.message.frame, e.kind.name)) == sorted(
        whole.exposures, key=lambda e: (e.message.frame, e.kind.name))
    assert first.tallies == whole.tallies
    assert len(whole.attempts) == 8 and len(whole.tallies) == 3


def test_merged_tallies_keep_the_earliest_first_and_the_latest_last_frame() -> None:
    capture = Capture()
    early, middle, late = (attempt(capture, at=at, answers=(200,)) for at in (0.0, 5.0, 9.0))
    merged = ledger_of([middle])
    merged.merge(ledger_of([late, early]))
    tally = merged.tallies[PHONE.ip]
    assert (tally.first_frame, tally.first_ns) == (early.messages[0].frame, ns(0.0))
    assert (tally.last_frame, tally.last_ns) == (late.messages[0].frame, ns(9.0))
    assert tally.requests == Counter({"REGISTER": 3})


def test_methods_sent_as_often_are_listed_by_name_whatever_the_order_seen() -> None:
    """The summary lists methods the most sent first, then by name: the same whatever the
    order the calls ended in or the ledgers were merged."""
    capture = Capture()
    options = attempt(capture, at=0.0, method="OPTIONS", answers=(200,))
    register = attempt(capture, at=1.0, answers=(200,))
    invites = [attempt(capture, at=2.0 + n, method="INVITE", answers=(486,)) for n in range(2)]
    seen = [options, register, *invites]
    for order in (seen, seen[::-1]):
        [phone] = sources_of(ledger_of(order), [])
        assert phone.requests == (("INVITE", 2), ("OPTIONS", 1), ("REGISTER", 1))


def test_a_sources_user_agents_are_the_first_five_sent_whatever_the_order_seen() -> None:
    """Seven calls, each with a User-Agent of its own, observed latest first and split over two
    ledgers: the summary names the five sent first, in the order sent."""
    capture = Capture()
    made = [attempt(capture, at=float(n), agent=f"Phone/{n}") for n in range(7)]
    merged = ledger_of(made[:2:-1])
    merged.merge(ledger_of(made[2::-1]))
    assert merged.tallies[PHONE.ip].first_agents() == tuple(f"Phone/{n}" for n in range(5))
    [phone] = sources_of(merged, [])
    assert phone.agents == tuple(f"Phone/{n}" for n in range(5))


# -- many processes, on the samples ----------------------------------------------------------

SECURITY = sorted((SAMPLES / "security").glob("*.pcap"))


@pytest.mark.parametrize("sample", SECURITY, ids=lambda p: Path(p).name)
def test_two_processes_find_what_one_finds(sample: Path) -> None:
    """Each process takes the Call-IDs whose CRC-32 falls to it (pipeline.Share): in every
    sample of more than one Call-ID, both processes get some (as tshark reads them)."""
    call_ids = {row["sip.Call-ID"] for row in tshark_fields(sample, "sip", ("sip.Call-ID",))}
    assert len({zlib.crc32(c.encode()) % 2 for c in call_ids}) == min(len(call_ids), 2)
    one, two = (analyze(sample, engine=ENGINE, jobs=jobs) for jobs in (1, 2))

    def security(found: Iterable[Finding]) -> list[tuple[str, str, int, dict[str, str]]]:
        return sorted((f.rule.id, f.call_id, f.call_frame, dict(f.values)) for f in found
                      if f.rule.id.startswith("S"))

    assert security(two.findings) == security(one.findings)
    assert two.sources == one.sources
    assert one.sources  # every sample has requests


def test_two_processes_summarise_a_source_as_one_does(tmp_path: Path) -> None:
    """An OPTIONS (User-Agent A) then a REGISTER (User-Agent B) from one phone, with the
    Call-IDs call-4@ and call-5@example.com: CRC-32 odd, then even, so that with two processes
    the later call is the first process's (pipeline.Share)."""
    capture = Capture(first_call_id=4)
    attempt(capture, at=0.0, method="OPTIONS", agent="A/1.0")
    attempt(capture, at=1.0, agent="B/2.0")
    path = tmp_path / "two-agents.pcap"
    path.write_bytes(capture.pcap())
    one, two = (analyze(path, engine=ENGINE, jobs=jobs).sources for jobs in (1, 2))
    [phone] = one
    assert (phone.address, phone.requests, phone.agents) == (
        PHONE.ip, (("OPTIONS", 1), ("REGISTER", 1)), ("A/1.0", "B/2.0"))
    assert two == one
