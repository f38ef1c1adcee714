"""The report read as a person reads it: ``sipdiag`` run in a real terminal (tmux) at 80x24 and
at 120x40, and the screens the terminal drew kept as snapshots (tests/snapshots/).

For each sample and size, tests/snapshots/ holds ``<sample>.<W>x<H>.txt``, every row of the
terminal (the scrollback, then the screen) as it drew them, a line wider than the terminal cut
into two rows; ``.first.txt``, the first screen of the report (the top of the scrollback);
``.last.txt``, the last screen, what is in front of the person when the command returns; and
``.last.ansi``, that screen with its colours (``cat`` it in a terminal). After an intended change
to the terminal report, ``SIPDIAG_UPDATE_GOLDEN=1 python3 -m pytest tests/report/test_screens.py``
rewrites them; then read them (``git diff tests/snapshots``) at their size.

Beside the exact snapshots, the tests check facts that come from the captures (read with tshark),
not from sipdiag: every call is one row of the call list at both widths, with its Call-ID whole
(copyable for --call); no Call-ID is ever broken on the screen; the terminal wraps no row of the
call list, nor any line (sipdiag wraps its text itself, between words); and the Call-ID of every
failing call is at the end of the last screen. The terminal runs sipdiag with colours: the
coloured last screen reads as the plain one. The terminal (tmux) is driven by screens.py.
"""

from __future__ import annotations

import functools
import subprocess
import tempfile
from pathlib import Path

import pytest
from rich.cells import cell_len

from tests.conftest import ROOT
from tests.report.screens import SNAPSHOTS, Terminal, check_snapshot, plain, run_in_terminal

SAMPLES = {
    # name of the snapshots: what sipdiag is given, relative to the project root
    "basic-call": "samples/calls/basic-call.pcap",
    "reinvite-481": "samples/rules/reinvite-481.pcap",
    "rules-folder": "samples/rules",
}
SIZES = ((80, 24), (120, 40))
RUNS = [pytest.param(sample, width, height, id=f"{sample}-{width}x{height}")
        for sample in SAMPLES for width, height in SIZES]

FAILING = {
    # capture: (the final responses to its INVITEs in order, as tshark reads them, each one
    # once; why each of its calls fails, by the RFC)
    "samples/rules/reinvite-481.pcap": (
        ["200", "481"], "answered, then the re-INVITE answered 481: the far end has no such "
        "dialog any more (RFC 3261 12.2.1.2: the caller must end the dialog)"),
    "samples/rules/server-errors.pcap": (
        ["500", "502", "504"], "three calls refused by server errors (RFC 3261 21.5.1, 21.5.3, "
        "21.5.5)"),
    "samples/rules/service-unavailable.pcap": (
        ["503"], "503 with no Retry-After: the server is down, no time to retry is given "
        "(RFC 3261 21.5.4)"),
    "samples/rules/loops-482-483.pcap": (
        ["482", "483"], "a loop (482, RFC 3261 21.4.20) and too many hops (483, 21.4.21): the "
        "request is routed wrongly, both calls refused"),
    "samples/rules/extension-420-421.pcap": (
        ["420", "421"], "an extension the callee does not support (420, RFC 3261 21.4.15) or "
        "requires (421, 21.4.16): both calls refused"),
    "samples/rules/codec-mismatch-488-606.pcap": (
        ["488", "606"], "no common codec (488, RFC 3261 21.4.26; 606, 21.6.4; RFC 3264 6): "
        "both calls refused"),
    "samples/rules/too-large-513.pcap": (
        ["513"], "the INVITE too large for the server (RFC 3261 21.5.7)"),
    "samples/rules/session-interval-422-loop.pcap": (
        ["422"], "the INVITE retried four times, each answered 422, never set up (RFC 4028 6)"),
    "samples/rules/proxy-408.pcap": (
        ["408"], "the proxy gave up on the callee: 408 Request Timeout (RFC 3261 21.4.9)"),
    "samples/rules/invite-no-response.pcap": (
        [], "the INVITE sent 7 times and never answered (Timer B, RFC 3261 17.1.1.2)"),
}
"""The calls of the samples that fail, read from their final responses (tshark, checked by
``test_the_failing_calls_are_the_ones_their_final_responses_say``).

Left out of samples/rules, the calls that are not failures of the network or of the signalling,
or whose failure the final responses do not show: 404 (not-found-404, the number dialled is
unknown: a dial-plan matter), 487 (no-cancel-487, the request terminated), 603 (declined-603, the
callee said no), 302 (redirect-not-followed, a redirection), 503 with Retry-After
(service-unavailable-retry-after, an overload with a time to retry), and every call answered 200
whose trouble comes later (a BYE refused, unanswered or naming the wrong dialog, a session timer
run out, an abnormal Reason: its final responses to INVITE are all 2xx). A call of this table
must be on the last screen; the others may be."""


