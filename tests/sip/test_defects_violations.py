"""The parser's defects for protocol violations: a header allowed once given on several lines
(RFC 3261 7.3.1, 25.1), and a body that is not as long as Content-Length says (18.3)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sipdiag.sip.message import Defect
from sipdiag.sip.parser import _parse_common, _parse_general, parse_message, start_line
from tests.conftest import PUBLIC, needs_public, read

START = b"INVITE sip:bob@198.51.100.20 SIP/2.0"
HEAD = (
    b"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-1",
    b"From: <sip:alice@192.0.2.10>;tag=a1",
    b"To: <sip:bob@198.51.100.20>",
    b"Call-ID: c1@192.0.2.10",
    b"CSeq: 1 INVITE",
    b"Max-Forwards: 70",
)


def message(*extra: bytes, head: tuple[bytes, ...] = HEAD, body: bytes = b"",
            length: int | None = None) -> bytes:
    """INVITE with the usual headers, ``extra`` after them, Content-Length ``length`` (that of
    the body unless given) and the body."""
    size = len(body) if length is None else length
    lines = [START, *head, *extra, b"Content-Length: %d" % size]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def kinds(raw: bytes) -> list[str]:
    return [kind for kind, _ in parse_message(raw).defects]


@pytest.mark.parametrize(("extra", "header"), [
    (b"From: <sip:mallory@203.0.113.5>;tag=m1", "From"),
    (b"To: <sip:carol@198.51.100.30>", "To"),
    (b"Call-ID: other@192.0.2.10", "Call-ID"),
    (b"CSeq: 2 INVITE", "CSeq"),
    (b"Max-Forwards: 69", "Max-Forwards"),
    (b"Content-Length: 0", "Content-Length"),
    (b"Expires: 60\r\nExpires: 120", "Expires"),
    (b"Content-Type: application/sdp\r\nContent-Type: text/plain", "Content-Type"),
])
def test_a_header_allowed_once_given_twice_is_a_defect_naming_it(extra: bytes,
                                                                  header: str) -> None:
    """Each of these takes one value, not a comma-separated list (RFC 3261 25.1), so it may
    not take two lines (7.3.1): one defect names the header and how often it came."""
    [(kind, detail)] = parse_message(message(extra)).defects
    assert kind == Defect.REPEATED_HEADER == "sip_repeated_header"
    assert detail.startswith(f"{header} given 2 times: ")


def test_the_defect_shows_each_value_given() -> None:
    raw = message(b"Max-Forwards: 69")
    [(_, detail)] = parse_message(raw).defects
    assert detail == "Max-Forwards given 2 times: '70', '69'"


@pytest.mark.parametrize("extra", [
    b"f: <sip:mallory@203.0.113.5>;tag=m1",  # compact form of From (RFC 3261 7.3.3)
    b"FROM: <sip:mallory@203.0.113.5>;tag=m1",  # names are case-insensitive (7.3.1)
    b"from : <sip:mallory@203.0.113.5>;tag=m1",  # white space before the colon (25.1 HCOLON)
])
def test_another_spelling_of_the_same_header_is_the_same_header(extra: bytes) -> None:
    [(kind, detail)] = parse_message(message(extra)).defects
    assert kind == Defect.REPEATED_HEADER and detail.startswith("From given 2 times: ")


def test_three_copies_are_counted() -> None:
    [(_, detail)] = parse_message(message(b"Expires: 1", b"Expires: 2", b"Expires: 3")).defects
    assert detail == "Expires given 3 times: '1', '2', '3'"


@pytest.mark.parametrize("extra", [
    (b"Via: SIP/2.0/UDP 198.51.100.1;branch=z9hG4bK-2",),  # a list header (20.42)
    (b"Record-Route: <sip:198.51.100.1;lr>", b"Record-Route: <sip:198.51.100.2;lr>"),
    (b"Supported: replaces", b"Supported: timer"),  # list headers may take several lines
    (b"Allow: INVITE, ACK", b"Allow: BYE"),
    (b"Contact: <sip:a@192.0.2.10>", b"Contact: <sip:a@192.0.2.11>"),
    # several credentials are allowed though their values hold commas (7.3.1)
    (b'Proxy-Authorization: Digest username="a", realm="r1"',
     b'Proxy-Authorization: Digest username="a", realm="r2"'),
    (b"Record-Route: <sip:x;lr>", b"X-From: not a From", b"To-Do: not a To"),
])
def test_headers_allowed_on_several_lines_are_no_defect(extra: tuple[bytes, ...]) -> None:
    assert kinds(message(*extra)) == []


def test_a_repeated_header_inside_the_body_is_body() -> None:
    # A message/sipfrag body (RFC 3420) has header lines of its own.
    body = b"SIP/2.0 200 OK\r\nFrom: <sip:x@203.0.113.5>;tag=x\r\n"
    assert kinds(message(body=body)) == []


def test_a_folded_repeat_is_found_too() -> None:
    raw = message(b"To: <sip:carol@198.51.100.30>\r\n ;tag=folded")
    [(kind, _)] = parse_message(raw).defects
    assert kind == Defect.REPEATED_HEADER


def test_a_message_with_a_repeated_key_header_keeps_the_last_one() -> None:
    """What the module docstring promises: the general path reads it, the last value counts."""
    message_read = parse_message(message(b"Call-ID: other@192.0.2.10"))
    assert message_read.call_id == "other@192.0.2.10"


BODY = b"v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"


def test_a_body_as_long_as_content_length_is_no_defect() -> None:
    assert kinds(message(body=BODY)) == []


def test_a_body_shorter_than_content_length() -> None:
    """RFC 3261 18.3: a datagram that ends before the body does is an error."""
    [(kind, detail)] = parse_message(message(body=BODY, length=len(BODY) + 5)).defects
    assert kind == Defect.BODY_SHORT == "sip_body_short"
    assert detail == f"Content-Length says {len(BODY) + 5} bytes, there are {len(BODY)}"


def test_a_body_longer_than_content_length() -> None:
    """RFC 3261 18.3: bytes of a datagram after Content-Length are discarded; the body is what
    Content-Length says, and the rest is named in the defect."""
    raw = message(body=BODY, length=len(BODY) - 7)
    parsed = parse_message(raw)
    [(kind, detail)] = parsed.defects
    assert kind == Defect.BODY_LONG == "sip_body_long"
    assert detail == (f"Content-Length says {len(BODY) - 7} bytes, there are {len(BODY)}: "
                      "the last 7 are not part of the body")
    assert parsed.body == BODY[:-7]


def test_no_content_length_takes_the_whole_datagram() -> None:
    """Over UDP Content-Length may be left out (RFC 3261 20.14): the body runs to the end."""
    raw = b"\r\n".join([START, *HEAD]) + b"\r\n\r\n" + BODY
    assert kinds(raw) == []


def test_both_defects_in_one_message() -> None:
    raw = message(b"Max-Forwards: 69", body=BODY, length=3)
    assert kinds(raw) == [Defect.REPEATED_HEADER, Defect.BODY_LONG]


_ONCE_LINES = st.sampled_from([
    b"From: <sip:a@x>;tag=1", b"f: <sip:b@x>;tag=2", b"FROM: <sip:c@x>", b"from : <sip:d@x>",
    b"To: <sip:e@x>", b"t: <sip:f@x>", b"TO: <sip:g@x>",
    b"Call-ID: a@b", b"i: b@b", b"CALL-ID: c@b", b"Call-Id: d@b",
    b"CSeq: 1 INVITE", b"Cseq: 2 INVITE",
    b"Content-Length: 0", b"l: 0", b"content-length: 0",
    b"Max-Forwards: 70", b"max-forwards: 69",
    b"Content-Type: application/sdp", b"c: text/plain", b"content-type: a/b",
    b"Expires: 60", b"expires: 30",
    b"Via: SIP/2.0/UDP h;branch=z9hG4bK1", b"Contact: <sip:c@d>", b"Supported: timer",
    b" folded", b"X-From: x", b"Tom: not To",
])


@settings(max_examples=1000, deadline=None)
@given(st.lists(_ONCE_LINES, max_size=10))
def test_both_paths_agree_on_headers_given_once_or_more(lines: list[bytes]) -> None:
    """Invariant: the common path takes a message only when it reads what the general path
    reads, repeated headers included; it hands the others over."""
    raw = b"\r\n".join([START, *lines]) + b"\r\n\r\n"
    common = _parse_common(raw)
    general = _parse_general(raw, *start_line(raw))
    if common is not None:
        assert common == general
    assert (Defect.REPEATED_HEADER in [kind for kind, _ in general[-1]]) == _repeats(lines)


def _repeats(lines: list[bytes]) -> bool:
    """Whether two lines name the same header of the once-only list, in any spelling: the
    expectation written out by hand from RFC 3261 7.3.1 and 7.3.3."""
    names = {"f": "from", "t": "to", "i": "call-id", "l": "content-length", "c": "content-type"}
    once = {"from", "to", "call-id", "cseq", "content-length", "max-forwards", "content-type",
            "expires"}
    seen = [names.get(name, name) for line in lines
            if not line.startswith(b" ") and
            (name := line.split(b":")[0].strip().lower().decode()) in {*once, *names}]
    return len(seen) != len(set(seen))


@needs_public
@pytest.mark.parametrize("name", [
    "OISF__suricata-verify/tests/sip-compact-form/sip_compact_form.pcap",
    "OISF__suricata-verify/tests/sip-header-multi-value/sip_header_multi_val.pcap",
    "OISF__suricata-verify/tests/sip-sdp/sdp.pcap",
])
def test_public_test_traces_whose_sdp_grew_after_content_length(name: str) -> None:
    """Suricata's test traces of an X-Lite INVITE: the SDP runs on past its Content-Length,
    which Wireshark too stops reading at (its last lines, after z=, are no part of the body).
    Counted here from the datagram's bytes."""
    messages, summary = read(PUBLIC / name)
    invite = messages[0]
    length = int(invite.headers.get("content-length") or -1)
    have = len(invite.raw) - (invite.raw.index(b"\r\n\r\n") + 4)
    assert have > length
    assert (Defect.BODY_LONG, f"Content-Length says {length} bytes, there are {have}: the last "
            f"{have - length} are not part of the body") in invite.defects
    assert summary.problems.counts[Defect.BODY_LONG] >= 1


@needs_public
def test_a_large_body_over_tcp_is_as_long_as_content_length() -> None:
    """Suricata's sip-body-large: an INVITE over TCP in five segments, Content-Length 65536;
    a stream is cut where Content-Length says (RFC 3261 18.3), so there is nothing to report."""
    messages, summary = read(PUBLIC / "OISF__suricata-verify/tests/sip-body-large/"
                                      "sip-body-large.pcap")
    invite = messages[0]
    assert invite.transport == "TCP" and invite.content_length == 65536
    assert len(invite.frames) == 5
    assert invite.defects == () and summary.defective_messages == 0


@needs_public
def test_a_content_length_that_is_no_number_is_no_body_defect() -> None:
    """Zeek's invalid-content-length: 'bad' and 'xyz' are not numbers (RFC 3261 20.14): a bad
    header, and no length to hold the body against."""
    messages, _ = read(PUBLIC / "zeek__zeek/testing/btest/Traces/sip/invalid-content-length.pcap")
    assert [[kind for kind, _ in m.defects] for m in messages] == [
        [Defect.BAD_HEADER], [Defect.BAD_HEADER]]
