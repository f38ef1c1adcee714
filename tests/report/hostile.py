"""A capture written by an attacker: markup and control characters in the Call-ID, the From URI
and a reason phrase, for the tests of every report format's escaping."""

from __future__ import annotations

from tests import packets

T0 = 1_700_000_000_000_000_000
CALL_ID = "a|b`c`<b>d</b>*e*_f_[g](h)&amp;~i~\x1b[2J\x07\ufffe\uffff@evil"
USER = "mal|lo`ry`*x*_y_[z]&amp"
FROM = f"From: <sip:{USER}@evil.example>;tag=1928301774"
REASON = "Server <b>Error</b> | `boom` \x07"


def hostile_capture() -> bytes:
    """An INVITE answered 500 (a C109 finding whose message quotes the reason phrase)."""
    invite = _hostile_from(packets.sip_request(call_id=CALL_ID))
    error = _hostile_from(packets.sip_response(500, REASON, call_id=CALL_ID))
    ack = _hostile_from(packets.sip_request("ACK", call_id=CALL_ID))
    caller, callee = "192.0.2.1", "192.0.2.2"
    sent = [(caller, callee, invite), (callee, caller, error), (caller, callee, ack)]
    return packets.pcap([(T0 + i * 10_000_000, packets.udp4_frame(src, dst, message))
                         for i, (src, dst, message) in enumerate(sent)])


def _hostile_from(message: bytes) -> bytes:
    return message.replace(b"From: Alice <sip:alice@example.com>;tag=1928301774", FROM.encode())
