"""The media facts and placeholders of the rule language (sipdiag/rules/media.py, rules/README.md
"Media patterns") read off a call's media built here field by field, so each expected value
follows from the README's definition of the fact: ``other_flowing_at_end`` (the other direction
still flowing at the end, within 2 s), ``other_sent``, ``latched_back`` (the other side sends to
where this stream comes from), ``gap_on_hold`` (the largest gap falls in a time the SDP put the
call on hold), ``max_gap`` and ``outage`` in seconds, ``remote_loss_percent`` (what the
receiver's RTCP reports lost, of what the capture expected); ``-`` for a value that does not
exist; and which direction or stream a finding is about."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from sipdiag.dialogs.media import (
    CallMedia,
    Destination,
    Direction,
    MediaState,
    MediaStream,
    RemoteView,
    Side,
)
from sipdiag.media.model import Tie
from sipdiag.network import Endpoint
from sipdiag.rules import media
from sipdiag.rules.media import CALL_FACTS, DIRECTION_FACTS, DIRECTION_VALUES, STREAM_FACTS
from sipdiag.rules.media import STREAM_VALUES as STREAM_TEXT

CALLER_RTP = Endpoint("192.0.2.10", 4000)
CALLEE_RTP = Endpoint("198.51.100.20", 5000)
NAT = Endpoint("203.0.113.5", 31000)
MS = 1_000_000


def direction(sender: Side, **changed: Any) -> Direction:
    fields: dict[str, Any] = {
        "sender": sender, "expected_s": 10.0, "packets": 500, "audio_packets": 500,
        "silent_percent": None, "silent": False, "cause": None, "first_ns": 0,
        "last_ns": 10_000 * MS, "first_frame": 10, "last_frame": 900,
        "start_after_answer_s": 0.1, "start_after_ack_s": 0.05, "stop_before_end_s": None,
        "on_hold_at_end": False, "announced": None, "announced_frame": None,
        "receiver_sip": None, "sent_to": None, "refused_by": None, "evidence": (),
    }
    fields.update(changed)
    return Direction(**fields)


def rtp(src: Endpoint, dst: Endpoint, **changed: Any) -> SimpleNamespace:
    """What the facts read of an RTP stream (sipdiag.media.model.Stream)."""
    fields: dict[str, Any] = {
        "src": src, "dst": dst, "ssrc": 0x1234, "audio_packets": 500, "packets": 500,
        "expected": 500, "lost": 0, "loss_percent": 0.0, "max_delta_ms": 20.0,
        "max_delta_ns": 0, "max_delta_frame": 0, "outages": (), "first_frame": 10,
        "last_frame": 900, "first_ns": 0, "last_ns": 10_000 * MS, "encrypted": False,
    }
    fields.update(changed)
    return SimpleNamespace(**fields)


def stream(sender: Side | None, src: Endpoint, dst: Endpoint, *,
           remote: RemoteView | None = None, **rtp_changes: Any) -> MediaStream:
    return MediaStream(
        stream=rtp(src, dst, **rtp_changes), kind="audio", sender=sender, hop=0,
        tie=Tie.TO_ANNOUNCED, announcement=None, destination=Destination.ANNOUNCED,
        from_elsewhere=False, unexpected_payload_types=(), follows_ssrc=None, mos=None,
        r_factor=None, delay_ms=None, remote=remote, upstream_loss_percent=None,
        capture_dropped=0, unreachable=0, unreachable_from=None,
    )


def call_media(directions: tuple[Direction, ...] = (), streams: tuple[MediaStream, ...] = (),
               windows: tuple[tuple[int, int, frozenset[Side]], ...] = ()) -> CallMedia:
    return CallMedia(
        state=MediaState.TWO_WAY, silent_side=None, answered_ns=0, acked_ns=0,
        end_ns=10_000 * MS, bye_frame=None, directions=directions, streams=streams,
        rtcp_packets=0, dtmf=(), other_packets=0, malformed=0, stopped_before_end_s=None,
        windows=windows,
    )


@pytest.mark.parametrize(
    ("last_ns", "stop_before_end_s", "expected"),
    [
        (10_000 * MS, None, True),  # audio until the end
        (10_000 * MS, 0.0, True),
        (10_000 * MS, 2.0, True),  # within 2 s of the end
        (10_000 * MS, 2.01, False),
        (10_000 * MS, 30.0, False),
        (None, None, False),  # never heard at all
        (None, 0.0, False),
    ],
)
def test_other_flowing_at_end(last_ns: int | None, stop_before_end_s: float | None,
                              expected: bool) -> None:
    other = direction(Side.CALLEE, last_ns=last_ns, stop_before_end_s=stop_before_end_s)
    mine = direction(Side.CALLER, last_ns=None, stop_before_end_s=None)
    found = call_media((mine, other))
    read = DIRECTION_FACTS["other_flowing_at_end"].read
    assert read(mine, found) is expected
    # the fact is about the other direction, never the one it is asked of
    assert read(other, found) is False


@pytest.mark.parametrize(("packets", "expected"), [(0, False), (1, True), (500, True)])
def test_other_sent(packets: int, expected: bool) -> None:
    mine = direction(Side.CALLER, packets=0)
    other = direction(Side.CALLEE, packets=packets)
    assert DIRECTION_FACTS["other_sent"].read(mine, call_media((mine, other))) is expected


@pytest.mark.parametrize(
    ("others", "expected"),
    [
        ([(Side.CALLEE, CALLEE_RTP, NAT)], True),  # the callee answers to where it came from
        ([(Side.CALLEE, CALLEE_RTP, CALLER_RTP)], False),  # to the announced address instead
        ([(Side.CALLER, CALLER_RTP, NAT)], False),  # the same side: not an answer
        ([(None, CALLEE_RTP, NAT)], False),  # a stream of no known side
        ([(Side.CALLEE, CALLEE_RTP, CALLER_RTP), (Side.CALLEE, CALLEE_RTP, NAT)], True),
        ([], False),
    ],
)
def test_latched_back(others: list[tuple[Side | None, Endpoint, Endpoint]],
                      expected: bool) -> None:
    mine = stream(Side.CALLER, NAT, CALLEE_RTP)
    streams = (mine, *(stream(side, src, dst) for side, src, dst in others))
    assert STREAM_FACTS["latched_back"].read(mine, call_media(streams=streams)) is expected


def test_a_stream_of_no_known_side_is_not_latched_back() -> None:
    mine = stream(None, NAT, CALLEE_RTP)
    back = stream(Side.CALLEE, CALLEE_RTP, NAT)
    caller_back = stream(Side.CALLER, CALLEE_RTP, NAT)
    found = call_media(streams=(mine, back, caller_back))
    assert STREAM_FACTS["latched_back"].read(mine, found) is False


HOLD = (3_000 * MS, 6_000 * MS, frozenset({Side.CALLEE}))
"""From 3 s to 6 s the SDP let only the callee's audio flow: the caller held the call."""
BOTH = (0, 3_000 * MS, frozenset({Side.CALLER, Side.CALLEE}))


