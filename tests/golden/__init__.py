"""Golden files: the expected output of a report, kept in this folder for a reviewer to read.

``check_golden("calls/basic-call.md", text)`` compares ``text`` with ``tests/golden/calls/
basic-call.md`` byte for byte and fails with a diff when they differ. With
``SIPDIAG_UPDATE_GOLDEN=1`` in the environment it writes ``text`` to the file instead (creating
it if need be), so that after an intended change::

    SIPDIAG_UPDATE_GOLDEN=1 python3 -m pytest tests/report/test_golden.py

rewrites the files, and ``git diff tests/golden`` shows what the change did to the reports.
Outputs must hold no absolute path and no wall-clock time: run the CLI with paths relative to
the project root (``monkeypatch.chdir(ROOT)``).

Beside each sample's golden files is ``<capture>.notes.md``, written by hand and never by the
test: what in the files was checked against tshark and against the RFCs, with the commands to
check it again, the exit code the review expects (tests/report/test_golden.py pins it in every
golden run) and any discrepancy found. A golden file that changes is reviewed again against its
note; a sample without a note, or a note without a sample, fails the test.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

GOLDEN = Path(__file__).resolve().parent
UPDATE = "SIPDIAG_UPDATE_GOLDEN"
MAX_DIFF_LINES = 80


def check_golden(name: str, actual: str) -> None:
    """Compare ``actual`` with the golden file ``tests/golden/<name>`` (or rewrite it)."""
    path = GOLDEN / name
    shown = f"tests/golden/{name}"
    if os.environ.get(UPDATE) == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="")
        return
    how = f"regenerate with {UPDATE}=1 python3 -m pytest {_test_file()} and review git diff"
    if not path.exists():
        pytest.fail(f"{shown} does not exist: {how}", pytrace=False)
    with path.open(encoding="utf-8", newline="") as handle:
        expected = handle.read()
    if actual != expected:
        diff = list(difflib.unified_diff(expected.splitlines(keepends=True),
                                         actual.splitlines(keepends=True),
                                         f"{shown} (golden)", f"{shown} (now)"))
        cut = diff[:MAX_DIFF_LINES] + (["...\n"] if len(diff) > MAX_DIFF_LINES else [])
        pytest.fail(f"the output differs from {shown}; if the change is intended, {how}\n"
                    + "".join(cut), pytrace=False)


def strip_trailing_spaces(text: str) -> str:
    """Each line without the spaces rich pads it with (a golden file is easier to read and to
    edit without them)."""
    return "\n".join(line.rstrip(" ") for line in text.split("\n"))


def _test_file() -> str:
    """The file of the running test, as pytest names it (tests/report/test_golden.py)."""
    current = os.environ.get("PYTEST_CURRENT_TEST", "")
    return current.split("::")[0] or "tests"
