"""A small model of SIP call flows over UDP, for crafting sample captures.

A Capture is one file: the messages sent, each with its time, source and
destination Node. A Call is one Call-ID between a caller and a callee
(directly or through a proxy). Each request sent is a Tx, one hop of a
transaction, whose methods send what follows it: responses (reply), the
ACK (ack), a CANCEL (cancel), retransmissions (retransmit), the proxied
copy (forward) and a response passed back up (relay).

The RFC 3261 mechanics live here, so that a scenario only says who sends
what at what time: Via branches and received/rport, From/To tags, CSeq
numbering in each side's own space, Contact, Record-Route, Max-Forwards,
Content-Length, the two kinds of ACK, CANCEL, the retransmission timers
(T1 = 0.5 s, T2 = 4 s, 64*T1 = 32 s) and SDP versions.

Times are seconds from the start of the capture (2023-11-14 22:13:20 UTC).
Ids (Call-IDs, tags, branches, nonces, SDP session ids, IPv4 ids) come
from sha1 of the capture and call names, so the output is deterministic.

Generated for sipdiag, CC0.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from email.utils import formatdate

from pcapkit import (
    ALICE_V4,
    BOB_V4,
    LINKTYPE_ETHERNET,
    PROXY_V4,
    T0_US,
    ether_frame,
    hexid,
    ipv4_fragments,
    sdp,
    sip_message,
    udp_packet,
    write_pcap,
)

T1 = 0.5  # RTT estimate (RFC 3261 17.1.1.1)
T2 = 4.0  # maximum retransmission interval of non-INVITE requests and 2xx responses
TIMER_B = 64 * T1  # INVITE (and non-INVITE, timer F) transaction timeout: 32 s

ACK_DELAY = 0.002  # a UA sends the ACK this long after the final response
ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO, REFER, NOTIFY"
SUPPORTED = "replaces, timer"

Headers = dict[str, str | None]
"""Extra headers of a message: a name already present gets the new value (None removes it),
other names are added after the usual headers."""


def retransmit_times(invite: bool, limit: float = TIMER_B) -> list[float]:
    """When copies of a message go out over UDP, from the first (0.0) until the time-out.

    An INVITE doubles its interval from T1 without limit (timer A): 0, 0.5, 1.5, 3.5, 7.5,
    15.5, 31.5. A non-INVITE request (timer E), and a 2xx response to an INVITE that is not
    ACKed (RFC 3261 13.3.1.4), double from T1 up to T2: 0, 0.5, 1.5, 3.5, 7.5, 11.5, ..., 31.5.
    """
    times, t, interval = [0.0], 0.0, T1
    while t + interval < limit:
        t += interval
        times.append(t)
        interval = interval * 2 if invite else min(interval * 2, T2)
    return times


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def www_authenticate(realm: str, nonce: str) -> str:
    return f'Digest realm="{realm}", nonce="{nonce}", algorithm=MD5, qop="auth"'


def authorization(
    user: str, password: str, realm: str, nonce: str, method: str, uri: str, cnonce: str
) -> str:
    """An RFC 2617 Digest Authorization with qop=auth, the response computed for real."""
    ha1 = md5(f"{user}:{realm}:{password}")
    ha2 = md5(f"{method}:{uri}")
    response = md5(f"{ha1}:{nonce}:00000001:{cnonce}:auth:{ha2}")
    return (
        f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
        f'response="{response}", algorithm=MD5, cnonce="{cnonce}", qop=auth, nc=00000001'
    )


def http_date(at: float) -> str:
    """A Date header value for the time at (seconds into the capture)."""
    return formatdate(T0_US / 1e6 + at, usegmt=True)


def merge(defaults: list[tuple[str, str]], extra: Headers | None) -> list[tuple[str, str]]:
    """defaults with extra applied (see Headers)."""
    out = list(defaults)
    for name, value in (extra or {}).items():
        at = [i for i, (k, _) in enumerate(out) if k.lower() == name.lower()]
        if at:
            if value is None:
                out = [h for i, h in enumerate(out) if i not in at]
            else:
                out[at[0]] = (name, value)
                out = [h for i, h in enumerate(out) if i not in at[1:]]
        elif value is not None:
            out.append((name, value))
    return out


def uri_of(name_addr: str) -> str:
    """sip:... inside <...> of a Contact or From/To value."""
    m = re.search(r"<([^>]*)>", name_addr)
    return m.group(1) if m else name_addr.split(";")[0]


# --------------------------------------------------------------------------
# Nodes and the capture


@dataclass(frozen=True)
class Node:
    """A SIP element: a user agent (user set) or a proxy/registrar (user None)."""

    name: str
    ip: str  # the address it writes in Via, Contact and SDP
    port: int = 5060
    user: str | None = None
    display: str | None = None
    agent: str = ""  # its User-Agent / Server value
    rtp_port: int = 40000
    wire_ip: str | None = None  # the address its packets come from, if not ip (NAT)
    wire_port: int | None = None

    @property
    def addr(self) -> tuple[str, int]:
        """The address its packets come from and go to."""
        return self.wire_ip or self.ip, self.wire_port or self.port

    @property
    def mac(self) -> str:
        return f"00:00:5e:00:53:{int(self.addr[0].split('.')[-1]):02x}"

    @property
    def contact(self) -> str:
        return f"<sip:{self.user}@{self.ip}:{self.port}>"

    def via(self, branch: str) -> str:
        # user agents ask for symmetric responses (RFC 3581); proxies do not need to
        rport = ";rport" if self.user else ""
        return f"SIP/2.0/UDP {self.ip}:{self.port};branch={branch}{rport}"


# The parties of the crafted scenarios (craft_scenarios.py, craft_media.py)
ALICE = Node(
    "alice",
    ALICE_V4,
    user="alice",
    display="Alice",
    agent="sipdiag-craft-alice/1.0",
    rtp_port=49170,
)
BOB = Node("bob", BOB_V4, user="bob", agent="sipdiag-craft-bob/1.0", rtp_port=3456)
PROXY = Node("proxy", PROXY_V4, agent="sipdiag-craft-proxy/1.0")


@dataclass
class Sent:
    t_us: int
    src: Node
    dst: Node
    data: bytes


class Capture:
    """The messages of one capture file, written as Ethernet/IPv4/UDP in time order."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sent: list[Sent] = []
        self.ncalls = 0

    def call(self, caller: Node, callee: Node, **kw) -> Call:
        self.ncalls += 1
        return Call(self, f"call{self.ncalls}", caller, callee, **kw)

    def send(self, at: float, src: Node, dst: Node, data: bytes) -> None:
        self.sent.append(Sent(round(at * 1_000_000), src, dst, data))

    def frames(self) -> list[tuple[int, bytes]]:
        ip_ids: dict[str, int] = {}
        frames = []
        for s in sorted(self.sent, key=lambda s: s.t_us):  # stable: same time, order sent
            (sip, sport), (dip, dport) = s.src.addr, s.dst.addr
            ip_ids[sip] = ip_ids.get(sip, int(hexid(self.name, sip, "ip-id", n=4), 16)) + 1
            pkt = udp_packet(sip, sport, dip, dport, s.data, ip_ids[sip] & 0xFFFF)
            for i, piece in enumerate(ipv4_fragments(pkt)):
                frames.append((T0_US + s.t_us + 12 * i, ether_frame(s.src.mac, s.dst.mac, piece)))
        return frames

    def write(self, path: str) -> None:
        write_pcap(path, LINKTYPE_ETHERNET, self.frames())


