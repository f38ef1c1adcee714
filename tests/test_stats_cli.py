"""``sipdiag stats RESULTS``: the figures per group of a dataset written by ``sipdiag CAPTURE
--out`` from a crafted capture whose calls are known, each compared with what its flows give by
hand (ASR after ITU-T E.411: answered over attempts; NER after E.425: delivered to the called
user, answered or busy, over attempts; the post-dial delay: from the INVITE to the first 180);
the groups, the time window, the formats, and the errors."""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from sipdiag.cli import Environment, ExitStatus, main
from sipdiag.report.escape import for_terminal
from tests.packets import pcap, sip_request, sip_response, udp4_frame

CALLER = "192.0.2.10"
TRUNK_A, TRUNK_B = "198.51.100.20", "203.0.113.30"
HOUR_A, HOUR_B = "2023-11-14 22:00", "2023-11-14 23:00"
REASONS = {180: "Ringing", 200: "OK", 486: "Busy Here", 503: "Service Unavailable"}
HOSTILE = "[bold red]ours[/bold red]\x1b[2J"
"""An X-Trunk value that is rich markup and a terminal escape (clear the screen)."""

Step = tuple[str | int, float, int]
"""A request's method or a response's status, seconds after the INVITE, and its CSeq."""


def answered(ring: float) -> list[Step]:
    """Rings after ``ring`` seconds, answered a second later, ended by the caller's BYE."""
    return [("INVITE", 0, 1), (180, ring, 1), (200, ring + 1, 1), ("ACK", ring + 1.1, 1),
            ("BYE", ring + 5, 2), (200, ring + 5.1, 2)]


def busy(ring: float) -> list[Step]:
    """Rings, then 486: delivered to the called user, who did not answer (RFC 3261 21.4.24)."""
    return [("INVITE", 0, 1), (180, ring, 1), (486, ring + 2, 1), ("ACK", ring + 2.1, 1)]


BUSY_AT_ONCE: list[Step] = [("INVITE", 0, 1), (486, 0.5, 1), ("ACK", 0.6, 1)]
"""486 without ringing: delivered, and no post-dial delay (no 180, 183 or answer)."""
REFUSED: list[Step] = [("INVITE", 0, 1), (503, 0.05, 1), ("ACK", 0.06, 1)]
"""503 from the network: not delivered (E.425), and C111 (503 without Retry-After)."""
REFUSED_TWICE: list[Step] = [*REFUSED, ("INVITE", 2, 2), (503, 2.05, 2), ("ACK", 2.06, 2)]
"""Two INVITEs each refused 503: two C111 findings in one call, one call having C111."""
UNANSWERED: list[Step] = [("INVITE", 0, 1)]
"""The capture ends before an answer or 64*T1: a call in progress, not an attempt (E.411)."""

CALLS: dict[str, tuple[str, str, str | None, list[Step]]] = {
    # Call-ID: (start, the address its INVITE went to, its X-Trunk, its flow)
    "a1": ("2023-11-14T22:10:00", TRUNK_A, "alpha", answered(0.5)),
    "a2": ("2023-11-14T22:59:58", TRUNK_A, "alpha", answered(1.5)),  # ends after 23:00
    "a3": ("2023-11-14T22:10:20", TRUNK_A, "alpha", busy(1.0)),
    "a4": ("2023-11-14T22:10:30", TRUNK_A, "alpha", REFUSED_TWICE),
    "b1": ("2023-11-14T22:10:40", TRUNK_B, "alpha", answered(2.0)),
    "b2": ("2023-11-14T22:10:50", TRUNK_B, "beta", REFUSED),
    "b3": ("2023-11-14T22:11:00", TRUNK_B, "beta", REFUSED),
    "a5": ("2023-11-14T23:10:00", TRUNK_A, "alpha", busy(3.0)),
    "a6": ("2023-11-14T23:10:10", TRUNK_A, "alpha", answered(0.25)),
    "a7": ("2023-11-14T23:10:20", TRUNK_A, None, answered(4.0)),
    "b4": ("2023-11-14T23:10:30", TRUNK_B, "beta", answered(0.75)),
    "b5": ("2023-11-14T23:10:40", TRUNK_B, "beta", busy(1.75)),
    "b6": ("2023-11-14T23:10:50", TRUNK_B, "beta", BUSY_AT_ONCE),
    "b7": ("2023-11-14T23:10:55", TRUNK_B, "beta", UNANSWERED),  # the capture's last frame
}
C105, C111 = ("C105", "callee-outcome"), ("C111", "service-unavailable")
"""The rules the flows meet (rules/calls/): 486 is about the called user; 503 without
Retry-After."""


