"""The report as a person sees it: the real ``sipdiag`` command run in a terminal (tmux) of a
given size, and the terminal's screen read back, row by row, as the terminal drew it.

``run_in_terminal(["samples/calls/basic-call.pcap"], 80, 24)`` starts a tmux server of its own
(a socket in a fresh temporary folder, no configuration file of the user's, never the user's
server), runs the venv's ``sipdiag`` in a detached session of exactly 80 columns and 24 rows (no
status line), waits until the command has exited (at most ``TIMEOUT`` seconds; the shell that
ran it says so in the pane's title), reads the whole pane with ``capture-pane`` (the scrollback and
the screen, rows cut where the terminal wrapped them) and kills the server.

The environment is fixed: TERM=xterm-256color (colours on, NO_COLOR not set), LANG=C.UTF-8,
TZ=UTC (the call list prints times of day), HOME an empty folder, and the command runs from the
project root with relative paths, so that no screen holds a path of this machine.

``check_snapshot`` compares a screen with its file in tests/snapshots/ and rewrites the file
with ``SIPDIAG_UPDATE_GOLDEN=1``, as tests/golden does for the golden files.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.golden import MAX_DIFF_LINES, UPDATE

SNAPSHOTS = ROOT / "tests" / "snapshots"
SIPDIAG = Path(sys.executable).parent / "sipdiag"
"""The venv's entry point, the command a person types."""
TIMEOUT = 20.0
"""Seconds a run may take, from the start of tmux to the exit of sipdiag."""
SESSION = "sipdiag"
CONFIG = """\
set -g status off
set -g history-limit 100000
set -g default-terminal xterm-256color
"""
"""No status line (the pane is the whole terminal); all the output kept in the scrollback;
TERM=xterm-256color inside the pane."""
EXITED = "sipdiag exited "
SHELL = f'"$@"; printf "\\033]2;{EXITED}%d\\033\\\\" "$?"; exec sleep {2 * TIMEOUT:.0f}'
"""Run in the pane by ``sh -c``: sipdiag, then its exit status written as the pane's title (an
OSC 2 sequence, which changes nothing on the screen). The terminal reads the title after all
that sipdiag wrote, so once tmux shows it as ``pane_title`` the screen is complete. The shell
then stays (until the server is killed): tmux 3.3 at times never reaps a pane's command that has
exited, and the pane's dead status never comes."""
ENVIRONMENT = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "TZ": "UTC",
               "TERM": "xterm-256color"}
SGR = re.compile(r"\x1b\[[0-9;:]*m")


def require_tmux() -> str:
    """The path of tmux; the test fails, saying how to install it, when it is missing (CI
    installs it: a missing tmux must not pass as skipped tests)."""
    found = shutil.which("tmux")
    if found is None:
        pytest.fail("tmux is not installed: the screen tests run sipdiag in a real terminal "
                    "(sudo apt-get install -y tmux; .ci/run installs it)", pytrace=False)
    return found


@dataclass(frozen=True)
class Terminal:
    """What the terminal showed once sipdiag had exited."""

    width: int
    height: int
    status: int
    """sipdiag's exit status."""
    rows: list[str]
    """Every row of the pane, the scrollback first and the screen last, each as the terminal
    drew it (a line longer than the width is two rows), trailing spaces left out."""
    joined: list[str]
    """The same with the rows the terminal wrapped joined again (``capture-pane -J``): a line
    sipdiag wrote is one item, however many rows it took."""
    styled_last: str
    """The last screen with its colours (``capture-pane -e``: SGR escapes)."""

    @property
    def first(self) -> list[str]:
        """The first screen of the report (the top of the scrollback)."""
        return self.rows[: self.height]

    @property
    def last(self) -> list[str]:
        """The last screen: what the person sees when the command has returned."""
        return self.rows[-self.height:]


