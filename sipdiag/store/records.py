"""Results as bytes in a Parquet column, and back, refusing anything that is not a result.

A stored result is pickled (the same protocol the spools use), with each rule its findings
name written as a reference (``rule:D104``) and resolved on reading against the rules of the
engine that reads it, as ``spool`` does. A results dataset may come from anywhere (an object
store shared by many), and unpickling runs whatever a pickle names: the reader loads only the
classes of sipdiag's records (dataclasses, named tuples and enums of the ``sipdiag`` package),
and refuses any other global with one line naming the file (the pickle documentation's
"Restricting Globals").
"""

from __future__ import annotations

import dataclasses
import io
import pickle
import sys
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, TypeVar

from sipdiag.store.schema import StoreError

if TYPE_CHECKING:
    from sipdiag.analysis.model import SourceSummary
    from sipdiag.analysis.reading import CaptureSummary
    from sipdiag.media.model import TiedStream

T = TypeVar("T")
RULE_PREFIX = "rule:"


@dataclass(frozen=True, slots=True)
class RunState:
    """What a report needs of a run besides its calls and exchanges (the ``runs`` record)."""

    summary: CaptureSummary
    message_counts: Counter[str]
    sources: list[SourceSummary]
    unattributed: list[TiedStream]


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, shared: Mapping[int, str]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._shared = shared

    def persistent_id(self, obj: object) -> str | None:
        return self._shared.get(id(obj))


class RecordWriter:
    """Pickles results, the rules of ``shared`` (``RuleSet.shared()``) as references."""

    def __init__(self, shared: Mapping[str, object]) -> None:
        self._ids = {id(obj): name for name, obj in shared.items()}

    def dumps(self, item: object) -> bytes:
        out = io.BytesIO()
        _Pickler(out, self._ids).dump(item)
        return out.getvalue()


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes, shared: Mapping[str, object], where: str) -> None:
        super().__init__(io.BytesIO(data))
        self._shared, self._where = shared, where

    def find_class(self, module: str, name: str) -> type:
        found = _record_class(module, name)
        if found is None:
            raise StoreError(f"{self._where}: refused a stored record that names "
                             f"{module}.{name}, which is not a sipdiag record")
        return found

    def persistent_load(self, pid: object) -> object:
        rule = self._shared.get(str(pid))
        if rule is None:
            rule_id = str(pid).removeprefix(RULE_PREFIX)
            raise StoreError(f"{self._where}: a finding of rule {rule_id}, which the rules of "
                             f"this sipdiag do not define (give its folder with --rules)")
        return rule


STANDARD_CLASSES: Mapping[tuple[str, str], type] = {("collections", "Counter"): Counter}
"""The classes of the standard library a record holds (a run's message counts); the other
containers of results (tuples, lists, dicts, sets) have pickle opcodes of their own."""


def _record_class(module: str, name: str) -> type | None:
    """The class a record may name: one of sipdiag's dataclasses, named tuples or enums,
    found without importing anything (a module not yet loaded is not one a result needs),
    or one of ``STANDARD_CLASSES``."""
    if module != "sipdiag" and not module.startswith("sipdiag."):
        return STANDARD_CLASSES.get((module, name))
    found = getattr(sys.modules.get(module), name, None)
    if not isinstance(found, type) or found.__module__ != module:
        return None
    is_record = (dataclasses.is_dataclass(found) or issubclass(found, Enum)
                 or (issubclass(found, tuple) and hasattr(found, "_fields")))
    return found if is_record else None


class RecordReader:
    """Unpickles what ``RecordWriter`` wrote, resolving rules against ``shared``; ``where``
    (the file) names the dataset in an error."""

    def __init__(self, shared: Mapping[str, object]) -> None:
        self._shared = shared

    def loads(self, data: bytes, kind: type[T], where: str) -> T:
        try:
            item = _RestrictedUnpickler(data, self._shared, where).load()
        except StoreError:
            raise
        except Exception as exc:  # any damage in the bytes: the pickle machinery's own errors
            raise StoreError(f"{where}: a stored record is damaged ({exc})") from None
        if not isinstance(item, kind):
            raise StoreError(f"{where}: a stored record is a {type(item).__name__}, not a "
                             f"{kind.__name__}")
        return item