@dataclass(frozen=True)
class Figures:
    calls: int
    attempts: int
    answered: int
    delivered: int
    asr: float
    ner: float
    pdd: tuple[int, float, float] | None
    """How many calls rang, the median and the 95th percentile (nearest rank)."""
    top: list[tuple[str, int]]


BY_HOUR_AND_DST = {
    # a1 a2 answered (rang at 0.5 and 1.5), a3 busy (1.0), a4 refused: 2 of 4 answered, 3 of 4
    # delivered; delays 0.5 1.0 1.5: median 1.0, 95th percentile the 3rd of 3 (ceil(2.85));
    # C105 in one call, C111 in one (twice in it): a tie, by rule ID
    (HOUR_A, TRUNK_A): Figures(4, 4, 2, 3, 50.0, 75.0, (3, 1.0, 1.5), [("C105", 1), ("C111", 1)]),
    # b1 answered (2.0), b2 b3 refused
    (HOUR_A, TRUNK_B): Figures(3, 3, 1, 1, 33.333, 33.333, (1, 2.0, 2.0), [("C111", 2)]),
    # a5 busy (3.0), a6 a7 answered (0.25, 4.0): delays 0.25 3.0 4.0
    (HOUR_B, TRUNK_A): Figures(3, 3, 2, 3, 66.667, 100.0, (3, 3.0, 4.0), [("C105", 1)]),
    # b4 answered (0.75), b5 busy (1.75), b6 busy without ringing, b7 no attempt yet: two
    # delays, the median their mean 1.25, the 95th percentile the 2nd of 2 (ceil(1.9))
    (HOUR_B, TRUNK_B): Figures(4, 3, 1, 3, 33.333, 100.0, (2, 1.25, 1.75), [("C105", 2)]),
}
TOTAL = Figures(
    # 13 attempts (not b7): 6 answered (a1 a2 a6 a7 b1 b4), 4 busy (a3 a5 b5 b6), 3 refused
    # (a4 b2 b3); the nine
    # delays sorted 0.25 0.5 0.75 1.0 1.5 1.75 2.0 3.0 4.0: median the 5th, 95th percentile
    # the 9th (ceil(8.55))
    14, 13, 6, 10, 46.154, 76.923, (9, 1.5, 4.0), [("C105", 4), ("C111", 3)])
BY_HEADER = {
    # alpha: a1-a6 and b1 (sent to TRUNK_B with X-Trunk alpha); delays 0.5 1.5 1.0 3.0 0.25
    # 2.0: median (1.0 + 1.5) / 2, 95th percentile the 6th of 6 (ceil(5.7))
    "alpha": Figures(7, 7, 4, 6, 57.143, 85.714, (6, 1.25, 3.0), [("C105", 2), ("C111", 1)]),
    "beta": Figures(6, 5, 1, 3, 20.0, 60.0, (2, 1.25, 1.75), [("C105", 2), ("C111", 2)]),
    "(no x-trunk)": Figures(1, 1, 1, 1, 100.0, 100.0, (1, 4.0, 4.0), []),  # a7
}


def ns(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()) * 1_000_000_000


def frames_of(call_id: str, start: str, trunk: str, header: str | None,
              steps: list[Step]) -> Iterator[tuple[int, bytes]]:
    methods: dict[int, str] = {}
    for what, seconds, cseq in steps:
        ts = ns(start) + round(seconds * 1e6) * 1000
        if isinstance(what, str):
            methods.setdefault(cseq, what)
            extra = [f"X-Trunk: {header}"] if what == "INVITE" and header else []
            yield ts, udp4_frame(CALLER, trunk, sip_request(what, call_id, cseq, extra=extra))
        else:
            yield ts, udp4_frame(trunk, CALLER, sip_response(what, REASONS[what], call_id, cseq,
                                                             methods[cseq]))


