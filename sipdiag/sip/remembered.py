"""Answers kept for inputs a capture repeats: a bounded memory for pure readings.

A capture says the same things over and over: a load test sends one SDP body with every call,
a proxy forwards the body it received, a retransmission repeats every byte, and CSeq values and
status lines come from a small set. Reading such a value is a pure function of its bytes, so
its answer can be kept and handed out again; the answers are never changed by those who get
them (they are frozen values), so handing out the same object is safe.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")
_UNREAD = object()


def remembered(size: int) -> Callable[[Callable[[K], T]], Callable[[K], T]]:
    """A decorator: the function answered from memory for a key read before, for up to
    ``size`` keys (then the memory starts afresh, so that it stays bounded). A plain dict:
    cheaper to consult than ``functools.lru_cache``, which wraps every key but a str or an
    int."""

    def decorate(read: Callable[[K], T]) -> Callable[[K], T]:
        memory: dict[K, T] = {}

        def reading(key: K) -> T:
            found = memory.get(key, _UNREAD)
            if found is _UNREAD:
                if len(memory) >= size:
                    memory.clear()
                found = memory[key] = read(key)
            return found  # type: ignore[return-value]  # never _UNREAD here

        reading.__doc__ = read.__doc__
        return reading

    return decorate
