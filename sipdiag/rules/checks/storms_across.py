"""Retry storms across Call-IDs: the same request refused again and again, each time (or now
and then) with a new Call-ID, told once for the capture with a count and a period.

A request is the same, and an attempt refused, as for the storms of one Call-ID (``storms``):
same method, Request-URI, From and To URIs and sender; refused when its last answer, after any
challenge answered with credentials, is a failure (4xx to 6xx). Many clients take a new Call-ID
for every call and, against RFC 3261 section 10.2, for every registration attempt; a blind
retry then shows as many short failed calls or exchanges. A storm is a run of ``count`` refused
attempts or more over at least two Call-IDs, each a retry of the one before: sent after that
one was refused, and refused the same way (the same status: nothing changed), with no attempt
of the same request between them that went through or was left unanswered. Requests sent at
once, or answered differently, are separate calls, not a client retrying blindly. Only requests
outside any dialog count (no To tag): one inside a dialog is tied to that dialog's Call-ID
(RFC 3261 12.2.1.1), so a new Call-ID is a new dialog, not a retry. Runs within one Call-ID
are the rule of ``storms``.

Each process keeps, per request, its refused attempts (with the evidence a finding shows) and
only the send times of the others (``array``: eight bytes an attempt, as a load test of
healthy calls has one per call).
"""

from __future__ import annotations

import itertools
import statistics
from array import array
from bisect import bisect_right
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from sipdiag.fingerprint import fingerprint
from sipdiag.rules.capture import CaptureHit, Subject, Watch, capture_check
from sipdiag.rules.checks.storms import _by_request, _count
from sipdiag.rules.matcher import Hit, message_evidence, seconds
from sipdiag.rules.model import Evidence

Request = tuple[str, ...]
"""(method, Request-URI, From URI, To URI, sender): what makes two requests the same."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """A refused attempt, as much of it as a finding tells."""

    sent_ns: int
    refused_ns: int
    call_id: str
    call_frame: int
    request: Evidence
    answer: Evidence
    status: int
    responder: str


class StormWatch:
    """The refused and other attempts of every request, over the calls and exchanges seen."""

    def __init__(self) -> None:
        self.refusals: dict[Request, list[Refusal]] = {}
        self.passed: dict[int, array[int]] = {}
        """By the ``fingerprint`` of the request (the same in every process): when an attempt
        that was not refused was sent."""

    def observe(self, subject: Subject) -> None:
        call_frame = subject.messages[0].frame
        # inside a dialog a request's Call-ID is the dialog's, never a new one: left out
        outside = tuple(t for t in subject.transactions
                        if t.request is not None and not t.request.to_tag)
        for request, attempts in _by_request(outside).items():
            for attempt in attempts:
                answer = attempt.last.final
                if attempt.refused and answer is not None:
                    self.refusals.setdefault(request, []).append(Refusal(
                        attempt.first.ts_ns, answer.ts_ns, subject.call_id, call_frame,
                        message_evidence(attempt.first), message_evidence(answer),
                        answer.status, str(answer.src)))
                else:
                    passed = self.passed.setdefault(fingerprint(*request), array("q"))
                    passed.append(attempt.first.ts_ns)

    def merge(self, other: Watch) -> None:
        assert isinstance(other, StormWatch)
        for request, refusals in other.refusals.items():
            self.refusals.setdefault(request, []).extend(refusals)
        for key, times in other.passed.items():
            self.passed.setdefault(key, array("q")).extend(times)


@capture_check("retry_storm_across_calls", StormWatch,
               ("method", "target", "sender", "responder", "statuses", "count", "calls",
                "period", "span", "first_frame", "last_frame"),
               {"count": (_count, 4)})
def retry_storms(watch: StormWatch, params: Mapping[str, object]) -> Iterator[CaptureHit]:
    least = params["count"]
    assert isinstance(least, int)
    for request, refusals in watch.refusals.items():
        passed = sorted(watch.passed.get(fingerprint(*request), ()))
        for run in _runs(sorted(refusals, key=lambda r: r.sent_ns), passed):
            if len(run) >= least and len({r.call_id for r in run}) > 1:
                yield _storm(request, run)


def _runs(refusals: list[Refusal], passed: list[int]) -> Iterator[list[Refusal]]:
    """The refusals (in the order sent) in runs, each a retry of the one before it."""
    run: list[Refusal] = []
    for refusal in refusals:
        if run and not _retries(refusal, run[-1], passed):
            yield run
            run = []
        run.append(refusal)
    if run:
        yield run


def _retries(refusal: Refusal, previous: Refusal, passed: list[int]) -> bool:
    """``refusal`` is ``previous`` tried again unchanged: sent once it was refused, refused
    the same way, and no other attempt was sent in between."""
    return (refusal.sent_ns >= previous.refused_ns and refusal.status == previous.status
            and bisect_right(passed, previous.sent_ns) == bisect_right(passed, refusal.sent_ns))


def _storm(request: Request, run: list[Refusal]) -> CaptureHit:
    first, last = run[0], run[-1]
    starts = [refusal.sent_ns for refusal in run]
    method, target, *_, sender = request
    values = {
        "method": method,
        "target": target,
        "sender": sender,
        "responder": last.responder,
        "statuses": ", ".join(dict.fromkeys(str(r.status) for r in run)),
        "count": str(len(run)),
        "calls": str(len({r.call_id for r in run})),
        "period": seconds(round(statistics.median(b - a for a, b in itertools.pairwise(starts)))),
        "span": seconds(starts[-1] - starts[0]),
        "first_frame": str(first.request.frame),
        "last_frame": str(last.request.frame),
    }
    evidence = tuple(sorted({first.request, first.answer, last.request, last.answer}))
    return CaptureHit(first.call_id, first.call_frame, Hit(values, evidence, request))
