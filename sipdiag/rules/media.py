"""Media conditions of the rule language: what a rule may ask of a call's audio.

A rule's ``media:`` pattern names a subject and conditions on its facts (rules/README.md):

- ``call``: the call's media as a whole (its state, which side is silent, when it stopped);
- ``direction``: one side's audio toward the other (expected by the SDP? silent? why? late?);
- ``stream``: one RTP stream (loss, jitter, gaps, MOS, the hop it was seen on, RTCP).

A rule with a ``direction`` or ``stream`` part fires once for each direction or stream that
meets it (and the ``call`` part, if any). A condition is ``fact: value`` (one of a list, for
words), ``fact_over: value`` or ``fact_under: value`` (for numbers and durations); a value may
be ``$name``, one of the rule's ``params``. A fact the capture cannot give (the MOS of a codec
without E-model figures) meets no condition.

Facts are read from the analysis (``dialogs.media``); this module only names them, says what
kind of value each is, and fills the placeholders of a rule's message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from sipdiag.dialogs.calls import Call, Exchange
from sipdiag.dialogs.media import (
    CallMedia,
    Destination,
    Direction,
    MediaState,
    MediaStream,
    Side,
    SilenceCause,
)
from sipdiag.media.model import Tie
from sipdiag.rules.matcher import Hit, call_values, message_evidence
from sipdiag.rules.model import (
    Comparison,
    Evidence,
    MediaCondition,
    MediaPattern,
    MediaSubject,
)

NS = 1_000_000_000


class FactKind(Enum):
    BOOL = "true or false"
    CHOICE = "a word"
    COUNT = "a whole number"
    NUMBER = "a number"
    DURATION = "a duration"


@dataclass(frozen=True)
class Fact:
    kind: FactKind
    read: Callable[[Any, CallMedia], object]
    """The fact's value for (subject, the call's media): a bool, a word, a number, seconds
    for a duration, or None when the capture cannot tell."""
    choices: tuple[str, ...] = ()


def _words(kind: type[Enum]) -> tuple[str, ...]:
    return tuple(str(member.value) for member in kind)


def _value(member: Enum | None) -> str | None:
    return None if member is None else str(member.value)


SIDES = _words(Side)

CALL_FACTS: dict[str, Fact] = {
    "state": Fact(FactKind.CHOICE, lambda m, _: m.state.value, _words(MediaState)),
    "silent_side": Fact(FactKind.CHOICE, lambda m, _: _value(m.silent_side), SIDES),
    "answered": Fact(FactKind.BOOL, lambda m, _: m.answered_ns is not None),
    "ended_by_bye": Fact(FactKind.BOOL, lambda m, _: m.bye_frame is not None),
    "stopped_before_end": Fact(FactKind.DURATION, lambda m, _: m.stopped_before_end_s),
    "caller_cause": Fact(FactKind.CHOICE, lambda m, _: _value(m.direction(Side.CALLER).cause),
                         _words(SilenceCause)),
    "callee_cause": Fact(FactKind.CHOICE, lambda m, _: _value(m.direction(Side.CALLEE).cause),
                         _words(SilenceCause)),
}

DIRECTION_FACTS: dict[str, Fact] = {
    "sender": Fact(FactKind.CHOICE, lambda d, _: d.sender.value, SIDES),
    "expected": Fact(FactKind.BOOL, lambda d, _: d.expected),
    "silent": Fact(FactKind.BOOL, lambda d, _: d.silent),
    "cause": Fact(FactKind.CHOICE, lambda d, _: _value(d.cause), _words(SilenceCause)),
    "packets": Fact(FactKind.COUNT, lambda d, _: d.packets),
    "silent_percent": Fact(FactKind.NUMBER, lambda d, _: d.silent_percent),
    "start_after_answer": Fact(FactKind.DURATION, lambda d, _: d.start_after_answer_s),
    "start_after_ack": Fact(FactKind.DURATION, lambda d, _: d.start_after_ack_s),
    "stop_before_end": Fact(FactKind.DURATION, lambda d, _: d.stop_before_end_s),
    "on_hold_at_end": Fact(FactKind.BOOL, lambda d, _: d.on_hold_at_end),
    "other_flowing_at_end": Fact(FactKind.BOOL, lambda d, m: _flowing_at_end(
        m.direction(d.sender.other))),
    "other_sent": Fact(FactKind.BOOL, lambda d, m: m.direction(d.sender.other).packets > 0),
}

STREAM_FACTS: dict[str, Fact] = {
    "kind": Fact(FactKind.CHOICE, lambda s, _: s.kind, ("audio", "video", "image", "text",
                                                       "application", "message")),
    "sender": Fact(FactKind.CHOICE, lambda s, _: _value(s.sender), SIDES),
    "hop": Fact(FactKind.COUNT, lambda s, _: s.hop + 1),
    "tie": Fact(FactKind.CHOICE, lambda s, _: s.tie.value, _words(Tie)),
    "destination": Fact(FactKind.CHOICE, lambda s, _: s.destination.value,
                        _words(Destination)),
    "from_elsewhere": Fact(FactKind.BOOL, lambda s, _: s.from_elsewhere),
    "audio_packets": Fact(FactKind.COUNT, lambda s, _: s.stream.audio_packets),
    "lost": Fact(FactKind.COUNT, lambda s, _: s.stream.lost),
    "loss_percent": Fact(FactKind.NUMBER, lambda s, _: _audio(s, s.stream.loss_percent)),
    "upstream_loss_percent": Fact(FactKind.NUMBER, lambda s, _: s.upstream_loss_percent),
    "has_upstream": Fact(FactKind.BOOL, lambda s, _: s.upstream_loss_percent is not None),
    "jitter_ms_max": Fact(FactKind.NUMBER, lambda s, _: s.stream.jitter_ms_max),
    "jitter_ms_mean": Fact(FactKind.NUMBER, lambda s, _: s.stream.jitter_ms_mean),
    "max_gap": Fact(FactKind.DURATION, lambda s, _: _seconds(s.stream.max_delta_ms)),
    "outage": Fact(FactKind.DURATION, lambda s, _: _longest_outage(s)),
    "capture_dropped": Fact(FactKind.BOOL, lambda s, _: s.capture_dropped * 2 >= s.stream.lost > 0),
    "mos": Fact(FactKind.NUMBER, lambda s, _: s.mos),
    "unexpected_payload_type": Fact(FactKind.BOOL, lambda s, _: bool(s.unexpected_payload_types)),
    "ssrc_changed": Fact(FactKind.BOOL, lambda s, _: s.follows_ssrc is not None),
    "remote_loss_percent": Fact(FactKind.NUMBER, lambda s, _: remote_loss_percent(s)),
    "refused": Fact(FactKind.BOOL, lambda s, _: s.refused),
    "encrypted": Fact(FactKind.BOOL, lambda s, _: s.stream.encrypted),
    "gap_on_hold": Fact(FactKind.BOOL, lambda s, m: _gap_on_hold(s, m)),
    "latched_back": Fact(FactKind.BOOL, lambda s, m: _latched_back(s, m)),
}

FACTS: dict[MediaSubject, dict[str, Fact]] = {
    MediaSubject.CALL: CALL_FACTS,
    MediaSubject.DIRECTION: DIRECTION_FACTS,
    MediaSubject.STREAM: STREAM_FACTS,
}

FLOWING_SLACK_S = 2.0
"""A direction whose last packet came within this of the end was still flowing then."""


def _flowing_at_end(direction: Direction) -> bool:
    stop = direction.stop_before_end_s
    return direction.last_ns is not None and (stop is None or stop <= FLOWING_SLACK_S)


def _audio(stream: MediaStream, value: float) -> float | None:
    return value if stream.stream.audio_packets else None


def _seconds(ms: float | None) -> float | None:
    return None if ms is None else ms / 1000


def _longest_outage(stream: MediaStream) -> float | None:
    outages = stream.stream.outages
    return outages[0].seconds if outages else None


def remote_loss_percent(stream: MediaStream) -> float | None:
    """The receiver's own count of packets lost (RTCP cumulative lost), as a share of what the
    capture expected; None without a report."""
    remote = stream.remote
    if remote is None or not remote.reports or stream.stream.expected <= 0:
        return None
    return 100 * max(0, remote.cumulative_lost) / stream.stream.expected


def _latched_back(stream: MediaStream, media: CallMedia) -> bool:
    """The other side sends its audio to where this stream comes from (symmetric RTP)."""
    if stream.sender is None:
        return False
    other = stream.sender.other
    return any(s.stream.dst == stream.stream.src for s in media.streams if s.sender is other)


def _gap_on_hold(stream: MediaStream, media: CallMedia) -> bool:
    """The stream's largest gap falls in a time the SDP put the call on hold."""
    end = stream.stream.max_delta_ns
    if not end or stream.stream.max_delta_ms is None:
        return False
    start = end - int(stream.stream.max_delta_ms * 1e6)
    return media.held(start, end)