def sipdiag(*argv: str, columns: int | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    environ = {"COLUMNS": str(columns)} if columns else {}
    code = main(list(argv), Environment(stdout=out, stderr=err, stdin=io.BytesIO(),
                                        environ=environ))
    return code, out.getvalue(), err.getvalue()


def write_dataset(folder: Path, calls: dict[str, tuple[str, str, str | None, list[Step]]]
                  ) -> str:
    frames = [frame for call_id, call in calls.items() for frame in frames_of(call_id, *call)]
    capture = folder / "calls.pcap"
    capture.write_bytes(pcap(sorted(frames, key=lambda frame: frame[0])))
    results = folder / "results"
    code, out, err = sipdiag(str(capture), "--out", str(results), "--keep-header", "X-Trunk",
                             "--format", "json")
    assert code in (ExitStatus.OK, ExitStatus.FINDINGS) and err == ""  # C111: an error
    (folder / ANALYSIS).write_text(out)
    return str(results)


ANALYSIS = "analysis.json"
"""The JSON report of the capture the dataset was written from, beside it."""


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> str:
    return write_dataset(tmp_path_factory.mktemp("stats"), CALLS)


def stats_json(results: str, *options: str) -> dict[str, Any]:
    code, out, err = sipdiag("stats", results, "--format", "json", *options)
    assert code == ExitStatus.OK and err == ""
    document: dict[str, Any] = json.loads(out)
    return document


def figures_of(group: dict[str, Any]) -> Figures:
    delay = group["post_dial_delay"]
    return Figures(group["calls"], group["attempts"], group["answered"], group["delivered"],
                   group["asr"],
                   group["ner"], delay and (delay["count"], delay["median"], delay["p95"]),
                   [(found["rule"], found["calls"]) for found in group["top_findings"]])


def groups_of(document: dict[str, Any]) -> dict[tuple[str, ...], Figures]:
    return {tuple(group["keys"].values()): figures_of(group) for group in document["groups"]}


def test_figures_per_hour_and_trunk_are_those_of_the_flows(results: str) -> None:
    document = stats_json(results, "--by", "hour,trunk")
    assert document["by"] == ["hour", "trunk"] and document["trunk"] == "dst"
    assert [list(group["keys"]) for group in document["groups"]] == [["hour", "trunk"]] * 4
    assert list(groups_of(document)) == list(BY_HOUR_AND_DST)  # sorted by hour, then trunk
    assert groups_of(document) == BY_HOUR_AND_DST
    assert figures_of(document["total"]) == TOTAL
    names = {found["rule"]: found["name"] for found in document["total"]["top_findings"]}
    assert names == dict([C105, C111])


def test_the_total_says_what_the_report_of_the_capture_says(results: str) -> None:
    summary = json.loads((Path(results).parent / ANALYSIS).read_text())["summary"]
    total = stats_json(results, "--by", "day")["total"]
    figures = ("calls", "attempts", "answered", "delivered", "asr", "ner", "post_dial_delay")
    assert {name: total[name] for name in figures} == {name: summary[name] for name in figures}


def test_a_call_counts_in_the_hour_and_day_it_started(results: str) -> None:
    # a2 starts at 22:59:58 and ends after 23:00: the 22:00 hour has 7 calls
    assert {keys: figures.calls for keys, figures in
            groups_of(stats_json(results, "--by", "hour")).items()} == {
        (HOUR_A,): 7, (HOUR_B,): 7}
    by_day = stats_json(results, "--by", "day,source")
    assert {keys: figures.calls for keys, figures in groups_of(by_day).items()} == {
        ("2023-11-14", CALLER): 14}


def test_the_most_frequent_findings_are_cut_to_top_ties_by_rule_id(results: str) -> None:
    document = stats_json(results, "--by", "hour,trunk", "--top", "1")
    assert [figures.top for figures in groups_of(document).values()] == [
        [("C105", 1)], [("C111", 2)], [("C105", 1)], [("C105", 2)]]
    assert figures_of(document["total"]).top == [("C105", 4)]
    nothing = stats_json(results, "--by", "hour", "--top", "0")
    assert [group["top_findings"] for group in nothing["groups"]] == [[], []]


def test_since_and_until_choose_calls_by_their_start(results: str) -> None:
    later = stats_json(results, "--by", "hour,trunk", "--since", "2023-11-14T23:00:00")
    assert groups_of(later) == {key: figures for key, figures in BY_HOUR_AND_DST.items()
                                if key[0] == HOUR_B}
    assert later["since"] == "2023-11-14T23:00:00.000000000Z" and later["until"] is None
    # a6 a7 b4 answered, a5 b5 b6 busy, b7 no attempt yet
    assert figures_of(later["total"]) == Figures(7, 6, 3, 6, 50.0, 100.0, (5, 1.75, 4.0),
                                                 [("C105", 3)])
    earlier = stats_json(results, "--by", "hour", "--until", "2023-11-14T23:00:00")
    assert [group["calls"] for group in earlier["groups"]] == [7]
    only_a2 = stats_json(results, "--by", "hour", "--since", "2023-11-14T22:59:58",
                         "--until", "2023-11-14T22:59:59")
    assert only_a2["total"]["calls"] == 1 and only_a2["total"]["answered"] == 1
    before_a2 = stats_json(results, "--by", "hour", "--since", "2023-11-14T22:50:00",
                           "--until", "2023-11-14T22:59:58")
    assert before_a2["total"]["calls"] == 0
    # +SECONDS counts from the first frame (a1's INVITE, 22:10:00): 23:00 is +3000
    assert stats_json(results, "--by", "hour,trunk", "--since", "+3000")["groups"] == (
        later["groups"])


def test_a_window_without_calls_gives_an_empty_total(results: str) -> None:
    document = stats_json(results, "--by", "hour", "--since", "2030-01-01T00:00:00")
    assert document["groups"] == []
    assert document["total"] == {"calls": 0, "attempts": 0, "answered": 0, "delivered": 0,
                                 "asr": None, "ner": None, "post_dial_delay": None,
                                 "top_findings": []}
    code, out, _ = sipdiag("stats", results, "--since", "2030-01-01T00:00:00", "--no-color")
    assert code == ExitStatus.OK and ["total", "0", "0", "0", "-", "-", "-", "-", ""] in cells(out)


def test_a_trunk_named_by_a_header_any_case(results: str) -> None:
    document = stats_json(results, "--by", "trunk", "--trunk", "header:x-trunk")
    assert document["trunk"] == "header:x-trunk"
    assert groups_of(document) == {(name,): figures for name, figures in BY_HEADER.items()}
    assert figures_of(document["total"]) == TOTAL


def test_a_header_no_run_kept_is_said_and_its_calls_grouped(results: str) -> None:
    code, out, err = sipdiag("stats", results, "--by", "trunk", "--trunk", "header:X-Carrier",
                             "--format", "json")
    assert code == ExitStatus.OK
    assert err.count("\n") == 1 and "X-Carrier" in err and "--keep-header" in err
    document = json.loads(out)
    assert [(group["keys"], group["calls"]) for group in document["groups"]] == [
        ({"trunk": "(no X-Carrier)"}, 14)]


def test_csv_has_a_row_per_group_then_the_total(results: str) -> None:
    code, out, err = sipdiag("stats", results, "--by", "hour,trunk", "--format", "csv")
    assert code == ExitStatus.OK and err == ""
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(row["row"], row["hour"], row["trunk"]) for row in rows] == [
        ("group", *key) for key in BY_HOUR_AND_DST] + [("total", "", "")]
    for row, figures in zip(rows, [*BY_HOUR_AND_DST.values(), TOTAL], strict=True):
        assert figures.pdd is not None
        assert (int(row["calls"]), int(row["attempts"]), int(row["answered"]),
                int(row["delivered"]), float(row["asr"]), float(row["ner"]),
                float(row["pdd_median"]), float(row["pdd_p95"])) == (
            figures.calls, figures.attempts, figures.answered, figures.delivered, figures.asr,
            figures.ner, figures.pdd[1], figures.pdd[2])
        assert row["top_findings"] == ";".join(f"{rule}:{n}" for rule, n in figures.top)
    assert rows[0]["top_findings"] == "C105:1;C111:1"


