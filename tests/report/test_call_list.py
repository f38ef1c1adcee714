"""The call list a person reads at a terminal: a table when it fits, else one line per call
(as sngrep lists them) with the columns read first, the Call-ID always whole so that it can be
copied into --call; every column with --wide."""

from __future__ import annotations

import io
import json
import time

import pytest
from rich.cells import cell_len

from sipdiag.cli import Environment, main
from tests.conftest import SAMPLES, read

SERVER_ERRORS = SAMPLES / "rules" / "server-errors.pcap"
"""Three INVITEs from alice to bob, refused 500, 502 and 504 (rule C109, an error, on each)."""


def report(capture: str, columns: int, *options: str) -> list[str]:
    out = io.StringIO()
    env = Environment(stdout=out, stderr=io.StringIO(), stdin=io.BytesIO(),
                      environ={"COLUMNS": str(columns)})
    main([capture, "--no-color", "--fail-on", "never", *options], env)
    return [line.rstrip() for line in out.getvalue().splitlines()]


def section(lines: list[str], title: str) -> list[str]:
    """The lines of a section of the report, up to the next title (a line with no indent
    that no table row starts like)."""
    start = lines.index(title) + 1
    end = next(i for i in range(start, len(lines)) if lines[i] in ("Findings", "Other exchanges"))
    return lines[start:end]


