"""The suite on a clone alone: without ../shared beside the checkout the tests of the public
captures are skipped, saying why; where they are required (``SIPDIAG_PUBLIC_REQUIRED``, as .ci/run
sets it) their absence stops the run."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import PUBLIC_REQUIRED, ROOT

PUBLIC_TESTS = '''
import pytest
from tests.conftest import needs_public, public_captures

@pytest.mark.parametrize("capture", public_captures())
@needs_public
def test_each_public_capture(capture):
    assert capture

@needs_public
def test_the_public_captures():
    assert public_captures()

def test_a_sample():
    assert True
'''


def clone_without_shared(tmp_path: Path) -> Path:
    """The test harness of this checkout in a folder with no ../shared beside it."""
    clone = tmp_path / "sipdiag"
    (clone / "tests").mkdir(parents=True)
    for name in ("__init__.py", "conftest.py"):
        shutil.copy(ROOT / "tests" / name, clone / "tests" / name)
    (clone / "tests" / "test_public.py").write_text(PUBLIC_TESTS, encoding="utf-8")
    return clone


def pytest_in(clone: Path, **environ: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != PUBLIC_REQUIRED} | environ
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "0",
                           "-rs", "tests/test_public.py"], cwd=clone, env=env, text=True,
                          capture_output=True, timeout=120, check=False)


def test_a_clone_alone_skips_the_public_captures_and_says_why(tmp_path: Path) -> None:
    result = pytest_in(clone_without_shared(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 2 skipped" in result.stdout
    assert result.stdout.count("no public captures beside this checkout") == 2


def test_where_the_public_captures_are_required_their_absence_stops_the_run(
    tmp_path: Path,
) -> None:
    result = pytest_in(clone_without_shared(tmp_path), **{PUBLIC_REQUIRED: "1"})
    assert result.returncode != 0 and "passed" not in result.stdout
    assert f"{PUBLIC_REQUIRED} is set but" in result.stderr


def _uses_public(node: ast.AST, source: str) -> bool:
    return bool(USES_PUBLIC.search(ast.get_source_segment(source, node) or ""))


USES_PUBLIC = re.compile(r"\bPUBLIC\b|\bpublic_captures\(")


def _marked_module(tree: ast.Module) -> bool:
    """``pytestmark = needs_public``: every test of the module is marked."""
    return any(isinstance(node, ast.Assign) and ast.unparse(node) == "pytestmark = needs_public"
               for node in tree.body)


def _marked(node: ast.FunctionDef) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "needs_public" for d in node.decorator_list)


def _unmarked(path: Path) -> list[str]:
    """The tests of a file that read the public captures without being marked so."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    if _marked_module(tree):
        return []
    return [f"{path.relative_to(ROOT)}::{node.name}" for node in tree.body
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
            and any(_uses_public(part, source) for part in (node, *node.decorator_list))
            and not _marked(node)]


def test_every_test_of_the_public_captures_is_marked_so() -> None:
    """A test that reads ../shared without @needs_public (or a module's ``pytestmark``) would
    fail on a clone alone instead of being skipped with the reason."""
    assert [name for path in sorted((ROOT / "tests").rglob("test_*.py"))
            for name in _unmarked(path)] == []