# --------------------------------------------------------------------------
# Messages


class Message:
    """A SIP message as sent: start line, headers (without Content-*), body."""

    def __init__(
        self, first: str, headers: list[tuple[str, str]], body: str = "", ctype: str = ""
    ) -> None:
        self.first, self.headers, self.body, self.ctype = first, headers, body, ctype
        self.data = sip_message(first, headers, body, ctype or None)

    def get(self, name: str) -> str:
        return next(v for k, v in self.headers if k.lower() == name.lower())

    def get_all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]


class Response(Message):
    def __init__(self, tx: Tx, at: float, src: Node, code: int, *args) -> None:
        super().__init__(*args)
        self.tx, self.at, self.src, self.code = tx, at, src, code
        tx.call.cap.send(at, src, tx.src, self.data)

    def retransmit(self, copies: int | None = None) -> Response:
        """Copies of this (2xx) response, as a UAS sends them while no ACK comes."""
        for dt in retransmit_times(invite=False)[1:copies]:
            self.tx.call.cap.send(self.at + dt, self.src, self.tx.src, self.data)
        return self


REASONS = {
    100: "Trying",
    180: "Ringing",
    183: "Session Progress",
    200: "OK",
    302: "Moved Temporarily",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    408: "Request Timeout",
    420: "Bad Extension",
    421: "Extension Required",
    422: "Session Interval Too Small",
    423: "Interval Too Brief",
    481: "Call/Transaction Does Not Exist",
    482: "Loop Detected",
    483: "Too Many Hops",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    491: "Request Pending",
    500: "Server Internal Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Server Time-out",
    513: "Message Too Large",
    603: "Decline",
    606: "Not Acceptable",
}


