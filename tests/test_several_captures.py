"""Several captures read as one (merged in time order, numbered as mergecap numbers them), and
the analysis shared by several processes giving the same result as one."""

from __future__ import annotations

import gc
import io
import json
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from sipdiag.analysis import Analysis, analyze
from sipdiag.cli import Environment, ExitStatus, main
from sipdiag.dialogs.select import Ladders
from sipdiag.report.document import document, write_json
from sipdiag.rules import load_engine
from tests.conftest import PUBLIC, SAMPLES, needs_public, public_captures, sample_captures

CALLS = SAMPLES / "calls"
ENGINE = load_engine()


@pytest.fixture(autouse=True)
def _no_stale_signal_wakeup() -> Iterator[None]:
    """pyshark's asyncio loop (the differential tests, earlier in this process) leaves a
    SIGCHLD handler and a signal wakeup pipe behind after it closes; the exit of a forked worker
    would then be reported as an error writing to that pipe. A sipdiag process has neither."""
    signal.set_wakeup_fd(-1)
    previous = signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    yield
    signal.signal(signal.SIGCHLD, previous)


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, Environment(stdout=out, stderr=err, stdin=io.BytesIO(), environ={}))
    return code, out.getvalue(), err.getvalue()


def tool(*argv: str | Path) -> None:
    subprocess.run([str(a) for a in argv], check=True, capture_output=True, timeout=60)


def split(capture: Path, folder: Path, packets: int) -> list[Path]:
    """The capture cut into files of ``packets`` frames each (as ``editcap -c`` rotates)."""
    tool("editcap", "-F", "pcap", "-c", packets, capture, folder / "part.pcap")
    return sorted(folder.glob("part*.pcap"))


def without_file(value: dict[str, object]) -> dict[str, object]:
    capture = dict(value["capture"])  # type: ignore[call-overload]
    del capture["file"], capture["format"]
    return {**value, "capture": capture}


@pytest.mark.parametrize("name", ["basic-call", "tcp-call", "no-ack-32s", "bye-481", "busy"])
def test_a_capture_cut_into_files_is_analysed_as_the_whole(name: str, tmp_path: Path) -> None:
    whole = CALLS / f"{name}.pcap"
    parts = split(whole, tmp_path, 3)
    assert len(parts) >= 2
    expected = document(analyze(whole, engine=ENGINE, ladders=Ladders.ALL))
    # given in the wrong order on purpose: frames are merged by time, not by argument order
    found = document(analyze(parts[::-1], engine=ENGINE, ladders=Ladders.ALL))
    assert without_file(found) == without_file(expected)
    assert found["capture"]["file"] == " + ".join(str(p) for p in parts[::-1])  # type: ignore[index]


def test_interleaved_captures_are_numbered_as_mergecap_numbers_them(tmp_path: Path) -> None:
    # busy.pcap moved back in time so that its frames fall between those of basic-call.pcap
    shifted = tmp_path / "busy-shifted.pcap"
    tool("editcap", "-F", "pcap", "-t", "-13.9", CALLS / "busy.pcap", shifted)
    merged = tmp_path / "merged.pcapng"
    tool("mergecap", "-w", merged, CALLS / "basic-call.pcap", shifted)
    basic = str(CALLS / "basic-call.pcap")
    _, ours, _ = run(["messages", "--format", "jsonl", str(shifted), basic])
    _, theirs, _ = run(["messages", "--format", "jsonl", str(merged)])
    rows = [json.loads(line) for line in ours.splitlines()]
    assert [(r["frame"], r["time"], r["call_id"]) for r in rows] == [
        (r["frame"], r["time"], r["call_id"]) for r in map(json.loads, theirs.splitlines())
    ]
    call_ids = [r["call_id"] for r in rows]
    assert call_ids != sorted(call_ids)  # really interleaved


def test_a_folder_is_its_files_read_as_one(tmp_path: Path) -> None:
    parts = split(CALLS / "bye-481.pcap", tmp_path, 4)
    (tmp_path / ".hidden").write_bytes(b"not read")
    code, from_folder, _ = run([str(tmp_path), "--format", "json", "--fail-on", "warning"])
    _, from_files, _ = run([*map(str, parts), "--format", "json"])
    assert code == ExitStatus.FINDINGS  # the 481 to the BYE is a warning
    assert from_folder == from_files


def test_a_file_cut_short_among_several_is_named(tmp_path: Path) -> None:
    first, second = split(CALLS / "basic-call.pcap", tmp_path, 7)
    second.write_bytes(second.read_bytes()[:-10])
    code, out, _ = run([str(first), str(second), "--format", "json"])
    problems = json.loads(out)["capture"]["problems"]
    assert code == ExitStatus.OK
    (truncated,) = [p for p in problems if p["kind"] == "capture_truncated"]
    assert truncated["examples"][0]["detail"].startswith(f"{second}, its frame 7: ")


@pytest.mark.parametrize("argv", [["-", "x.pcap"], ["-", "-"]])
def test_standard_input_is_read_alone(argv: list[str]) -> None:
    code, _, err = run(argv)
    assert code == ExitStatus.ERROR
    assert err == "sipdiag: error: standard input (-) can only be read alone\n"


def test_an_empty_folder_is_an_error(tmp_path: Path) -> None:
    code, _, err = run([str(tmp_path)])
    assert code == ExitStatus.ERROR
    assert "the folder has no files to read" in err


CAPTURES = [*sample_captures(), *(c.path for c in public_captures())]
"""Every capture, readable or not: one that cannot be read must fail alike with two processes."""


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_two_processes_find_exactly_what_one_finds(capture: Path) -> None:
    """The same analysis, and the same JSON bytes (with two processes, each encodes the calls
    and exchanges it analysed, merged by first frame: links and findings about the whole
    capture added in the process that encodes them)."""
    one = analyze(capture, engine=ENGINE, ladders=Ladders.ALL, jobs=1)
    two = analyze(capture, engine=ENGINE, ladders=Ladders.ALL, jobs=2)
    assert document(two) == document(one)
    assert _json_text(two) == _json_text(one)


def _json_text(analysis: Analysis) -> str:
    out = io.StringIO()
    write_json(analysis, out)
    return out.getvalue()


def test_the_command_line_output_is_the_same_with_any_number_of_processes() -> None:
    capture = str(SAMPLES / "rules" / "server-errors.pcap")
    outputs = {jobs: run([capture, "--no-color", "--ladder", "-j", jobs]) for jobs in ("1", "3")}
    assert outputs["1"] == outputs["3"]
    assert outputs["1"][0] == ExitStatus.FINDINGS


@needs_public
def test_public_captures_are_there() -> None:
    assert PUBLIC.is_dir() and len(CAPTURES) > 60
    assert shutil.which("mergecap") and shutil.which("editcap")


class _Closes(io.StringIO):
    """A reader that leaves after the first call's line."""

    def write(self, text: str) -> int:
        if '"call_id"' in text:
            raise BrokenPipeError
        return super().write(text)


def test_json_encoded_by_two_processes_leaves_no_file_when_the_reader_leaves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    analysis = analyze(SAMPLES / "rules" / "server-errors.pcap", engine=ENGINE, jobs=2)
    assert len(analysis.calls) > 1
    with pytest.raises(BrokenPipeError):
        write_json(analysis, _Closes())
    del analysis
    gc.collect()
    assert not list(tmp_path.glob("sipdiag-*.jsonl"))
