"""Text from a capture is data: make it safe for a terminal and for HTML.

Anything in a SIP message was written by someone else, possibly to attack whoever reads it: an
escape sequence in a User-Agent can move the cursor or retitle the terminal, and rich markup
(``[bold red]``) would be interpreted if it reached rich as markup. Reporters therefore pass
capture text through ``for_terminal`` (every control character, C0, DEL and C1, becomes a
visible ``\\xNN``) and hand it to rich only as ``Text``, never as markup; HTML output goes through
``for_html``.
"""

from __future__ import annotations

import html

_CONTROL = {code: f"\\x{code:02x}" for code in (*range(0x00, 0x20), *range(0x7F, 0xA0))}
_CONTROL.pop(0x09)  # a tab is harmless, and common in SIP headers


def for_terminal(text: str) -> str:
    """The text with every control character shown as ``\\xNN`` instead of acted on."""
    return text.translate(_CONTROL)


def for_html(text: str) -> str:
    """The text escaped for HTML element content and attribute values (controls shown too)."""
    return html.escape(for_terminal(text), quote=True)