class Tx(Message):
    """One request on one hop (src to dst), and the messages of its transaction."""

    def __init__(
        self, call: Call, at: float, src: Node, dst: Node, method: str, ruri: str, *args
    ) -> None:
        super().__init__(f"{method} {ruri} SIP/2.0", *args)
        self.call, self.at, self.src, self.dst = call, at, src, dst
        self.method, self.ruri = method, ruri
        self.cseq = int(self.get("CSeq").split()[0])
        self.final: Response | None = None
        call.cap.send(at, src, dst, self.data)

    def received_vias(self) -> list[str]:
        """The Via values as dst keeps them: received/rport added to the top one (RFC 3581)."""
        top, *rest = self.get_all("Via")
        host, port = self.src.addr
        if re.search(r";rport(?=;|$)", top):
            top = re.sub(r";rport(?=;|$)", f";rport={port}", top) + f";received={host}"
        elif top.split()[1].split(";")[0].rsplit(":", 1)[0] != host:
            top += f";received={host}"
        return [top, *rest]

    def reply(
        self,
        at: float,
        code: int,
        reason: str | None = None,
        *,
        headers: Headers | None = None,
        sdp: str | None = None,
    ) -> Response:
        """The response of dst (the UAS, or a proxy answering itself) to this request."""
        call, uas = self.call, self.dst
        to = self.get("To")
        if ";tag=" not in to and code != 100:
            to += f";tag={call.tag(uas, self.cseq)}"
        hdrs = [("Via", v) for v in self.received_vias()]
        dialog_forming = self.method == "INVITE" and 100 < code < 300
        if dialog_forming:
            hdrs += [("Record-Route", rr) for rr in self.get_all("Record-Route")]
        hdrs += [
            ("From", self.get("From")),
            ("To", to),
            ("Call-ID", call.call_id),
            ("CSeq", self.get("CSeq")),
        ]
        if dialog_forming and uas.user:
            hdrs.append(("Contact", uas.contact))
        hdrs.append(("Server", uas.agent))
        if 200 <= code < 300 and self.method in ("INVITE", "OPTIONS"):
            hdrs += [("Allow", ALLOW), ("Supported", SUPPORTED)]
            if self.method == "OPTIONS":
                hdrs.append(("Accept", "application/sdp"))
        first = f"SIP/2.0 {code} {reason or REASONS[code]}"
        ctype = "application/sdp" if sdp else ""
        resp = Response(self, at, uas, code, first, merge(hdrs, headers), sdp or "", ctype)
        self._answered(resp)
        return resp

    def relay(self, at: float, down: Response) -> Response:
        """A proxy (dst) passes a response it received downstream back to src."""
        hdrs = [("Via", v) for v in self.received_vias()]
        hdrs += [(k, v) for k, v in down.headers if k.lower() != "via"]
        first = f"SIP/2.0 {down.code} {down.first.split(' ', 2)[2]}"
        resp = Response(self, at, self.dst, down.code, first, hdrs, down.body, down.ctype)
        self._answered(resp)
        return resp

    def _answered(self, resp: Response) -> None:
        if resp.code >= 200:
            self.final = resp
        if self.method == "INVITE" and 200 <= resp.code < 300:
            self.call.confirmed(self, resp)

    def ack(self, at: float | None = None) -> Tx:
        """The ACK for the final response, by the rules of RFC 3261 17.1.1.3 and 13.2.2.4.

        Non-2xx: hop by hop, the INVITE's top Via (same branch), its Request-URI and Route
        headers, the response's To. 2xx: a new transaction from the UAC to the Contact of the
        2xx, with a new branch.
        """
        resp = self.final
        assert resp is not None and self.method == "INVITE", "nothing to ACK"
        at = resp.at + ACK_DELAY if at is None else at
        cseq = f"{self.cseq} ACK"
        if resp.code >= 300:
            hdrs = [
                ("Via", self.get_all("Via")[0]),
                ("Max-Forwards", "70"),
                *[("Route", r) for r in self.get_all("Route")],
                ("From", self.get("From")),
                ("To", resp.get("To")),
                ("Call-ID", self.call.call_id),
                ("CSeq", cseq),
            ]
            return Tx(self.call, at, self.src, self.dst, "ACK", self.ruri, hdrs)
        hdrs = [
            ("Via", self.src.via(self.call.branch())),
            ("Max-Forwards", "70"),
            ("From", self.get("From")),
            ("To", resp.get("To")),
            ("Call-ID", self.call.call_id),
            ("CSeq", cseq),
            ("User-Agent", self.src.agent),
        ]
        target = uri_of(resp.get("Contact"))
        return Tx(self.call, at, self.src, resp.src, "ACK", target, hdrs)

    def cancel(self, at: float, headers: Headers | None = None) -> Tx:
        """CANCEL of this INVITE, hop by hop: same Request-URI, top Via, From, To and Route."""
        hdrs = [
            ("Via", self.get_all("Via")[0]),
            ("Max-Forwards", "70"),
            *[("Route", r) for r in self.get_all("Route")],
            ("From", self.get("From")),
            ("To", self.get("To")),
            ("Call-ID", self.call.call_id),
            ("CSeq", f"{self.cseq} CANCEL"),
            ("User-Agent", self.src.agent),
        ]
        return Tx(self.call, at, self.src, self.dst, "CANCEL", self.ruri, merge(hdrs, headers))

    def retransmit(self, copies: int | None = None) -> Tx:
        """Byte-identical copies on the timer A (INVITE) or timer E schedule.

        copies counts the first transmission too; by default every copy until 64*T1.
        """
        for dt in retransmit_times(self.method == "INVITE")[1:copies]:
            self.call.cap.send(self.at + dt, self.src, self.dst, self.data)
        return self

    def forward(
        self, at: float, to: Node, ruri: str | None = None, record_route: bool = True
    ) -> Tx:
        """The copy that the proxy dst sends on to `to`: its Via on top, Max-Forwards - 1."""
        proxy = self.dst
        hdrs = [("Record-Route", f"<sip:{proxy.ip};lr>")] if record_route else []
        hdrs.append(("Via", proxy.via(self.call.branch())))
        hdrs += [("Via", v) for v in self.received_vias()]
        for k, v in self.headers:
            if k.lower() == "max-forwards":
                hdrs.append((k, str(int(v) - 1)))
            elif k.lower() != "via":
                hdrs.append((k, v))
        return Tx(
            self.call, at, proxy, to, self.method, ruri or self.ruri, hdrs, self.body, self.ctype
        )


