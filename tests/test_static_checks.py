"""The linters the code is held to, run by the suite so that CI runs them too: ruff (the rule
families of pyproject.toml) over the package, tests, samples and benchmarks, and mypy in strict
mode over the package. The import contracts are in test_layers.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

BIN = Path(sys.executable).parent


def test_ruff_finds_nothing() -> None:
    done = subprocess.run([str(BIN / "ruff"), "check", "--no-cache", "sipdiag", "tests",
                           "samples", "bench"], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stdout[-3000:]


def test_mypy_strict_finds_nothing() -> None:
    done = subprocess.run([str(BIN / "mypy"), "--no-incremental"], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-3000:]
    assert done.stdout.startswith("Success: no issues found")
