#!/usr/bin/env python3
"""Craft the captures of samples/rules/ about how a call's BYE was answered.

A BYE that names another dialog than the one the 200 OK set up (a wrong To tag from the caller,
a wrong From tag from the callee), refused 481;
a BYE refused outright (500); a BYE challenged (407) and sent again with credentials, then
accepted (healthy). Made as craft_scenarios.py makes its captures (sipflow.py, pcapkit.py):
deterministic, documentation addresses.

Usage:  python3 samples/craft_byes.py [--out DIR] [--check] [--list]

Generated for sipdiag, CC0.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from pcapkit import Catalogue
from sipflow import ALICE, BOB, Capture, authorization, www_authenticate

CATALOGUE = Catalogue("rules")
Build = Callable[[Capture], None]


def scenario(name: str, desc: str) -> Callable[[Build], Build]:
    return CATALOGUE.scenario(name, desc, Capture)


@scenario(
    "bye-wrong-to-tag.pcap",
    "call set up; at 5 s the caller's BYE carries To tag 0badf00d instead of the callee's tag "
    "from the 200 OK, and is answered 481",
)
def bye_wrong_to_tag(cap: Capture) -> None:
    c = cap.call(ALICE, BOB)
    c.setup()
    to = f"{c.identity(BOB)};tag=0badf00d"
    c.bye(5.0, headers={"To": to}).reply(5.004, 481)


@scenario(
    "bye-wrong-from-tag.pcap",
    "call set up; at 5 s the callee hangs up with a BYE whose From tag is 0badf00d instead of "
    "its own tag from the 200 OK, and is answered 481",
)
def bye_wrong_from_tag(cap: Capture) -> None:
    c = cap.call(ALICE, BOB)
    c.setup()
    frm = f"{c.identity(BOB)};tag=0badf00d"
    c.bye(5.0, by=BOB, headers={"From": frm}).reply(5.004, 481)


@scenario(
    "bye-wrong-tags-both.pcap",
    "call set up; at 5 s the callee hangs up with a BYE whose From and To tags are both "
    "made up (5ca1ab1e, 0badf00d), and is answered 481",
)
def bye_wrong_tags_both(cap: Capture) -> None:
    c = cap.call(ALICE, BOB)
    c.setup()
    headers = {"From": f"{c.identity(BOB)};tag=5ca1ab1e",
               "To": f"{c.identity(ALICE)};tag=0badf00d"}
    c.bye(5.0, by=BOB, headers=headers).reply(5.004, 481)


@scenario(
    "bye-refused-500.pcap",
    "call set up; at 5 s the caller's BYE is answered 500 Server Internal Error; no other BYE",
)
def bye_refused_500(cap: Capture) -> None:
    c = cap.call(ALICE, BOB)
    c.setup()
    c.bye(5.0).reply(5.004, 500)


@scenario(
    "bye-challenged-then-accepted.pcap",
    "call set up; at 5 s the caller's BYE is challenged 407; at 5.01 s it is sent again with "
    "Proxy-Authorization and answered 200",
)
def bye_challenged_then_accepted(cap: Capture) -> None:
    c = cap.call(ALICE, BOB)
    c.setup()
    nonce = c.id("nonce", n=16)
    challenge = {"Proxy-Authenticate": www_authenticate("example.com", nonce)}
    c.bye(5.0).reply(5.004, 407, "Proxy Authentication Required", headers=challenge)
    uri = c.contacts[BOB.name][0]
    credentials = authorization("alice", "secret", "example.com", nonce, "BYE", uri,
                                c.id("cnonce", n=8))
    c.bye(5.01, headers={"Proxy-Authorization": credentials}).reply(5.014, 200)


def main(argv: list[str] | None = None) -> int:
    return CATALOGUE.main(argv, __doc__, __file__)


if __name__ == "__main__":
    sys.exit(main())