Message = tuple[str, str, str, str]
"""(Call-ID, method or "", status code or "", CSeq method) of one SIP message, as tshark reads
it."""


@functools.cache
def messages(captures: tuple[Path, ...]) -> tuple[Message, ...]:
    """Every SIP message of the captures, read by tshark (several captures merged in time order
    by mergecap first: one tshark run, tshark taking a second to start)."""
    with tempfile.TemporaryDirectory(prefix="sipdiag-screens-") as folder:
        capture = captures[0]
        if len(captures) > 1:
            capture = Path(folder) / "merged.pcapng"
            subprocess.run(["mergecap", "-w", str(capture), *map(str, captures)],
                           capture_output=True, timeout=60, check=True)
        result = subprocess.run(
            ["tshark", "-r", str(capture), "-Y", "sip", "-T", "fields", "-e", "sip.Call-ID",
             "-e", "sip.Method", "-e", "sip.Status-Code", "-e", "sip.CSeq.method"],
            capture_output=True, text=True, timeout=60, check=True)
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert rows and all(len(row) == 4 for row in rows), result.stdout[:400]
    return tuple((row[0], row[1], row[2], row[3]) for row in rows)


def files(sample: str) -> tuple[Path, ...]:
    """The captures sipdiag is given for a sample (every file of a folder but hidden ones)."""
    path = ROOT / SAMPLES[sample]
    if path.is_dir():
        return tuple(sorted(p for p in path.iterdir()
                            if p.is_file() and not p.name.startswith(".")))
    return (path,)


def call_ids(captures: tuple[Path, ...], method: str = "INVITE") -> list[str]:
    """The distinct Call-IDs of the ``method`` requests, in order (one per call for INVITE);
    of every message with ``method=""``."""
    seen = (m[0] for m in messages(captures) if m[1] == method or not method)
    return list(dict.fromkeys(seen))


def calls(sample: str) -> list[str]:
    return call_ids(files(sample))


def failing_calls(sample: str) -> list[str]:
    return [call_id for capture in files(sample)
            if capture.relative_to(ROOT).as_posix() in FAILING
            for call_id in call_ids((capture,))]


def final_responses(capture: Path) -> list[str]:
    """The final status codes answering INVITEs, in order, each once."""
    return list(dict.fromkeys(status for _, _, status, cseq in messages((capture,))
                              if cseq == "INVITE" and status and int(status) >= 200))


@functools.cache
def terminal(sample: str, width: int, height: int) -> Terminal:
    """One run per sample and size (per test process)."""
    return run_in_terminal([SAMPLES[sample]], width, height)


NEXT_SECTIONS = ("Linked legs", "Other exchanges", "What could not be read", "Findings")
"""The titles that may follow the call list."""


def call_list(rows: list[str]) -> list[str]:
    """The rows of the call list: after the title ``Calls``, its header and a row per call (one
    line each, or a drawn table), up to the next section's title."""
    start = rows.index("Calls") + 1
    end = start + 1
    while end < len(rows) and rows[end].strip() and not rows[end].startswith(NEXT_SECTIONS):
        end += 1
    return rows[start:end]


@pytest.mark.parametrize(("sample", "width", "height"), RUNS)
def test_the_screens_match_their_snapshots(sample: str, width: int, height: int) -> None:
    screen = terminal(sample, width, height)
    name = f"{sample}.{width}x{height}"
    check_snapshot(f"{name}.txt", "\n".join(screen.rows) + "\n")
    check_snapshot(f"{name}.first.txt", "\n".join(screen.first) + "\n")
    check_snapshot(f"{name}.last.txt", "\n".join(screen.last) + "\n")
    check_snapshot(f"{name}.last.ansi", screen.styled_last)


