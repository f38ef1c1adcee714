"""Every bundled sample and every public capture, redacted: none of its identifiers is left in
the bytes, sipdiag analyses it to the same calls, outcomes and findings, and tshark (with its
checksum checks on) finds nothing wrong that it did not find in the original.

The identifiers are those tshark reads in the original (``redact_checks.identifiers``): SIP
users and hosts, display names, Digest secrets, IP and MAC addresses in every layer."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PublicCapture, needs_public, public_captures, sample_captures
from tests.evidence.redact_checks import analysis_shape, leaks, redact, tshark_errors

SAMPLES = sample_captures()
PUBLIC = public_captures()


def _check(original: Path, tmp_path: Path, errors_allowed: bool) -> None:
    redacted = tmp_path / "redacted.pcapng"
    redact(original, redacted)
    assert leaks(original, redacted) == {}
    assert analysis_shape(redacted) == analysis_shape(original)
    new_errors = tshark_errors(redacted)
    if errors_allowed:  # a public capture may be broken already: nothing new may be
        new_errors -= tshark_errors(original)
    assert new_errors == {}


@pytest.mark.parametrize("capture", SAMPLES, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_sample_redacted(capture: Path, tmp_path: Path) -> None:
    _check(capture, tmp_path, errors_allowed=False)


KNOWN_DIFFERENCES = {
    "ntop__nDPI/tests/cfgs/default/pcap/fuzz-2006-06-26-2594.pcap": "fuzzed SIP: identifiers "
    "in URIs whose scheme the fuzzer broke ('%s\\0p:user@host') are not recognised",
}


@needs_public
@pytest.mark.parametrize(
    "capture",
    [pytest.param(c, marks=pytest.mark.xfail(reason=KNOWN_DIFFERENCES[c.name], strict=True))
     if c.name in KNOWN_DIFFERENCES else c for c in PUBLIC],
    ids=lambda c: c.name)
def test_public_capture_redacted(capture: PublicCapture, tmp_path: Path) -> None:
    _check(capture.path, tmp_path, errors_allowed=True)
