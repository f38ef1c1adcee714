"""Capture checks: rules about the capture as a whole (``scope: capture``), across Call-IDs.

A check of one call sees only its Call-ID. Some failures span several: a client that sends the
same refused request again and again, each time with a new Call-ID; a scanner probing many
users, each with a Call-ID of its own. A capture check reads a ``Watch``: a small digest of each
finished call and exchange (``observe``), kept in each process, the watches of the processes
merged (``merge``) and read once at the end (``find``) into findings, each anchored on the call
or exchange where its event began. Several checks may read one kind of watch (the security
rules all read ``dialogs.sources.SourceLedger``): it is kept once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

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
    covers: tuple[tuple[str, int], ...] = ()
    """The calls and exchanges (Call-ID, first frame) the event is made of: the rule's
    ``supersedes`` leaves out the findings of those rules on them (a scanner's probes are not
    each a dial plan problem)."""


class Watch(Protocol):
    def observe(self, subject: Subject) -> None:
        """Keep what the checks need of a finished call or exchange."""
        ...

    def merge(self, other: Watch) -> None:
        """Take in what another process's watch of the same kind kept."""
        ...


W = TypeVar("W", bound=Watch)
WatchKind = Callable[[], Watch]
"""How a kind of watch is made (its class): the key of the watches of a run."""
Find = Callable[[W, Mapping[str, object]], Iterator[CaptureHit]]


@dataclass(frozen=True)
class CaptureCheck:
    watch: WatchKind
    """What it reads: one watch of each kind is kept in a run, whatever the number of rules
    that read it."""
    find: Callable[[Any, Mapping[str, object]], Iterator[CaptureHit]]
    """The events of the whole capture, from the merged watch and the rule's params."""
    placeholders: tuple[str, ...]
    """What the check fills (a capture check fills no ``{call.*}``)."""
    params: Mapping[str, Param]


CAPTURE_CHECKS: dict[str, CaptureCheck] = {}


def capture_check(
    name: str, watch: Callable[[], W], placeholders: tuple[str, ...],
    params: Mapping[str, Param] | None = None,
) -> Callable[[Find[W]], Find[W]]:
    def register(find: Find[W]) -> Find[W]:
        CAPTURE_CHECKS[name] = CaptureCheck(watch, find, placeholders, params or {})
        return find

    return register
