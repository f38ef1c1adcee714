"""N104: a private address is reported only when the device behind a NAT wrote it about itself,
where the far end would use it (RFC 3261 16.6, 18.2.1; RFC 3581; RFC 8445 5.1.1; RFC 8839
section 2; RFC 3264 5.1). Read on the crafted samples of samples/craft_addresses.py, on small
flows, and on the public captures that fired before."""

from __future__ import annotations

import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from sipdiag.analysis import Analysis, analyze
from sipdiag.network import Endpoint
from sipdiag.rules import builtin_catalog, load_engine
from sipdiag.rules.checks import CHECKS
from sipdiag.rules.model import Finding
from tests.conftest import PUBLIC, SAMPLES, needs_public, read
from tests.flows import Flow
from tests.flows import read as read_flow

RULES = SAMPLES / "rules"
ENGINE = load_engine()
CATALOG = builtin_catalog()
NATTED = Endpoint("203.0.113.5", 5060)
"""The public address of a NAT (TEST-NET-3), where a phone's packets come from."""
FAR_END = Endpoint("198.51.100.20", 5060)


@cache
def analysed(path: Path) -> Analysis:
    return analyze(path, engine=ENGINE)


def n104(path: Path) -> list[Finding]:
    return [f for f in analysed(path).findings if f.rule.id == "N104"]


def reported(path: Path) -> list[tuple[int, str, str]]:
    """(frame, where, private address) of each N104 finding."""
    return [(f.first_frame, f.values["where"], f.values["private"]) for f in n104(path)]


