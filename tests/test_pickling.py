"""Frozen dataclasses pickled as their class and field values (``sipdiag.pickling``)."""

from __future__ import annotations

import pickle
from dataclasses import dataclass

import pytest

from sipdiag.analysis import analyze
from sipdiag.pickling import by_values
from sipdiag.rules import load_engine
from tests.conftest import SAMPLES


@by_values
@dataclass(frozen=True, slots=True)
class Point:
    x: int
    label: str
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class Heavier(Point):
    extra: tuple[int, ...] = ()


def test_an_instance_comes_back_equal_field_by_field() -> None:
    point = Point(3, "three", 0.5)
    assert pickle.loads(pickle.dumps(point)) == point
    assert point.__reduce_ex__(5) == (Point, (3, "three", 0.5))


def test_a_subclass_with_fields_of_its_own_keeps_them() -> None:
    heavier = Heavier(1, "one", 2.0, (7, 8))
    again = pickle.loads(pickle.dumps(heavier))
    assert type(again) is Heavier and again == heavier


@pytest.mark.parametrize(
    "sample", ["rules/server-errors.pcap", "media/one-way-nat-private-sdp.pcap"])
def test_every_result_of_an_analysis_comes_back_equal(sample: str) -> None:
    analysis = analyze(SAMPLES / sample, engine=load_engine())
    results = [*analysis.calls, *analysis.exchanges]
    assert results and any(r.findings for r in results)
    for result in results:
        assert pickle.loads(pickle.dumps(result, pickle.HIGHEST_PROTOCOL)) == result