# --------------------------------------------------------------------------
# Calls


@dataclass
class SdpState:
    sess: int
    version: int
    last: str = ""  # the last body sent, to see whether a new one changed


@dataclass
class Call:
    """One Call-ID: the caller's requests (REGISTER, OPTIONS, INVITE, ...) and the dialog.

    Out of a dialog the caller sends to the first hop (the proxy, or the callee). Once a 2xx
    to an INVITE has confirmed the dialog, either side sends in-dialog requests straight to
    the other (no Record-Route is followed: the scenarios need none).
    """

    cap: Capture
    name: str
    caller: Node
    callee: Node
    proxy: Node | None = None
    domain: str | None = None  # host part of From/To (default: the proxy, or each UA's ip)
    to_user: str | None = None
    from_uri: str | None = None
    to_uri: str | None = None
    ruri: str | None = None  # Request-URI of out-of-dialog requests (default: to_uri)
    call_id: str = ""
    cseq: dict[str, int] = field(default_factory=dict)
    contacts: dict[str, tuple[str, Node]] = field(default_factory=dict)  # once confirmed
    dialog_tags: dict[str, str] = field(default_factory=dict)
    sdps: dict[str, SdpState] = field(default_factory=dict)
    branches: int = 0

    def __post_init__(self) -> None:
        domain = self.domain or (self.proxy.ip if self.proxy else None)
        self.from_uri = self.from_uri or f"sip:{self.caller.user}@{domain or self.caller.ip}"
        user = self.to_user or self.callee.user
        self.to_uri = self.to_uri or f"sip:{user}@{domain or self.callee.ip}"
        self.ruri = self.ruri or self.to_uri
        self.call_id = self.call_id or f"{self.id('call-id', n=20)}@{self.caller.ip}"
        self.cseq = {self.caller.name: 1, self.callee.name: 101}

    # ids

    def id(self, *what: str, n: int = 10) -> str:
        return hexid(self.cap.name, self.name, *what, n=n)

    def branch(self) -> str:
        self.branches += 1
        return "z9hG4bK" + self.id("branch", str(self.branches), n=12)

    def tag(self, node: Node, cseq: int) -> str:
        """The To tag node gives the requests of this call with CSeq number cseq.

        The caller's From tag is tag(caller, 0). A UAS tags its responses to each new
        out-of-dialog INVITE (and the CANCEL of it) with a tag of its own.
        """
        return self.dialog_tags.get(node.name) or self.id("tag", node.name, str(cseq), n=8)

    def identity(self, node: Node) -> str:
        """From/To value (without tag) of the caller or the callee."""
        if node == self.caller:
            display = f'"{node.display}" ' if node.display else ""
            return f"{display}<{self.from_uri}>"
        return f"<{self.to_uri}>"

    # SDP

    def sdp(
        self,
        node: Node,
        *,
        bump: bool = False,
        port: int | None = None,
        **kw,
    ) -> str:
        """The SDP node sends now: its o= version goes up when the body changed (or bump)."""
        state = self.sdps.get(node.name)
        if state is None:
            sess = int(self.id("sdp", node.name, n=8), 16) % 2_000_000_000 + 1_000_000_000
            state = self.sdps[node.name] = SdpState(sess, sess)

        def body(version: int) -> str:
            user = node.user or "-"
            return sdp(user, node.ip, port or node.rtp_port, state.sess, version=version, **kw)

        if state.last and (bump or body(state.version) != state.last):
            state.version += 1
        state.last = body(state.version)
        return state.last

    # requests

    def confirmed(self, invite: Tx, ok: Response) -> None:
        if not self.contacts:
            self.dialog_tags[self.callee.name] = ok.get("To").split(";tag=")[1]
            self.contacts[self.caller.name] = (uri_of(self.caller.contact), self.caller)
            self.contacts[self.callee.name] = (uri_of(ok.get("Contact")), ok.src)

    def request(
        self,
        method: str,
        at: float,
        *,
        by: Node | None = None,
        headers: Headers | None = None,
        sdp: str | None = None,
    ) -> Tx:
        """A new request (new branch, next CSeq of the sender), in the dialog if there is one."""
        by = by or self.caller
        cseq = self.cseq[by.name]
        self.cseq[by.name] += 1
        in_dialog = bool(self.contacts) and method not in ("REGISTER", "OPTIONS")
        if in_dialog:
            peer = self.callee if by == self.caller else self.caller
            ruri, dst = self.contacts[peer.name]
            frm = f"{self.identity(by)};tag={self.tag(by, 0)}"
            to = f"{self.identity(peer)};tag={self.tag(peer, 0)}"
        else:
            assert by == self.caller, "only the caller sends out of the dialog"
            ruri, dst = self.ruri, self.proxy or self.callee
            frm = f"{self.identity(by)};tag={self.tag(by, 0)}"
            to = self.identity(self.callee)
        hdrs = [
            ("Via", by.via(self.branch())),
            ("Max-Forwards", "70"),
            ("From", frm),
            ("To", to),
            ("Call-ID", self.call_id),
            ("CSeq", f"{cseq} {method}"),
        ]
        if method in ("INVITE", "UPDATE", "REGISTER", "OPTIONS", "SUBSCRIBE"):
            hdrs.append(("Contact", by.contact))
        if method in ("INVITE", "UPDATE", "REGISTER", "OPTIONS"):
            hdrs += [("Allow", ALLOW), ("Supported", SUPPORTED)]
        if method == "OPTIONS":
            hdrs.append(("Accept", "application/sdp"))
        if method == "REGISTER":
            hdrs.append(("Expires", "3600"))
        hdrs.append(("User-Agent", by.agent))
        ctype = "application/sdp" if sdp else ""
        return Tx(self, at, by, dst, method, ruri, merge(hdrs, headers), sdp or "", ctype)

    def invite(self, at: float, **kw) -> Tx:
        """An INVITE: the initial one, a new attempt after a failure, or a re-INVITE."""
        return self.request("INVITE", at, **kw)

    def bye(self, at: float, **kw) -> Tx:
        return self.request("BYE", at, **kw)

    def setup(
        self,
        at: float = 0.0,
        *,
        trying: float | None = 0.004,
        ringing: float | None = 0.2,
        answer: float = 2.5,
        headers: Headers | None = None,
        answer_headers: Headers | None = None,
        offer: str | None = None,
    ) -> Tx:
        """INVITE (SDP offer), 100, 180, 200 (SDP answer), ACK; times from at.

        The callee answers directly (a call without proxy). offer replaces the caller's
        usual SDP.
        """
        inv = self.invite(at, sdp=offer or self.sdp(self.caller), headers=headers)
        if trying is not None:
            inv.reply(at + trying, 100)
        if ringing is not None:
            inv.reply(at + ringing, 180)
        inv.reply(at + answer, 200, sdp=self.sdp(self.callee), headers=answer_headers)
        inv.ack()
        return inv
