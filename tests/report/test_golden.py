"""Every output format on a few samples, compared with golden files a reviewer can read.

The files are in tests/golden/<folder>/<capture>.<format>; after an intended change to a report,
``SIPDIAG_UPDATE_GOLDEN=1 python3 -m pytest tests/report/test_golden.py`` rewrites them (then
read ``git diff tests/golden``).

Beside each sample's golden files is ``<capture>.notes.md``, written by hand: what in them was
checked against tshark (frames, times, addresses, Call-IDs, counts) and against the RFCs (each
finding's verdict, each call's outcome), with the commands to check it again, and any
discrepancy found. Rewriting a golden file means reading its note again. Every golden run pins
the exit code ``EXIT_CODES`` says the capture must give.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from sipdiag.cli import Environment, main
from tests.conftest import ROOT
from tests.golden import GOLDEN, check_golden, strip_trailing_spaces

SEVERITIES = ("none", "info", "warning", "error")
"""The most severe finding a capture can give, least severe first (``none``: no finding)."""

EXIT_CODES = {
    # sample: (exit code with the default --fail-on error, most severe finding, why)
    "samples/calls/basic-call.pcap": (
        0, "none", "one call through a proxy, answered, ACKed and ended by a BYE answered 200 on "
        "both legs: nothing to report"),
    "samples/calls/no-ack-32s.pcap": (
        1, "error", "the 2xx is sent 11 times and never ACKed, then the callee sends BYE after "
        "64*T1 (RFC 3261 13.3.1.4): D104, an error"),
    "samples/calls/options-keepalive.pcap": (
        0, "warning", "two OPTIONS keep-alives never answered (10 copies each, RFC 3261 17.1.2.2): "
        "N105 warnings, below the default --fail-on error"),
    "samples/rules/reinvite-481.pcap": (
        1, "error", "a re-INVITE answered 481, the dialog gone at the far end (RFC 3261 12.2.2, "
        "12.2.1.2): D102, an error; the BYE answered 481 (15.1.2) only a warning"),
    "samples/rules/codec-mismatch-488-606.pcap": (
        1, "error", "both INVITEs refused for want of a common codec, 488 and 606 (RFC 3261 "
        "21.4.26, 21.6.4; RFC 3264 6): C116 errors; the Warning 305 decoded is info"),
    "samples/transport/truncated.pcap": (
        0, "none", "cut short in frame 5: damage is reported, not an error; the 4 frames left hold "
        "a call answered and still up, nothing to report"),
}
"""The exit code each golden sample must give, from what the capture holds and the findings the
review in its notes file says must be there: 0 no finding at or above --fail-on, 1 one."""

SAMPLES = tuple(EXIT_CODES)
FORMATS = {
    # format: (options, golden file suffix)
    "terminal": (["--no-color", "--ladder"], "terminal.txt"),
    "json": (["--format", "json", "--ladder"], "json"),
    "junit": (["--format", "junit"], "junit.xml"),
    "markdown": (["--format", "markdown"], "md"),
}
NOTES = "notes.md"
"""The suffix of the note written by hand beside each sample's golden files."""
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


def expected_code(sample: str, fail_on: str = "error") -> int:
    """1 when the sample's most severe finding is at or above ``fail_on``, else 0."""
    worst = EXIT_CODES[sample][1]
    if fail_on == "never" or worst == "none":
        return 0
    return int(SEVERITIES.index(worst) >= SEVERITIES.index(fail_on))


def test_the_exit_code_table_agrees_with_its_severities() -> None:
    for sample, (code, worst, why) in EXIT_CODES.items():
        assert worst in SEVERITIES and why, sample
        assert expected_code(sample) == code, sample


LANGUAGE_SAMPLES = ("samples/rules/reinvite-481.pcap", "samples/rules/codec-mismatch-488-606.pcap")
TRANSLATED = ("terminal", "markdown")
HTML_SAMPLES = ("samples/rules/reinvite-481.pcap",)
"""The page of tests/golden/rules/reinvite-481.html (test_html.py checks it in a browser)."""