@pytest.mark.parametrize(
    ("gap_end_ms", "gap_ms", "expected"),
    [
        (5_000, 1_000.0, True),  # 4 s to 5 s: on hold
        (6_500, 1_000.0, True),  # 5.5 s to 6.5 s: starts on hold
        (3_500, 1_000.0, True),  # 2.5 s to 3.5 s: ends on hold
        (2_900, 1_000.0, False),  # 1.9 s to 2.9 s: before the hold
        (3_000, 1_000.0, False),  # 2 s to 3 s: ends as the hold starts
        (7_000, 1_000.0, False),  # 6 s to 7 s: starts as it ends
        (7_000, 1_001.0, True),  # 5.999 s to 7 s
        (0, 1_000.0, False),  # no gap measured
        (5_000, None, False),
    ],
)
def test_gap_on_hold(gap_end_ms: int, gap_ms: float | None, expected: bool) -> None:
    mine = stream(Side.CALLER, CALLER_RTP, CALLEE_RTP, max_delta_ns=gap_end_ms * MS,
                  max_delta_ms=gap_ms)
    found = call_media(streams=(mine,), windows=(BOTH, HOLD))
    assert STREAM_FACTS["gap_on_hold"].read(mine, found) is expected


def test_no_gap_on_hold_when_both_sides_may_send() -> None:
    mine = stream(Side.CALLER, CALLER_RTP, CALLEE_RTP, max_delta_ns=2_000 * MS,
                  max_delta_ms=1_000.0)
    assert STREAM_FACTS["gap_on_hold"].read(mine, call_media(streams=(mine,),
                                                             windows=(BOTH,))) is False


@pytest.mark.parametrize(("gap_ms", "seconds"), [(1_500.0, 1.5), (20.0, 0.02), (None, None)])
def test_max_gap_is_in_seconds(gap_ms: float | None, seconds: float | None) -> None:
    mine = stream(Side.CALLER, CALLER_RTP, CALLEE_RTP, max_delta_ms=gap_ms)
    assert STREAM_FACTS["max_gap"].read(mine, call_media()) == seconds
    assert STREAM_TEXT["max_gap"](mine, call_media()) == (
        "-" if seconds is None else f"{seconds:.3f}")


