"""``sipdiag ui`` on the command line: Textual missing, standard input, not a capture."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from sipdiag.cli import Environment, main
from tests.conftest import SAMPLES


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), Environment(stdout=out, stderr=err, environ={}))
    return code, out.getvalue(), err.getvalue()


def test_without_textual_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "textual", None)  # import textual now fails
    code, out, err = run("ui", str(SAMPLES / "calls" / "busy.pcap"))
    assert code == 2 and out == ""
    assert err == "sipdiag: the ui needs Textual: pip install 'sipdiag[ui]'\n"


def test_standard_input_is_refused() -> None:
    code, _, err = run("ui", "-")
    assert code == 2 and "give files, not standard input" in err


def test_a_file_that_is_not_a_capture_is_one_line_and_exit_2(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a capture\n")
    code, _, err = run("ui", str(text))
    assert code == 2 and err.startswith("sipdiag: error: ") and err.count("\n") == 1


def test_the_app_is_started_with_the_files_and_the_language(
        monkeypatch: pytest.MonkeyPatch) -> None:
    started = {}

    def fake_run(self):  # type: ignore[no-untyped-def]
        started.update(paths=self.paths, language=self.language)
        return None

    monkeypatch.setattr("sipdiag.ui.app.SipdiagApp.run", fake_run)
    folder = SAMPLES / "calls"
    code, _, _ = run("ui", "--lang", "ko", str(folder / "busy.pcap"), str(folder / "tcp-call.pcap"))
    assert code == 0
    assert started == {"paths": [str(folder / "busy.pcap"), str(folder / "tcp-call.pcap")],
                       "language": "ko"}


def test_ui_is_listed_in_the_help() -> None:
    code, out, _ = run("--help")
    assert code == 0 and "ui" in out and "interactive terminal UI" in out
