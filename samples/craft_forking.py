#!/usr/bin/env python3
"""Craft the captures of samples/rules/ about forked INVITEs (RFC 3261 16.7, 13.2.2.4).

Alice calls through a forking proxy that rings Bob and Carol at once. In the healthy case
Bob answers, the proxy cancels Carol's branch (487) and Alice ACKs the one 2xx. In the other,
both answer: Alice gets two 2xx with different To tags, ACKs both and ends Carol's dialog with
a BYE, as section 13.2.2.4 asks; or ACKs only Bob's and leaves Carol's 2xx unanswered.
Captured at the proxy (both sides of it). Made as craft_scenarios.py makes its captures
(sipflow.py, pcapkit.py): deterministic, documentation addresses.

Usage:  python3 samples/craft_forking.py [--out DIR] [--check] [--list]

Generated for sipdiag, CC0.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from pcapkit import Catalogue
from sipflow import ALICE, BOB, PROXY, Capture, Node, Response, Tx, uri_of

CATALOGUE = Catalogue("rules")
Build = Callable[[Capture], None]
CAROL = Node("carol", "198.51.100.30", user="carol", agent="sipdiag-craft-carol/1.0",
             rtp_port=5678)


def scenario(name: str, desc: str) -> Callable[[Build], Build]:
    return CATALOGUE.scenario(name, desc, Capture)


def forked(cap: Capture) -> tuple[Tx, Tx, Tx, Response, Response]:
    """Alice's INVITE to the proxy, forked to Bob and Carol, both ringing (relayed to Alice):
    (Alice's INVITE, Bob's branch, Carol's branch, Bob's 180, Carol's 180)."""
    c = cap.call(ALICE, BOB, proxy=PROXY)
    invite = c.invite(0.0, sdp=c.sdp(ALICE))
    invite.reply(0.002, 100)
    to_bob, to_carol = invite.forward(0.004, BOB), invite.forward(0.005, CAROL)
    bob_rings = to_bob.reply(0.2, 180)
    invite.relay(0.202, bob_rings)
    carol_rings = to_carol.reply(0.25, 180)
    invite.relay(0.252, carol_rings)
    return invite, to_bob, to_carol, bob_rings, carol_rings


@scenario(
    "fork-one-answers.pcap",
    "INVITE forked by the proxy to Bob and Carol, both ring (two early dialogs); Bob answers "
    "at 3 s; the proxy CANCELs Carol's branch (200, 487, ACK); Alice ACKs; Alice hangs up at 8 s",
)
def fork_one_answers(cap: Capture) -> None:
    invite, to_bob, to_carol, _, _ = forked(cap)
    bob_ok = to_bob.reply(3.0, 200, sdp=invite.call.sdp(BOB))
    invite.relay(3.002, bob_ok)
    to_carol.cancel(3.004).reply(3.006, 200)
    to_carol.reply(3.007, 487)
    to_carol.ack(3.008)
    ack_of(invite, bob_ok, 3.01)
    invite.call.bye(8.0).reply(8.004, 200)


@scenario(
    "fork-two-answer.pcap",
    "INVITE forked to Bob and Carol; Bob answers at 3 s, Carol at 3.05 s (two 2xx, two "
    "dialogs); Alice ACKs both and ends Carol's dialog with a BYE at 3.1 s (RFC 3261 "
    "13.2.2.4); Alice hangs up on Bob at 8 s",
)
def fork_two_answer(cap: Capture) -> None:
    both_answer(cap, end_carol=True)


@scenario(
    "fork-second-answer-ignored.pcap",
    "INVITE forked to Bob and Carol; Bob answers at 3 s, Carol at 3.05 s; Alice ACKs only "
    "Bob's 2xx: Carol's 2xx is retransmitted until 64*T1 and Carol hangs up with a BYE "
    "at 35 s; Alice hangs up on Bob at 40 s",
)
def fork_second_answer_ignored(cap: Capture) -> None:
    both_answer(cap, end_carol=False)


@scenario(
    "fork-second-answer-kept.pcap",
    "INVITE forked to Bob and Carol; both answer (3 s, 3.05 s); Alice ACKs both and keeps "
    "both; Carol hangs up at 6 s (BYE, 200), Alice hangs up on Bob at 8 s",
)
def fork_second_answer_kept(cap: Capture) -> None:
    invite, to_bob, to_carol, _, _ = forked(cap)
    call = invite.call
    bob_ok = to_bob.reply(3.0, 200, sdp=call.sdp(BOB))
    invite.relay(3.002, bob_ok)
    carol_ok = to_carol.reply(3.05, 200, sdp=call.sdp(CAROL))
    invite.relay(3.052, carol_ok)
    ack_of(invite, bob_ok, 3.01)
    ack_of(invite, carol_ok, 3.06)
    in_dialog(invite, carol_ok, 6.0, "BYE", by_callee=True).reply(6.004, 200)
    call.bye(8.0).reply(8.004, 200)


def in_dialog(invite: Tx, ok: Response, at: float, method: str, by_callee: bool) -> Tx:
    """A request of the dialog ``ok`` confirmed, sent straight between its two ends (no route
    set is followed, as in sipflow): by the caller to the callee's Contact, or back."""
    call, callee = invite.call, ok.tx.dst
    src, dst = (callee, ALICE) if by_callee else (ALICE, callee)
    caller_side, callee_side = ok.get("From"), ok.get("To")
    sender, receiver = (callee_side, caller_side) if by_callee else (caller_side, callee_side)
    cseq = 201 if by_callee else invite.cseq + 1
    headers = [("Via", src.via(call.branch())), ("Max-Forwards", "70"), ("From", sender),
               ("To", receiver), ("Call-ID", call.call_id), ("CSeq", f"{cseq} {method}"),
               ("User-Agent", src.agent)]
    target = uri_of(dst.contact) if method != "ACK" or by_callee else uri_of(ok.get("Contact"))
    return Tx(call, at, src, dst, method, target, headers)


def both_answer(cap: Capture, end_carol: bool) -> None:
    invite, to_bob, to_carol, _, _ = forked(cap)
    call = invite.call
    bob_ok = to_bob.reply(3.0, 200, sdp=call.sdp(BOB))
    invite.relay(3.002, bob_ok)
    carol_ok = to_carol.reply(3.05, 200, sdp=call.sdp(CAROL))
    carol_relayed = invite.relay(3.052, carol_ok)
    ack_of(invite, bob_ok, 3.01)
    if end_carol:
        ack_of(invite, carol_ok, 3.06)
        in_dialog(invite, carol_ok, 3.1, "BYE", by_callee=False).reply(3.104, 200)
        call.bye(8.0).reply(8.004, 200)
        return
    carol_ok.retransmit()
    carol_relayed.retransmit()
    in_dialog(invite, carol_ok, 35.0, "BYE", by_callee=True).reply(35.004, 200)
    call.bye(40.0).reply(40.004, 200)


def ack_of(invite: Tx, ok: Response, at: float) -> Tx:
    """Alice's ACK of one 2xx: end to end, to that 2xx's Contact (section 13.2.2.4)."""
    cseq = f"{invite.cseq} ACK"
    headers = [("Via", ALICE.via(invite.call.branch())), ("Max-Forwards", "70"),
               ("From", ok.get("From")), ("To", ok.get("To")),
               ("Call-ID", invite.call.call_id), ("CSeq", cseq), ("User-Agent", ALICE.agent)]
    return Tx(invite.call, at, ALICE, ok.tx.dst, "ACK", uri_of(ok.get("Contact")), headers)


def main(argv: list[str] | None = None) -> int:
    return CATALOGUE.main(argv, __doc__, __file__)


if __name__ == "__main__":
    sys.exit(main())
