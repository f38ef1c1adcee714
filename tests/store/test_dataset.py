"""The results dataset ``--out`` writes: where each call lands (its start's day and hour as
tshark reads the capture), runs that add files and never touch another's, the same captures
again replacing their run, a time window reading only its hours, fsspec URLs, the headers
``--keep-header`` keeps, the calls columns ``sipdiag stats`` relies on, and the README's DuckDB
query."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sipdiag import __version__
from sipdiag.cli import ExitStatus
from sipdiag.store.dataset import _TableWriter, calls_table
from tests.cluster.test_cluster import many_calls, rotated
from tests.conftest import SAMPLES
from tests.store.helpers import (
    CALLEE,
    CALLER,
    HOURS_CALLS,
    HOURS_RTP,
    at,
    digests,
    hour_folder,
    hours_capture,
    sipdiag,
    tshark_frame_count,
    tshark_starts,
)

CALLS = sorted((SAMPLES / "calls").glob("*.pcap"))
WRITTEN = (ExitStatus.OK, ExitStatus.FINDINGS)


def written(results: Path | str, *argv: str) -> Path | str:
    code, _, err = sipdiag(*argv, "--out", str(results), "--format", "json")
    assert code in WRITTEN and err == ""
    return results


def ids_by_folder(results: Path, table: str) -> dict[str, str]:
    """The Call-ID of each row of ``table``, with the partition folder of its file."""
    return {call_id: str(path.parent.relative_to(results / table))
            for path in (results / table).rglob("*.parquet")
            for call_id in pq.read_table(path, columns=["call_id"]).column(0).to_pylist()}


def reported(results: Path | str, *argv: str) -> dict[str, list[str]]:
    """The Call-IDs of the calls and exchanges of ``sipdiag report RESULTS ARGV``."""
    code, out, err = sipdiag("report", str(results), "--format", "json", *argv)
    assert code in WRITTEN and err == ""
    document = json.loads(out)
    return {kind: [item["call_id"] for item in document[kind]]
            for kind in ("calls", "exchanges")}


def test_each_call_and_exchange_lands_in_the_hour_it_started(tmp_path: Path) -> None:
    capture = hours_capture(tmp_path)
    results = Path(written(tmp_path / "r", str(capture), *map(str, CALLS)))
    starts = tshark_starts(capture, *CALLS)
    for table in ("calls", "exchanges", "findings"):
        for call_id, folder in ids_by_folder(results, table).items():
            assert folder == hour_folder(starts[call_id]), (table, call_id)
    calls = ids_by_folder(results, "calls")
    assert [calls[call_id] for call_id in HOURS_CALLS] == [
        "day=2026-12-04/hour=9", "day=2026-12-04/hour=10", "day=2026-12-04/hour=11"]
    assert ids_by_folder(results, "exchanges")["ping@x"] == "day=2026-12-04/hour=10"
    assert len(calls) == sum(1 for call_id in starts if call_id in calls) == len(
        reported(results)["calls"])


def test_every_file_names_its_schema_and_sipdiag(tmp_path: Path) -> None:
    results = Path(written(tmp_path / "r", str(SAMPLES / "media" / "audio-gap.pcap")))
    files = sorted(results.rglob("*.parquet"))
    assert {path.relative_to(results).parts[0] for path in files} == {
        "calls", "findings", "streams", "runs"}
    for path in files:
        metadata = pq.read_schema(path).metadata
        assert metadata[b"sipdiag.schema"] == b"1"
        assert metadata[b"sipdiag.version"] == __version__.encode()


def test_a_second_run_adds_files_and_the_report_shows_both(tmp_path: Path) -> None:
    first, second = SAMPLES / "calls" / "busy.pcap", SAMPLES / "calls" / "basic-call.pcap"
    results = Path(written(tmp_path / "r", str(first)))
    before = digests(results)
    written(results, str(second))
    after = digests(results)
    assert {name: after[name] for name in before} == before  # not a byte of run 1 changed
    assert len(after) > len(before)
    starts = tshark_starts(first, second)
    assert reported(results)["calls"] == sorted(starts, key=starts.__getitem__)
    _, out, _ = sipdiag("report", str(results), "--format", "json")
    capture = json.loads(out)["capture"]
    earlier = sorted((first, second), key=lambda path: min(tshark_starts(path).values()))
    assert capture["file"] == " + ".join(map(str, earlier))
    assert capture["frames"] == tshark_frame_count(first) + tshark_frame_count(second)


def test_a_time_window_reports_only_the_runs_it_meets(tmp_path: Path) -> None:
    hours, other = hours_capture(tmp_path), SAMPLES / "calls" / "busy.pcap"
    results = Path(written(tmp_path / "r", str(hours)))
    written(results, str(other))
    _, out, _ = sipdiag("report", str(results), "--format", "json", "--since",
                        "2026-12-04T11:00:00", "--until", "2026-12-04T12:00:00")
    document = json.loads(out)
    assert document["capture"]["file"] == str(hours)
    assert document["capture"]["frames"] == tshark_frame_count(hours)
    assert [c["call_id"] for c in document["calls"]] == ["late@x"]


def test_the_same_captures_again_replace_their_own_run(tmp_path: Path) -> None:
    first, second = SAMPLES / "calls" / "busy.pcap", SAMPLES / "calls" / "basic-call.pcap"
    results = Path(written(tmp_path / "r", str(first)))
    written(results, str(second))
    both, calls = digests(results), reported(results)["calls"]
    written(results, str(first))
    assert digests(results) == both  # the same files, the other run's untouched
    assert reported(results)["calls"] == calls
    assert len(calls) == len(set(calls)) == 2


def test_a_run_again_with_fewer_calls_leaves_no_file_of_the_old_one(tmp_path: Path) -> None:
    """The run's files of hours it no longer has are deleted: DuckDB reads every file."""
    capture = hours_capture(tmp_path)
    results = Path(written(tmp_path / "r", str(capture)))
    written(results, str(capture), "--call", "late@x")
    assert ids_by_folder(results, "calls") == {"late@x": hour_folder(at(HOURS_CALLS["late@x"][0]))}
    assert {p.relative_to(results).parts[0] for p in results.rglob("*.parquet")} == {
        "calls", "runs", "streams"}  # the stream of no call stays: it is no call's
    assert reported(results) == {"calls": ["late@x"], "exchanges": []}