def cells(text: str) -> list[list[str]]:
    """The cells of each row of a boxed table."""
    return [[cell.strip() for cell in line.strip("│").split("│")]
            for line in text.splitlines() if line.startswith("│")]


def test_the_table_has_a_row_per_group_and_the_total(results: str) -> None:
    code, out, err = sipdiag("stats", results, "--by", "hour,trunk", "--no-color",
                             columns=200)
    assert code == ExitStatus.OK and err == ""
    assert out.splitlines()[0].strip() == "Calls by hour, trunk (dst)"
    assert cells(out) == [
        [*key, str(f.calls), str(f.attempts), str(f.answered), f"{f.asr:.1f}", f"{f.ner:.1f}",
         f"{f.pdd[1]:.3f}", f"{f.pdd[2]:.3f}",
         ", ".join(f"{rule} {dict([C105, C111])[rule]} ({n})" for rule, n in f.top)]
        for key, f in [*BY_HOUR_AND_DST.items(), (("total", ""), TOTAL)] if f.pdd]


def test_a_narrow_terminal_gets_lines_that_keep_the_keys_whole(results: str) -> None:
    code, out, _ = sipdiag("stats", results, "--by", "hour,trunk", "--no-color", columns=80)
    assert code == ExitStatus.OK
    lines = out.splitlines()
    figures_end = lines.index("Most frequent findings")
    assert all(len(line) <= 80 for line in lines[:figures_end])
    rows = [line.split() for line in lines[2:figures_end]]
    assert [row[:3] for row in rows[:-1]] == [[*key[0].split(), key[1]]
                                              for key in BY_HOUR_AND_DST]
    assert lines[1].split()[:4] == ["Hour", "(UTC)", "Trunk", "Calls"]
    assert rows[-1][:2] == ["total", str(TOTAL.calls)]
    assert lines[figures_end + 2].split()[:5] == [*HOUR_A.split(), TRUNK_A, "C105",
                                                  "callee-outcome"]


