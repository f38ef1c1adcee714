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


# CommonMark lets any ASCII punctuation be backslash-escaped; these are the characters that can
# open markup in a paragraph or a table cell (GitHub and GitLab flavours: | ends a cell, ~ strikes
# through, & starts an entity, < an HTML tag or an autolink).
_MARKDOWN = {ord(char): "\\" + char for char in "\\`*_[]<>|~&"}


_FORMULA_STARTS = ("=", "+", "-", "@", "\t")
"""What makes a spreadsheet read a CSV cell as a formula (OWASP: CSV injection; a carriage
return is shown as ``\\x0d`` before this is asked)."""


def for_spreadsheet(text: str) -> str:
    """A CSV cell that a spreadsheet shows as the text it is: controls shown as ``\\xNN``, and
    an apostrophe before a cell that would start a formula."""
    shown = for_terminal(text)
    return "'" + shown if shown.startswith(_FORMULA_STARTS) else shown


def for_markdown(text: str) -> str:
    """The text as literal Markdown: controls shown as ``\\xNN``, markup characters escaped."""
    return for_terminal(text).translate(_MARKDOWN)


def _xml_allowed(code: int) -> bool:
    # XML 1.0 section 2.2: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
    return (code in (0x09, 0x0A, 0x0D) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD
            or code >= 0x10000)


def for_xml(text: str) -> str:
    """The text with controls shown as ``\\xNN`` and what XML 1.0 forbids (lone surrogates,
    U+FFFE, U+FFFF) dropped; the XML writer escapes ``<``, ``&`` and quotes."""
    shown = "\n".join(for_terminal(line) for line in text.split("\n"))  # XML keeps line breaks
    if shown.isascii():
        return shown
    return "".join(char for char in shown if _xml_allowed(ord(char)))