def test_the_longest_outage_is_the_first_listed() -> None:
    outages = (SimpleNamespace(seconds=2.5, lost=125, frame=300),
               SimpleNamespace(seconds=1.0, lost=50, frame=600))
    mine = stream(Side.CALLER, CALLER_RTP, CALLEE_RTP, outages=outages)
    assert STREAM_FACTS["outage"].read(mine, call_media()) == 2.5
    assert STREAM_TEXT["outage"](mine, call_media()) == "2.500"
    assert STREAM_TEXT["outage_lost"](mine, call_media()) == "125"
    assert STREAM_TEXT["outage_frame"](mine, call_media()) == "300"
    none = stream(Side.CALLER, CALLER_RTP, CALLEE_RTP)
    assert STREAM_FACTS["outage"].read(none, call_media()) is None
    assert [STREAM_TEXT[k](none, call_media()) for k in ("outage", "outage_lost",
                                                         "outage_frame")] == ["-", "-", "-"]


def remote(reports: int, cumulative_lost: int) -> RemoteView:
    return RemoteView(reports, 0.0, cumulative_lost, None, None, None, None)


@pytest.mark.parametrize(
    ("view", "expected_packets", "percent"),
    [
        (remote(3, 25), 500, 5.0),
        (remote(1, 0), 500, 0.0),
        (remote(2, -4), 500, 0.0),  # a negative count (duplicates) is no loss
        (remote(0, 25), 500, None),  # no report
        (None, 500, None),
        (remote(3, 25), 0, None),  # nothing expected: no share
    ],
)
def test_remote_loss_percent(view: RemoteView | None, expected_packets: int,
                             percent: float | None) -> None:
    mine = stream(Side.CALLER, CALLER_RTP, CALLEE_RTP, remote=view, expected=expected_packets)
    assert STREAM_FACTS["remote_loss_percent"].read(mine, call_media()) == percent
    assert STREAM_TEXT["remote_loss_percent"](mine, call_media()) == (
        "-" if percent is None else f"{percent:.2f}")


@pytest.mark.parametrize(
    ("changed", "key", "expected"),
    [
        ({"announced": CALLER_RTP}, "announced", "192.0.2.10:4000"),
        ({"announced": None}, "announced", "-"),
        ({"sent_to": NAT}, "sent_to", "203.0.113.5:31000"),
        ({"receiver_sip": None}, "receiver_sip", "-"),
        ({"announced_frame": 4}, "announced_frame", "4"),
        ({"announced_frame": None}, "announced_frame", "-"),
        ({"silent_percent": 12.345}, "silent_percent", "12.3"),
        ({"silent_percent": None}, "silent_percent", "-"),
        ({"start_after_answer_s": 1.23456}, "start_after_answer", "1.235"),
        ({"stop_before_end_s": None}, "stop_before_end", "-"),
        ({"cause": None}, "cause", "-"),
        ({"refused_by": None}, "refused_by", "-"),
        ({"refused_by": "198.51.100.20"}, "refused_by", "198.51.100.20"),
        ({}, "sender", "caller"),
        ({}, "receiver", "callee"),
        ({"packets": 7}, "packets", "7"),
    ],
)
def test_direction_placeholders(changed: dict[str, Any], key: str, expected: str) -> None:
    mine = direction(Side.CALLER, **changed)
    assert DIRECTION_VALUES[key](mine, call_media((mine,))) == expected


def test_the_caller_cause_of_a_call() -> None:
    found = call_media((direction(Side.CALLER), direction(Side.CALLEE)))
    assert CALL_FACTS["caller_cause"].read(found, found) is None
    assert media.CALL_VALUES["caller_cause"](found, found) == "-"


@pytest.mark.parametrize(
    ("value", "text"),
    [(3.0, "3"), (4.5, "4.5"), (0.25, "0.25"), (3, "3"), (6_000_000_000, "6000000000")],
)
def test_a_parameter_in_a_message(value: float, text: str) -> None:
    """``{param.NAME}``: a number as it would be written, without a trailing .0."""
    assert media._param_text(value) == text


def test_each_direction_and_each_stream_is_a_finding_of_its_own() -> None:
    """A rule fires once for each direction or stream that meets it (README): the key that
    tells findings apart names the direction's sender, or the stream's addresses and SSRC."""
    caller, callee = direction(Side.CALLER), direction(Side.CALLEE)
    one = stream(Side.CALLER, CALLER_RTP, CALLEE_RTP)
    other_ssrc = stream(Side.CALLER, CALLER_RTP, CALLEE_RTP, ssrc=0x99)
    back = stream(Side.CALLEE, CALLEE_RTP, CALLER_RTP)
    keys = [media._key(s) for s in (caller, callee, one, other_ssrc, back, call_media())]
    assert keys == [
        ("direction", "caller"), ("direction", "callee"),
        ("stream", "192.0.2.10:4000", "198.51.100.20:5000", 0x1234),
        ("stream", "192.0.2.10:4000", "198.51.100.20:5000", 0x99),
        ("stream", "198.51.100.20:5000", "192.0.2.10:4000", 0x1234),
        ("media",),
    ]