# -- placeholders -------------------------------------------------------------------------

def _endpoint(value: object) -> str:
    return "-" if value is None else str(value)


def _number(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _frame(value: int | None) -> str:
    return "-" if value is None else str(value)


def _side(value: Side | None) -> str:
    return "-" if value is None else value.value


Values = Callable[[Any, CallMedia], str]

CALL_VALUES: dict[str, Values] = {
    "state": lambda m, _: m.state.value,
    "caller_cause": lambda m, _: _value(m.direction(Side.CALLER).cause) or "-",
    "callee_cause": lambda m, _: _value(m.direction(Side.CALLEE).cause) or "-",
    "silent_side": lambda m, _: _side(m.silent_side),
    "stopped_before_end": lambda m, _: _number(m.stopped_before_end_s, 3),
    "bye_frame": lambda m, _: _frame(m.bye_frame),
    "first_frame": lambda m, _: _frame(min((s.stream.first_frame for s in m.streams),
                                           default=None)),
    "last_frame": lambda m, _: _frame(max((s.stream.last_frame for s in m.streams),
                                          default=None)),
}

DIRECTION_VALUES: dict[str, Values] = {
    "sender": lambda d, _: d.sender.value,
    "receiver": lambda d, _: d.receiver.value,
    "cause": lambda d, _: _value(d.cause) or "-",
    "packets": lambda d, _: str(d.packets),
    "silent_percent": lambda d, _: _number(d.silent_percent),
    "start_after_answer": lambda d, _: _number(d.start_after_answer_s, 3),
    "start_after_ack": lambda d, _: _number(d.start_after_ack_s, 3),
    "stop_before_end": lambda d, _: _number(d.stop_before_end_s, 3),
    "announced": lambda d, _: _endpoint(d.announced),
    "announced_frame": lambda d, _: _frame(d.announced_frame),
    "receiver_sip": lambda d, _: _endpoint(d.receiver_sip),
    "sent_to": lambda d, _: _endpoint(d.sent_to),
    "refused_by": lambda d, _: d.refused_by or "-",
    "first_frame": lambda d, m: _frame(d.first_frame or _first_frame(d, m)),
    "last_frame": lambda d, m: _frame(d.last_frame or _last_frame(d, m)),
}

STREAM_VALUES: dict[str, Values] = {
    "from": lambda s, _: str(s.stream.src),
    "to": lambda s, _: str(s.stream.dst),
    "ssrc": lambda s, _: f"0x{s.stream.ssrc:08X}",
    "codec": lambda s, _: str(s.stream.codec) or str(s.stream.payload_type),
    "sender": lambda s, _: _side(s.sender),
    "receiver": lambda s, _: _side(s.sender.other if s.sender else None),
    "hop": lambda s, _: str(s.hop + 1),
    "packets": lambda s, _: str(s.stream.packets),
    "expected": lambda s, _: str(s.stream.expected),
    "lost": lambda s, _: str(s.stream.lost),
    "loss_percent": lambda s, _: _number(s.stream.loss_percent, 2),
    "upstream_loss_percent": lambda s, _: _number(s.upstream_loss_percent, 2),
    "jitter_ms_max": lambda s, _: _number(s.stream.jitter_ms_max),
    "jitter_ms_mean": lambda s, _: _number(s.stream.jitter_ms_mean),
    "max_gap": lambda s, _: _number(_seconds(s.stream.max_delta_ms), 3),
    "max_gap_frame": lambda s, _: _frame(s.stream.max_delta_frame or None),
    "outage": lambda s, _: _number(_longest_outage(s), 3),
    "outage_lost": lambda s, _: str(s.stream.outages[0].lost) if s.stream.outages else "-",
    "outage_frame": lambda s, _: str(s.stream.outages[0].frame) if s.stream.outages else "-",
    "capture_dropped": lambda s, _: str(s.capture_dropped),
    "mos": lambda s, _: _number(s.mos, 2),
    "payload_types": lambda s, _: ", ".join(str(pt) for pt, _ in s.stream.payload_types),
    "unexpected_payload_types": lambda s, _: ", ".join(map(str, s.unexpected_payload_types)),
    "follows_ssrc": lambda s, _: "-" if s.follows_ssrc is None else f"0x{s.follows_ssrc:08X}",
    "remote_loss_percent": lambda s, _: _number(remote_loss_percent(s), 2),
    "remote_lost": lambda s, _: str(s.remote.cumulative_lost) if s.remote else "-",
    "first_frame": lambda s, _: str(s.stream.first_frame),
    "last_frame": lambda s, _: str(s.stream.last_frame),
    "announced_frame": lambda s, _: _frame(s.announcement.frame if s.announcement else None),
}

VALUES: dict[MediaSubject, dict[str, Values]] = {
    MediaSubject.CALL: CALL_VALUES,
    MediaSubject.DIRECTION: DIRECTION_VALUES,
    MediaSubject.STREAM: STREAM_VALUES,
}


def placeholders(pattern: MediaPattern, params: Mapping[str, object]) -> set[str]:
    """Every placeholder a media rule's message may use."""
    found = {f"media.{name}" for name in CALL_VALUES}
    if pattern.subject is not MediaSubject.CALL:
        found |= {f"{pattern.subject.value}.{name}" for name in VALUES[pattern.subject]}
    return found | {f"param.{name}" for name in params}


def _first_frame(direction: Direction, media: CallMedia) -> int | None:
    own = [s.stream.first_frame for s in media.streams if s.sender is direction.sender]
    return min(own, default=None)


def _last_frame(direction: Direction, media: CallMedia) -> int | None:
    own = [s.stream.last_frame for s in media.streams if s.sender is direction.sender]
    return max(own, default=None)


# -- matching -----------------------------------------------------------------------------

Test = Callable[[Any, CallMedia], bool]

SHAPE_FACTS = {MediaSubject.CALL: ("state",), MediaSubject.DIRECTION: ("silent", "cause")}
"""The facts of the call, and of each direction, that a media shape holds: what most patterns
ask first, and most calls answer alike."""

ShapeValues = tuple[object, ...]
"""The values of ``SHAPE_FACTS`` of the call, or of a direction."""
MediaShape = tuple[bool, ShapeValues, frozenset[ShapeValues]] | None
"""Whether any stream of a call was captured, what its media says of the call's ``SHAPE_FACTS``
and what each direction says of its own (None: the call has no media)."""


def shape_of(subject: Call | Exchange) -> MediaShape:
    media = subject.media if isinstance(subject, Call) else None
    if media is None:
        return None
    return (bool(media.streams), _shape_values(MediaSubject.CALL, media, media),
            frozenset(_shape_values(MediaSubject.DIRECTION, d, media) for d in media.directions))


def _shape_values(subject: MediaSubject, item: object, media: CallMedia) -> ShapeValues:
    facts = FACTS[subject]
    return tuple(facts[name].read(item, media) for name in SHAPE_FACTS[subject])


Allowed = tuple[frozenset[object] | None, ...]
"""For each of ``SHAPE_FACTS`` of the call or a direction, the values a pattern allows (None:
any)."""


@dataclass(frozen=True)
class MediaMatcher:
    """A rule's media pattern with its parameters in place, its conditions made into one test
    of the call's media and one of each direction or stream: built once when the rules are
    loaded, run on every call."""

    pattern: MediaPattern
    params: Mapping[str, object]
    call_test: Test
    test: Test
    on_call: Allowed
    on_direction: Allowed
    """Empty for a pattern about the call or its streams."""

    def could_fire(self, shape: MediaShape) -> bool:
        """By the call's media shape alone: a stream pattern needs a stream, and the
        pattern's conditions on the facts of the shape the call or one of its directions."""
        if shape is None:
            return False
        streams, call, directions = shape
        if self.pattern.subject is MediaSubject.STREAM and not streams:
            return False
        return _allows(self.on_call, call) and (
            not self.on_direction or any(_allows(self.on_direction, d) for d in directions))

    def find(self, call: Call) -> Iterator[Hit]:
        media = call.media
        if media is None or not self.call_test(media, media):
            return
        subject = self.pattern.subject
        subjects: tuple[object, ...] = (
            (media,) if subject is MediaSubject.CALL
            else media.directions if subject is MediaSubject.DIRECTION else media.streams)
        for item in subjects:
            if self.test(item, media):
                yield _hit(self.pattern, item, call, media, self.params)


def matcher(pattern: MediaPattern, params: Mapping[str, object]) -> MediaMatcher:
    on_call = pattern.conditions if pattern.subject is MediaSubject.CALL else pattern.call
    on_direction = pattern.conditions if pattern.subject is MediaSubject.DIRECTION else ()
    return MediaMatcher(
        pattern, params,
        _all([_test(c, CALL_FACTS, params) for c in pattern.call]),
        _all([_test(c, FACTS[pattern.subject], params) for c in pattern.conditions]),
        _allowed_in_shape(MediaSubject.CALL, on_call, params),
        _allowed_in_shape(MediaSubject.DIRECTION, on_direction, params) if on_direction else (),
    )


def _allowed_in_shape(subject: MediaSubject, conditions: tuple[MediaCondition, ...],
                      params: Mapping[str, object]) -> Allowed:
    """What ``conditions`` allow of each of the ``SHAPE_FACTS`` of ``subject``: the values
    every ``IS`` condition on it accepts."""
    found: list[frozenset[object] | None] = []
    for name in SHAPE_FACTS[subject]:
        allowed: frozenset[object] | None = None
        for condition in conditions:
            if condition.fact == name and condition.comparison is Comparison.IS:
                values = frozenset(_allowed(condition, params))
                allowed = values if allowed is None else allowed & values
        found.append(allowed)
    return tuple(found)


def _allows(allowed: Allowed, values: ShapeValues) -> bool:
    return all(among is None or value in among
               for among, value in zip(allowed, values, strict=True))


def _all(tests: list[Test]) -> Test:
    """One test that passes when every one of ``tests`` does (the first failing ends it)."""
    if not tests:
        return lambda *_: True
    first, *rest = tests
    if not rest:
        return first
    then = _all(rest)
    return lambda subject, media: first(subject, media) and then(subject, media)


def _test(condition: MediaCondition, facts: dict[str, Fact],
          params: Mapping[str, object]) -> Test:
    """A condition as a test of (subject, media). A number compares only with a number: a
    fact the capture cannot give (None) meets no comparison."""
    read = facts[condition.fact].read
    wanted = _wanted(condition, params)
    if condition.comparison is Comparison.IS:
        allowed = _allowed(condition, params)
        return lambda subject, media: read(subject, media) in allowed
    if condition.comparison is Comparison.OVER:
        return lambda subject, media: _number_over(read(subject, media), wanted)
    return lambda subject, media: _number_over(wanted, read(subject, media))


def _wanted(condition: MediaCondition, params: Mapping[str, object]) -> object:
    return params[condition.param] if condition.param else condition.value


def _allowed(condition: MediaCondition, params: Mapping[str, object]) -> tuple[object, ...]:
    """The values an ``IS`` condition accepts."""
    wanted = _wanted(condition, params)
    return wanted if isinstance(wanted, tuple) else (wanted,)


def _number_over(value: object, limit: object) -> bool:
    return isinstance(value, int | float) and isinstance(limit, int | float) and value > limit


def _hit(pattern: MediaPattern, subject: object, call: Call, media: CallMedia,
         params: Mapping[str, object]) -> Hit:
    values = call_values(call)
    values.update({f"media.{k}": read(media, media) for k, read in CALL_VALUES.items()})
    if pattern.subject is not MediaSubject.CALL:
        prefix = pattern.subject.value
        values.update({f"{prefix}.{k}": read(subject, media)
                       for k, read in VALUES[pattern.subject].items()})
    values.update({f"param.{k}": _param_text(v) for k, v in params.items()})
    return Hit(values, _evidence(subject, call, media), _key(subject))


def _param_text(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _key(subject: object) -> tuple[object, ...]:
    if isinstance(subject, Direction):
        return ("direction", subject.sender.value)
    if isinstance(subject, MediaStream):
        stream = subject.stream
        return ("stream", str(stream.src), str(stream.dst), stream.ssrc)
    return ("media",)


def _evidence(subject: object, call: Call, media: CallMedia) -> tuple[Evidence, ...]:
    """The SDP that set the media up, and the first and last packets of what the rule is
    about (for the whole call: the answer and the BYE)."""
    by_frame = {m.frame: m for m in call.messages}
    frames: list[int] = []
    streams: list[MediaStream] = []
    if isinstance(subject, Direction):
        frames = [f for f in (subject.announced_frame,) if f is not None]
        streams = [s for s in media.streams if s.sender is subject.sender]
    elif isinstance(subject, MediaStream):
        frames = [subject.announcement.frame] if subject.announcement else []
        streams = [subject]
    else:
        frames = [f for f in (media.bye_frame,) if f is not None]
        streams = list(media.streams)
    found = {message_evidence(by_frame[f]) for f in frames if f in by_frame}
    for item in streams[:4]:
        stream = item.stream
        found.add(Evidence(stream.first_frame, stream.first_ns, f"RTP 0x{stream.ssrc:08X} first"))
        found.add(Evidence(stream.last_frame, stream.last_ns, f"RTP 0x{stream.ssrc:08X} last"))
    return tuple(sorted(found))


# -- reading a rule file's media pattern -----------------------------------------------------

def fact_kind(subject: MediaSubject, fact: str) -> FactKind | None:
    found = FACTS[subject].get(fact)
    return found.kind if found else None


def choices(subject: MediaSubject, fact: str) -> tuple[str, ...]:
    return FACTS[subject][fact].choices

