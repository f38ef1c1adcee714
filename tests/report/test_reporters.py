"""One reporter per format, one registry: what each command offers, and that a format reads
the same through every way of asking for it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from sipdiag.cli import main
from sipdiag.cli.common import Environment
from sipdiag.report.reporters import REPORTERS, Format, Product, Settings, formats_of
from sipdiag.rules import load_engine
from tests.conftest import SAMPLES

CALL = SAMPLES / "calls" / "basic-call.pcap"


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(args), Environment(stdout=out, stderr=err, stdin=io.BytesIO(),
                                          environ={"COLUMNS": "120"}))
    return status, out.getvalue(), err.getvalue()


def test_every_format_has_one_reporter_that_writes_an_analysis() -> None:
    assert set(REPORTERS) == set(Format)
    assert formats_of(Product.ANALYSIS) == tuple(f.value for f in Format)


def test_the_check_command_offers_the_formats_that_write_a_verdict() -> None:
    assert formats_of(Product.VERDICT) == ("terminal", "json", "junit")
    settings = Settings(load_engine().catalog)
    for name in ("markdown", "html"):
        with pytest.raises(NotImplementedError):
            REPORTERS[Format(name)](settings).verdict(None, io.StringIO())  # type: ignore[arg-type]
    status, _, err = run("check", str(CALL), "--expect", str(CALL), "--format", "markdown")
    assert status == 2 and "invalid choice: 'markdown'" in err


def test_html_to_standard_output_is_the_page_of_html_file(tmp_path: Path) -> None:
    """``--format html`` and ``--html FILE`` are one reporter on one analysis (every call drawn,
    whatever --ladder says)."""
    page = tmp_path / "page.html"
    status, terminal_out, _ = run(str(CALL), "--html", str(page), "--no-color")
    assert status == 0 and "basic-call-1@127.0.0.1" in terminal_out
    status, html_out, _ = run(str(CALL), "--format", "html")
    assert status == 0 and html_out == page.read_text("utf-8")
    assert html_out.startswith("<!DOCTYPE html>")

