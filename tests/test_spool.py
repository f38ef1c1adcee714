"""The spool that holds calls and findings on disk while a capture is read."""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass

from sipdiag.spool import Mapped, Merged, Spool, merged, spool_parts


@dataclass(frozen=True)
class Item:
    name: str
    shared: object


SHARED = object()


def test_items_come_back_in_the_order_of_each_key_with_ties_in_arrival_order() -> None:
    spool: Spool[Item] = Spool(orders=2)
    for name, first, second in [("c", 3, 0), ("a", 1, 2), ("b", 1, 1), ("d", 0, 2)]:
        spool.add(Item(name, None), first, second)
    assert [i.name for i in spool] == ["d", "a", "b", "c"]
    assert [i.name for i in Merged([spool], 1)] == ["c", "b", "a", "d"]
    assert len(spool) == len(Merged([spool], 1)) == 4


def test_a_reading_by_tag_gives_only_the_items_with_one_of_its_bits_in_key_order() -> None:
    spool: Spool[str] = Spool()
    for name, key, tag in [("c", 3, 0b01), ("a", 1, 0b10), ("b", 2, 0), ("d", 0, 0b11)]:
        spool.add(name, key, tag=tag)
    assert list(spool.read(0, 0b01)) == ["d", "c"]
    assert list(spool.read(0, 0b10)) == ["d", "a"]
    assert list(spool.read(0)) == ["d", "a", "b", "c"]  # no tag: every item


def test_a_tag_added_later_reaches_every_item_with_that_key_and_survives_adoption() -> None:
    first: Spool[str] = Spool()
    for name, key in [("a", 5), ("b", 7), ("c", 5)]:
        first.add(name, key)
    first.add_tag(0, 5, 0b100)
    first.add_tag(0, 9, 0b100)  # no such key: nothing changes
    second: Spool[str] = Spool()
    second.add("d", 6, tag=0b100)
    spools = [Spool[str].adopt(first.detach()), second]
    assert list(merged(spools, 0, 0b100)) == ["a", "c", "d"]
    assert list(merged(spools, 0)) == ["a", "c", "d", "b"]


def test_two_readings_can_run_side_by_side_and_again() -> None:
    spool: Spool[int] = Spool()
    for n in range(1000):
        spool.add(n, n)
    pairs = list(zip(spool, spool, strict=True))
    assert pairs == [(n, n) for n in range(1000)]
    assert list(spool) == list(range(1000))


def test_shared_objects_come_back_as_the_same_object() -> None:
    spool: Spool[Item] = Spool({"rule:X": SHARED})
    spool.add(Item("a", SHARED), 0)
    spool.add(Item("b", object()), 1)
    first, second = spool
    assert first.shared is SHARED
    assert second.shared is not SHARED


def test_an_empty_spool_makes_no_file_and_reads_as_nothing() -> None:
    spool: Spool[int] = Spool()
    assert not spool
    assert list(spool) == []


def test_the_file_goes_away_with_the_spool() -> None:
    spool: Spool[int] = Spool()
    spool.add(1, 0)
    path = spool._path
    assert os.path.exists(path)
    del spool
    gc.collect()
    assert not os.path.exists(path)


def test_mapped_changes_items_as_they_are_read() -> None:
    spool: Spool[int] = Spool()
    for n in (2, 1):
        spool.add(n, n)
    doubled = Mapped(spool, lambda n: n * 2)
    assert list(doubled) == [2, 4]
    assert len(doubled) == 2


def test_merged_spools_read_as_one_in_key_order() -> None:
    odd: Spool[int] = Spool()
    even: Spool[int] = Spool()
    for n in range(10):
        (odd if n % 2 else even).add(n, n)
    assert list(Merged([odd, even])) == list(range(10))
    assert len(Merged([odd, even])) == 10


def test_a_detached_spool_is_adopted_with_its_items_and_its_file() -> None:
    spool: Spool[Item] = Spool({"rule:X": SHARED})
    spool.add(Item("b", SHARED), 2)
    spool.add(Item("a", SHARED), 1)
    state = spool.detach()
    del spool
    gc.collect()
    assert os.path.exists(state.path)  # handed over, not removed
    adopted: Spool[Item] = Spool.adopt(state, {"rule:X": SHARED})
    assert [(i.name, i.shared is SHARED) for i in adopted] == [("a", True), ("b", True)]
    del adopted
    gc.collect()
    assert not os.path.exists(state.path)


def test_a_merged_listing_comes_apart_into_its_spools_each_changed_alike() -> None:
    first: Spool[int] = Spool()
    second: Spool[int] = Spool()
    for n in (5, 1, 3):
        first.add(n, n)
    for n in (4, 2):
        second.add(n, n)
    doubled = Mapped(Merged([first, second]), lambda n: n * 2)
    parts = spool_parts(doubled)
    assert [list(part) for part in parts] == [[2, 6, 10], [4, 8]]
    assert sorted(n for part in parts for n in part) == list(doubled) == [2, 4, 6, 8, 10]
    plain = [7, 8]
    assert spool_parts(plain) == [plain]  # a listing of no spools is one part

