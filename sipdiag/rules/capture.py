"""Capture checks: rules about the capture as a whole (``scope: capture``), across Call-IDs.

A check of one call sees only its Call-ID. Some failures span several: a client that sends the
same refused request again and again, each time with a new Call-ID. A capture check is a
``Watch``: it keeps a small digest of each finished call and exchange (``observe``), in each
process; the watches of the processes are merged (``merge``) and read once at the end
(``hits``) into findings, each anchored on the call or exchange where its event began.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol, TypeVar

from sipdiag.dialogs.calls import Call, Exchange
from sipdiag.rules.checks.registry import Param
from sipdiag.rules.matcher import Hit

Subject = Call | Exchange


@dataclass(frozen=True, slots=True)
class CaptureHit:
    """A hit of a capture check, and the call or exchange it is told on."""

    call_id: str
    call_frame: int
    """The first frame of that call or exchange."""
    hit: Hit


class Watch(Protocol):
    def observe(self, subject: Subject) -> None:
        """Keep what the check needs of a finished call or exchange."""
        ...

    def merge(self, other: Watch) -> None:
        """Take in what another process's watch of the same check kept."""
        ...

    def hits(self, params: Mapping[str, object]) -> Iterator[CaptureHit]:
        """The events of the whole capture."""
        ...


@dataclass(frozen=True)
class CaptureCheck:
    watch: Callable[[], Watch]
    placeholders: tuple[str, ...]
    """What the check fills (a capture check fills no ``{call.*}``)."""
    params: Mapping[str, Param]


CAPTURE_CHECKS: dict[str, CaptureCheck] = {}
W = TypeVar("W", bound=Callable[[], Watch])


def capture_check(
    name: str, placeholders: tuple[str, ...], params: Mapping[str, Param] | None = None
) -> Callable[[W], W]:
    def register(watch: W) -> W:
        CAPTURE_CHECKS[name] = CaptureCheck(watch, placeholders, params or {})
        return watch

    return register
