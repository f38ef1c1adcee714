"""Every key of the UI, by screen, for the help screen (and the README): sngrep's where they
mean the same (arrows, Enter, F2 save, F3 and F7 search, F6 raw, q, Esc, Space to select)."""

from __future__ import annotations

KEYS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Call list", (
        ("↑ ↓ PgUp PgDn Home End", "move through the calls"),
        ("Enter, double click", "open the call: ladder, findings, media, linked calls"),
        ("/  F3  F7", "filter: a number or user, a Call-ID, an IP address, an outcome, a "
                      "status, a rule id, or failed (what --failed keeps); every word must "
                      "match; Enter keeps it, Esc clears it"),
        ("< >  or a click on a heading", "sort by the column before or after (a click again "
                                         "reverses)"),
        ("r", "reverse the order"),
        ("Space", "mark or unmark a call (marked calls are exported)"),
        ("F2  w", "export the marked calls, else those shown, to a .json, .md or .html file"),
        ("x", "explain the final status of the call under the cursor"),
        ("e", "explain a response code (two to compare), a rule, q850:N or warning:N"),
        ("?  F1", "this help"),
        ("q  F10", "quit"),
    )),
    ("Call", (
        ("1 2 3 4", "ladder, findings, media, linked calls"),
        ("↑ ↓ on the ladder", "choose a message"),
        ("Enter  F6  R", "the chosen message as it was captured"),
        ("Enter on a linked call", "open that call"),
        ("x", "explain the call's final status"),
        ("q  Esc", "back to the list"),
    )),
    ("Message", (
        ("n  p  (→ ←)", "the next or the previous message of the call"),
        ("q  Esc", "back to the call"),
    )),
)
