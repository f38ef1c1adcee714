"""The registry of checks: the name a rule file gives (``check: ack_missing``), the function
that finds its events, the placeholders it fills, the parameters it takes, and what it needs
(``facts.Needs``): the engine runs it only on the subjects that show it."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from sipdiag.dialogs.calls import Call, Exchange
from sipdiag.rules.catalog import Catalog
from sipdiag.rules.checks.facts import Needs
from sipdiag.rules.matcher import Hit, call_values, message_evidence
from sipdiag.rules.model import Evidence
from sipdiag.sip.message import SipMessage

Subject = Call | Exchange
Run = Callable[[Subject, Mapping[str, object], Catalog], Iterator[Hit]]
Param = tuple[Callable[[object], object], object]


@dataclass(frozen=True)
class Check:
    run: Run
    placeholders: tuple[str, ...]
    """What the check fills, besides ``{call.*}``."""
    params: Mapping[str, Param]
    """Name -> (parse the rule file's value, default)."""
    needs: Needs | None = None
    """What a subject must show for the check to find anything: the engine runs it on the
    subjects that show it only (None: on every subject)."""


CHECKS: dict[str, Check] = {}


def check(
    name: str, placeholders: tuple[str, ...], params: Mapping[str, Param] | None = None,
    needs: Needs | None = None,
) -> Callable[[Run], Run]:
    def register(run: Run) -> Run:
        CHECKS[name] = Check(run, placeholders, params or {}, needs)
        return run

    return register


def hit(subject: Subject, values: dict[str, str], messages: list[SipMessage],
         key: tuple[object, ...], refs: tuple[tuple[str, int], ...] = (),
         evidence: tuple[Evidence, ...] = ()) -> Hit:
    found = {*evidence, *(message_evidence(m) for m in messages)}
    return Hit({**call_values(subject), **values}, tuple(sorted(found)), key, refs)
