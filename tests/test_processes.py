"""Work shared between forked processes (``sipdiag.analysis.processes``)."""

from __future__ import annotations

import os

import pytest

from sipdiag.analysis.processes import in_processes


class Unpicklable(Exception):
    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("not this one")


def test_results_come_in_the_order_of_the_inputs_the_first_worked_on_here() -> None:
    here = os.getpid()
    results = in_processes(lambda n: (n * n, os.getpid()), [3, 1, 2],
                           first=lambda n: (-n, os.getpid()))
    assert [value for value, _ in results] == [-3, 1, 4]
    pids = [pid for _, pid in results]
    assert pids[0] == here and here not in pids[1:] and len(set(pids)) == 3


def test_fewer_than_two_inputs_are_worked_on_here() -> None:
    assert in_processes(lambda _: os.getpid(), [0]) == [os.getpid()]
    assert in_processes(lambda n: n, []) == []


def _fails(n: int) -> int:
    if n == 2:
        raise ValueError(f"input {n} is bad")
    return n


def test_an_exception_in_a_forked_process_is_raised_here() -> None:
    with pytest.raises(ValueError, match="input 2 is bad"):
        in_processes(_fails, [1, 2])


def test_an_exception_that_cannot_be_sent_back_is_named() -> None:
    def fails(_: int) -> int:
        raise Unpicklable("odd")

    with pytest.raises(RuntimeError, match="Unpicklable: odd"):
        in_processes(fails, [0, 1], first=lambda n: n)


def test_a_process_that_ends_without_a_result_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="ended without a result"):
        in_processes(lambda _: os._exit(3), [0, 1], first=lambda n: n)