def invites(capture: str) -> list[tuple[str, int]]:
    """(Call-ID, time in seconds) of each INVITE that starts a call, from the SIP layer."""
    messages, _ = read(capture)
    seen: dict[str, int] = {}
    for m in messages:
        if m.method == "INVITE":
            seen.setdefault(m.call_id, m.ts_ns // 1_000_000_000)
    return list(seen.items())


@pytest.mark.parametrize("columns", [80, 120])
def test_a_narrow_terminal_gets_one_line_per_call_with_its_call_id_whole(columns: int) -> None:
    calls = section(report(str(SERVER_ERRORS), columns), "Calls")
    assert calls[0].split() == ["Start", "From", "To", "Outcome", "Final", "Finding", "Media",
                                "Call-ID"]
    expected = invites(str(SERVER_ERRORS))
    assert len(calls) == 1 + len(expected) == 4
    finals = []
    for line, (call_id, second) in zip(calls[1:], expected, strict=True):
        start, caller, callee, outcome, final, finding, media, whole_id = line.split()
        assert start == time.strftime("%H:%M:%S", time.gmtime(second))
        assert (caller, callee, outcome, finding, media) == ("alice", "bob", "rejected", "C109",
                                                              "-")
        assert whole_id == call_id and cell_len(line) <= columns
        finals.append(final)
    assert finals == ["500", "502", "504"]


def test_the_most_severe_finding_comes_first_with_the_count_of_the_others() -> None:
    """The 488 carries a Warning header: no common media (C116, an error) and the Warning
    decoded (I102, information); the 606 has no Warning."""
    calls = section(report(str(SAMPLES / "rules" / "codec-mismatch-488-606.pcap"), 80), "Calls")
    assert len(calls) == 3
    assert [line.split()[5:7] for line in calls[1:]] == [["C116", "+1"], ["C116", "-"]]


def test_a_table_that_fits_is_drawn_whole() -> None:
    calls = section(report(str(SERVER_ERRORS), 200), "Calls")
    assert calls[1].startswith("┃ Frame ┃ From") and "PDD s" in calls[1]


def test_wide_prints_every_column_however_narrow_the_terminal_one_line_per_call() -> None:
    calls = section(report(str(SERVER_ERRORS), 80, "--wide"), "Calls")
    assert calls[0].split() == ["Frame", "From", "To", "Outcome", "Media", "Final", "PDD", "s",
                                "Answer", "s", "Talk", "s", "Legs", "Retr", "Findings",
                                "Call-ID"]
    assert [line.split()[-1] for line in calls[1:]] == [c for c, _ in invites(str(SERVER_ERRORS))]


def test_a_rule_is_explained_once_and_the_verdict_ends_the_report() -> None:
    """Three calls refused 500, 502, 504: C109 three times. Why it matters, its causes and its
    fix are printed with the first; the others point to it; the last lines say C109 x3 and name
    the three calls, in the order of their INVITEs."""
    lines = report(str(SERVER_ERRORS), 200)
    text = "\n".join(lines)
    assert text.count("Why it matters") == 1 and text.count("How to fix") == 1
    assert text.count("Why, causes, fix: as for the first C109 above.") == 2
    call_ids = [call_id for call_id, _ in invites(str(SERVER_ERRORS))]
    verdict = lines.index("Verdict")
    assert lines[verdict + 1:verdict + 3] == [
        "ERROR  C109 server-failure x3  Server failure (500, 502, 504)",
        f"  3 call(s): {', '.join(call_ids)}",
    ]


def attention(lines: list[str]) -> tuple[str, list[list[str]], list[str]]:
    """The title of the list of calls needing attention, its rows split into columns (the
    finding's words joined back: it is the sixth of seven columns), and what follows."""
    start = next(i for i, line in enumerate(lines) if line.startswith("Needing attention"))
    assert lines[start + 1].split() == ["Severity", "From", "To", "Outcome", "Final",
                                        "Finding", "Call-ID"]
    rows, rest = [], []
    for line in lines[start + 2:]:
        words = line.split()
        if words and words[0] in ("ERROR", "WARNING", "INFO", "-"):
            rows.append([*words[:5], " ".join(words[5:-1]), words[-1]])
        else:
            rest.append(line)
    return lines[start], rows, rest


@pytest.mark.parametrize("columns", [80, 200])
def test_the_report_ends_with_one_line_per_call_needing_attention(columns: int) -> None:
    """Each of the three INVITEs refused 500, 502 and 504 (server errors, rule C109): one
    line each, in the order of the INVITEs, the Call-ID whole; nothing after them."""
    lines = report(str(SERVER_ERRORS), columns)
    title, rows, rest = attention(lines)
    assert title == "Needing attention (3 of 3)" and rest == []
    expected = invites(str(SERVER_ERRORS))
    for row, final, (call_id, _) in zip(rows, ("500", "502", "504"), expected, strict=True):
        assert row[:5] == ["ERROR", "alice", "bob", "rejected", final]
        assert row[5].startswith("C109") and row[6] == call_id
    if columns == 200:
        assert all(row[5] == "C109 Server failure (500, 502, 504)" for row in rows)
    assert all(cell_len(line) <= columns for line in lines[-4:])


def failing(capture: str) -> list[str]:
    """Call-IDs of the calls and exchanges --failed keeps, in order of their first frames."""
    out = io.StringIO()
    main([capture, "--failed", "--format", "json", "--fail-on", "never"],
         Environment(stdout=out, stderr=io.StringIO(), stdin=io.BytesIO(), environ={}))
    document = json.loads(out.getvalue())
    records = document["calls"] + document["exchanges"]
    return [r["call_id"] for r in sorted(records, key=lambda r: r["frames"][0])]


def report_of(captures: list[str], columns: int) -> list[str]:
    out = io.StringIO()
    env = Environment(stdout=out, stderr=io.StringIO(), stdin=io.BytesIO(),
                      environ={"COLUMNS": str(columns)})
    main([*captures, "--no-color", "--fail-on", "never"], env)
    return [line.rstrip() for line in out.getvalue().splitlines()]


def test_errors_come_first_then_warnings_then_the_rest_each_in_frame_order() -> None:
    """Server errors (500, 502, 504: errors), a redirect not followed (a warning) and a 603
    Decline (information only, yet a refused call): listed worst first."""
    captures = [str(SERVER_ERRORS), str(SAMPLES / "rules" / "redirect-not-followed.pcap"),
                str(SAMPLES / "rules" / "declined-603.pcap")]
    _, rows, rest = attention(report_of(captures, 200))
    assert [row[0] for row in rows] == ["ERROR"] * 3 + ["WARNING", "INFO"] and rest == []
    assert [row[4] for row in rows[:3]] == ["500", "502", "504"]  # the INVITEs' order
    assert rows[3][5].startswith("C104") and rows[4][4] == "603"


def test_past_twenty_calls_the_rest_are_counted_and_together_they_are_what_failed_keeps() -> None:
    """Every sample of the rules: more calls need attention than a screen holds; the worst
    come first, and the calls not listed are counted."""
    folder = str(SAMPLES / "rules")
    _, rows, rest = attention(report(folder, 80))
    wanted = failing(folder)
    assert len(rows) == 20 < len(wanted)
    assert rest == [f"and {len(wanted) - 20} more: sipdiag --failed lists them all"]
    order = {"ERROR": 0, "WARNING": 1, "INFO": 2, "-": 3}
    severities = [order[row[0]] for row in rows]
    assert severities == sorted(severities) and severities[0] == 0
    assert {row[6] for row in rows} <= set(wanted)


def test_a_refusal_no_rule_calls_a_problem_still_needs_attention() -> None:
    """603 Decline refuses the call (outcome rejected); the only finding is information
    (the called user declined): the call is listed, its worst finding shown as INFO."""
    capture = str(SAMPLES / "rules" / "declined-603.pcap")
    title, rows, _ = attention(report(capture, 200))
    [(call_id, _)] = invites(capture)
    assert title == "Needing attention (1 of 1)"
    assert [row[0] for row in rows] == ["INFO"] and rows[0][3:5] == ["rejected", "603"]
    assert rows[0][6] == call_id


def test_nothing_needs_attention_nothing_is_listed() -> None:
    lines = report(str(SAMPLES / "calls" / "basic-call.pcap"), 80)
    assert not any(line.startswith("Needing attention") for line in lines)


def test_a_ladder_names_the_software_of_each_side() -> None:
    """The same names as the JSON's ``agents`` (checked against tshark in test_json_fields)."""
    baresip = str(SAMPLES / "calls" / "baresip-call.pcap")
    out = io.StringIO()
    main([baresip, "--format", "json"], Environment(stdout=out, stderr=io.StringIO(),
                                                    stdin=io.BytesIO(), environ={}))
    [call] = json.loads(out.getvalue())["calls"]
    agents = call["agents"]
    lines = report(baresip, 200, "--call", call["call_id"])
    assert f"Software: caller {agents['caller']}; callee {agents['callee']}" in lines


def test_ladder_rows_give_the_time_of_day_and_the_time_from_the_first_frame() -> None:
    """Each row: frame, wall-clock time (UTC, to the millisecond, truncated), seconds since the
    capture's first frame; here every message of the three calls, from the SIP layer."""
    messages, _ = read(str(SERVER_ERRORS))
    lines = report(str(SERVER_ERRORS), 200, "--ladder")
    first = messages[0].ts_ns
    for message in messages:
        seconds, nanos = divmod(message.ts_ns, 1_000_000_000)
        clock = f"{time.strftime('%H:%M:%S', time.gmtime(seconds))}.{nanos // 1_000_000:03d}"
        since = "+" + format((message.ts_ns - first) / 1e9, ".3f")
        prefix = f"{message.frame:>7} {clock} {since:>11}"
        assert sum(line.startswith(prefix) for line in lines) == 1, prefix


def test_a_ladder_too_wide_for_the_clock_keeps_its_labels_whole() -> None:
    """At 80 columns the three calls' two lanes need the room the time of day would take: the
    rows give the frame and the seconds, and every label whole."""
    lines = report(str(SERVER_ERRORS), 80, "--ladder")
    rows = [line for line in lines if line.strip()[:1].isdigit() and "│" in line]
    assert len(rows) == 12  # every message of the three calls
    assert all(":" not in line.split("│")[0] for line in rows)
    assert sum("500 Server Internal Error" in line for line in rows) == 1


def test_the_summary_says_where_the_selection_begins() -> None:
    """Frames and SIP messages count the whole capture (12 frames, 12 messages); from the
    Selected row on, the figures are the chosen call's: one call, refused 502."""
    call_id = invites(str(SERVER_ERRORS))[1][0]
    chosen = [" ".join(line.split()) for line in report(str(SERVER_ERRORS), 200, "--call", call_id)]
    everything = [" ".join(line.split()) for line in report(str(SERVER_ERRORS), 200)]
    note = ("Selected only the chosen calls from here on (the figures above are the whole "
            "capture's)")
    at = chosen.index(note)
    assert {"Frames 12", "SIP messages 12"} <= set(chosen[:at])
    assert chosen[at + 1] == "Calls 1 (1 rejected)" and "Final responses 502 x1" in chosen
    assert note not in everything and "Calls 3 (3 rejected)" in everything
