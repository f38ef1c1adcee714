"""Transactions, dialogs and calls: SIP messages in, what happened to each call out.

- ``transactions``: requests matched with their responses and retransmissions (RFC 3261 17);
- ``dialogs``: early, confirmed and ended dialogs, forks, requests inside a dialog (RFC 3261 12);
- ``calls``: a Call-ID's story read as a ``Call`` (outcome, timings, legs, SDP offer and answer)
  or an ``Exchange`` (REGISTER, OPTIONS, SUBSCRIBE, MESSAGE, ...);
- ``correlate``: the legs of a back-to-back user agent, linked by the headers that name them;
- ``tracker``: the conversations in progress, handed on when over, so memory stays bounded.

No I/O: messages come in, records go out.
"""
