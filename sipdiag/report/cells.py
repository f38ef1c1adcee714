"""Text measured in terminal cells: wide characters (Hangul, kana, kanji) take two.

The terminal writers lay out their columns with it, and the HTML page its ladders, so that a
ladder looks the same in both. The widths are rich's table (``rich.cells``), the only part of
rich that a writer other than the terminal's uses.
"""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size

__all__ = ["cell_len", "fit"]


def fit(text: str, width: int) -> str:
    """Pad or cut ``text`` to ``width`` terminal cells (wide characters count double)."""
    if text.isascii():
        return text[: width - 1] + "…" if len(text) > width else text.ljust(width)
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…"
    return set_cell_size(text, width)