def test_a_run_cut_short_leaves_no_file_a_reader_globs(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(_: object) -> None:
        raise KeyboardInterrupt

    capture = str(hours_capture(tmp_path))
    results = tmp_path / "r"
    with monkeypatch.context() as patch:
        patch.setattr(_TableWriter, "close", interrupted)
        code, _, _ = sipdiag(capture, "--out", str(results))
    assert code == ExitStatus.INTERRUPTED
    assert list(results.rglob("*.parquet")) == [] and list(results.rglob("*.part"))
    written(results, capture, "--call", "late@x")  # the pieces of other hours are deleted too
    assert list(results.rglob("*.part")) == []
    assert reported(results)["calls"] == ["late@x"]


def test_a_time_window_reads_only_the_hours_it_needs(tmp_path: Path) -> None:
    capture = hours_capture(tmp_path)
    results = Path(written(tmp_path / "r", str(capture)))
    broken = _broken_hours(results, hours=(9, 10))
    late = ("--since", "2026-12-04T11:00:00")
    assert reported(results, *late) == {"calls": ["late@x"], "exchanges": []}
    assert calls_table(str(results), ["call_id"], since_ns=at("2026-12-04T11:00:00")
                       ).column(0).to_pylist() == ["late@x"]
    code, out, err = sipdiag("report", str(results))
    assert (code, out) == (ExitStatus.ERROR, "")
    assert err.count("\n") == 1 and any(str(path) in err for path in broken)
    _restore(broken)
    broken = _broken_hours(results, hours=(11,))
    # still going at 10:00:05 (the call from 09:59:58 to 10:00:08), started by 10:30
    window = ("--since", "2026-12-04T10:00:05", "--until", "2026-12-04T10:30:00")
    assert reported(results, *window) == {"calls": ["early@x"], "exchanges": ["ping@x"]}
    code, out, _ = sipdiag(str(capture), "--format", "json", *window)
    direct = json.loads(out)
    assert [c["call_id"] for c in direct["calls"]] == ["early@x"]
    assert calls_table(str(results), ["call_id"], until_ns=at("2026-12-04T10:30:00")
                       ).column(0).to_pylist() == ["early@x", "busy@x"]


def _broken_hours(results: Path, hours: tuple[int, ...]) -> dict[Path, bytes]:
    """Overwrite the files of these hours with bytes that are no Parquet; what they held."""
    found = {path: path.read_bytes() for path in results.rglob("hour=*/*.parquet")
             if int(path.parent.name.removeprefix("hour=")) in hours}
    assert found
    for path in found:
        path.write_bytes(b"not parquet")
    return found


def _restore(files: dict[Path, bytes]) -> None:
    for path, data in files.items():
        path.write_bytes(data)


@pytest.mark.parametrize("scheme", ["memory", "file"])
def test_results_at_a_url_are_written_and_reported(tmp_path: Path, scheme: str) -> None:
    url = (f"memory://results-{uuid.uuid4().hex}" if scheme == "memory"
           else (tmp_path / "r").as_uri())
    capture = str(SAMPLES / "media" / "audio-gap.pcap")
    expected = sipdiag(capture, "--format", "json")
    written(url, capture)
    assert sipdiag("report", url, "--format", "json") == expected
    if scheme == "file":
        assert (tmp_path / "r" / "runs").is_dir()


def test_kept_headers_come_back_by_call(tmp_path: Path) -> None:
    capture = hours_capture(tmp_path)
    url = str(written(tmp_path / "r", str(capture), "--keep-header", "X-Trunk",
                      "--keep-header", "X-Absent"))
    table = calls_table(url, ["call_id", "headers"])
    assert {row["call_id"]: dict(row["headers"]) for row in table.to_pylist()} == {
        call_id: {"X-Trunk": trunk} for call_id, (_, _, trunk) in HOURS_CALLS.items()}


CONTRACT = {
    "run": pa.string(), "call_id": pa.string(), "first_frame": pa.int64(),
    "start_ns": pa.int64(), "end_ns": pa.int64(), "caller": pa.string(),
    "callee": pa.string(), "request_uri": pa.string(), "outcome": pa.string(),
    "final_status": pa.int32(), "post_dial_delay": pa.float64(),
    "time_to_answer": pa.float64(), "talk_time": pa.float64(), "src": pa.string(),
    "dst": pa.string(), "severity": pa.string(), "rules": pa.list_(pa.string()),
    "headers": pa.map_(pa.string(), pa.string()), "day": pa.string(), "hour": pa.int32(),
}
"""The calls columns sipdiag stats reads, by name and type."""


def test_the_calls_columns_hold_what_the_capture_says(tmp_path: Path) -> None:
    capture = hours_capture(tmp_path)
    url = str(written(tmp_path / "r", str(capture)))
    table = calls_table(url, list(CONTRACT))
    assert {name: table.schema.field(name).type for name in CONTRACT} == CONTRACT
    rows = {row["call_id"]: row for row in table.to_pylist()}
    starts = tshark_starts(capture)
    for call_id, (start, status, _) in HOURS_CALLS.items():
        row = rows[call_id]
        assert (row["start_ns"], row["final_status"], row["src"], row["dst"]) == (
            starts[call_id], status, CALLER, CALLEE)
        assert (row["day"], row["hour"]) == (start[:10], int(start[11:13]))
        assert row["post_dial_delay"] == pytest.approx(0.1)  # INVITE to 180 (RFC 6076 4.1)
        assert row["request_uri"] == "sip:bob@example.com"
    # 486 Busy Here: the callee-outcome rule (C105, info); the answered calls have none
    assert [(r["outcome"], r["severity"], r["rules"]) for r in rows.values()] == [
        ("answered", None, []), ("busy", "info", ["C105"]), ("answered", None, [])]
    assert rows["busy@x"]["time_to_answer"] is None
    assert rows["early@x"]["time_to_answer"] == pytest.approx(0.5)


README_QUERY = """
SELECT day, hour, count(*) AS calls,
       count(*) FILTER (WHERE outcome IN ('completed', 'answered', 'dropped')) AS answered,
       round(avg(post_dial_delay), 3) AS pdd_s,
       list_sort(list_distinct(flatten(list(rules)))) AS rules
FROM read_parquet('RESULTS/calls/*/*/*.parquet', hive_partitioning = true)
GROUP BY day, hour ORDER BY day, hour
"""


def test_the_readme_query_over_the_dataset(tmp_path: Path) -> None:
    capture = hours_capture(tmp_path)
    results = written(tmp_path / "r", str(capture))
    rows = duckdb.sql(README_QUERY.replace("RESULTS", str(results))).fetchall()
    # one call an hour (HOURS_CALLS): 200, 486 Busy Here, 200; each rang 0.1 s after its INVITE
    assert [(str(day), hour, calls, answered, pdd, rules)
            for day, hour, calls, answered, pdd, rules in rows] == [
        ("2026-12-04", 9, 1, 1, 0.1, []),
        ("2026-12-04", 10, 1, 0, 0.1, ["C105"]),
        ("2026-12-04", 11, 1, 1, 0.1, []),
    ]


def test_a_stream_of_no_call_lands_in_the_hour_of_its_first_packet(tmp_path: Path) -> None:
    results = Path(written(tmp_path / "r", str(hours_capture(tmp_path))))
    [path] = (results / "streams").rglob("*.parquet")
    assert path.parent.relative_to(results / "streams") == Path(hour_folder(at(HOURS_RTP)))
    [row] = pq.read_table(path).to_pylist()
    assert (row["call_id"], row["ssrc"], row["packets"], row["lost"], row["codec"]) == (
        None, 0x1234, 100, 0, "PCMU")  # as helpers.rtp sent it: PT 0 is PCMU (RFC 3551)
    assert (row["src"], row["dst"]) == (f"{CALLER}:40000", f"{CALLEE}:50000")


def test_a_run_of_more_of_the_captures_replaces_the_runs_of_some_of_them(tmp_path: Path) -> None:
    # an hour's file analysed as it came, then the day's files again: each call once
    files = rotated(hours_capture(tmp_path), tmp_path, parts=3)
    assert len(files) == 3
    results = tmp_path / "r"
    written(results, files[0])
    written(results, *files[:2])
    written(results, *files)
    assert len(list((results / "runs").glob("*.parquet"))) == 1
    fresh = Path(written(tmp_path / "fresh", *files))
    assert reported(results) == reported(fresh)
    assert digests(results) == digests(fresh)  # no file of the earlier runs is left


def test_runs_that_share_only_some_captures_are_both_kept(tmp_path: Path) -> None:
    files = rotated(many_calls(tmp_path / "calls.pcap", 30), tmp_path, parts=3)
    results = tmp_path / "r"
    written(results, *files[:2])
    written(results, *files[1:])
    assert len(list((results / "runs").glob("*.parquet"))) == 2
    # the calls of the middle file are in both: each run keeps what it saw
    calls = reported(results)["calls"]
    assert len(calls) > len(set(calls)) == 30


def test_files_of_the_same_name_from_another_time_are_another_run(tmp_path: Path) -> None:
    (tmp_path / "monday").mkdir()
    (tmp_path / "tuesday").mkdir()
    monday, tuesday = tmp_path / "monday" / "00.pcap", tmp_path / "tuesday" / "00.pcap"
    monday.write_bytes((SAMPLES / "calls" / "busy.pcap").read_bytes())
    tuesday.write_bytes((SAMPLES / "calls" / "basic-call.pcap").read_bytes())
    results = tmp_path / "r"
    written(results, str(monday))
    written(results, str(tuesday))
    assert len(list((results / "runs").glob("*.parquet"))) == 2
    assert len(reported(results)["calls"]) == 2


def test_a_foreign_file_among_the_runs_does_not_stop_a_run_replacing_others(
        tmp_path: Path) -> None:
    files = rotated(hours_capture(tmp_path), tmp_path, parts=3)
    results = tmp_path / "r"
    written(results, files[0])
    (results / "runs" / "zz-notes.parquet").write_bytes(b"not a run of sipdiag's")
    code, _, err = sipdiag(*files, "--out", str(results), "--format", "json")
    assert code in WRITTEN and err == ""
    assert len(list((results / "runs").glob("2*.parquet"))) == 1  # the first run replaced
