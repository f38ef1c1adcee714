"""Arbitrary bytes at every entry point: the capture readers, the network decoder, the SIP and
SDP parsers give their result, the project's own error or a reported problem, never another
exception (property tests; ``tests/test_fuzz.py`` damages whole captures end to end)."""

from __future__ import annotations

import io
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sipdiag.capture import CaptureError, linktypes, open_capture
from sipdiag.problems import ProblemLog
from sipdiag.sip.parser import NotSip, parse_message
from sipdiag.sip.sdp import parse_sdp
from tests import packets
from tests.capture.test_formats import RecordingSink
from tests.network.recording import decode

MAGICS = [
    b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00",  # pcap, little-endian microseconds
    b"\xa1\xb2\x3c\x4d\x00\x02\x00\x04",  # pcap, big-endian nanoseconds
    b"\x0a\x0d\x0d\x0a",  # a pcapng section header block
    b"GMBU",  # NetMon
    b"\x1f\x8b\x08\x00",  # gzip
    b"BZh9",  # bzip2
    b"",
]
"""The starts of the formats sipdiag reads, for arbitrary bytes to follow."""
LINK_TYPES = [linktypes.ETHERNET, linktypes.LINUX_SLL, linktypes.LINUX_SLL2, linktypes.NULL,
              linktypes.RAW, linktypes.IPV4, linktypes.IPV6, 9999]
SIP = packets.sip_request(body=packets.SDP)
EXAMPLES = int(os.environ.get("SIPDIAG_PROPERTY_EXAMPLES", "150"))
"""Inputs tried per test: bounded for CI; set higher for a long search."""
SETTINGS = settings(max_examples=EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def mutated(base: bytes) -> st.SearchStrategy[bytes]:
    """``base`` with a run of its bytes replaced by arbitrary ones, or cut."""
    return st.tuples(st.integers(0, len(base)), st.integers(0, 16), st.binary(max_size=16),
                     st.booleans()).map(
        lambda t: base[:t[0]] if t[3] else base[:t[0]] + t[2] + base[t[0] + t[1]:])


@SETTINGS
@given(st.sampled_from(MAGICS), st.binary(max_size=600))
def test_a_capture_reader_given_any_bytes_reads_or_refuses_in_one_line(
    magic: bytes, rest: bytes,
) -> None:
    try:
        reader = open_capture("-", io.BytesIO(magic + rest))
    except CaptureError as exc:
        assert "\n" not in str(exc)
        return
    problems = ProblemLog()
    for _ in reader.frames(RecordingSink(), problems):
        pass
    reader.close()


@SETTINGS
@given(st.sampled_from(LINK_TYPES), st.lists(st.binary(max_size=200), max_size=4))
def test_the_decoder_given_any_frames_reports_and_goes_on(linktype: int,
                                                          frames: list[bytes]) -> None:
    decode(*frames, linktype=linktype)


@SETTINGS
@given(mutated(packets.udp4_frame("192.0.2.1", "192.0.2.2", SIP)))
def test_the_decoder_given_a_damaged_sip_frame_reports_and_goes_on(frame: bytes) -> None:
    decode(frame)


@SETTINGS
@given(st.one_of(st.binary(max_size=400), mutated(SIP)))
def test_the_sip_parser_gives_a_message_or_not_sip(data: bytes) -> None:
    try:
        message = parse_message(data)
    except NotSip:
        return
    # every lazily parsed part is computed (an exception here is the failure)
    parts = (message.headers, message.sdp, message.vias, message.top_via, message.from_tag,
             message.to_tag, message.via_key)
    assert len(parts) == 7 and isinstance(message.summary, str)


@SETTINGS
@given(st.one_of(st.binary(max_size=400), mutated(packets.SDP.encode())))
def test_the_sdp_parser_reads_any_body(body: bytes) -> None:
    parse_sdp(body)
