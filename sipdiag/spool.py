"""A spool: objects written to a temporary file as they come, read back in the order of a key.

The analysis of a capture yields one record per finished call, in the order calls finish; a
report wants them in the order they started. Keeping every record in memory would make memory
grow with the length of the capture; a spool keeps only a key and a file offset per record
(sixteen bytes, in arrays) and the records themselves on disk, and reads them back sorted by
key (each reading opens the file anew, so two readings may run side by side).

Each item may carry a tag (a few bits) that a reading can ask for: the items without it are
passed over unread, so a reading of the few items of one kind costs no more than they do.

Objects that many records share and that are not the records' own (the rules a finding names)
are written as a reference and restored to the very same object (pickle's persistent ids).
"""

from __future__ import annotations

import heapq
import os
import pickle
import tempfile
import weakref
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import IO, Generic, Protocol, TypeVar

T = TypeVar("T")
BUFFER = 1 << 20


class _Writer(pickle.Pickler):
    def __init__(self, file: IO[bytes], shared: Mapping[int, str]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._shared = shared

    def persistent_id(self, obj: object) -> str | None:
        return self._shared.get(id(obj))


class _Reader(pickle.Unpickler):
    def __init__(self, file: IO[bytes], shared: Mapping[str, object]) -> None:
        super().__init__(file)
        self._shared = shared

    def persistent_load(self, pid: object) -> object:
        return self._shared[str(pid)]


@dataclass(frozen=True)
class SpoolState:
    """A spool handed from one process to another: its file (or, to another machine, the
    file's bytes: ``packed``), keys and offsets."""

    path: str
    keys: list[array[int]]
    offsets: array[int]
    tags: array[int]
    data: bytes | None = None


def packed(state: SpoolState) -> SpoolState:
    """The state with its file's bytes in it, the file removed: to send to another machine."""
    if not state.path:
        return state
    with open(state.path, "rb") as file:
        data = file.read()
    os.unlink(state.path)
    return replace(state, path="", data=data)


def unpacked(state: SpoolState) -> SpoolState:
    """A ``packed`` state's bytes written to a file of this machine, for ``Spool.adopt``."""
    if state.data is None:
        return state
    handle, path = tempfile.mkstemp(prefix="sipdiag-", suffix=".spool")
    with os.fdopen(handle, "wb") as file:
        file.write(state.data)
    return replace(state, path=path, data=None)


class Spool(Generic[T]):
    """Items with integer sort keys (0 to 2**63; one per order the items can be read in) and
    a tag (0 to 255), on disk; ``len()``, and iteration in the order of a key, equal keys in the
    order items came, of every item or of those that have some bit of a tag."""

    def __init__(self, shared: Mapping[str, object] | None = None, orders: int = 1) -> None:
        self._shared = dict(shared or {})
        self._ids = {id(obj): name for name, obj in self._shared.items()}
        self._file: IO[bytes] | None = None
        self._path = ""
        self._keys = [array("q") for _ in range(orders)]
        self._offsets = array("q")
        self._tags = array("B")
        self._remover: weakref.finalize[..., Spool[T]] | None = None
        self._writer: pickle.Pickler | None = None

    def add(self, item: T, *keys: int, tag: int = 0) -> None:
        if self._file is None:
            handle, path = tempfile.mkstemp(prefix="sipdiag-", suffix=".spool")
            self._open(path, os.fdopen(handle, "wb", buffering=BUFFER))
        assert self._file is not None and self._writer is not None
        self._offsets.append(self._file.tell())
        self._tags.append(tag)
        for column, key in zip(self._keys, keys, strict=True):
            column.append(key)
        self._writer.clear_memo()  # each item stands alone: it is read back on its own
        self._writer.dump(item)

    def __len__(self) -> int:
        return len(self._offsets)

    def __bool__(self) -> bool:
        return bool(self._offsets)

    def __iter__(self) -> Iterator[T]:
        return self.read(0)

    def read(self, order: int, tag: int = 0) -> Iterator[T]:
        """The items in the order of their ``order``-th key (with ``tag``: only those whose tag
        has one of its bits)."""
        return (item for _, item in self.read_keyed(order, tag))

    def read_keyed(self, order: int, tag: int = 0) -> Iterator[tuple[int, T]]:
        """(key, item) in the order of the ``order``-th key (of the items tagged ``tag``)."""
        if self._file is None:
            return
        self._file.flush()
        keys, offsets, tags = self._keys[order], self._offsets, self._tags
        in_order = all(keys[i] <= keys[i + 1] for i in range(len(keys) - 1))
        indexes: Iterable[int] = (
            range(len(keys)) if in_order else sorted(range(len(keys)), key=keys.__getitem__))
        if tag:
            indexes = [index for index in indexes if tags[index] & tag]
        with open(self._path, "rb", buffering=BUFFER) as reader:
            position = 0
            for index in indexes:
                if offsets[index] != position:
                    reader.seek(offsets[index])
                item: T = _Reader(reader, self._shared).load()
                position = reader.tell()
                yield keys[index], item

    def add_tag(self, order: int, key: int, tag: int) -> None:
        """Add the bits of ``tag`` to every item whose ``order``-th key is ``key``."""
        keys, start = self._keys[order], 0
        while True:
            try:
                index = keys.index(key, start)
            except ValueError:
                return
            self._tags[index] |= tag
            start = index + 1

    def detach(self) -> SpoolState:
        """Close the spool for writing and hand its file over (to ``adopt``, in another
        process): this object will no longer remove it."""
        if self._file is not None:
            self._file.close()
        if self._remover is not None:
            self._remover.detach()
        return SpoolState(self._path, self._keys, self._offsets, self._tags)

    @classmethod
    def adopt(cls, state: SpoolState, shared: Mapping[str, object] | None = None) -> Spool[T]:
        """The spool of a ``detach``ed state, now owned (and removed) by this process."""
        spool: Spool[T] = cls(shared, orders=len(state.keys))
        spool._keys, spool._offsets, spool._tags = state.keys, state.offsets, state.tags
        if state.path:
            spool._open(state.path, open(state.path, "ab", buffering=BUFFER))  # noqa: SIM115 - kept open, closed by the finalizer
        return spool

    def _open(self, path: str, file: IO[bytes]) -> None:
        self._path, self._file = path, file
        # persistent ids cost a Python call per object pickled: only when there are any
        self._writer = (_Writer(file, self._ids) if self._ids
                        else pickle.Pickler(file, protocol=pickle.HIGHEST_PROTOCOL))
        self._remover = weakref.finalize(self, _remove, file, path, os.getpid())


def _remove(file: IO[bytes], path: str, owner: int) -> None:
    """Close and delete the file, in the process that owns it only: a forked process inherits
    its parent's spools and may collect them, but their files are not its own."""
    if os.getpid() != owner:
        return
    file.close()
    os.unlink(path)


T_co = TypeVar("T_co", covariant=True)
U = TypeVar("U")


class Listing(Protocol[T_co]):
    """What reports need of a list of records: to go through it (again) and to count it."""

    def __iter__(self) -> Iterator[T_co]: ...

    def __len__(self) -> int: ...


class Merged(Generic[T]):
    """Several spools read as one, in the order of one of their keys (``merged``)."""

    def __init__(self, spools: Sequence[Spool[T]], order: int = 0) -> None:
        self._spools, self._order = spools, order

    def parts(self) -> list[Listing[T]]:
        """Each spool, read in the same order."""
        return [Merged([spool], self._order) for spool in self._spools]

    def __iter__(self) -> Iterator[T]:
        return merged(self._spools, self._order)

    def __len__(self) -> int:
        return sum(len(spool) for spool in self._spools)


def merged(spools: Sequence[Spool[T]], order: int, tag: int = 0) -> Iterator[T]:
    """The items of several spools in the order of their ``order``-th key (a merge: each spool
    is read in order, one item of each in memory); with ``tag``, those tagged so."""
    if len(spools) == 1:
        return spools[0].read(order, tag)
    readings = [spool.read_keyed(order, tag) for spool in spools]
    return (item for _, item in heapq.merge(*readings, key=_first))


def _first(pair: tuple[int, object]) -> int:
    return pair[0]


class Mapped(Generic[T, U]):
    """A listing whose items are changed by a function as they are read."""

    def __init__(self, items: Listing[T], change: Callable[[T], U]) -> None:
        self._items, self._change = items, change

    def parts(self) -> list[Listing[U]]:
        """The parts of the listing changed, each changed the same way (``spool_parts``)."""
        return [Mapped(part, self._change) for part in spool_parts(self._items)]

    def __iter__(self) -> Iterator[U]:
        return map(self._change, self._items)

    def __len__(self) -> int:
        return len(self._items)


def spool_parts(listing: Listing[T]) -> list[Listing[T]]:
    """The listing as the spools it is read from, each read in its order: the whole listing
    is their merge by that order. One part for a listing that is not merged from spools."""
    if isinstance(listing, Merged | Mapped):
        parts: list[Listing[T]] = listing.parts()
        return parts
    return [listing]
