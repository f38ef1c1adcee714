"""The terminal report: choosing calls, exit codes, ladders, figures, progress."""

from __future__ import annotations

import io

from rich.cells import cell_len

from sipdiag.analysis import analyze
from sipdiag.cli import Environment, ExitStatus, main
from sipdiag.report import terminal
from sipdiag.report.stats import spread
from sipdiag.report.terminal.ladder import draw
from sipdiag.rules import load_engine
from tests.conftest import SAMPLES

BUSY = str(SAMPLES / "calls" / "busy.pcap")
SERVER_ERRORS = str(SAMPLES / "rules" / "server-errors.pcap")
OPTIONS = str(SAMPLES / "calls" / "options-keepalive.pcap")


def run(argv: list[str], stderr: io.StringIO | None = None) -> tuple[int, str]:
    out = io.StringIO()
    env = Environment(stdout=out, stderr=stderr or io.StringIO(), stdin=io.BytesIO(), environ={})
    return main([*argv, "--no-color"], env), out.getvalue()


def call_ids(out: str) -> list[str]:
    return [line.split("│")[-2].strip() for line in out.splitlines()
            if line.startswith("│") and "@" in line.split("│")[-2]]


def test_fail_on_sets_the_exit_status() -> None:
    assert run([SERVER_ERRORS])[0] == ExitStatus.FINDINGS  # three errors
    assert run([SERVER_ERRORS, "--fail-on", "never"])[0] == ExitStatus.OK
    assert run([BUSY])[0] == ExitStatus.OK  # busy is an info finding
    assert run([BUSY, "--fail-on", "info"])[0] == ExitStatus.FINDINGS
    assert run([OPTIONS])[0] == ExitStatus.OK  # warnings only
    assert run([OPTIONS, "--fail-on", "warning"])[0] == ExitStatus.FINDINGS


def test_choosing_calls_by_call_id_user_address_and_time() -> None:
    _, everything = run([SERVER_ERRORS])
    ids = call_ids(everything)
    assert len(ids) == 3
    _, one = run([SERVER_ERRORS, "--call", ids[1]])
    assert call_ids(one) == [ids[1]]
    assert "Ladder of " + ids[1] in one  # --call draws the ladder
    assert call_ids(run([SERVER_ERRORS, "--since", "+4", "--until", "+6"])[1]) == [ids[1]]
    assert call_ids(run([SERVER_ERRORS, "--since", "2023-11-14T22:13:25"])[1]) == ids[1:]
    assert call_ids(run([SERVER_ERRORS, "--ip", "198.51.100.1"])[1]) == ids
    assert call_ids(run([SERVER_ERRORS, "--ip", "203.0.113.99"])[1]) == []
    assert call_ids(run([SERVER_ERRORS, "--user", "bob"])[1]) == ids
    assert call_ids(run([SERVER_ERRORS, "--user", "nobody"])[1]) == []


def test_failed_keeps_failing_calls_and_their_findings_only() -> None:
    _, out = run([OPTIONS, "--failed"])
    text = " ".join(out.split())
    assert "Other exchanges 2 (2 timeout)" in text
    findings = text[text.index("Findings"):text.index("Verdict")]
    assert findings.count("WARNING N105") == 2  # the two OPTIONS never answered
    assert "WARNING N105 options-unanswered x2" in text[text.index("Verdict"):]


def test_bad_filter_values_are_usage_errors() -> None:
    err = io.StringIO()
    assert run([BUSY, "--ip", "not-an-ip"], err)[0] == ExitStatus.ERROR
    assert "'not-an-ip' is not an IP address" in err.getvalue()
    assert run([BUSY, "--since", "yesterday"])[0] == ExitStatus.ERROR


def test_ladder_flag_draws_failing_calls_only() -> None:
    _, out = run([str(SAMPLES / "calls" / "no-ack-32s.pcap"), "--ladder"])
    assert "Ladder of no-ack-32s-1@127.0.0.1 (frame 1, dropped)" in out
    assert "200 OK (copy 11)" in out
    _, healthy = run([str(SAMPLES / "calls" / "basic-call.pcap"), "--ladder"])
    assert "Ladder of" not in healthy


