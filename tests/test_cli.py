"""The command line, end to end: outputs, exit codes, errors, escaping, parallel reading."""

from __future__ import annotations

import gc
import gzip
import io
import json
from pathlib import Path

import pytest

from sipdiag import cli
from sipdiag.analysis import MessageReader, map_parts
from sipdiag.cli import Environment, ExitStatus, main
from tests import packets

T0 = 1_700_000_000_000_000_000


def run(
    argv: list[str], stdin: bytes = b"", environ: dict[str, str] | None = None
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdout=out, stderr=err, stdin=io.BytesIO(stdin), environ=environ or {})
    code = main(argv, env)
    return code, out.getvalue(), err.getvalue()


def call_capture(calls: int = 1, call_id: str = "call-{}@example.com") -> bytes:
    frames = []
    for n in range(calls):
        cid = call_id.format(n)
        for i, message in enumerate(
            [
                packets.sip_request(call_id=cid, body=packets.SDP),
                packets.sip_response(180, "Ringing", call_id=cid),
                packets.sip_response(call_id=cid, body=packets.SDP),
                packets.sip_request("ACK", call_id=cid),
            ]
        ):
            src, dst = ("192.0.2.1", "192.0.2.2") if i % 3 == 0 else ("192.0.2.2", "192.0.2.1")
            frames.append((T0 + (n * 4 + i) * 1_000_000, packets.udp4_frame(src, dst, message)))
    return packets.pcap(frames)


def test_summary_is_the_default_command(write_capture) -> None:
    code, out, err = run([str(write_capture(call_capture()))])
    assert code == ExitStatus.OK and err == ""
    lines = [" ".join(line.split()) for line in out.splitlines()]
    assert "SIP messages 4" in lines and "Frames 4" in lines
    assert "INVITE" in out and "180" in out


def test_messages_as_json_lines(write_capture) -> None:
    code, out, err = run(["messages", str(write_capture(call_capture())), "--format", "jsonl"])
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [(r["frame"], r["method"], r["status"], r["cseq"]) for r in records] == [
        (1, "INVITE", None, 1),
        (2, None, 180, 1),
        (3, None, 200, 1),
        (4, "ACK", None, 1),
    ]
    assert records[1]["time"] == "2023-11-14T22:13:20.001000000Z"
    assert records[1]["epoch"] == "1700000000.001000000" and records[1]["relative"] == 0.001
    assert records[0]["src"] == "192.0.2.1:5060" and records[0]["transport"] == "UDP"
    assert "4 frames, 4 SIP messages" in err


def test_messages_table(write_capture) -> None:
    code, out, _ = run(["messages", str(write_capture(call_capture()))])
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:4] == ["Frame", "Time", "s", "Source"]
    assert lines[2].split()[:6] == [
        "2",
        "0.001000",
        "192.0.2.2:5060",
        "192.0.2.1:5060",
        "UDP",
        "SIP/2.0",
    ]


def test_standard_input_gzipped() -> None:
    code, out, _ = run(["messages", "-", "--format", "jsonl"], stdin=gzip.compress(call_capture()))
    assert code == 0 and len(out.splitlines()) == 4


@pytest.mark.parametrize(
    ("content", "words"),
    [(b"just some notes\n", "this is text, not a packet capture"), (b"", "the file is empty")],
)
def test_not_a_capture_exits_2_with_one_line(write_capture, content: bytes, words: str) -> None:
    code, out, err = run(["messages", str(write_capture(content, "notes.txt"))])
    assert code == ExitStatus.ERROR and out == ""
    assert err.count("\n") == 1 and words in err and "Traceback" not in err


def test_missing_file_and_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run([str(tmp_path / "absent.pcap")])[0] == ExitStatus.ERROR
    assert run([])[0] == ExitStatus.ERROR
    assert run(["messages", "x.pcap", "--format", "xml"])[0] == ExitStatus.ERROR


def test_a_cut_capture_is_analysed_and_the_cut_reported(write_capture) -> None:
    data = call_capture()
    code, out, err = run(["messages", str(write_capture(data[:-30])), "--format", "jsonl"])
    assert code == 0 and len(out.splitlines()) == 3
    assert "capture_truncated x1" in err


def test_capture_text_never_becomes_markup_or_control_sequences(write_capture) -> None:
    hostile = "[bold red]x[/] \x1b]0;owned\x07\x1b[2J@evil"
    capture = packets.pcap(
        [(T0, packets.udp4_frame("192.0.2.1", "192.0.2.2", packets.sip_request(call_id=hostile)))]
    )
    code, out, _ = run(["messages", str(write_capture(capture))])
    assert code == 0
    assert "\x1b" not in out and "\x07" not in out
    assert "[bold red]x[/] \\x1b]0;owned\\x07\\x1b[2J@evil" in out


def test_parallel_reading_gives_the_same_messages(write_capture) -> None:
    path = write_capture(call_capture(calls=200))

    def messages_of(jobs: int) -> list[tuple[int, int, str, str]]:
        parts, _ = map_parts(path, jobs, _keys)
        return sorted(key for part in parts for key in part)

    single = messages_of(1)
    assert len(single) == 800
    assert messages_of(2) == single and messages_of(3) == single


