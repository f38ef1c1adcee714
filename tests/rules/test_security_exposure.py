"""What was sent in clear (issue 18): Digest credentials (S109), Basic credentials (S110) and
SDES keys (S111), from flows built here.

RFC 3261 26.2.1: TLS protects SIP hop by hop, so over TLS (or WSS) nothing is exposed. Digest
credentials and SDES keys over a plain transport count where the path crosses a public
address (within a private network the same traffic is not open to the internet); Basic
credentials carry the password itself (RFC 7617 2; RFC 3261 22.1 forbids the scheme), so they
count on any path. An SDES offer and its answer expose the keys of one path (RFC 4568 8.3):
one finding.
"""

from __future__ import annotations

import pytest

from sipdiag.network import Endpoint
from tests.rules.test_security_ledger import (
    PHONE,
    REALM,
    SERVER,
    Capture,
    attempt,
    basic,
    digest,
    sdp,
    values,
)

LAN_PHONE = Endpoint("192.168.1.20", 5060)
LAN_PBX = Endpoint("192.168.1.1", 5060)
LOOPBACK = Endpoint("127.0.0.1", 5060)


@pytest.mark.parametrize(("src", "dst", "transport", "told"), [
    (PHONE, SERVER, "UDP", True),  # both public
    (LAN_PHONE, SERVER, "UDP", True),  # a phone behind NAT to a public server
    (PHONE, LAN_PBX, "TCP", True),  # a public phone to a PBX's private address
    (LAN_PHONE, LAN_PBX, "UDP", False),  # within the LAN
    (LAN_PHONE, LOOPBACK, "UDP", False),
    (PHONE, SERVER, "TLS", False),
    (LAN_PHONE, SERVER, "WSS", False),
])
def test_digest_credentials_in_clear_across_the_internet(
    src: Endpoint, dst: Endpoint, transport: str, told: bool,
) -> None:
    capture = Capture()
    subjects = [attempt(capture, at=float(n), src=src, dst=dst, user=user, answers=(401, 200),
                        credentials=digest(user), transport=transport)
                for n, user in enumerate(("1001", "1002", "1001"))]
    found = values("S109", subjects)
    if not told:
        assert found == []
        return
    [exposed] = found
    retries = [s.messages[2] for s in subjects]  # each REGISTER with Authorization
    assert {k: exposed[k] for k in ("source", "server", "user", "realm", "transport", "count",
                                    "first_frame", "last_frame")} == {
        "source": src.ip, "server": dst.ip, "user": "1001, 1002", "realm": REALM,
        "transport": transport, "count": "3", "first_frame": str(retries[0].frame),
        "last_frame": str(retries[-1].frame)}


def test_digest_credentials_are_told_per_source_realm_and_server() -> None:
    capture = Capture()
    other = Endpoint("198.51.100.9", 5060)
    subjects = [
        attempt(capture, at=0.0, answers=(401, 200), credentials=digest("1001")),
        attempt(capture, at=1.0, answers=(401, 200), credentials=digest("1001", "other.net")),
        attempt(capture, at=2.0, dst=other, answers=(401, 200), credentials=digest("1001")),
        attempt(capture, at=3.0, answers=(401, 200), credentials=digest("1001")),
    ]
    assert sorted((v["realm"], v["server"], v["count"]) for v in values("S109", subjects)) == [
        (REALM, SERVER.ip, "2"), (REALM, other.ip, "1"), ("other.net", SERVER.ip, "1")]


@pytest.mark.parametrize(("src", "dst", "transport", "told"), [
    (LAN_PHONE, LAN_PBX, "UDP", True),  # the password itself, on any path
    (PHONE, SERVER, "TCP", True),
    (LAN_PHONE, LAN_PBX, "TLS", True),  # RFC 3261 22 forbids Basic on any transport
])
def test_basic_credentials_are_told_on_any_path(
    src: Endpoint, dst: Endpoint, transport: str, told: bool,
) -> None:
    capture = Capture()
    subject = attempt(capture, at=0.0, src=src, dst=dst, user="bob", answers=(407, 200),
                      credentials=basic("bob"), transport=transport)
    found = values("S110", [subject])
    assert values("S109", [subject]) == []  # no Digest here
    if not told:
        assert found == []
        return
    [exposed] = found
    assert {k: exposed[k] for k in ("source", "server", "user", "header", "transport",
                                    "count")} == {
        "source": src.ip, "server": dst.ip, "user": "bob", "header": "Proxy-Authorization",
        "transport": transport, "count": "1"}


def test_an_sdes_offer_and_its_answer_on_one_path_are_one_finding() -> None:
    """The phone's INVITE offers keys, the server's 200 answers with its own (RFC 4568 7.1):
    one exposure of the path, counted twice, named after the offerer."""
    capture = Capture()
    subject = attempt(capture, at=0.0, method="INVITE", uri="sip:bob@example.com", to="bob",
                      body=sdp(), answer_body=sdp(ip=SERVER.ip))
    second = attempt(capture, at=60.0, method="INVITE", uri="sip:bob@example.com", to="bob",
                     body=sdp(), answer_body=sdp(ip=SERVER.ip))
    [exposed] = values("S111", [subject, second])
    offer, answer = subject.messages[0], second.messages[1]
    assert {k: exposed[k] for k in ("source", "server", "transport", "count", "first_frame",
                                    "last_frame")} == {
        "source": PHONE.ip, "server": SERVER.ip, "transport": "UDP", "count": "4",
        "first_frame": str(offer.frame), "last_frame": str(answer.frame)}


@pytest.mark.parametrize(("src", "transport", "told"), [
    (LAN_PHONE, "UDP", False),
    (PHONE, "TLS", False),
    (PHONE, "TCP", True),
])
def test_sdes_keys_count_in_clear_across_the_internet_only(src: Endpoint, transport: str,
                                                           told: bool) -> None:
    dst = LAN_PBX if src == LAN_PHONE else SERVER
    subject = attempt(Capture(), at=0.0, method="INVITE", src=src, dst=dst,
                      uri="sip:bob@example.com", to="bob", body=sdp(), transport=transport)
    assert len(values("S111", [subject])) == int(told)
