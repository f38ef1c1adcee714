"""What the command line checks before it reads (times, process counts, output paths), how it
reads a folder being written to (empty files, FIFOs, subfolders), and a selection that matches
nothing: each a one-line error with exit 2, or a note, never a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sipdiag.cli import ExitStatus
from tests.conftest import SAMPLES
from tests.test_cli_streams import run

SAMPLE = SAMPLES / "calls" / "basic-call.pcap"
"""One call, Call-ID basic-call-1@127.0.0.1, from alice to bob, all on 127.0.0.1."""


@pytest.mark.parametrize(("option", "words"), [
    (["--since", "+inf"], "'+inf' is not +SECONDS"),
    (["--until", "+nan"], "'+nan' is not +SECONDS"),
    (["--since", "+1e400"], "'+1e400' is not +SECONDS"),
    (["-j", "0"], "0 processes: give 1 or more"),
    (["-j", "-3"], "-3 processes: give 1 or more"),
    (["-j", "two"], "'two' is not a number of processes"),
])
def test_values_that_cannot_be_used_are_refused_before_reading(option: list[str],
                                                                 words: str) -> None:
    code, out, err = run([str(SAMPLE), *option])
    assert (code, out) == (ExitStatus.ERROR, "")
    assert words in err.splitlines()[-1]


def test_more_processes_than_cores_are_bounded_by_the_cores() -> None:
    from sipdiag.cli.options import job_count
    cores = os.cpu_count() or 1
    assert [job_count("1"), job_count(str(cores)), job_count("1000")] == [1, cores, cores]


@pytest.mark.parametrize(("where", "words"), [
    ("no-such-folder/report.html", "the folder"),
    (".", "is a folder, not a file"),
])
def test_an_html_page_that_cannot_be_written_is_refused_before_reading(
    tmp_path: Path, where: str, words: str,
) -> None:
    page = tmp_path / where
    code, out, err = run([str(SAMPLE), "-q", "--html", str(page)])
    assert (code, out) == (ExitStatus.ERROR, "")
    assert "argument --html" in err and words in err


def test_a_folder_being_written_to_is_read_and_what_was_left_out_named(tmp_path: Path) -> None:
    (tmp_path / "1.pcap").write_bytes(SAMPLE.read_bytes())
    (tmp_path / "2.pcap").write_bytes(b"")  # the next file of a rotation, just opened
    (tmp_path / "older").mkdir()
    os.mkfifo(tmp_path / "live.fifo")
    code, out, err = run([str(tmp_path), "-q", "--format", "json"])
    whole = run([str(SAMPLE), "-q", "--format", "json"])
    assert code == ExitStatus.OK and out.replace(str(tmp_path / "1.pcap"), str(SAMPLE)) == whole[1]
    assert err.splitlines() == [
        f"sipdiag: skipped {tmp_path / '2.pcap'}: empty (a capture being started?): not read",
        f"sipdiag: skipped {tmp_path / 'live.fifo'}: not a regular file (a FIFO, socket or "
        "device): not read",
        f"sipdiag: skipped {tmp_path / 'older'}: a folder: not read (name its files, or the "
        "folder itself)",
    ]


def test_a_folder_with_nothing_to_read_says_what_it_holds(tmp_path: Path) -> None:
    (tmp_path / "empty.pcap").write_bytes(b"")
    code, out, err = run([str(tmp_path)])
    assert (code, out) == (ExitStatus.ERROR, "")
    assert err == (f"sipdiag: error: {tmp_path}: the folder has no files to read; "
                   f"{tmp_path / 'empty.pcap'}: empty (a capture being started?): not read\n")


@pytest.mark.parametrize(("choice", "words"), [
    (["--call", "basic-call-2@127.0.0.1"], "--call basic-call-2@127.0.0.1; the nearest "
     "Call-IDs in the capture: basic-call-1@127.0.0.1"),
    (["--user", "bobby"], "--user bobby; the nearest users in the capture: alice, bob"),
    (["--ip", "127.0.0.2"], "--ip 127.0.0.2; the nearest addresses in the capture: 127.0.0.1"),
    (["--since", "+3600"], "--since +3600"),
])
def test_a_choice_that_matches_nothing_is_a_mistake_with_the_nearest_names(
    choice: list[str], words: str,
) -> None:
    code, out, err = run([str(SAMPLE), "-q", *choice])
    assert (code, out) == (ExitStatus.ERROR, "")
    assert err == f"sipdiag: error: no call or exchange matches {words}\n"


def test_no_failing_call_is_good_news_not_a_mistake() -> None:
    code, _, err = run([str(SAMPLE), "-q", "--failed"])
    assert (code, err) == (ExitStatus.OK, "")
