"""Every output format on a few samples, compared with golden files a reviewer can read.

The files are in tests/golden/<folder>/<capture>.<format>; after an intended change to a report,
``SIPDIAG_UPDATE_GOLDEN=1 python3 -m pytest tests/report/test_golden.py`` rewrites them (then
read ``git diff tests/golden``).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from sipdiag.cli import Environment, main
from tests.conftest import ROOT
from tests.golden import check_golden, strip_trailing_spaces

SAMPLES = (
    "samples/calls/basic-call.pcap",
    "samples/calls/no-ack-32s.pcap",
    "samples/calls/options-keepalive.pcap",
    "samples/rules/reinvite-481.pcap",
    "samples/rules/codec-mismatch-488-606.pcap",
    "samples/transport/truncated.pcap",
)
FORMATS = {
    # format: (options, golden file suffix)
    "terminal": (["--no-color", "--ladder"], "terminal.txt"),
    "json": (["--format", "json", "--ladder"], "json"),
    "junit": (["--format", "junit"], "junit.xml"),
    "markdown": (["--format", "markdown"], "md"),
}
RICH_ENVIRONMENT = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS", "NO_COLOR")
"""Variables rich reads from the process environment: FORCE_COLOR would make a StringIO a
terminal, 80 columns wide instead of 200."""


def run(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.chdir(ROOT)
    for name in RICH_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    out = io.StringIO()
    env = Environment(stdout=out, stderr=io.StringIO(), stdin=io.BytesIO(), environ={})
    return main(argv, env), out.getvalue()


def golden_name(sample: str, suffix: str) -> str:
    path = Path(sample)
    return f"{path.parent.name}/{path.stem}.{suffix}"


LANGUAGE_SAMPLES = ("samples/rules/reinvite-481.pcap", "samples/rules/codec-mismatch-488-606.pcap")
TRANSLATED = ("terminal", "markdown")


@pytest.mark.parametrize("sample", LANGUAGE_SAMPLES)
@pytest.mark.parametrize("kind", TRANSLATED)
@pytest.mark.parametrize("lang", ["ko", "ja"])
def test_translated_output_matches_its_golden_file(
    sample: str, kind: str, lang: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    options, suffix = FORMATS[kind]
    _, text = run([sample, *options, "--lang", lang], monkeypatch)
    if kind == "terminal":
        text = strip_trailing_spaces(text)
    check_golden(golden_name(sample, f"{lang}.{suffix}"), text)


@pytest.mark.parametrize("sample", SAMPLES)
@pytest.mark.parametrize("kind", FORMATS)
def test_output_matches_its_golden_file(
    sample: str, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    options, suffix = FORMATS[kind]
    code, text = run([sample, *options], monkeypatch)
    assert code in (0, 1)
    assert str(ROOT) not in text  # no absolute path of this machine
    if kind == "terminal":
        text = strip_trailing_spaces(text)
    check_golden(golden_name(sample, suffix), text)


@pytest.mark.parametrize("sample", SAMPLES)
def test_every_format_gives_the_same_exit_status(
    sample: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    codes = {kind: run([sample, *options], monkeypatch)[0]
             for kind, (options, _) in FORMATS.items()}
    assert len(set(codes.values())) == 1, codes


def test_the_golden_files_are_the_ones_the_test_writes() -> None:
    """No stale file is left behind when a sample or a format is taken off the lists."""
    folder = ROOT / "tests" / "golden"
    expected = {golden_name(s, suffix) for s in SAMPLES for _, suffix in FORMATS.values()}
    expected |= {golden_name(s, f"{lang}.{FORMATS[kind][1]}") for s in LANGUAGE_SAMPLES
                 for kind in TRANSLATED for lang in ("ko", "ja")}
    found = {str(p.relative_to(folder)) for p in folder.rglob("*")
             if p.is_file() and p.suffix != ".py" and "__pycache__" not in p.parts}
    assert expected <= found
    assert not {name for name in found - expected if not name.endswith(".html")}
