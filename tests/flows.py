"""A small way to write SIP call flows in tests: messages with real bytes, frames and times.

    flow = Flow()
    invite = flow.request("INVITE", at=0.0)
    flow.response(invite, 180, at=0.2)
    ok = flow.response(invite, 200, at=1.0)
    flow.ack(ok, at=1.01)

Requests go from the caller to the callee unless ``reverse=True``; responses go back the way
their request came. Each message is parsed from its bytes, so the tests exercise the parser.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from sipdiag.dialogs.calls import Call, Conversation, Exchange, read_conversation
from sipdiag.network import Endpoint
from sipdiag.sip.message import SipMessage
from sipdiag.sip.parser import parse_message

CALLER = Endpoint("192.0.2.10", 5060)
CALLEE = Endpoint("198.51.100.20", 5060)
T0 = 1_700_000_000_000_000_000
SDP_BODY = (
    "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
    "m=audio 4000 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
)


@dataclass
class Flow:
    call_id: str = "flow-1@example.com"
    caller: Endpoint = CALLER
    callee: Endpoint = CALLEE
    caller_tag: str = "caller-tag"
    callee_tag: str = "callee-tag"
    caller_user: str = "alice"
    callee_user: str = "bob"
    messages: list[SipMessage] = field(default_factory=list)
    _frames: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _branches: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _cseq: int = 0

    def request(
        self,
        method: str,
        *,
        at: float,
        reverse: bool = False,
        cseq: int | None = None,
        in_dialog: bool = False,
        branch: str | None = None,
        headers: tuple[str, ...] = (),
        body: str = "",
        src: Endpoint | None = None,
        dst: Endpoint | None = None,
        uri: str = "sip:bob@example.com",
    ) -> SipMessage:
        if cseq is None:
            self._cseq += 1
            cseq = self._cseq
        branch = branch or f"z9hG4bK-{next(self._branches)}"
        sender, receiver = (self.callee, self.caller) if reverse else (self.caller, self.callee)
        sender, receiver = src or sender, dst or receiver
        from_tag, to_tag = (
            (self.callee_tag, self.caller_tag) if reverse else (self.caller_tag, self.callee_tag)
        )
        caller, callee = (f"<sip:{user}@example.com>" for user in (self.caller_user,
                                                                    self.callee_user))
        to = f"{callee};tag={to_tag}" if in_dialog else callee
        if reverse:
            to = f"{caller};tag={to_tag}"
        lines = [
            f"{method} {uri} SIP/2.0",
            f"Via: SIP/2.0/UDP {sender.ip}:{sender.port};branch={branch}",
            f"From: {callee if reverse else caller};tag={from_tag}",
            f"To: {to}",
            f"Call-ID: {self.call_id}",
            f"CSeq: {cseq} {method}",
            "Max-Forwards: 70",
            *headers,
        ]
        return self._add(lines, body, sender, receiver, at)

    def response(
        self,
        request: SipMessage,
        status: int,
        *,
        at: float,
        to_tag: str | None = None,
        headers: tuple[str, ...] = (),
        body: str = "",
        reason: str = "Reason",
    ) -> SipMessage:
        tag = (
            to_tag
            if to_tag is not None
            else (request.to_tag or (self.callee_tag if status != 100 else ""))
        )
        to = request.first_value("to") or ""
        if tag and ";tag=" not in to:
            to = f"{to};tag={tag}"
        lines = [
            f"SIP/2.0 {status} {reason}",
            f"Via: {request.first_value('via')}",
            f"From: {request.first_value('from')}",
            f"To: {to}",
            f"Call-ID: {request.call_id}",
            f"CSeq: {request.cseq} {request.cseq_method}",
            *headers,
        ]
        return self._add(lines, body, request.dst, request.src, at)

    def ack(self, response: SipMessage, *, at: float) -> SipMessage:
        """The ACK of a final response: same branch for a failure, a new one for a 2xx."""
        branch = None if 200 <= response.status < 300 else response.branch
        reverse = response.src == self.caller
        return self.request(
            "ACK",
            at=at,
            cseq=response.cseq,
            in_dialog=True,
            branch=branch,
            reverse=reverse,
            src=response.dst,
            dst=response.src,
        )

    def copy(self, message: SipMessage, *, at: float) -> SipMessage:
        """A retransmission: the same bytes again, later."""
        return self._keep(
            parse_message(
                message.raw,
                next(self._frames),
                _ns(at),
                message.src,
                message.dst,
                message.transport,
            )
        )

    def _add(
        self, lines: list[str], body: str, src: Endpoint, dst: Endpoint, at: float
    ) -> SipMessage:
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(body.encode())}")
        raw = ("\r\n".join(lines) + "\r\n\r\n" + body).encode()
        return self._keep(parse_message(raw, next(self._frames), _ns(at), src, dst, "UDP"))

    def _keep(self, message: SipMessage) -> SipMessage:
        self.messages.append(message)
        return message


def _ns(seconds: float) -> int:
    return T0 + round(seconds * 1e9)


def read(flow: Flow, end: float | None = None) -> Call | Exchange:
    """The flow read as one finished call or exchange; ``end``: seconds from its first message
    to the end of the capture (default: its last message)."""
    conversation = Conversation(flow.call_id)
    for message in flow.messages:
        conversation.add(message)
    last = flow.messages[-1].ts_ns
    end_ns = last if end is None else flow.messages[0].ts_ns + round(end * 1e9)
    return read_conversation(conversation, end_ns)


def call_of(flow: Flow, end: float | None = None) -> Call:
    found = read(flow, end)
    assert isinstance(found, Call)
    return found


def answered(flow: Flow, at: float = 0.0) -> SipMessage:
    """INVITE, 100, 180, 200 and ACK of a call answered after one second; returns the 200."""
    invite = flow.request("INVITE", at=at, body=SDP_BODY)
    flow.response(invite, 100, at=at + 0.01)
    flow.response(invite, 180, at=at + 0.2)
    ok = flow.response(invite, 200, at=at + 1.0, body=SDP_BODY)
    flow.ack(ok, at=at + 1.01)
    return ok
