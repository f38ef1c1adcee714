#!/usr/bin/env python3
"""Craft the captures of samples/rules/ about the methods beside INVITE.

Subscriptions (SUBSCRIBE, NOTIFY: RFC 6665), transfers (REFER and the NOTIFYs that report on
them: RFC 3515), publications (PUBLISH: RFC 3903), INFO (RFC 6086), MESSAGE, UPDATE, reliable
provisional responses and PRACK (RFC 3262), each refused or failing, and the same flows going
well; and retry storms, the same request refused again and again. Made as craft_scenarios.py
makes its captures (sipflow.py, pcapkit.py): deterministic, documentation addresses.

Usage:  python3 samples/craft_methods.py [--out DIR] [--check] [--list]

Generated for sipdiag, CC0.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from pcapkit import Catalogue
from sipflow import (
    ALICE,
    BOB,
    PROXY,
    Call,
    Capture,
    Headers,
    Node,
    Response,
    Tx,
    authorization,
    merge,
    retransmit_times,
    uri_of,
    www_authenticate,
)

CATALOGUE = Catalogue("rules")
Build = Callable[[Capture], None]
CAROL = "sip:carol@198.51.100.30"
"""The transfer target (its own signalling is not in the captures)."""
PRESENCE = {"Event": "presence", "Expires": "3600", "Accept": "application/pidf+xml"}
SIPFRAG = "message/sipfrag;version=2.0"
REALM = "sipdiag.test"
SERVER_ALLOW = "INVITE, ACK, CANCEL, BYE"
"""What the refusing far ends say they allow (Allow of their 405 and 501 answers)."""


def scenario(name: str, desc: str) -> Callable[[Build], Build]:
    return CATALOGUE.scenario(name, desc, Capture)


def send(c: Call, method: str, at: float, *, by: Node, body: str, ctype: str,
         headers: Headers | None = None) -> Tx:
    """A request with a body of any type (sipflow's requests carry SDP only): inside the
    call's dialog if it has one, else from the caller to the first hop."""
    cseq = c.cseq[by.name]
    c.cseq[by.name] += 1
    frm = f"{c.identity(by)};tag={c.tag(by, 0)}"
    if c.contacts:
        peer = c.callee if by == c.caller else c.caller
        ruri, dst = c.contacts[peer.name]
        to = f"{c.identity(peer)};tag={c.tag(peer, 0)}"
    else:
        assert by == c.caller and c.ruri is not None
        ruri, dst, to = c.ruri, c.proxy or c.callee, c.identity(c.callee)
    hdrs = [
        ("Via", by.via(c.branch())),
        ("Max-Forwards", "70"),
        ("From", frm),
        ("To", to),
        ("Call-ID", c.call_id),
        ("CSeq", f"{cseq} {method}"),
        ("Contact", by.contact),
        ("User-Agent", by.agent),
    ]
    return Tx(c, at, by, dst, method, ruri, merge(hdrs, headers), body, ctype)


def subscribed(c: Call, at: float, code: int = 200, headers: Headers | None = None) -> Tx:
    """alice's SUBSCRIBE accepted by bob (the notifier): the subscription's dialog is set up
    (RFC 6665 4.4.1)."""
    sub = c.request("SUBSCRIBE", at, headers={**PRESENCE, **(headers or {})})
    ok = sub.reply(at + 0.004, code, "Accepted" if code == 202 else None,
                   headers={"Contact": BOB.contact, "Expires": "3600"})
    c.confirmed(sub, ok)
    return sub


def notify(c: Call, at: float, state: str, *, event: str = "presence") -> Tx:
    """bob's NOTIFY of the presence subscription, with a PIDF document."""
    return send(c, "NOTIFY", at, by=BOB, body=pidf("bob", "open"), ctype="application/pidf+xml",
                headers={"Event": event, "Subscription-State": state})


def pidf(user: str, basic: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\r\n'
        f'<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:{user}@example.com">\r\n'
        f'<tuple id="t1"><status><basic>{basic}</basic></status></tuple>\r\n'
        "</presence>\r\n"
    )


def transfer(c: Call, at: float, code: int = 202, reason: str | None = "Accepted") -> Tx:
    """alice, in a call with bob, asks bob to call carol (blind transfer, RFC 5589 6)."""
    refer = c.request("REFER", at, headers={"Refer-To": f"<{CAROL}>",
                                             "Referred-By": f"<{c.from_uri}>"})
    refer.reply(at + 0.004, code, reason)
    return refer


def report(c: Call, refer: Tx, at: float, status_line: str, state: str) -> Tx:
    """bob's NOTIFY of how its call to carol is going: a message/sipfrag status line."""
    return send(c, "NOTIFY", at, by=BOB, body=f"SIP/2.0 {status_line}\r\n", ctype=SIPFRAG,
                headers={"Event": f"refer;id={refer.cseq}", "Subscription-State": state})


def dtmf(c: Call, at: float, digit: str) -> Tx:
    """A DTMF digit in an INFO (the application/dtmf-relay body many devices send)."""
    return send(c, "INFO", at, by=ALICE, body=f"Signal={digit}\r\nDuration=160\r\n",
                ctype="application/dtmf-relay")


def call_up(cap: Capture) -> Call:
    c = cap.call(ALICE, BOB)
    c.setup()
    return c


def presence_server(cap: Capture) -> Call:
    """alice publishing her own presence at the proxy (the ESC): To = From."""
    return cap.call(ALICE, PROXY, domain=PROXY.ip, to_user="alice")


def publish(c: Call, at: float, code: int, *, if_match: str | None = None,
            etag: str | None = None, reason: str | None = None) -> Tx:
    headers: Headers = {"Event": "presence", "Expires": "3600"}
    if if_match is not None:
        headers["SIP-If-Match"] = if_match
    tx = send(c, "PUBLISH", at, by=ALICE, body=pidf("alice", "open"),
              ctype="application/pidf+xml", headers=headers)
    tx.reply(at + 0.004, code, reason,
             headers={"SIP-ETag": etag, "Expires": "3600"} if etag else None)
    return tx


def reliable(inv: Tx, at: float, rseq: int, sdp: str) -> Response:
    """A 183 sent reliably (Require: 100rel, RSeq, RFC 3262 3)."""
    return inv.reply(at, 183, headers={"Require": "100rel", "RSeq": str(rseq)}, sdp=sdp)


def prack(c: Call, at: float, provisional: Response, rseq: int) -> Tx:
    """alice's PRACK of a reliable provisional response, in its early dialog: RAck is the
    RSeq, then the INVITE's CSeq number and method (RFC 3262 7.2)."""
    cseq = c.cseq[ALICE.name]
    c.cseq[ALICE.name] += 1
    invite = provisional.tx
    hdrs = [
        ("Via", ALICE.via(c.branch())),
        ("Max-Forwards", "70"),
        ("From", invite.get("From")),
        ("To", provisional.get("To")),
        ("Call-ID", c.call_id),
        ("CSeq", f"{cseq} PRACK"),
        ("RAck", f"{rseq} {invite.cseq} INVITE"),
        ("User-Agent", ALICE.agent),
    ]
    target = uri_of(provisional.get("Contact"))
    return Tx(c, at, ALICE, provisional.src, "PRACK", target, hdrs)


def reliable_call(c: Call, at: float = 0.0) -> Tx:
    """An INVITE from a caller that supports 100rel (RFC 3262 4)."""
    return c.invite(at, sdp=c.sdp(ALICE), headers={"Supported": "100rel, replaces, timer"})


def challenged_register(reg: Call, at: float, n: int, final: int) -> None:
    """REGISTER, 401 with a fresh nonce, REGISTER with credentials answered ``final``."""
    nonce = reg.id("nonce", str(n), n=32)
    reg.request("REGISTER", at).reply(
        at + 0.004, 401, headers={"WWW-Authenticate": www_authenticate(REALM, nonce)})
    assert reg.ruri is not None
    credentials = authorization("alice", "secret", REALM, nonce, "REGISTER", reg.ruri,
                                reg.id("cnonce", str(n), n=16))
    reg.request("REGISTER", at + 0.012, headers={"Authorization": credentials}).reply(
        at + 0.016, final)


def registration(cap: Capture) -> Call:
    return cap.call(ALICE, PROXY, domain=PROXY.ip, to_user="alice", ruri=f"sip:{PROXY.ip}")


# --------------------------------------------------------------------------
# Subscriptions (RFC 6665)


@scenario(
    "subscribe-489-bad-event.pcap",
    "SUBSCRIBE with Event: dialog (busy lamp) answered 489 Bad Event by bob, whose "
    "Allow-Events lists presence and message-summary",
)
def subscribe_489_bad_event(cap: Capture) -> None:
    c = cap.call(ALICE, BOB)
    c.request("SUBSCRIBE", 0.0, headers={**PRESENCE, "Event": "dialog",
                                         "Accept": "application/dialog-info+xml"}).reply(
        0.004, 489, "Bad Event", headers={"Allow-Events": "presence, message-summary"})


@scenario(
    "subscribe-refused-404-403.pcap",
    "two SUBSCRIBEs through the proxy. 1: presence of sip:bob@198.51.100.1, challenged 407, "
    "sent again with credentials, answered 404 Not Found. 2 (2 s): message-summary of "
    "sip:carol@198.51.100.1 answered 403 Forbidden",
)
def subscribe_refused_404_403(cap: Capture) -> None:
    c = cap.call(ALICE, BOB, proxy=PROXY)
    nonce = c.id("nonce", n=32)
    c.request("SUBSCRIBE", 0.0, headers=PRESENCE).reply(
        0.004, 407, "Proxy Authentication Required",
        headers={"Proxy-Authenticate": www_authenticate(REALM, nonce)})
    assert c.ruri is not None
    credentials = authorization("alice", "secret", REALM, nonce, "SUBSCRIBE", c.ruri,
                                c.id("cnonce", n=16))
    c.request("SUBSCRIBE", 0.012, headers={**PRESENCE, "Proxy-Authorization": credentials}
              ).reply(0.016, 404)
    mwi = cap.call(ALICE, BOB, proxy=PROXY, to_user="carol")
    mwi.request("SUBSCRIBE", 2.0, headers={**PRESENCE, "Event": "message-summary",
                                           "Accept": "application/simple-message-summary"}
                ).reply(2.004, 403)


@scenario(
    "subscribe-refresh-481.pcap",
    "SUBSCRIBE presence answered 200; bob's NOTIFY (active) answered 200; at 10 s alice "
    "refreshes the subscription (SUBSCRIBE inside its dialog) and bob answers 481",
)
def subscribe_refresh_481(cap: Capture) -> None:
    c = cap.call(ALICE, BOB)
    subscribed(c, 0.0)
    notify(c, 0.01, "active;expires=3600").reply(0.014, 200)
    c.request("SUBSCRIBE", 10.0, headers=PRESENCE).reply(10.004, 481)


@scenario(
    "notify-481.pcap",
    "SUBSCRIBE presence answered 202 Accepted; bob's NOTIFY (active) answered 481 by alice",
)
def notify_481(cap: Capture) -> None:
    c = cap.call(ALICE, BOB)
    subscribed(c, 0.0, 202)
    notify(c, 0.01, "active;expires=3600").reply(0.014, 481)


@scenario(
    "subscription-terminated.pcap",
    "three presence subscriptions accepted, each with a first NOTIFY (active). 1: at 5 s "
    "bob ends it (terminated;reason=rejected). 2 (20 s): at 25 s bob ends it "
    "(terminated;reason=timeout) though alice never unsubscribed. 3 (40 s): at 45 s bob ends it "
    "(terminated;reason=deactivated), alice subscribes again (new Call-ID) and is accepted",
)
def subscription_terminated(cap: Capture) -> None:
    for at, reason in ((0.0, "rejected"), (20.0, "timeout"), (40.0, "deactivated")):
        c = cap.call(ALICE, BOB)
        subscribed(c, at)
        notify(c, at + 0.01, "active;expires=3600").reply(at + 0.014, 200)
        notify(c, at + 5.0, f"terminated;reason={reason}").reply(at + 5.004, 200)
    again = cap.call(ALICE, BOB)
    subscribed(again, 45.01)
    notify(again, 45.02, "active;expires=3600").reply(45.024, 200)


@scenario(
    "subscribe-healthy.pcap",
    "SUBSCRIBE presence answered 200, NOTIFY (active) 200; refreshed at 20 s (200, NOTIFY "
    "active 200); unsubscribed at 40 s (Expires: 0, 200) and the last NOTIFY "
    "(terminated;reason=timeout) answered 200",
)
def subscribe_healthy(cap: Capture) -> None:
    c = cap.call(ALICE, BOB)
    subscribed(c, 0.0)
    notify(c, 0.01, "active;expires=3600").reply(0.014, 200)
    c.request("SUBSCRIBE", 20.0, headers=PRESENCE).reply(20.004, 200,
                                                         headers={"Expires": "3600"})
    notify(c, 20.01, "active;expires=3600").reply(20.014, 200)
    c.request("SUBSCRIBE", 40.0, headers={**PRESENCE, "Expires": "0"}).reply(
        40.004, 200, headers={"Expires": "0"})
    notify(c, 40.01, "terminated;reason=timeout").reply(40.014, 200)


# --------------------------------------------------------------------------
# Transfers (RFC 3515)


@scenario(
    "refer-refused-403.pcap",
    "call set up; at 3 s alice's REFER (Refer-To: sip:carol@198.51.100.30) answered "
    "403 Forbidden; BYE at 5 s",
)
def refer_refused_403(cap: Capture) -> None:
    c = call_up(cap)
    transfer(c, 3.0, 403, None)
    c.bye(5.0).reply(5.004, 200)


@scenario(
    "transfer-failed-486.pcap",
    "call set up; at 3 s alice's REFER to carol answered 202; bob's NOTIFYs report "
    "SIP/2.0 100 Trying (active), then SIP/2.0 486 Busy Here (terminated;reason=noresource), "
    "each answered 200; BYE at 8 s",
)
def transfer_failed_486(cap: Capture) -> None:
    c = call_up(cap)
    refer = transfer(c, 3.0)
    report(c, refer, 3.01, "100 Trying", "active;expires=60").reply(3.014, 200)
    report(c, refer, 6.0, "486 Busy Here", "terminated;reason=noresource").reply(6.004, 200)
    c.bye(8.0).reply(8.004, 200)


@scenario(
    "transfer-notify-refused-488.pcap",
    "call set up; at 3 s alice's REFER to carol answered 202; bob's NOTIFY reporting "
    "SIP/2.0 200 OK (terminated;reason=noresource) answered 488 Not Acceptable Here by alice; "
    "bob hangs up at 5 s",
)
def transfer_notify_refused_488(cap: Capture) -> None:
    c = call_up(cap)
    refer = transfer(c, 3.0)
    report(c, refer, 4.0, "200 OK", "terminated;reason=noresource").reply(4.004, 488)
    c.bye(5.0, by=BOB).reply(5.004, 200)


@scenario(
    "transfer-healthy.pcap",
    "call set up; at 3 s alice's REFER to carol answered 202; bob's NOTIFYs report "
    "SIP/2.0 100 Trying (active), then SIP/2.0 200 OK (terminated;reason=noresource), each "
    "answered 200; alice hangs up at 6 s",
)
def transfer_healthy(cap: Capture) -> None:
    c = call_up(cap)
    refer = transfer(c, 3.0)
    report(c, refer, 3.01, "100 Trying", "active;expires=60").reply(3.014, 200)
    report(c, refer, 5.0, "200 OK", "terminated;reason=noresource").reply(5.004, 200)
    c.bye(6.0).reply(6.004, 200)


# --------------------------------------------------------------------------
# Publications (RFC 3903)


@scenario(
    "publish-412.pcap",
    "alice PUBLISHes her presence (200, SIP-ETag e1), refreshes it at 10 s with SIP-If-Match: "
    "e1 (200, SIP-ETag e2); at 20 s a refresh with SIP-If-Match: e2 is answered 412 "
    "Conditional Request Failed, and no fresh PUBLISH follows",
)
def publish_412(cap: Capture) -> None:
    c = presence_server(cap)
    publish(c, 0.0, 200, etag="e1")
    publish(c, 10.0, 200, if_match="e1", etag="e2")
    publish(c, 20.0, 412, if_match="e2", reason="Conditional Request Failed")


@scenario(
    "publish-healthy.pcap",
    "alice PUBLISHes her presence (200, SIP-ETag e1), refreshes it at 10 s with SIP-If-Match: "
    "e1 (200, SIP-ETag e2); at 20 s a refresh with SIP-If-Match: e2 is answered 412 (the "
    "server lost it) and alice publishes afresh without SIP-If-Match (200, SIP-ETag e3)",
)
def publish_healthy(cap: Capture) -> None:
    c = presence_server(cap)
    publish(c, 0.0, 200, etag="e1")
    publish(c, 10.0, 200, if_match="e1", etag="e2")
    publish(c, 20.0, 412, if_match="e2", reason="Conditional Request Failed")
    publish(c, 20.01, 200, etag="e3")


# --------------------------------------------------------------------------
# Methods the far end does not take; INFO; UPDATE


@scenario(
    "method-not-allowed.pcap",
    "call set up; at 3 s alice's INFO (DTMF) answered 501 Not Implemented, at 4 s her UPDATE "
    "answered 405 Method Not Allowed, both with Allow: INVITE, ACK, CANCEL, BYE; BYE at 6 s. "
    "At 10 s a MESSAGE from alice to bob (another Call-ID) answered 405 with the same Allow",
)
def method_not_allowed(cap: Capture) -> None:
    c = call_up(cap)
    allow = {"Allow": SERVER_ALLOW}
    dtmf(c, 3.0, "5").reply(3.004, 501, "Not Implemented", headers=allow)
    c.request("UPDATE", 4.0).reply(4.004, 405, "Method Not Allowed", headers=allow)
    c.bye(6.0).reply(6.004, 200)
    im = cap.call(ALICE, BOB)
    send(im, "MESSAGE", 10.0, by=ALICE, body="hello", ctype="text/plain").reply(
        10.004, 405, "Method Not Allowed", headers=allow)


@scenario(
    "method-not-offered.pcap",
    "an OPTIONS from alice to the proxy answered 405 Method Not Allowed (Allow: INVITE, ACK, "
    "CANCEL, BYE); at 2 s a SUBSCRIBE presence from alice to bob answered 501 Not Implemented",
)
def method_not_offered(cap: Capture) -> None:
    ping = cap.call(ALICE, PROXY, to_uri=f"sip:{PROXY.ip}")
    ping.request("OPTIONS", 0.0).reply(0.004, 405, "Method Not Allowed",
                                        headers={"Allow": SERVER_ALLOW})
    cap.call(ALICE, BOB).request("SUBSCRIBE", 2.0, headers=PRESENCE).reply(
        2.004, 501, "Not Implemented")


@scenario(
    "info-415-469.pcap",
    "call set up; at 3 s alice's INFO with an application/dtmf-relay body answered 415 "
    "Unsupported Media Type (Accept: application/sdp); at 4 s her INFO with Info-Package: "
    "foo answered 469 Bad Info Package (Recv-Info: dtmf); BYE at 6 s",
)
def info_415_469(cap: Capture) -> None:
    c = call_up(cap)
    dtmf(c, 3.0, "1").reply(3.004, 415, "Unsupported Media Type",
                            headers={"Accept": "application/sdp"})
    send(c, "INFO", 4.0, by=ALICE, body="<foo/>\r\n", ctype="application/foo+xml",
         headers={"Info-Package": "foo"}).reply(4.004, 469, "Bad Info Package",
                                                headers={"Recv-Info": "dtmf"})
    c.bye(6.0).reply(6.004, 200)


@scenario(
    "update-488-491.pcap",
    "call set up; at 3 s alice's UPDATE with a new SDP offer (G.729 only) answered 488 Not "
    "Acceptable Here; at 4 s her UPDATE answered 491 Request Pending and never sent again; "
    "BYE at 6 s",
)
def update_488_491(cap: Capture) -> None:
    c = call_up(cap)
    g729 = c.sdp(ALICE, codecs=((18, "G729/8000", None),))
    c.request("UPDATE", 3.0, sdp=g729).reply(3.004, 488)
    c.request("UPDATE", 4.0, sdp=c.sdp(ALICE, bump=True)).reply(4.004, 491)
    c.bye(6.0).reply(6.004, 200)


# --------------------------------------------------------------------------
# Reliable provisional responses (RFC 3262)


@scenario(
    "prack-481.pcap",
    "INVITE (Supported: 100rel); bob's 183 with Require: 100rel, RSeq 1 (0.2 s); alice's "
    "PRACK with RAck 2 1 INVITE answered 481; the 183 again at 0.7 s; PRACK with RAck 1 1 "
    "INVITE answered 200; 200 OK at 2.5 s, ACK; BYE at 5 s",
)
def prack_481(cap: Capture) -> None:
    c = cap.call(ALICE, BOB)
    inv = reliable_call(c)
    early = reliable(inv, 0.2, 1, c.sdp(BOB))
    prack(c, 0.21, early, 2).reply(0.214, 481)
    cap.send(0.7, BOB, ALICE, early.data)
    prack(c, 0.71, early, 1).reply(0.714, 200)
    inv.reply(2.5, 200, sdp=c.sdp(BOB))
    inv.ack()
    c.bye(5.0).reply(5.004, 200)


@scenario(
    "prack-never-sent.pcap",
    "INVITE (Supported: 100rel); bob's 183 with Require: 100rel, RSeq 1 at 0.2 s, sent again "
    "at T1 doubling (7 copies, to 31.7 s), never PRACKed; at 32.2 s bob gives up with 504 "
    "Server Time-out, ACKed",
)
def prack_never_sent(cap: Capture) -> None:
    c = cap.call(ALICE, BOB)
    inv = reliable_call(c)
    early = reliable(inv, 0.2, 1, c.sdp(BOB))
    for dt in retransmit_times(invite=True)[1:]:  # T1, doubling, no T2 cap (RFC 3262 3)
        cap.send(0.2 + dt, BOB, ALICE, early.data)
    inv.reply(32.2, 504)
    inv.ack()


@scenario(
    "prack-healthy.pcap",
    "INVITE (Supported: 100rel); bob's 183 with Require: 100rel, RSeq 1, PRACKed (RAck 1 1 "
    "INVITE, 200); 200 OK at 2.5 s, ACK; an INFO (DTMF) at 3 s and an UPDATE at 4 s, each "
    "answered 200; BYE at 6 s",
)
def prack_healthy(cap: Capture) -> None:
    c = cap.call(ALICE, BOB)
    inv = reliable_call(c)
    early = reliable(inv, 0.2, 1, c.sdp(BOB))
    prack(c, 0.21, early, 1).reply(0.214, 200)
    inv.reply(2.5, 200, sdp=c.sdp(BOB))
    inv.ack()
    dtmf(c, 3.0, "5").reply(3.004, 200)
    c.request("UPDATE", 4.0).reply(4.004, 200)
    c.bye(6.0).reply(6.004, 200)


# --------------------------------------------------------------------------
# Retry storms


@scenario(
    "retry-storm.pcap",
    "alice's REGISTER (one Call-ID) every 20 s from 0 to 80 s: each challenged 401, sent "
    "again with credentials and answered 403 Forbidden. In another Call-ID, an OPTIONS from "
    "alice to sip:gateway@198.51.100.20 every 5 s from 100 to 125 s, each answered 404",
)
def retry_storm(cap: Capture) -> None:
    reg = registration(cap)
    for n in range(5):
        challenged_register(reg, 20.0 * n, n, 403)
    ping = cap.call(ALICE, BOB, to_uri="sip:gateway@198.51.100.20")
    for n in range(6):
        at = 100.0 + 5.0 * n
        ping.request("OPTIONS", at).reply(at + 0.004, 404)


@scenario(
    "retry-healthy.pcap",
    "alice's REGISTER (one Call-ID) every 20 s from 0 to 60 s: each challenged 401 and sent "
    "again with credentials, answered 200. In another Call-ID, an OPTIONS to "
    "sip:gateway@198.51.100.20 every 5 s, answered 404 three times, then 200",
)
def retry_healthy(cap: Capture) -> None:
    reg = registration(cap)
    for n in range(4):
        challenged_register(reg, 20.0 * n, n, 200)
    ping = cap.call(ALICE, BOB, to_uri="sip:gateway@198.51.100.20")
    for n, code in enumerate((404, 404, 404, 200)):
        at = 100.0 + 5.0 * n
        ping.request("OPTIONS", at).reply(at + 0.004, code)


@scenario(
    "retry-storm-new-call-ids.pcap",
    "alice's REGISTER every 30 s from 0 to 120 s, each with a new Call-ID: challenged 401, "
    "sent again with credentials, answered 403 Forbidden. Then alice calls bob every 10 s "
    "from 200 to 230 s, each INVITE with a new Call-ID, answered 503 Service Unavailable and "
    "ACKed",
)
def retry_storm_new_call_ids(cap: Capture) -> None:
    for n in range(5):
        challenged_register(registration(cap), 30.0 * n, n, 403)
    for n in range(4):
        refused_call(cap, 200.0 + 10.0 * n, 503)


@scenario(
    "retry-new-call-ids-healthy.pcap",
    "alice's REGISTER every 30 s, each with a new Call-ID, challenged and sent again with "
    "credentials: answered 403 three times, 200 once, then 403 three times more. alice "
    "calls bob every 10 s with a new Call-ID: busy (486) three times, then answered and ended "
    "by BYE",
)
def retry_new_call_ids_healthy(cap: Capture) -> None:
    for n, final in enumerate((403, 403, 403, 200, 403, 403, 403)):
        challenged_register(registration(cap), 30.0 * n, n, final)
    for n in range(3):
        refused_call(cap, 300.0 + 10.0 * n, 486)
    c = cap.call(ALICE, BOB)
    invite = c.invite(330.0, sdp=c.sdp(ALICE))
    invite.reply(330.5, 200, sdp=c.sdp(BOB))
    invite.ack()
    c.bye(335.0).reply(335.004, 200)


def refused_call(cap: Capture, at: float, status: int) -> None:
    """An INVITE from alice to bob with a Call-ID of its own, refused ``status`` and ACKed."""
    c = cap.call(ALICE, BOB)
    invite = c.invite(at, sdp=c.sdp(ALICE))
    invite.reply(at + 0.05, status)
    invite.ack()


def main(argv: list[str] | None = None) -> int:
    return CATALOGUE.main(argv, __doc__, __file__)


if __name__ == "__main__":
    sys.exit(main())
