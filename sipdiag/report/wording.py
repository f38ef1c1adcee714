"""Small pieces of wording every format shares, each made from report.yaml labels so that it
reads right in every language: a retransmission's copy number, a time in seconds, a counted
list, an RFC reference."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from sipdiag.rules.catalog import Catalog

_RFC_SECTION = re.compile(r"^RFC (\d+) section ([\d.]+)$")


def copy_mark(catalog: Catalog, copy: int, language: str = "en") -> str:
    """`` (copy 3)`` for a retransmission, nothing for the first time a message is sent."""
    return " " + catalog.label("copy", language, n=copy) if copy > 1 else ""


def offset(catalog: Catalog, seconds: float, language: str = "en") -> str:
    """``+1.208 s``: a time from the first frame of the capture."""
    return "+" + catalog.label("seconds", language, n=f"{seconds:.3f}")


def counted(catalog: Catalog, items: Iterable[tuple[str, int]], language: str = "en",
            form: str = "counted") -> str:
    """``2 busy, 10 completed``; with ``form="times"``: ``200 x3, 486 x1``."""
    return catalog.label("separator", language).join(
        catalog.label(form, language, count=count, what=what) for what, count in items
    )


def references(catalog: Catalog, cited: Sequence[str], language: str = "en") -> str:
    """``RFC 3261 section 15.1.2; RFC 4028`` with the section word in the reader's language."""
    shown = []
    for reference in cited:
        match = _RFC_SECTION.match(reference)
        shown.append(catalog.label("rfc_section", language, rfc=match[1], section=match[2])
                     if match else reference)
    return "; ".join(shown)
