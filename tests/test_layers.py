"""The layering of pyproject.toml's import-linter contracts holds: each layer imports only the
layers below it, the middle layers do no terminal, process or socket I/O, and only the
terminal writers import rich."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def test_the_import_contracts_are_kept() -> None:
    lint = Path(sys.executable).parent / "lint-imports"  # import-linter: a test dependency
    done = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stdout[-2000:]
    assert "Contracts: 3 kept, 0 broken." in done.stdout


@pytest.mark.parametrize("form", ["json", "junit", "markdown", "html"])
def test_a_report_for_a_program_or_a_browser_loads_no_terminal_machinery(form: str) -> None:
    """rich's console is for people at a terminal: a CI job writing JSON or JUnit, or a page
    for a browser, does not pay for loading it (``rich.cells``, the width table, aside)."""
    sample = ROOT / "samples" / "rules" / "server-errors.pcap"
    script = ("import sys; from sipdiag.cli import main; "
              f"code = main([{str(sample)!r}, '--format', {form!r}, '--fail-on', 'never']); "
              "print(*sorted(m for m in sys.modules if m.startswith('rich')), file=sys.stderr); "
              "sys.exit(code)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0 and len(done.stdout) > 1000, done.stderr[-2000:]
    loaded = done.stderr.split()
    assert "rich.console" not in loaded and "rich.table" not in loaded, loaded
