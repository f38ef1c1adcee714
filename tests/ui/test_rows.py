"""The call list's rows without a screen: what the filter finds, how columns sort, widths."""

from __future__ import annotations

from sipdiag.analysis import analyze
from sipdiag.dialogs.select import Ladders
from sipdiag.ui.rows import COLUMNS, Row, sort_key, strip_text, widths
from tests.conftest import SAMPLES
from tests.ui.helpers import engine


def rows_of(name: str) -> list[Row]:
    analysis = analyze(SAMPLES / "calls" / name, engine=engine(), ladders=Ladders.ALL, jobs=1)
    results = [*analysis.calls, *analysis.exchanges]
    return [Row.of(result, engine().catalog) for result in results]


def test_a_row_of_a_call() -> None:
    (row,) = rows_of("busy.pcap")
    # frame 1 the INVITE; From alice, To bob (tshark: sip.from.user, sip.to.user)
    assert row.cells[0] == "1" and row.cells[2] == "INVITE"
    assert row.cells[3].startswith("alice@") and row.cells[4].startswith("bob@")
    assert row.cells[5:7] == ("busy", "486")
    assert row.cells[9] == "busy-1@127.0.0.1"
    assert not row.failing  # busy is the callee's answer, not a failure (--failed)


def test_the_filter_words() -> None:
    (row,) = rows_of("bye-481.pcap")
    assert row.failing  # dropped: the BYE answered 481
    for query in ("failed", "FAILED", "d101", "dropped", "alice", "bob", "127.0.0.1",
                  "bye-481-1@", "200", "invite", "failed d101", ""):
        assert row.matches(query), query
    for query in ("busy", "d104", "10.0.0.1", "failed busy", "register"):
        assert not row.matches(query), query


def test_the_text_of_the_messages_is_not_kept() -> None:
    analysis = analyze(SAMPLES / "calls" / "busy.pcap", engine=engine(), ladders=Ladders.ALL,
                       jobs=1)
    (call,) = analysis.calls
    assert call.ladder and all(arrow.text for arrow in call.ladder)
    stripped = strip_text(call)
    assert stripped.ladder is not None and len(stripped.ladder) == len(call.ladder)
    assert not any(arrow.text for arrow in stripped.ladder)
    assert [a.frame for a in stripped.ladder] == [a.frame for a in call.ladder]


def test_numbers_sort_as_numbers_and_findings_by_severity() -> None:
    rows = rows_of("options-keepalive.pcap")
    by_frame = sorted(rows, key=sort_key("frame"))
    assert [r.result.first_frame for r in by_frame] == sorted(r.result.first_frame for r in rows)
    by_finding = sorted(rows, key=sort_key("finding"))
    assert [r.severity is not None for r in by_finding] == [False] * 3 + [True] * 2


def test_widths_fill_the_line_and_never_shrink_a_column() -> None:
    for total in (80, 120, 200):
        sizes = widths(total)
        assert all(size >= column.width for size, column in zip(sizes, COLUMNS, strict=True))
        if total >= 120:
            assert sum(sizes) + len(sizes) + 2 == total
