"""Where a mistake is written in a YAML file: the line a test's marker starts on."""

from __future__ import annotations


def line_of(text: str, at: str, *, once: bool = True) -> int:
    """The line (from 1) that ``at`` starts on; ``once``: the marker must be unambiguous,
    else its first occurrence is meant."""
    count = text.count(at)
    assert count == 1 if once else count >= 1, at
    return text[: text.index(at)].count("\n") + 1