def test_the_table_in_japanese(results: str) -> None:
    code, out, _ = sipdiag("stats", results, "--by", "trunk", "--no-color", "--lang", "ja",
                           columns=200)
    assert code == ExitStatus.OK
    assert "トランク" in out and "合計" in out


def test_text_from_the_capture_is_shown_never_obeyed(tmp_path: Path) -> None:
    hostile = write_dataset(tmp_path, {"h1": ("2023-11-14T22:10:00", TRUNK_A, HOSTILE,
                                              answered(0.5))})
    code, out, _ = sipdiag("stats", hostile, "--by", "trunk", "--trunk", "header:X-Trunk",
                           "--no-color", columns=200)
    assert code == ExitStatus.OK and "\x1b" not in out
    assert cells(out)[0][0] == for_terminal(HOSTILE) == "[bold red]ours[/bold red]\\x1b[2J"
    document = stats_json(hostile, "--by", "trunk", "--trunk", "header:X-Trunk")
    assert document["groups"][0]["keys"] == {"trunk": HOSTILE}  # JSON keeps the value


def test_a_csv_cell_from_the_capture_never_starts_a_formula(tmp_path: Path) -> None:
    formula = "=cmd|' /C calc'!A0"
    results = write_dataset(tmp_path, {"h1": ("2023-11-14T22:10:00", TRUNK_A, formula,
                                              answered(0.5))})
    code, out, _ = sipdiag("stats", results, "--by", "trunk", "--trunk", "header:X-Trunk",
                           "--format", "csv")
    assert code == ExitStatus.OK
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[1][:2] == ["group", "'" + formula]  # a spreadsheet shows it as text


def one_line_error(*argv: str) -> str:
    code, out, err = sipdiag(*argv)
    assert code == ExitStatus.ERROR and out == ""
    assert err.count("\n") == 1 and err.startswith("sipdiag: error: ")
    return err


def test_results_that_cannot_be_read_are_one_line_and_exit_2(results: str,
                                                            tmp_path: Path) -> None:
    assert "no such results folder" in one_line_error("stats", str(tmp_path / "none"))
    (tmp_path / "empty").mkdir()
    assert "not a results dataset" in one_line_error("stats", str(tmp_path / "empty"))
    other = tmp_path / "other"
    shutil.copytree(results, other)
    [runs] = (other / "runs").iterdir()
    table = pq.read_table(runs)
    pq.write_table(table.replace_schema_metadata({b"sipdiag.schema": b"99"}), runs)
    assert "schema 99" in one_line_error("stats", str(other))


@pytest.mark.parametrize("trunk", ["header:", "header:X Trunk", "via", "dst:x", "Header:A"])
def test_a_bad_trunk_is_one_line_and_exit_2(results: str, trunk: str) -> None:
    assert "--trunk" in one_line_error("stats", results, "--by", "trunk", "--trunk", trunk)


def test_bad_options_exit_2(results: str) -> None:
    assert "--top -1" in one_line_error("stats", results, "--top", "-1")
    code, _, err = sipdiag("stats", results, "--by", "hour,carrier")
    assert code == ExitStatus.ERROR and "group by any of hour, day, trunk, source" in err