def test_figures_of_the_summary() -> None:
    _, out = run([str(SAMPLES / "rules" / "loops-482-483.pcap")])
    text = " ".join(out.split())
    assert "Answer-seizure ratio (ASR) 0.0% (0 of 2 attempts)" in text
    _, out = run([str(SAMPLES / "calls" / "basic-call.pcap")])
    text = " ".join(out.split())
    assert "Answer-seizure ratio (ASR) 100.0% (1 of 1 attempts)" in text
    assert "Post-dial delay 1 calls: mean" in text


def test_spread_uses_the_nearest_rank_percentile() -> None:
    found = spread([float(n) for n in range(1, 21)])  # 1..20
    assert found is not None
    assert (found.count, found.mean, found.median, found.p95, found.max) == (20, 10.5, 10.5,
                                                                              19.0, 20.0)
    assert spread([]) is None


def test_arrows_go_from_sender_to_receiver_with_the_label_between() -> None:
    right = draw(0, 1, 3, 14, "INVITE")
    assert right == "       │─── INVITE ─▶│             │"
    left = draw(1, 0, 3, 14, "INVITE")
    assert left == "       │◀── INVITE ──│             │"
    far = draw(0, 2, 3, 14, "180 Ringing")
    assert far.startswith("       │") and far.endswith("─▶│") and "180 Ringing" in far
    assert far.index("│", 8) == 21 + 14  # it passes over the middle lane
    assert "…" in draw(0, 1, 2, 14, "481 Call/Transaction Does Not Exist")  # cut to fit


def test_wide_labels_stay_aligned() -> None:
    assert cell_len(draw(0, 1, 2, 20, "200 はい")) == cell_len(draw(0, 1, 2, 20, "200 OK"))
    assert draw(0, 1, 2, 20, "200 はい").endswith("▶│")


def test_progress_bar_only_on_a_terminal() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    err = Tty()
    capture = SAMPLES / "calls" / "basic-call.pcap"
    run([str(capture)], err)
    kb = capture.stat().st_size / 1000  # rich counts in decimal units
    drawn = err.getvalue()
    assert f"{kb:.1f}/{kb:.1f} kB" in drawn  # the bar reached the whole file
    assert drawn.endswith("\r\x1b[1A\x1b[2K")  # then erased (transient)
    quiet = Tty()
    run([str(SAMPLES / "calls" / "basic-call.pcap"), "--quiet"], quiet)
    assert quiet.getvalue() == ""


def test_long_tables_are_printed_as_they_come_with_the_same_rows(monkeypatch) -> None:
    _, boxed = run([SERVER_ERRORS])
    monkeypatch.setattr(terminal, "BOXED_ROWS", 1)
    _, streamed = run([SERVER_ERRORS, "--wide"])
    boxed_rows = [line.strip("│ ").split("│") for line in boxed.splitlines()
                  if line.startswith("│") and "@" in line]
    streamed_lines = [line for line in streamed.splitlines() if line[:1].isdigit() and "@" in line]
    assert len(boxed_rows) >= 3
    assert len(streamed_lines) == len(boxed_rows)
    for cells, line in zip(boxed_rows, streamed_lines, strict=True):
        assert line.split() == " ".join(cells).split()  # the Call-ID whole in both


def test_each_result_holds_the_findings_the_list_by_severity_tells_of_it() -> None:
    """Two readings of the one spool of results: each call's and exchange's own findings, and
    every finding most severe first; they must tell the same findings of each."""
    analysis = analyze(SERVER_ERRORS, engine=load_engine())
    told: dict[tuple[str, int], list[str]] = {}
    for finding in analysis.findings:
        told.setdefault((finding.call_id, finding.call_frame), []).append(finding.rule.id)
    seen = 0
    for result in [*analysis.calls, *analysis.exchanges]:
        held = [f.rule.id for f in result.findings]
        assert held == told.get((result.call_id, result.first_frame), [])
        seen += len(held)
    assert seen == len(analysis.findings) == len(list(analysis.findings)) > 0
