"""Golden expectations for the public captures (issue 14, "Proof").

Each file in tests/public/ is an expectations file of ``sipdiag check`` (README, "Checking
recorded calls in CI") about one capture of ../shared/captures/public/, named on its first line
(``# capture: <local_path of MANIFEST.tsv>``). Its expectations were written from the capture
read with tshark, as a VoIP engineer reads it (the comments give the frames, what tshark shows
and the RFC section), never from what sipdiag prints. They are checked here through sipdiag's
own check machinery (``report.expect.check``, as ``sipdiag check`` runs it), one test per
expectation and one per ``calls: count``; an unmet one fails with sipdiag's explanation of
each unmet check.

``KNOWN_WRONG`` lists the expectations sipdiag does not meet today, each with the reason
(which rule or mechanism is wrong, or why the expectation may be). They are strict xfails:
when a fix lands the test passes, pytest reports it, and the entry must go.

``HEALTHY`` lists the captures in which every call and every other exchange was judged
healthy: sipdiag must find nothing above ``info`` in them at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from sipdiag.analysis import Analysis, analyze
from sipdiag.expectations.engine import Expectations, Selector, Verdict, check
from sipdiag.expectations.file import load_expectations
from sipdiag.report.expectations import count_failure, failure_of, failure_text
from sipdiag.rules import Engine, load_engine
from sipdiag.rules.model import severity_rank
from tests.conftest import PUBLIC, ROOT, needs_public, public_captures

pytestmark = needs_public

EXPECTATIONS = ROOT / "tests" / "public"
CAPTURE_LINE = re.compile(r"\A# capture: (?P<path>\S+)\n")
COUNT = "calls: count"
"""The label of a file's ``calls: count`` check."""

HEALTHY = (
    "NormB__sipnab/tests/pcap-samples/DTMFsipinfo.pcap",
    "NormB__sipnab/tests/pcap-samples/SIP_CALL_RTP_G711",
    "NormB__sipnab/tests/pcap-samples/SIP_DTMF2.cap",
    "NormB__sipnab/tests/pcap-samples/sip-rtp-g711.pcap",
    "NormB__sipnab/tests/pcap-samples/sip-rtp-g722.pcap",
    "NormB__sipnab/tests/pcap-samples/sip-rtp-g729a.pcap",
    "NormB__sipnab/tests/pcap-samples/codec-negotiation.pcap",
    "NormB__sipnab/tests/pcap-samples/register-invite-reinvite-bye.pcap",
    "NormB__sipnab/tests/pcap-samples/invite-opus-bye.pcap",
    "OISF__suricata-verify/tests/sip-body-frames/public-cloudshark-sip-s0.pcap",
    "arkime__arkime/tests/pcap/gtp-iphone.pcap",
    "cisco-system-traffic-generator__trex-core/scripts/automation/regression/functional_tests/"
    "golden/udp_sip.cap",
    "cisco-system-traffic-generator__trex-core/scripts/avl/delay_10_sip_video_call_full.pcap",
    "sipcapture__heplify/example/pcap/sip_ipv6_udp.pcap",
)
"""Captures whose every call and exchange is healthy (each has a file in tests/public/ saying
why; gtp-iphone's SUBSCRIBE answered 405 and its challenged REGISTER are ordinary, and so are
the REGISTERs answered 200 of SIP_CALL_RTP_G711, SIP_DTMF2 and public-cloudshark-sip-s0)."""

NAT_HANDLED = ("N104 on an SBC that does NAT traversal: the private Contact/SDP of a phone behind "
               "NAT is never used, the SBC sends to its public source and anchors the media")
CLOCK = ("frame times decades apart (broken clock in the file): sipdiag trusts them, splits "
         "the call into four and times its INVITE out; the messages make one complete call")

