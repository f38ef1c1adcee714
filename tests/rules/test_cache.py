"""The compiled rule set: kept in the cache, read back while the rule files are the same,
built again as soon as one changes, and never in the way when the cache cannot be used."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sipdiag.cli import main
from sipdiag.cli.common import Environment
from sipdiag.rules import load_engine
from sipdiag.rules.cache import cache_folder
from tests.conftest import SAMPLES
from tests.rules.test_rule_errors import RULE, write

TITLE = "  en: BYE rejected\n"


def users_rule(folder: Path, title: str) -> Path:
    return write(folder, RULE.replace(TITLE, f"  en: {title}\n"), "X901-bye-rejected.yaml")


def title_of(folder: Path, cache: Path | None) -> str:
    rule = load_engine([folder], cache).rules.by_id("X901")
    assert rule is not None
    return rule.title.render({}, "en")


def test_a_changed_rule_file_is_read_again_not_taken_from_the_cache(tmp_path: Path) -> None:
    folder, cache = tmp_path / "mine", tmp_path / "cache"
    path = users_rule(folder, "BYE refused")
    assert title_of(folder, cache) == "BYE refused"
    [kept] = cache.iterdir()
    assert title_of(folder, cache) == "BYE refused" and list(cache.iterdir()) == [kept]
    stat = path.stat()
    users_rule(folder, "BYE turned down")  # the same size and time would not fool it
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert title_of(folder, cache) == "BYE turned down"
    assert len(list(cache.iterdir())) == 2


def test_what_the_cache_gives_is_what_the_files_give(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    load_engine((), cache)
    cached, built = load_engine((), cache), load_engine()
    assert [r.id for r in cached.rules.rules] == [r.id for r in built.rules.rules]
    assert cached.rules.rules == built.rules.rules
    assert cached.catalog.outcomes == built.catalog.outcomes


def test_a_damaged_cache_file_is_built_again(tmp_path: Path) -> None:
    folder, cache = tmp_path / "mine", tmp_path / "cache"
    users_rule(folder, "BYE refused")
    title_of(folder, cache)
    [kept] = cache.iterdir()
    kept.write_bytes(b"\x80\x05 not a pickle")
    assert title_of(folder, cache) == "BYE refused"


def test_a_cache_that_cannot_be_written_is_passed_over(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("in the way")
    folder = tmp_path / "mine"
    users_rule(folder, "BYE refused")
    assert title_of(folder, blocked / "cache") == "BYE refused"


@pytest.mark.parametrize(("environ", "expected"), [
    ({"SIPDIAG_CACHE": "off"}, None),
    ({"SIPDIAG_CACHE": "/somewhere"}, Path("/somewhere")),
    ({"XDG_CACHE_HOME": "/xdg"}, Path("/xdg/sipdiag")),
    ({}, Path.home() / ".cache" / "sipdiag"),
])
def test_where_the_cache_is(environ: dict[str, str], expected: Path | None) -> None:
    assert cache_folder(environ) == expected


def test_the_command_line_keeps_its_rules_in_the_cache_folder(tmp_path: Path) -> None:
    out = io.StringIO()
    environ = {"SIPDIAG_CACHE": str(tmp_path)}
    env = Environment(stdout=out, stderr=io.StringIO(), stdin=io.BytesIO(), environ=environ)
    assert main([str(SAMPLES / "calls" / "basic-call.pcap"), "--format", "json"], env) == 0
    assert [p.suffix for p in tmp_path.iterdir()] == [".pickle"]


def test_a_run_whose_rules_come_from_the_cache_does_not_load_the_yaml_parser(
    tmp_path: Path,
) -> None:
    """Start-up: the first run reads the rule files (PyYAML), the next ones only the cache."""
    sample = SAMPLES / "rules" / "server-errors.pcap"
    script = ("import sys; from sipdiag.cli import main; "
              f"code = main([{str(sample)!r}, '--format', 'json', '--fail-on', 'never']); "
              "print('yaml' in sys.modules, file=sys.stderr); sys.exit(code)")
    env = {**os.environ, "SIPDIAG_CACHE": str(tmp_path / "cache")}
    runs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           env=env, check=True) for _ in range(2)]
    assert [run.stderr.split()[-1] for run in runs] == ["True", "False"]