def _keys(reader: MessageReader) -> list[tuple[int, int, str, str]]:
    return [(m.frame, m.ts_ns, m.call_id, m.summary) for m in reader]


def test_count_is_the_same_with_any_number_of_jobs(write_capture) -> None:
    path = str(write_capture(call_capture(calls=50)))
    outputs = {run(["messages", path, "--count", "-j", str(jobs)])[1] for jobs in (1, 2, 4)}
    assert len(outputs) == 1
    assert "total           │ 200" in outputs.pop()


SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def test_findings_are_reported_with_their_evidence() -> None:
    code, out, _ = run([str(SAMPLES / "calls" / "bye-481.pcap"), "--no-color"])
    assert code == ExitStatus.OK
    text = " ".join(out.split())
    assert "WARNING D101 bye-answered-481" in text
    assert "What happened The BYE in frame 11 from 127.0.0.1:5080 was answered 481" in text
    assert "Evidence 11 BYE +3.221 s; 12 BYE +3.221 s; 13 481 BYE +3.221 s; 14 481 BYE" in text
    code, out, _ = run([str(SAMPLES / "calls" / "bye-481.pcap"), "--format", "json"])
    [finding] = json.loads(out)["findings"]
    assert (finding["rule"], finding["severity"], finding["call_id"]) == (
        "D101", "warning", "bye-481-1@127.0.0.1")
    assert [e["frame"] for e in finding["evidence"]] == [11, 12, 13, 14]


def test_rules_lists_every_rule() -> None:
    code, out, _ = run(["rules", "--no-color"])
    assert code == 0
    for line in ("D101", "bye-answered-481", "ack_missing", "N104", "warning"):
        assert line in out


def test_explain_one_code_two_codes_a_rule_and_a_cause() -> None:
    code, out, _ = run(["explain", "481", "--no-color"])
    assert code == 0 and "481 Call/Transaction Does Not Exist" in out and "What to do " in out
    code, out, _ = run(["explain", "302", "481", "--no-color"])
    assert code == 0 and "302 Moved Temporarily" in out and "Key differences" in out
    assert "- 302 is a redirection (3xx) response, 481 is a client error (4xx) response." in out
    code, out, _ = run(["explain", "D104", "--no-color"])
    assert code == 0 and "D104 ack-missing" in out and "samples/calls/no-ack-32s.pcap" in out
    code, out, _ = run(["explain", "q850:41", "--no-color"])
    assert code == 0 and "Q.850 cause 41: Temporary failure" in out
    code, out, _ = run(["explain", "499", "--no-color"])  # unregistered: explained as 400
    assert code == 0 and "not in the IANA registry" in out and "400 Bad Request" in out


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["explain", "42"], "42 is not a SIP response code"),
        (["explain", "302", "D101"], "'D101' is not a registered SIP response code"),
        (["explain", "Z999"], "'Z999' is not a response code, a rule"),
        (["explain", "warning:999"], "the catalog has no warning entry 999"),
    ],
)
def test_explain_mistakes_exit_2_with_one_line(argv: list[str], words: str) -> None:
    code, out, err = run(argv)
    assert (code, out) == (ExitStatus.ERROR, "")
    assert err.count("\n") == 1 and words in err


def test_a_users_rule_folder_is_applied_and_a_broken_one_reported(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    rule = (SAMPLES.parent / "rules" / "calls" / "D105-bye-unanswered.yaml").read_text()
    mine_rule = mine / "X1-any-bye.yaml"
    mine_rule.write_text(
        rule.replace("id: D105", "id: X1").replace("name: bye-unanswered", "name: any-bye")
        .replace("    timed_out: true\n", "").replace("severity: warning", "severity: error")
    )
    capture = str(SAMPLES / "calls" / "basic-call.pcap")
    code, out, _ = run([capture, "--rules", str(mine), "--no-color"])
    assert code == ExitStatus.FINDINGS and "ERROR  X1 any-bye" in out
    code, out, _ = run(["rules", "--rules", str(mine), "--no-color"])
    assert "X1" in out
    mine_rule.write_text(mine_rule.read_text().replace("severity: error", "severity: dire"))
    code, out, err = run([capture, "--rules", str(mine)])
    assert (code, out) == (ExitStatus.ERROR, "")
    line = mine_rule.read_text().splitlines().index("severity: dire") + 1
    assert err == (f"sipdiag: error: {mine_rule}:{line}: 'severity' must be one of info, "
                   "warning, error (found 'dire')\n")


def test_the_program_runs_the_collector_less_often_then_main(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``sipdiag`` (``program``) sets the collector's thresholds before it runs ``main`` on
    the process's arguments; tests that call ``main`` keep Python's own."""
    seen: list[tuple[int, int, int]] = []
    monkeypatch.setattr(cli, "main", lambda: seen.append(gc.get_threshold()) or 3)
    before = gc.get_threshold()
    try:
        assert cli.program() == 3
    finally:
        gc.set_threshold(*before)
    assert seen == [cli.GC_THRESHOLDS] and cli.GC_THRESHOLDS[0] > before[0]