def _tmux(tmux: str, socket: Path, *args: str) -> str:
    result = subprocess.run([tmux, "-S", str(socket), *args], capture_output=True, text=True,
                            env=_environment(socket.parent), timeout=TIMEOUT, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"tmux {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def _environment(home: Path) -> dict[str, str]:
    """ENVIRONMENT, with PYTHONPATH if the tests have one (the sipdiag they import, from another
    checkout sharing this venv, is then the one the terminal runs)."""
    passed = {name: os.environ[name] for name in ("PYTHONPATH",) if name in os.environ}
    return {**ENVIRONMENT, **passed, "HOME": str(home)}


def _rows(text: str) -> list[str]:
    assert text.endswith("\n"), text[-80:]
    return [row.rstrip(" ") for row in text[:-1].split("\n")]


def run_in_terminal(argv: list[str], width: int, height: int) -> Terminal:
    """Run ``sipdiag *argv`` from the project root in a terminal ``width`` x ``height``."""
    tmux = require_tmux()
    # a short folder of its own: a socket path is limited to about 100 bytes
    folder = Path(tempfile.mkdtemp(prefix="sipdiag-tmux-"))
    socket = folder / "socket"
    config = folder / "tmux.conf"
    config.write_text(CONFIG, encoding="utf-8")
    try:
        started = time.monotonic()
        _tmux(tmux, socket, "-f", str(config), "new-session", "-d", "-s", SESSION,
              "-x", str(width), "-y", str(height), "-c", str(ROOT),
              "--", "sh", "-c", SHELL, "sh", str(SIPDIAG), *argv)
        while not (title := _tmux(tmux, socket, "display-message", "-p", "-t", SESSION,
                                  "#{pane_title}").strip()).startswith(EXITED):
            if time.monotonic() - started > TIMEOUT:
                screen = _tmux(tmux, socket, "capture-pane", "-p", "-t", SESSION)
                pytest.fail(f"sipdiag {' '.join(argv)} still running after {TIMEOUT} s at "
                            f"{width}x{height}; its screen:\n{screen}", pytrace=False)
            time.sleep(0.05)
        status = title.removeprefix(EXITED)
        size = _tmux(tmux, socket, "display-message", "-p", "-t", SESSION,
                     "#{pane_width} #{pane_height} #{history_size}").split()
        whole = ["capture-pane", "-p", "-t", SESSION, "-S", "-", "-E", "-"]
        rows = _rows(_tmux(tmux, socket, *whole))
        joined = _rows(_tmux(tmux, socket, *whole, "-J"))
        styled = _tmux(tmux, socket, "capture-pane", "-p", "-e", "-t", SESSION)
    finally:
        subprocess.run([tmux, "-S", str(socket), "kill-server"], capture_output=True,
                       env=_environment(folder), timeout=TIMEOUT, check=False)
        shutil.rmtree(folder, ignore_errors=True)
    # the terminal is the size asked for, and the capture is its history then its screen
    assert [int(n) for n in size[:2]] == [width, height], size
    assert len(rows) == int(size[2]) + height, (len(rows), size)
    return Terminal(width, height, int(status), rows, joined, styled)


def plain(styled: str) -> str:
    """A styled capture without its colours."""
    return SGR.sub("", styled)


def check_snapshot(name: str, actual: str,
                   written_by: str = "tests/report/test_screens.py") -> None:
    """Compare ``actual`` with ``tests/snapshots/<name>`` (rewrite it with
    ``SIPDIAG_UPDATE_GOLDEN=1`` and the tests ``written_by``)."""
    path = SNAPSHOTS / name
    shown = f"tests/snapshots/{name}"
    if os.environ.get(UPDATE) == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="")
        return
    how = (f"regenerate with {UPDATE}=1 python3 -m pytest {written_by}, then "
           f"read the screens in git diff tests/snapshots")
    if not path.exists():
        pytest.fail(f"{shown} does not exist: {how}", pytrace=False)
    with path.open(encoding="utf-8", newline="") as handle:
        expected = handle.read()
    if actual != expected:
        diff = list(difflib.unified_diff(expected.splitlines(keepends=True),
                                         actual.splitlines(keepends=True),
                                         f"{shown} (snapshot)", f"{shown} (now)"))
        cut = diff[:MAX_DIFF_LINES] + (["...\n"] if len(diff) > MAX_DIFF_LINES else [])
        pytest.fail(f"the screen differs from {shown}; if the change is intended, {how}\n"
                    + "".join(cut), pytrace=False)