KNOWN_WRONG: dict[tuple[str, str], str] = {
    ("heplify-erspan.yaml", "bf3880-0-16e4-5af571fa-38bc4ba4-5af571fa@101.231.48.19"):
        NAT_HANDLED,
    ("heplify-ipv6-udp.yaml", "calls: count"): CLOCK,
    ("heplify-ipv6-udp.yaml",
     "c3eF6f58-363323Cd-8058EB88-10300252@fe80:0:0:0:21a:a0ff:fe07:32e0"): CLOCK,
    ("healthy", "sipcapture__heplify/example/pcap/sip_ipv6_udp.pcap"): CLOCK,
}
"""(expectations file, call label) -> why sipdiag does not meet it today; the label is the
Call-ID, ``call N`` or ``calls: count``; a capture of ``HEALTHY`` is keyed ("healthy", path)."""


@dataclass(frozen=True)
class Item:
    """One expectation of a file (``index``), or its ``calls: count`` (``index`` None)."""

    file: str
    label: str
    index: int | None


@cache
def engine() -> Engine:
    return load_engine()


def capture_of(path: Path) -> Path:
    """The capture an expectations file is about, from its first line."""
    found = CAPTURE_LINE.match(path.read_text(encoding="utf-8"))
    if found is None:
        raise ValueError(f"{path}: the first line must be '# capture: <path in MANIFEST.tsv>'")
    return PUBLIC / found["path"]


def label(selector: Selector, line: int) -> str:
    if selector.key == "call_id":
        return str(selector.value)
    if selector.key == "next":
        return f"line {line}"
    return f"{selector.key} {selector.value}"


def expectations(path: Path) -> Expectations:
    return load_expectations(path, engine().rules)


def items() -> list[Item]:
    found: list[Item] = []
    for path in sorted(EXPECTATIONS.glob("*.yaml")):
        loaded = expectations(path)
        if loaded.call_count is not None:
            found.append(Item(path.name, COUNT, None))
        found += [Item(path.name, label(e.selector, e.line), index)
                  for index, e in enumerate(loaded.expectations)]
    return found


def param(value: object, key: tuple[str, str], name: str) -> object:
    """A test parameter, a strict xfail when ``KNOWN_WRONG`` names it."""
    reason = KNOWN_WRONG.get(key)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(value, id=name, marks=marks)


@cache
def analysis(capture: Path) -> Analysis:
    return analyze(capture, engine=engine(), jobs=1)


@cache
def verdict(file: str) -> Verdict:
    path = EXPECTATIONS / file
    return check(expectations(path), analysis(capture_of(path)))


ITEMS = items()


@pytest.mark.parametrize("item", [param(i, (i.file, i.label), f"{i.file}:{i.label}")
                                  for i in ITEMS])
def test_expectation_met(item: Item) -> None:
    """One expectation of tests/public/ met by sipdiag (or the file's number of calls)."""
    result = verdict(item.file)
    catalog = engine().catalog
    if item.index is None:
        failure = count_failure(result, catalog)
    else:
        failure = failure_of(result.results[item.index], result, catalog)
    assert failure is None, f"{result.capture}\n{failure_text(failure)}"


@pytest.mark.parametrize("capture", [param(c, ("healthy", c), c) for c in HEALTHY])
def test_healthy_capture_has_no_warning(capture: str) -> None:
    """No warning or error anywhere in a capture judged healthy (calls and exchanges)."""
    found = analysis(PUBLIC / capture).findings
    above = [f for f in found if severity_rank(f.severity) > severity_rank("info")]
    assert not above, "\n".join(f"{f.rule.id} {f.severity} {f.call_id}: {f.message()}"
                                for f in above)


def test_every_file_names_a_public_capture() -> None:
    listed = {c.name for c in public_captures()}
    named = {str(capture_of(p).relative_to(PUBLIC)) for p in EXPECTATIONS.glob("*.yaml")}
    assert named <= listed, f"not in MANIFEST.tsv: {sorted(named - listed)}"
    assert set(HEALTHY) <= named, f"healthy without expectations: {sorted(set(HEALTHY) - named)}"
    assert len(named) >= 20


def test_known_wrong_entries_exist() -> None:
    """Every entry of KNOWN_WRONG names an expectation or a healthy capture: none is stale."""
    known = {(i.file, i.label) for i in ITEMS} | {("healthy", c) for c in HEALTHY}
    assert set(KNOWN_WRONG) <= known, sorted(set(KNOWN_WRONG) - known)
