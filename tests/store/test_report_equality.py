"""``sipdiag report RESULTS`` prints what ``sipdiag CAPTURE`` prints, from the results alone:
the same bytes in every format for one run without filters (samples with media, with the
security rules' findings about the whole capture, linked legs of public captures, several
captures as one run), and the same calls and exchanges with each filter.

With a filter, ``sipdiag CAPTURE`` watches only the calls it keeps for the rules about the whole
capture and for its table of sources, where the report keeps what the whole run found: so the
documents are compared without their ``sources``, on captures where no rule about the whole
capture fires."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from sipdiag.cli import ExitStatus
from sipdiag.store.dataset import calls_table
from tests.conftest import SAMPLES, needs_public, public_captures
from tests.packets import pcap
from tests.store.helpers import at, call, hours_capture, sipdiag, tshark_starts

CHOSEN_SAMPLES = [SAMPLES / name for name in (
    "calls/basic-call.pcap", "calls/auth-challenge.pcap", "calls/tcp-call.pcap",
    "media/audio-gap.pcap", "media/dtmf-rfc4733.pcap", "media/recorded/sipp-rtp-call.pcap",
    "security/scanner-friendly-scanner.pcap", "security/brute-force-register.pcap",
    "rules/invite-no-response.pcap", "tls/tls13-call-secrets.pcapng",
)]
CHOSEN_PUBLIC = ("MichalCab__ISA/hodinovy_rozhovor_s_filipem.pcap",  # two legs linked
                 "NormB__sipnab/tests/pcap-samples/sip-rtp-g711.pcap",
                 "CESNET__ipfixprobe/tests/functional/inputs/sip.pcap")  # S101 and more
PUBLIC = [c.path for c in public_captures() if c.name in CHOSEN_PUBLIC]
FORMATS = ("json", "terminal", "markdown")

Stored = Callable[..., Path]


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Stored:
    """The results of ``sipdiag CAPTURES --out``, written once per set of captures."""
    written: dict[tuple[str, ...], Path] = {}

    def results(*captures: Path) -> Path:
        key = tuple(map(str, captures))
        if key not in written:
            folder = tmp_path_factory.mktemp("results") / "r"
            code, _, err = sipdiag(*key, "--out", str(folder), "--format", "json")
            assert code in (ExitStatus.OK, ExitStatus.FINDINGS) and err == ""
            written[key] = folder
        return written[key]

    return results


@pytest.mark.parametrize("output", FORMATS)
@pytest.mark.parametrize("capture", CHOSEN_SAMPLES,
                         ids=lambda p: str(p.relative_to(p.parents[1])))
def test_the_report_of_one_run_is_the_direct_report(stored: Stored, capture: Path,
                                                    output: str) -> None:
    direct = sipdiag(str(capture), "--format", output)
    assert sipdiag("report", str(stored(capture)), "--format", output) == direct


@needs_public
@pytest.mark.parametrize("output", FORMATS)
@pytest.mark.parametrize("capture", PUBLIC, ids=lambda p: str(p.relative_to(p.parents[2])))
def test_the_report_of_a_public_capture_is_the_direct_report(stored: Stored, capture: Path,
                                                             output: str) -> None:
    test_the_report_of_one_run_is_the_direct_report(stored, capture, output)


@pytest.mark.parametrize("output", ["junit", "html"])
@pytest.mark.parametrize("capture", [SAMPLES / "media" / "audio-gap.pcap",
                                     SAMPLES / "security" / "scanner-friendly-scanner.pcap"],
                         ids=lambda p: p.name)
def test_junit_and_html_too(stored: Stored, capture: Path, output: str) -> None:
    direct = sipdiag(str(capture), "--format", output)
    assert sipdiag("report", str(stored(capture)), "--format", output) == direct


def test_ladders_and_the_page_as_the_direct_run_draws_them(stored: Stored,
                                                           tmp_path: Path) -> None:
    capture = SAMPLES / "calls" / "bye-481.pcap"
    direct = sipdiag(str(capture), "--ladder", "--no-color", "--html", str(tmp_path / "a.html"))
    stored_run = sipdiag("report", str(stored(capture)), "--ladder", "--no-color", "--html",
                         str(tmp_path / "b.html"))
    assert stored_run == direct and "BYE" in direct[1]
    assert (tmp_path / "b.html").read_bytes() == (tmp_path / "a.html").read_bytes()


def test_several_captures_of_one_run(stored: Stored) -> None:
    captures = sorted((SAMPLES / "calls").glob("*.pcap"))
    direct = sipdiag(*map(str, captures), "--format", "json", "--sources")
    assert sipdiag("report", str(stored(*captures)), "--format", "json", "--sources") == direct


@pytest.fixture(scope="module")
def hours(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return hours_capture(tmp_path_factory.mktemp("hours"))


FILTERS = [
    ("--failed",), ("--call", "busy@x"), ("--call", "ping@x", "--call", "late@x"),
    ("--user", "bob"), ("--number", "nobody"), ("--ip", "198.51.100.20"), ("--ip", "203.0.113.9"),
    ("--rule", "C105"), ("--rule", "callee-outcome"), ("--since", "+1"), ("--until", "+1"),
    ("--since", "2026-12-04T10:00:05", "--until", "2026-12-04T10:30:00"),
    ("--since", "2026-12-04T12:00:00"), ("--failed", "--since", "+3000"),
]


@pytest.mark.parametrize("chosen", FILTERS, ids=" ".join)
def test_a_filtered_report_keeps_what_the_filtered_analysis_keeps(
        stored: Stored, hours: Path, chosen: tuple[str, ...]) -> None:
    for output in ("json", "terminal"):
        code, out, err = sipdiag(str(hours), "--format", output, *chosen)
        again, out_again, err_again = sipdiag("report", str(stored(hours)), "--format", output,
                                              *chosen)
        assert (again, _without_sources(out_again, output)) == (code, _without_sources(out,
                                                                                       output))
        assert err_again == err.split("; the nearest")[0].rstrip("\n") + ("\n" if err else "")


def _without_sources(text: str, output: str) -> object:
    if output != "json" or not text:
        return text
    document = json.loads(text)
    del document["sources"]
    return document


LINKED = [c.path for c in public_captures()
          if c.name == "MichalCab__ISA/hodinovy_rozhovor_s_filipem.pcap"]


@needs_public
@pytest.mark.parametrize("legs", [(1,), (2,), (1, 2)], ids=str)
def test_links_are_those_between_the_calls_kept(stored: Stored, legs: tuple[int, ...]) -> None:
    """A B2BUA's two legs (the second and third Call-IDs of the capture, as tshark reads it:
    a REGISTER first): one leg alone has no link, both keep theirs."""
    [capture] = LINKED
    call_ids = list(tshark_starts(capture))
    chosen = [option for leg in legs for option in ("--call", call_ids[leg])]
    code, out, _ = sipdiag(str(capture), "--format", "json", *chosen)
    again, out_again, _ = sipdiag("report", str(stored(capture)), "--format", "json", *chosen)
    assert (again, _without_sources(out_again, "json")) == (code, _without_sources(out, "json"))
    assert len(json.loads(out_again)["links"]) == (len(legs) == 2)


MARKUP = "[bold red]trunk[/] <script>x()</script> | *a* `b`"


def test_text_of_the_capture_comes_back_as_text(tmp_path: Path) -> None:
    """A header and a Call-ID holding rich markup, HTML, Markdown and bytes that are no UTF-8
    read back as the same text in every report, and in the calls table."""
    frames = call("odd\xe9@x", at("2026-12-04T10:00:00"), status=486, trunk=MARKUP)
    odd = [(ts, data.replace("odd\xe9".encode(), b"odd\xff\xfe")) for ts, data in frames]
    capture = tmp_path / "odd.pcap"
    capture.write_bytes(pcap(odd))
    results = tmp_path / "r"
    sipdiag(str(capture), "--out", str(results), "--keep-header", "X-Trunk")
    for output in ("terminal", "markdown", "html", "json"):
        direct = sipdiag(str(capture), "--format", output)
        assert sipdiag("report", str(results), "--format", output) == direct
    [row] = calls_table(str(results), ["call_id", "headers"]).to_pylist()
    assert row["headers"] == [("X-Trunk", MARKUP)]
    assert row["call_id"].startswith("odd") and row["call_id"].endswith("@x")


def test_a_new_process_reads_every_kind_of_record(stored: Stored) -> None:
    """The unpickler takes only classes of modules already loaded: ``sipdiag report`` alone
    loads those of every record (TLS sessions, media, defects, problems)."""
    captures = [SAMPLES / name for name in (
        "tls/tls12-calls.pcap", "media/recorded/baresip-dtmf.pcap",
        "rules/invite-body-long-400.pcap", "security/scanner-friendly-scanner.pcap")]
    _, direct, _ = sipdiag(*map(str, captures), "--format", "json")
    done = subprocess.run([sys.executable, "-m", "sipdiag", "report", str(stored(*captures)),
                           "--format", "json"], capture_output=True, text=True, timeout=120)
    assert (done.stdout, done.stderr) == (direct, "")
