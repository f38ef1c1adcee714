"""C118 and C116: a 488 or 606 to an offer with no usable stream is a broken offer (every m=
port 0, c=0.0.0.0 without candidates, every stream inactive: RFC 3264 5.1, 8.4), not codecs
that do not match (RFC 3264 section 6, RFC 3261 21.4.26)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from sipdiag.analysis import Analysis, analyze
from sipdiag.rules import builtin_catalog, load_engine
from sipdiag.rules.checks import CHECKS
from sipdiag.rules.model import Finding
from tests.conftest import PUBLIC, SAMPLES, needs_public, read
from tests.flows import Flow, call_of

RULES = SAMPLES / "rules"
ENGINE = load_engine()
CATALOG = builtin_catalog()


@cache
def analysed(path: Path) -> Analysis:
    return analyze(path, engine=ENGINE)


def findings(path: Path, rule: str) -> list[Finding]:
    return [f for f in analysed(path).findings if f.rule.id == rule]


def test_offers_with_nothing_to_agree_on_are_broken_offers() -> None:
    """Three INVITEs answered 488: m=audio 0; c=0.0.0.0 with no candidate; audio and video
    both a=inactive. Each is C118 with the reason per stream, and C116 stays silent."""
    path = RULES / "offer-without-stream-488.pcap"
    messages, _ = read(path)
    offers = [m.sdp for m in messages if m.method == "INVITE" and m.sdp]
    assert [[(s.kind, s.port, s.connection, s.direction) for s in o.media] for o in offers] == [
        [("audio", 0, "192.0.2.10", "sendrecv")],
        [("audio", 49170, "0.0.0.0", "sendrecv")],
        [("audio", 49170, "192.0.2.10", "inactive"), ("video", 49172, "192.0.2.10", "inactive")],
    ]
    found = findings(path, "C118")
    assert [(f.values["offer.frame"], f.values["streams"]) for f in found] == [
        ("1", "audio port 0"), ("4", "audio c=0.0.0.0"), ("7", "audio inactive, video inactive")]
    assert all([e.frame for e in f.evidence] == [int(f.values["offer.frame"]),
                                                   int(f.values["offer.frame"]) + 1]
               for f in found)
    assert findings(path, "C116") == []


def test_a_disabled_stream_beside_a_real_mismatch_is_about_codecs() -> None:
    """Video on port 0 (not offered for use) and G.729 audio, against PCMU and PCMA: C116,
    whose offered codecs leave the disabled video out."""
    path = RULES / "offer-partly-disabled-488.pcap"
    [finding] = findings(path, "C116")
    assert finding.values["offered"] == "audio G729/8000"
    assert finding.values["accepted"] == "audio PCMU/8000, audio PCMA/8000"
    assert finding.values["common"] == "-"
    assert findings(path, "C118") == []


def test_the_codec_mismatch_sample_is_still_a_codec_mismatch() -> None:
    path = RULES / "codec-mismatch-488-606.pcap"
    assert len(findings(path, "C116")) == 2
    assert findings(path, "C118") == []


# Small flows: what makes a stream usable


def sdp(*sections: str, session_c: str = "192.0.2.10") -> str:
    head = f"v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 {session_c}\r\nt=0 0\r\n"
    return head + "".join(sections)


def refused(body: str, status: int = 488) -> tuple[list[str], int]:
    """(C118's streams, how many C116 findings) for an INVITE with this body, refused."""
    flow = Flow()
    invite = flow.request("INVITE", at=0.0, body=body)
    flow.response(invite, status, at=0.1)
    call = call_of(flow)
    broken = [h.values["streams"] for h in CHECKS["offer_without_stream"].run(call, {}, CATALOG)]
    return broken, len(list(CHECKS["codec_mismatch"].run(call, {}, CATALOG)))


AUDIO = "m=audio 4000 RTP/AVP 0\r\n"


@pytest.mark.parametrize(("body", "broken"), [
    (sdp(AUDIO), []),
    (sdp("m=audio 0 RTP/AVP 0\r\n", AUDIO), []),  # one stream left to agree on
    (sdp(), ["no m= line"]),
    (sdp(AUDIO, session_c="0.0.0.0"), ["audio c=0.0.0.0"]),
    (sdp(AUDIO + "a=candidate:1 1 UDP 2130706431 192.0.2.10 4000 typ host\r\n",
         session_c="0.0.0.0"), []),  # ICE gives the address (RFC 8839)
    (sdp(AUDIO + "a=sendonly\r\n"), []),  # on hold, but media flows one way
    (sdp(AUDIO, session_c="media.example.com"), []),  # a name is an address too
    (sdp(AUDIO + "c=IN IP6 ::\r\n"), ["audio c=::"]),
    (sdp(AUDIO, session_c="198.51.100.5").replace("t=0 0\r\n", "t=0 0\r\na=inactive\r\n"),
     ["audio inactive"]),  # inherited from the session level (RFC 3264 5.1)
])
def test_which_offers_have_no_usable_stream(body: str, broken: list[str]) -> None:
    streams, codecs = refused(body)
    assert streams == ([", ".join(broken)] if broken else [])
    assert codecs == (0 if broken else 1)


def test_606_counts_as_488_and_other_refusals_do_not() -> None:
    body = sdp("m=audio 0 RTP/AVP 0\r\n")
    assert refused(body, 606) == (["audio port 0"], 0)
    assert refused(body, 415) == ([], 0)


@needs_public
def test_the_t38_reinvites_refused_488_are_codec_mismatches() -> None:
    """The re-INVITEs offering m=image 16756 udptl t38 (frame 1394) and m=image 15580 (frame
    1400), both answered 488 without SDP: a stream the far end would not take, C116."""
    path = PUBLIC / "ntop__nDPI/tests/cfgs/default/pcap/FAX-Call-t38-CA-TDM-SIP-FB-1.pcap"
    assert [f.values["offer.frame"] for f in findings(path, "C116")] == ["1394", "1400"]
    assert findings(path, "C118") == []
