#!/usr/bin/env python3
"""Craft the captures of samples/rules/ about protocol violations, and their healthy twins.

Responses to an INVITE without a To tag (a 200, a 180); a BYE and a re-INVITE that name no
dialog of the call yet are accepted with 200; a capture that starts with the BYE of a call it
never saw set up (healthy); requests whose body is shorter or longer than Content-Length,
refused with 400 or accepted; requests with a header allowed once given twice, refused with
400; and a call whose headers are repeated as RFC 3261 allows (Via, Record-Route, list
headers on several lines: healthy). Made as craft_scenarios.py makes its captures (sipflow.py,
pcapkit.py): deterministic, documentation addresses. The faults sipflow will not make (it
tags every response, counts every body) are written into the message text after sipflow
built the message.

Usage:  python3 samples/craft_violations.py [--out DIR] [--check] [--list]

Generated for sipdiag, CC0.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from pcapkit import Catalogue
from sipflow import ALICE, BOB, PROXY, Capture, Response, Tx

CATALOGUE = Catalogue("rules")
Build = Callable[[Capture], None]
BAD_REQUEST = "Bad Request"


def scenario(name: str, desc: str) -> Callable[[Build], Build]:
    return CATALOGUE.scenario(name, desc, Capture)


def rewrite(cap: Capture, data: bytes, old: bytes, new: bytes) -> bytes:
    """Replace ``old`` by ``new`` (once) in every copy of the message ``data`` sent so far,
    leaving everything else, Content-Length included, as it was: the message as a faulty
    element on the path passes it on."""
    assert data.count(old) == 1, old
    changed = data.replace(old, new)
    for sent in cap.sent:
        if sent.data == data:
            sent.data = changed
    return changed


def reply_without_tag(tx: Tx, at: float, code: int, sdp: str | None = None) -> Response:
    """tx.reply, then the To tag the UAS added taken out of the response on the wire (and out
    of what the UAC copies into its ACK)."""
    response = tx.reply(at, code, sdp=sdp)
    tagged = response.get("To")
    untagged = tagged.split(";tag=")[0]
    response.data = rewrite(tx.call.cap, response.data, f"To: {tagged}\r\n".encode(),
                            f"To: {untagged}\r\n".encode())
    response.headers = [(k, untagged if k == "To" else v) for k, v in response.headers]
    return response


@scenario(
    "answer-without-to-tag.pcap",
    "INVITE, 100 Trying (no To tag, as allowed), then at 2.5 s a 200 OK whose To carries no "
    "tag, ACKed; no other response",
)
def answer_without_to_tag(cap: Capture) -> None:
    c = cap.call(ALICE, BOB)
    invite = c.invite(0.0, sdp=c.sdp(ALICE))
    invite.reply(0.004, 100)
    reply_without_tag(invite, 2.5, 200, sdp=c.sdp(BOB))
    invite.ack()


@scenario(
    "provisional-without-to-tag.pcap",
    "INVITE, 100, a 180 Ringing at 0.2 s whose To carries no tag, then a 200 OK with the "
    "callee's tag, ACK; BYE at 5 s answered 200",
)
def provisional_without_to_tag(cap: Capture) -> None:
    c = cap.call(ALICE, BOB)
    invite = c.invite(0.0, sdp=c.sdp(ALICE))
    invite.reply(0.004, 100)
    reply_without_tag(invite, 0.2, 180)
    invite.reply(2.5, 200, sdp=c.sdp(BOB))
    invite.ack()
    c.bye(5.0).reply(5.004, 200)


@scenario(
    "bye-wrong-tag-accepted.pcap",
    "call set up; at 5 s the caller's BYE carries To tag 0badf00d instead of the callee's tag "
    "from the 200 OK, and the callee answers it 200 OK all the same",
)
def bye_wrong_tag_accepted(cap: Capture) -> None:
    c = cap.call(ALICE, BOB)
    c.setup()
    c.bye(5.0, headers={"To": f"{c.identity(BOB)};tag=0badf00d"}).reply(5.004, 200)


@scenario(
    "reinvite-wrong-tag-accepted.pcap",
    "call set up; at 3 s the callee's re-INVITE carries From tag 5ca1ab1e instead of its own "
    "tag, and the caller accepts it with 200 OK (ACKed); the caller's BYE at 5 s is right",
)
def reinvite_wrong_tag_accepted(cap: Capture) -> None:
    c = cap.call(ALICE, BOB)
    c.setup()
    frm = f"{c.identity(BOB)};tag=5ca1ab1e"
    reinvite = c.invite(3.0, by=BOB, sdp=c.sdp(BOB, bump=True), headers={"From": frm})
    reinvite.reply(3.004, 200, sdp=c.sdp(ALICE))
    reinvite.ack()
    c.bye(5.0).reply(5.004, 200)


@scenario(
    "bye-mid-call-capture.pcap",
    "a capture started in the middle of a call: only its BYE (at 5 s, with both tags) and "
    "the 200 OK to it; the INVITE and its answer came before the capture",
)
def bye_mid_call_capture(cap: Capture) -> None:
    c = cap.call(ALICE, BOB)
    c.setup()
    c.bye(5.0).reply(5.004, 200)
    cap.sent = [sent for sent in cap.sent if sent.t_us >= 5_000_000]


@scenario(
    "invite-body-short-400.pcap",
    "the INVITE's SDP c= line names 192.0.2.1 instead of 192.0.2.10, its Content-Length left "
    "as it was: the body is 1 byte shorter than Content-Length; the callee answers 400 Bad "
    "Request, ACKed",
)
def invite_body_short_400(cap: Capture) -> None:
    c = cap.call(ALICE, BOB)
    invite = c.invite(0.0, sdp=c.sdp(ALICE))
    invite.data = rewrite(cap, invite.data, f"c=IN IP4 {ALICE.ip}".encode(), b"c=IN IP4 192.0.2.1")
    invite.reply(0.004, 400, BAD_REQUEST)
    invite.ack()


@scenario(
    "invite-body-long-400.pcap",
    "the INVITE's SDP c= line names 198.51.100.200 instead of 192.0.2.10, its Content-Length "
    "left as it was: the body is 4 bytes longer than Content-Length, so the receiver reads it "
    "cut short; it answers 400 Bad Request, ACKed",
)
def invite_body_long_400(cap: Capture) -> None:
    c = cap.call(ALICE, BOB)
    invite = c.invite(0.0, sdp=c.sdp(ALICE))
    invite.data = rewrite(cap, invite.data, f"c=IN IP4 {ALICE.ip}".encode(),
                          b"c=IN IP4 198.51.100.200")
    invite.reply(0.004, 400, BAD_REQUEST)
    invite.ack()


@scenario(
    "invite-body-long-accepted.pcap",
    "an INVITE whose body ends with an extra CRLF that Content-Length does not count (the "
    "receiver discards it): answered 100, 180, 200, ACKed, BYE at 5 s answered 200",
)
def invite_body_long_accepted(cap: Capture) -> None:
    c = cap.call(ALICE, BOB)
    invite = c.invite(0.0, sdp=c.sdp(ALICE))
    invite.data = rewrite(cap, invite.data, b"a=sendrecv\r\n", b"a=sendrecv\r\n\r\n")
    invite.reply(0.004, 100)
    invite.reply(0.2, 180)
    invite.reply(2.5, 200, sdp=c.sdp(BOB))
    invite.ack()
    c.bye(5.0).reply(5.004, 200)


@scenario(
    "invite-repeated-from-400.pcap",
    "the INVITE carries a second From (an anonymous one, with its own tag) after its own; "
    "the callee answers 400 Bad Request, ACKed",
)
def invite_repeated_from_400(cap: Capture) -> None:
    c = cap.call(ALICE, BOB)
    invite = c.invite(0.0, sdp=c.sdp(ALICE))
    own = f"From: {invite.get('From')}\r\n".encode()
    anonymous = b'From: "Anonymous" <sip:anonymous@anonymous.invalid>;tag=a11ce0ff\r\n'
    invite.data = rewrite(cap, invite.data, own, own + anonymous)
    invite.reply(0.004, 400, BAD_REQUEST)
    invite.ack()


@scenario(
    "register-repeated-expires-400.pcap",
    "a REGISTER to the registrar with Expires: 3600 and, on another line, Expires: 60; "
    "answered 400 Bad Request",
)
def register_repeated_expires_400(cap: Capture) -> None:
    c = cap.call(ALICE, PROXY, to_user="alice")
    register = c.request("REGISTER", 0.0)
    register.data = rewrite(cap, register.data, b"Expires: 3600\r\n",
                            b"Expires: 3600\r\nExpires: 60\r\n")
    register.reply(0.004, 400, BAD_REQUEST)


@scenario(
    "legal-repeated-headers.pcap",
    "a call through the proxy (two Vias and a Record-Route on the callee's leg) whose INVITE "
    "gives Supported and Allow each on two lines, as list headers may; 200 OK, ACK through "
    "the proxy, BYE at 5 s answered 200",
)
def legal_repeated_headers(cap: Capture) -> None:
    c = cap.call(ALICE, BOB, proxy=PROXY)
    invite = c.invite(0.0, sdp=c.sdp(ALICE))
    invite.data = rewrite(cap, invite.data, b"Supported: replaces, timer\r\n",
                          b"Supported: replaces\r\nSupported: timer\r\n")
    invite.data = rewrite(cap, invite.data, b"Allow: INVITE, ACK, CANCEL, BYE, ",
                          b"Allow: INVITE, ACK, CANCEL, BYE\r\nAllow: ")
    invite.reply(0.002, 100)
    leg = invite.forward(0.004, BOB)
    leg.reply(0.006, 100)
    ok = leg.reply(2.5, 200, sdp=c.sdp(BOB))
    invite.relay(2.502, ok)
    invite.ack().forward(2.506, BOB)
    c.bye(5.0).reply(5.004, 200)


def main(argv: list[str] | None = None) -> int:
    return CATALOGUE.main(argv, __doc__, __file__)


if __name__ == "__main__":
    sys.exit(main())
