"""Pickling frozen dataclasses as their class and field values.

A frozen dataclass with slots pickles through the generic state functions of ``dataclasses``,
which look the fields up for every object, then set them one by one: about twice as slow, both
ways, as rebuilding the object from its values. The results of an analysis are spooled and read
back by every report (``spool``), so their parts are pickled the quick way.
"""

from __future__ import annotations

from dataclasses import fields
from operator import attrgetter
from typing import Any, TypeVar

T = TypeVar("T", bound=type)


def by_values(cls: T) -> T:
    """Pickle instances of this dataclass (two fields or more, none ``kw_only``) as
    ``cls(*values)``; those of a subclass pickle the generic way."""
    names = tuple(f.name for f in fields(cls))
    assert len(names) > 1, "attrgetter of one name gives the value, not a tuple"
    values = attrgetter(*names)
    generic = cls.__reduce_ex__

    def __reduce_ex__(self: Any, protocol: int) -> object:
        if type(self) is not cls:
            return generic(self, protocol)  # type: ignore[call-arg]  # unbound: self first
        return cls, values(self)

    setattr(cls, "__reduce_ex__", __reduce_ex__)  # noqa: B010 - mypy rejects assigning a method
    return cls
