"""Where the command line writes: help and version to stdout (``sipdiag --help | less``), errors
to stderr; a reader that leaves early (``| head``) ends the run quietly; an output that cannot be
written is one line and exit 2. Options may come before the capture (``sipdiag -q X.pcap``)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sipdiag import __version__
from sipdiag.cli import Environment, ExitStatus, main
from tests.conftest import SAMPLES

SAMPLE = SAMPLES / "calls" / "basic-call.pcap"


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, Environment(stdout=out, stderr=err, stdin=io.BytesIO(), environ={}))
    return code, out.getvalue(), err.getvalue()


def sipdiag(argv: list[str], stdout: int) -> subprocess.CompletedProcess[bytes]:
    """sipdiag in a process of its own, its standard output the given file descriptor."""
    return subprocess.run([sys.executable, "-m", "sipdiag", *argv], stdout=stdout,
                          stderr=subprocess.PIPE, timeout=120, check=False)


@pytest.mark.parametrize("argv", [["--help"], ["-h"], ["analyze", "--help"], ["rules", "-h"]])
def test_help_asked_for_goes_to_stdout(argv: list[str]) -> None:
    code, out, err = run(argv)
    assert (code, err) == (ExitStatus.OK, "")
    assert out.startswith("usage: sipdiag")


def test_version_goes_to_stdout() -> None:
    assert run(["--version"]) == (ExitStatus.OK, f"sipdiag {__version__}\n", "")


def test_a_usage_error_goes_to_stderr() -> None:
    code, out, err = run([str(SAMPLE), "--no-such-option"])
    assert (code, out) == (ExitStatus.ERROR, "")
    assert "unrecognized arguments: --no-such-option" in err


@pytest.mark.parametrize("options", [["-q"], ["--failed"], ["--format", "json", "-q"],
                                     ["--lang", "ko"]])
def test_options_before_the_capture_are_the_analysis_options(options: list[str]) -> None:
    before = run([*options, str(SAMPLE)])
    assert before == run([str(SAMPLE), *options])
    assert before[0] == ExitStatus.OK and SAMPLE.name in before[1]


@pytest.mark.parametrize("argv", [[str(SAMPLE)], ["messages", str(SAMPLE)],
                                  [str(SAMPLE), "--format", "json"], ["rules"]])
def test_a_reader_that_leaves_ends_the_run_quietly(argv: list[str]) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone before the first byte: every write meets EPIPE
    try:
        result = sipdiag(argv, write_end)
    finally:
        os.close(write_end)
    assert result.returncode == ExitStatus.OK
    assert b"Error" not in result.stderr and b"Traceback" not in result.stderr


def test_a_full_disk_is_one_line_and_exit_2() -> None:
    if not Path("/dev/full").exists():  # Linux's always-full device
        pytest.fail("this test needs /dev/full")
    with open("/dev/full", "wb") as full:
        result = sipdiag([str(SAMPLE), "-q"], full.fileno())
    assert result.returncode == ExitStatus.ERROR
    assert result.stderr.decode().splitlines()[-1] == "sipdiag: error: No space left on device"
