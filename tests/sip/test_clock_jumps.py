"""SIP messages one after the other more than 30 days apart: the capture is stitched from
several, or its clock was set. Noted with the frame, never silently read as one timeline."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import read
from tests.packets import pcap, sip_request, sip_response, udp4_frame

DAY_NS = 86_400 * 1_000_000_000
START_NS = 1_700_000_000 * 1_000_000_000


def capture(*gaps_ns: int) -> bytes:
    """An INVITE, then its 100 and 180, each ``gap`` after the message before it."""
    times = [START_NS]
    for gap in gaps_ns:
        times.append(times[-1] + gap)
    payloads = [sip_request(), sip_response(100, "Trying"), sip_response(180, "Ringing")]
    return pcap((ts, udp4_frame("192.0.2.10", "198.51.100.20", payload))
                for ts, payload in zip(times, payloads, strict=False))


def jumps(write_capture: Any, *gaps_ns: int) -> list[tuple[int, str]]:
    _, summary = read(write_capture(capture(*gaps_ns)))
    return [(p.frame, p.detail) for p in summary.problems.examples.get("sip_clock_jump", [])]


def test_a_jump_of_more_than_30_days_is_noted_at_the_frame_after_it(write_capture: Any) -> None:
    [(frame, detail)] = jumps(write_capture, 1_000_000, 31 * DAY_NS)
    assert frame == 3
    assert detail.startswith("frame 3 is timed 31 days after the SIP message before it "
                             "(frame 2)")


def test_a_jump_backwards_is_noted_too(write_capture: Any) -> None:
    [(frame, detail)] = jumps(write_capture, -(31 * DAY_NS), 1_000_000)
    assert frame == 2
    assert detail.startswith("frame 2 is timed 31 days before the SIP message before it "
                             "(frame 1)")


@pytest.mark.parametrize("gap_ns", [1_000_000, 29 * DAY_NS, 30 * DAY_NS])
def test_messages_30_days_apart_or_less_are_one_timeline(write_capture: Any, gap_ns: int) -> None:
    assert jumps(write_capture, gap_ns, gap_ns) == []