def test_the_address_samples_are_what_craft_addresses_makes() -> None:
    done = subprocess.run([sys.executable, str(SAMPLES / "craft_addresses.py"), "--check"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_phone_behind_nat_is_reported_once_with_its_own_request() -> None:
    """The INVITE (frame 1) comes from 203.0.113.5 with one Via and Contact and c= both
    192.168.1.20: one finding per address, on the first message that gives it."""
    [finding] = n104(RULES / "private-address-behind-nat.pcap")
    assert (finding.first_frame, finding.values["sender"]) == (1, "203.0.113.5:5060")
    assert (finding.values["where"], finding.values["private"]) == ("Contact", "192.168.1.20")
    assert reported(RULES / "private-address-same-lan.pcap") == []


def test_a_server_reflexive_candidate_makes_the_private_c_only_a_default() -> None:
    """RFC 8839 section 2: the c= address is the default destination; with a srflx candidate
    at the NAT's address (RFC 8445 5.1.1) the far end reaches the phone from outside. With a
    host candidate alone, nothing reachable is offered."""
    messages, _ = read(RULES / "ice-private-default.pcap")
    offer = messages[0].sdp
    assert offer is not None and offer.media[0].connection == "192.168.1.20"
    assert {c.kind for c in offer.media[0].candidates} == {"host", "srflx"}
    assert reported(RULES / "ice-private-default.pcap") == []
    assert reported(RULES / "ice-host-candidates-only.pcap") == [(1, "SDP c=", "192.168.1.20")]


def test_a_proxy_relaying_a_lan_phone_is_not_behind_a_nat() -> None:
    """The proxy's copy of the desk phone's INVITE (frame 3) has two Vias (RFC 3261 16.6 step
    8) and the phone's private Contact; its relay of the phone's 200 to Alice (frame 12) comes
    from the address its Record-Route names (16.6 step 4). Neither is the proxy's own
    address."""
    path = RULES / "proxy-relays-private-addresses.pcap"
    messages, _ = read(path)
    by_frame = {m.frame: m for m in messages}
    relayed_invite, relayed_ok = by_frame[3], by_frame[12]
    assert relayed_invite.src.ip == "198.51.100.1" and len(relayed_invite.vias) == 2
    assert "192.168.1.30" in (relayed_invite.first_value("contact") or "")
    assert relayed_ok.status == 200 and "192.168.1.30" in (relayed_ok.first_value("contact") or "")
    assert relayed_ok.first_value("record-route") == "<sip:198.51.100.1;lr>"
    assert reported(path) == []


def test_a_far_end_reaching_the_phone_through_its_nat_handles_it() -> None:
    """Bob's BYE (frame 6) is for sip:alice@192.168.1.20:5060 but goes to 203.0.113.5:5060,
    where the phone's packets come from, and Bob's own SDP (frame 4) puts its media at its own
    address: Bob does hosted NAT traversal (RFC 7362), the private Contact and c= do no harm."""
    path = RULES / "private-contact-reached-through-nat.pcap"
    messages, _ = read(path)
    bye = next(m for m in messages if m.method == "BYE")
    assert bye.request_uri == "sip:alice@192.168.1.20:5060"
    assert str(bye.dst) == "203.0.113.5:5060"
    answer = next(m for m in messages if m.status == 200 and m.cseq_method == "INVITE").sdp
    assert answer is not None and answer.addresses == ("198.51.100.20",)
    assert reported(path) == []


# Small flows: which Contacts and SDP addresses are the sender's own


def private_address(flow: Flow) -> list[tuple[int, str, str]]:
    return [(int(h.values["frame"]), h.values["where"], h.values["private"])
            for h in CHECKS["private_address"].run(read_flow(flow), {}, CATALOG)]


def sdp(address: str, port: int = 4000, extra: str = "") -> str:
    return (f"v=0\r\no=- 1 1 IN IP4 {address}\r\ns=-\r\nc=IN IP4 {address}\r\nt=0 0\r\n"
            f"m=audio {port} RTP/AVP 0\r\n{extra}")


def test_an_answer_echoing_the_callers_addresses_is_not_the_answerers() -> None:
    """The 200 repeats the Contact and c= the INVITE gave: they are the receiver's. An answer
    with a private address of its own is reported."""
    flow = Flow(caller=NATTED, callee=FAR_END)
    contact = ("Contact: <sip:alice@192.168.1.20>",)
    invite = flow.request("INVITE", at=0.0, headers=contact, body=sdp("192.168.1.20"))
    flow.response(invite, 200, at=1.0, headers=contact, body=sdp("192.168.1.20"))
    assert private_address(flow) == [(1, "Contact", "192.168.1.20")]
    flow = Flow(caller=NATTED, callee=FAR_END)
    invite = flow.request("INVITE", at=0.0, headers=contact, body=sdp("192.168.1.20"))
    flow.response(invite, 200, at=1.0, headers=("Contact: <sip:bob@10.1.1.5>",),
                  body=sdp("10.1.1.5"))
    assert private_address(flow) == [(1, "Contact", "192.168.1.20"), (2, "Contact", "10.1.1.5")]


def test_the_receivers_own_address_is_not_the_senders() -> None:
    """Seen inside the NAT: a 200 from the far end to 192.168.1.2 that names 192.168.1.2 names
    where it is going, not where it comes from."""
    inside = Endpoint("192.168.1.2", 5060)
    flow = Flow(caller=inside, callee=FAR_END)
    options = flow.request("OPTIONS", at=0.0)
    flow.response(options, 200, at=0.1, headers=("Contact: <sip:x@192.168.1.2:5060>",))
    assert private_address(flow) == []
    flow = Flow(caller=inside, callee=FAR_END)
    options = flow.request("OPTIONS", at=0.0)
    flow.response(options, 200, at=0.1, headers=("Contact: <sip:x@192.168.1.99:5060>",))
    assert private_address(flow) == [(2, "Contact", "192.168.1.99")]


@pytest.mark.parametrize(("status", "method", "counts"), [
    (100, "INVITE", False),   # no dialog: its Contact is never used
    (302, "INVITE", False),   # redirect targets (RFC 3261 21.3), not the sender
    (200, "REGISTER", False),  # the registered bindings (RFC 3261 10.3)
    (180, "INVITE", True),    # early dialog: the callee's remote target (12.1.1)
    (200, "INVITE", True),
])
def test_only_contacts_that_say_where_the_sender_is_count(
    status: int, method: str, counts: bool
) -> None:
    flow = Flow(caller=FAR_END, callee=NATTED)
    request = flow.request(method, at=0.0)
    flow.response(request, status, at=0.1, headers=("Contact: <sip:bob@10.1.1.5>",))
    assert private_address(flow) == ([(2, "Contact", "10.1.1.5")] if counts else [])


@pytest.mark.parametrize(("extra", "port", "counts"), [
    ("", 0, False),  # port 0: the stream carries nothing (RFC 3264 5.1)
    ("a=candidate:1 1 UDP 16777215 10.9.9.9 3478 typ relay raddr 0.0.0.0 rport 0\r\n", 4000,
     False),  # a relayed candidate, whatever its address
    ("a=candidate:1 1 UDP 2130706431 192.0.2.77 4000 typ host\r\n", 4000, False),  # public
    ("a=candidate:1 1 UDP 2130706431 192.168.1.20 4000 typ host\r\n", 4000, True),
])
def test_a_stream_reachable_from_outside_hides_its_private_c(
    extra: str, port: int, counts: bool
) -> None:
    flow = Flow(caller=NATTED, callee=FAR_END)
    flow.request("INVITE", at=0.0, body=sdp("192.168.1.20", port, extra))
    assert private_address(flow) == ([(1, "SDP c=", "192.168.1.20")] if counts else [])


OTHER = Endpoint("198.51.100.99", 5060)


@pytest.mark.parametrize(("by", "sent_to", "uri", "at", "reported"), [
    # the far end sends its BYE to where the phone's packets come from: NAT handled
    (FAR_END, NATTED, "sip:alice@192.168.1.20:5060", 5.0, []),
    # ... even before the INVITE, when it is for the private address itself
    (FAR_END, NATTED, "sip:alice@192.168.1.20:5060", -1.0, []),
    # ... but a request before it, for another address, shows nothing about the Contact
    (FAR_END, NATTED, "sip:alice@203.0.113.5:5060", -1.0, ["Contact"]),
    # sent to the private address: astray
    (FAR_END, Endpoint("192.168.1.20", 5060), "sip:alice@192.168.1.20:5060", 5.0, ["Contact"]),
    # another element than the one the INVITE went to
    (OTHER, NATTED, "sip:alice@192.168.1.20:5060", 5.0, ["Contact"]),
])
def test_a_far_end_seen_reaching_the_device_through_its_nat_handles_the_contact(
    by: Endpoint, sent_to: Endpoint, uri: str, at: float, reported: list[str]
) -> None:
    flow = Flow(caller=NATTED, callee=FAR_END)
    if at < 0:
        flow.request("OPTIONS", at=0.0, src=by, dst=sent_to, uri=uri)
    invite = flow.request("INVITE", at=1.0, headers=("Contact: <sip:alice@192.168.1.20:5060>",))
    flow.response(invite, 200, at=2.0)
    if at > 0:
        flow.request("BYE", at=at, reverse=True, in_dialog=True, src=by, dst=sent_to, uri=uri)
    frame = invite.frame
    assert private_address(flow) == [(frame, where, "192.168.1.20") for where in reported]


VIDEO_ELSEWHERE = "m=video 5000 RTP/AVP 96\r\nc=IN IP4 198.51.100.77\r\n"


@pytest.mark.parametrize(("media_at", "extra", "reported"), [
    ("198.51.100.20", "", []),  # the far end is the media end: it latches (RFC 7362)
    ("198.51.100.77", "", ["SDP c="]),  # the media goes elsewhere, to someone who may not
    ("198.51.100.20", VIDEO_ELSEWHERE, ["SDP c="]),  # part of it does
])
def test_the_sdp_is_handled_only_by_a_far_end_that_is_the_media_end(
    media_at: str, extra: str, reported: list[str]
) -> None:
    flow = Flow(caller=NATTED, callee=FAR_END)
    invite = flow.request("INVITE", at=0.0, headers=("Contact: <sip:alice@192.168.1.20:5060>",),
                          body=sdp("192.168.1.50"))
    flow.response(invite, 200, at=1.0, body=sdp(media_at, extra=extra))
    flow.request("BYE", at=5.0, reverse=True, in_dialog=True, uri="sip:alice@192.168.1.20:5060")
    assert private_address(flow) == [(1, where, "192.168.1.50") for where in reported]


def test_a_request_through_a_proxy_is_not_the_proxys_own() -> None:
    """Two Vias: the sender added the top one and relays what the bottom one's UA wrote."""
    flow = Flow(caller=Endpoint("198.51.100.1", 5060), callee=FAR_END)
    flow.request("INVITE", at=0.0, headers=(
        "Via: SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bK-ua;received=203.0.113.5",
        "Contact: <sip:alice@192.168.1.20>"))
    assert private_address(flow) == []


@pytest.mark.parametrize(("record_route", "reported"), [
    ("<sip:198.51.100.1;lr>", []),  # the sender is on the route: a proxy relaying the answer
    ("<sip:198.51.100.9;lr>", [(2, "Contact", "10.1.1.5")]),  # another proxy's: not this one
])
def test_an_answer_from_a_proxy_on_the_route_is_relayed(
    record_route: str, reported: list[tuple[int, str, str]]
) -> None:
    flow = Flow(caller=Endpoint("192.0.2.10", 5060), callee=Endpoint("198.51.100.1", 5060))
    invite = flow.request("INVITE", at=0.0)
    flow.response(invite, 200, at=1.0, headers=(f"Record-Route: {record_route}",
                                                 "Contact: <sip:carol@10.1.1.5>"))
    assert private_address(flow) == reported


# The public captures that fired before (checked by hand with tshark)


@needs_public
@pytest.mark.parametrize(("name", "frame", "private"), [
    ("OISF__suricata-verify/tests/sip-compact-form/sip_compact_form.pcap", 1, "192.168.1.2"),
    ("OISF__suricata-verify/tests/sip-header-multi-value/sip_header_multi_val.pcap", 1,
     "192.168.1.2"),
    ("OISF__suricata-verify/tests/sip-pattern-matching/sip.pcap", 1, "192.168.1.2"),
    ("OISF__suricata-verify/tests/sip-tcp-pattern-matching/sip.pcap", 4, "192.168.1.2"),
    ("OISF__suricata-verify/tests/sip-sdp/sdp.pcap", 1, "192.168.1.2"),
    ("sip3io__sip3-captain-ce/src/test/resources/pcap/BootstrapTest.pcap", 1, "10.10.10.10"),
])
def test_a_user_agent_behind_nat_in_the_public_captures(name: str, frame: int,
                                                         private: str) -> None:
    """Each is a UA's own request (one Via; Via sent-by 192.168.1.2 or a name, the packet from
    a public address): the real case. In sip-sdp, the 200 (frame 2, from 2.2.2.2) repeats the
    INVITE's own Contact and c= 192.168.1.2 back to 1.1.1.1:5555: the caller's, not the
    answerer's."""
    assert [(f, p) for f, _, p in reported(PUBLIC / name)] == [(frame, private)]


@needs_public
def test_a_registrar_listing_the_receivers_binding_is_not_behind_nat() -> None:
    """Frame 527 is a 200 from 212.242.33.35 to 192.168.1.2:5060 whose Contact is that very
    address (the binding; the fuzzer damaged its CSeq method, so it does not read as a 200 to
    REGISTER)."""
    path = PUBLIC / "ntop__nDPI/tests/cfgs/default/pcap/fuzz-2006-06-26-2594.pcap"
    assert reported(path) == []


@needs_public
def test_an_sbc_reaching_phones_through_their_nat_in_the_erspan_capture() -> None:
    """Phones behind 180.173.83.248 announce 192.168.8.53 and .73. The SBC (101.231.48.19)
    sends its NOTIFYs (frames 6, 18, 42) for sip:20008909@192.168.8.53:5860 to
    180.173.83.248:53221, its ACKs (frames 34, 78) and re-INVITEs (101, 130) to where the
    phones' packets come from, and puts the media at its own address (c=101.231.48.19, frames
    25, 68): those dialogs' Contacts and SDP (frames 1, 13, 26, 31, 35, 75) do no harm. Left:
    the Contacts of the two dialogs the SBC never sent the phone a request in (the phone's
    INVITE, frame 53; its SUBSCRIBE, frame 86)."""
    path = PUBLIC / "sipcapture__heplify/example/pcap/erspan_sip_ipv4_udp.pcapng"
    assert reported(path) == [(53, "Contact", "192.168.8.53"), (86, "Contact", "192.168.8.53")]