@pytest.mark.parametrize(("sample", "width", "height"), RUNS)
def test_each_call_is_one_row_of_the_call_list_with_its_call_id_whole(
    sample: str, width: int, height: int
) -> None:
    screen = terminal(sample, width, height)
    listed = call_list(screen.rows)
    expected = calls(sample)
    assert expected and len(set(expected)) == len(expected)
    with_id = [row for row in listed if any(call_id in row for call_id in expected)]
    assert len(with_id) == len(expected), "\n".join(listed)
    for call_id in expected:
        holding = [row for row in listed if call_id in row.split()]
        assert len(holding) == 1, (call_id, listed)
        assert cell_len(holding[0]) <= width


@pytest.mark.parametrize(("sample", "width", "height"), RUNS)
def test_the_terminal_wraps_no_row_of_the_call_list(sample: str, width: int, height: int) -> None:
    """A line wider than the terminal goes on on the next row; ``capture-pane -J`` joins such
    rows again: the call list must read the same either way."""
    screen = terminal(sample, width, height)
    assert call_list(screen.joined) == call_list(screen.rows)


@pytest.mark.parametrize(("sample", "width", "height"), RUNS)
def test_sipdiag_writes_no_line_wider_than_the_terminal(
    sample: str, width: int, height: int
) -> None:
    """sipdiag wraps its text itself, at word boundaries: the terminal never has to (a line it
    wraps goes on at the start of the next row, cut anywhere, a word or a Call-ID in two)."""
    screen = terminal(sample, width, height)
    wrapped = [line for line in screen.joined if cell_len(line) > width]
    assert not wrapped, "\n".join(wrapped)


@pytest.mark.parametrize(("sample", "width", "height"), RUNS)
def test_no_call_id_is_ever_broken_on_the_screen(sample: str, width: int, height: int) -> None:
    """Wherever either half of a Call-ID is on a row, the whole Call-ID is on that row (of any
    method: the other exchanges are listed too)."""
    screen = terminal(sample, width, height)
    for call_id in call_ids(files(sample), ""):
        half = len(call_id) // 2
        for row in screen.rows:
            whole = row.count(call_id)
            assert row.count(call_id[:half]) == whole == row.count(call_id[half:]), (call_id, row)


@pytest.mark.parametrize(("sample", "width", "height"), RUNS)
def test_the_last_screen_names_every_failing_call(sample: str, width: int, height: int) -> None:
    """The verdict ends the report and stays on the last screen: each failing call's Call-ID,
    whole, on one of its last rows (a verdict being at most a row per call or exchange of the
    capture, under a title and a heading, and a row saying how many more there are). A failing
    call may be left off only when the verdict fills the screen: every row of it then names a
    call or exchange, but those three. sipdiag fails (exit 1, the default --fail-on error)
    exactly when a call fails."""
    screen = terminal(sample, width, height)
    failing = failing_calls(sample)
    everything = call_ids(files(sample), "")
    last = "\n".join(screen.last)
    ending = [row for row in screen.last if row][-(len(everything) + 3):]
    missing = [call_id for call_id in failing
               if not any(call_id in row.split() for row in ending)]
    if missing:
        other = [row for row in screen.last
                 if row and not any(call_id in row.split() for call_id in everything)]
        assert len(other) <= 3, f"not on the last screen, which had room: {missing}\n{last}"
    assert screen.status == (1 if failing else 0), last


@pytest.mark.parametrize(("sample", "width", "height"), RUNS)
def test_the_terminal_shows_colours_and_the_same_text(
    sample: str, width: int, height: int
) -> None:
    """TERM=xterm-256color and no NO_COLOR: the report is coloured, and the coloured last
    screen is the plain one."""
    screen = terminal(sample, width, height)
    assert "\x1b[" in screen.styled_last
    text = plain(screen.styled_last)
    assert text.endswith("\n")
    styled = [row.rstrip(" ") for row in text[:-1].split("\n")]
    assert styled == screen.last


def test_the_failing_calls_are_the_ones_their_final_responses_say() -> None:
    """FAILING's final responses are the ones tshark reads."""
    for capture, (finals, why) in FAILING.items():
        assert final_responses(ROOT / capture) == finals, (capture, why)


def test_the_snapshots_are_the_ones_the_tests_write() -> None:
    expected = {f"{sample}.{width}x{height}{suffix}" for sample in SAMPLES
                for width, height in SIZES
                for suffix in (".txt", ".first.txt", ".last.txt", ".last.ansi")}
    found = {p.name for p in SNAPSHOTS.iterdir() if p.is_file()} if SNAPSHOTS.is_dir() else set()
    assert not expected - found, f"missing in tests/snapshots: {sorted(expected - found)}"
    assert not found - expected, f"stale in tests/snapshots: {sorted(found - expected)}"
