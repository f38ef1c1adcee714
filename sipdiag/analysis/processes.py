"""Work shared between processes: one function applied to several inputs at once.

The first input is worked on in this process (which may report progress meanwhile), the others
each in a forked process; the results come back in the order of the inputs. A forked process
inherits the function and its inputs (nothing is sent to it); its result is sent back pickled,
and so is an exception, raised here as if it had happened here. Where processes cannot be
forked, every input is worked on here, one after the other: the same results, more slowly.

Both ways sipdiag shares work use it: the analysis (each process analyses a share of the
Call-IDs, ``pipeline``) and work on each message (each process reads a region of the file,
``regions``).
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

A = TypeVar("A")
T = TypeVar("T")


def in_processes(
    work: Callable[[A], T], inputs: Sequence[A], first: Callable[[A], T] | None = None
) -> list[T]:
    """``work`` of each input (``first`` of the first one, if given: here, in this process)."""
    here = first or work
    if len(inputs) < 2 or not can_fork():
        return [here(inputs[0]), *map(work, inputs[1:])] if inputs else []
    import multiprocessing

    context = multiprocessing.get_context("fork")
    receivers: list[Connection] = []
    workers: list[BaseProcess] = []
    try:
        for item in inputs[1:]:
            receiver, sender = context.Pipe(duplex=False)
            worker: BaseProcess = context.Process(target=_worker, daemon=True,
                                                  args=(work, item, sender))
            worker.start()
            sender.close()
            receivers.append(receiver)
            workers.append(worker)
        results = [here(inputs[0])]
        results += [_receive(receiver) for receiver in receivers]
        for worker in workers:
            worker.join()
        return results
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
                worker.join()


def can_fork() -> bool:
    """Processes can be forked here (multiprocessing is loaded only to find out, and only
    when work is to be shared: a one-process run does without it)."""
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


def _worker(work: Callable[[A], T], item: A, sender: Connection) -> None:
    try:
        sender.send(work(item))
    except BaseException as exc:  # sent back and raised there: the worker only reports it
        sender.send(exc if _pickles(exc) else RuntimeError(f"{type(exc).__name__}: {exc}"))
    finally:
        sender.close()


def _receive(receiver: Connection) -> Any:
    """What the worker sent: its result, or its exception raised here."""
    try:
        outcome = receiver.recv()
    except EOFError:
        raise RuntimeError("a worker process ended without a result") from None
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


def _pickles(value: object) -> bool:
    try:
        pickle.dumps(value)
    except Exception:
        return False
    return True
