"""Capture times as ISO 8601 text, UTC, to the nanosecond."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from sipdiag.report.messages import iso_time

YEAR_10000_NS = 253_402_300_800 * 1_000_000_000


def test_known_instants() -> None:
    assert iso_time(0) == "1970-01-01T00:00:00.000000000Z"
    # 2024-05-01T00:00:00Z is 1714521600 s from 1970 (19844 days); ten hours later
    assert iso_time(1_714_557_600_123_456_789) == "2024-05-01T10:00:00.123456789Z"
    assert iso_time(YEAR_10000_NS - 1) == "9999-12-31T23:59:59.999999999Z"
    assert iso_time(-1) == "1969-12-31T23:59:59.999999999Z"  # a clock before 1970


@given(st.integers(min_value=-(10**18), max_value=YEAR_10000_NS - 1))
def test_the_same_text_as_the_calendar_of_datetime(ts_ns: int) -> None:
    seconds, nanos = divmod(ts_ns, 1_000_000_000)
    expected = datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    assert iso_time(ts_ns) == f"{expected}.{nanos:09d}Z"