@pytest.mark.parametrize("sample", LANGUAGE_SAMPLES)
@pytest.mark.parametrize("kind", TRANSLATED)
@pytest.mark.parametrize("lang", ["ko", "ja"])
def test_translated_output_matches_its_golden_file(
    sample: str, kind: str, lang: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    options, suffix = FORMATS[kind]
    code, text = run([sample, *options, "--lang", lang], monkeypatch)
    assert code == EXIT_CODES[sample][0], EXIT_CODES[sample][2]
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
    assert code == EXIT_CODES[sample][0], EXIT_CODES[sample][2]
    assert str(ROOT) not in text  # no absolute path of this machine
    if kind == "terminal":
        text = strip_trailing_spaces(text)
    check_golden(golden_name(sample, suffix), text)


@pytest.mark.parametrize("sample", HTML_SAMPLES)
def test_html_page_matches_its_golden_file(
    sample: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The run of test_html.py's golden page (same options), with its exit code pinned."""
    page = tmp_path / "page.html"
    code, _ = run([sample, "--no-color", "--quiet", "--html", str(page)], monkeypatch)
    assert code == EXIT_CODES[sample][0], EXIT_CODES[sample][2]
    html = page.read_text(encoding="utf-8")
    assert str(ROOT) not in html and str(tmp_path) not in html
    check_golden(golden_name(sample, "html"), html)


@pytest.mark.parametrize("sample", SAMPLES)
@pytest.mark.parametrize("fail_on", ["warning", "never"])
def test_fail_on_moves_the_exit_code_by_the_most_severe_finding(
    sample: str, fail_on: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _ = run([sample, "--format", "json", "--fail-on", fail_on], monkeypatch)
    assert code == expected_code(sample, fail_on)


@pytest.mark.parametrize("sample", SAMPLES)
def test_every_format_gives_the_same_exit_status(
    sample: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    codes = {kind: run([sample, *options], monkeypatch)[0]
             for kind, (options, _) in FORMATS.items()}
    assert len(set(codes.values())) == 1, codes


def test_the_golden_files_are_the_ones_the_test_writes() -> None:
    """Every golden sample has its reviewed note, and no stale file is left behind when a sample
    or a format is taken off the lists."""
    expected = {golden_name(s, suffix) for s in SAMPLES for _, suffix in FORMATS.values()}
    expected |= {golden_name(s, f"{lang}.{FORMATS[kind][1]}") for s in LANGUAGE_SAMPLES
                 for kind in TRANSLATED for lang in ("ko", "ja")}
    expected |= {golden_name(s, "html") for s in HTML_SAMPLES}
    expected |= {golden_name(s, NOTES) for s in SAMPLES}
    found = {p.relative_to(GOLDEN).as_posix() for p in GOLDEN.rglob("*")
             if p.is_file() and p.suffix != ".py" and "__pycache__" not in p.parts}
    missing = sorted(expected - found)
    assert not missing, f"missing in tests/golden (a note is written by hand): {missing}"
    stale = sorted(found - expected)
    assert not stale, f"stale in tests/golden (no test writes or needs them): {stale}"


@pytest.mark.parametrize("sample", SAMPLES)
def test_each_note_states_the_exit_code_the_test_expects(sample: str) -> None:
    """A note says which capture it reviewed and the exit code its review led to, so that the
    table above and the notes cannot drift apart."""
    note = GOLDEN / golden_name(sample, NOTES)
    if not note.exists():
        pytest.fail(f"tests/golden/{golden_name(sample, NOTES)} is missing", pytrace=False)
    text = note.read_text(encoding="utf-8")
    assert sample in text
    stated = re.findall(r"^Expected exit code: (\d+)\b", text, flags=re.MULTILINE)
    assert stated == [str(EXIT_CODES[sample][0])], stated
