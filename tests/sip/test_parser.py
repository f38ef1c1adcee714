"""Parsing SIP messages: start lines, the key headers in every spelling, defects."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sipdiag.sip.parser import NotSip, parse_message
from tests import packets

START_LINES = [
    (b"INVITE sip:bob@example.com SIP/2.0", "INVITE", 0),
    (b"SIP/2.0 180 Ringing", "", 180),
    (b"SIP/2.0 200 OK", "", 200),
    (b"SIP/2.0 503", "", 503),  # an empty reason phrase is allowed
    (b"SIP/2.0 487 Request Terminated", "", 487),
    (b"FOO-BAR.x sip:bob@example.com SIP/2.0", "FOO-BAR.x", 0),  # any token is a method
    (b"INVITE  sip:bob@example.com  SIP/2.0", "INVITE", 0),  # extra spaces, read leniently
    (b"OPTIONS sip:bob@example.com sip/2.0", "OPTIONS", 0),  # version in lower case
]


@pytest.mark.parametrize(("line", "method", "status"), START_LINES)
def test_start_lines(line: bytes, method: str, status: int) -> None:
    message = parse_message(
        line + b"\r\nCall-ID: x\r\nCSeq: 1 " + (method or "INVITE").encode() + b"\r\n\r\n"
    )
    assert (message.method, message.status) == (method, status)


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"hello",
        b"HTTP/1.1 200 OK\r\n\r\n",
        b"SIP/2.0 20 OK\r\n",
        b"INVITE sip:x\r\n",
        b"\x80\x00\x01\x02",
        b"SIP/2.0 2000 OK\r\n",
        b"INVITE sip:x SIP/2.0 trailing\r\n",
    ],
)
def test_not_sip(payload: bytes) -> None:
    with pytest.raises(NotSip):
        parse_message(payload)


def test_key_headers_of_a_plain_message() -> None:
    raw = packets.sip_request(body=packets.SDP, cseq=314159)
    message = parse_message(raw)
    assert message.call_id == "a84b4c76e66710@pc33.example.com"
    assert (message.cseq, message.cseq_method) == (314159, "INVITE")
    assert message.content_length == len(packets.SDP)
    assert message.body == packets.SDP.encode()
    assert message.defects == ()


COMPACT = (
    b"INVITE sip:bob@example.com SIP/2.0\r\n"
    b"v: SIP/2.0/UDP a.example.com;branch=z9hG4bK1, "
    b"SIP/2.0/TCP b.example.com:5070;branch=z9hG4bK2\r\n"
    b"f: <sip:alice@example.com>;tag=x1\r\nt: <sip:bob@example.com>\r\n"
    b"i: compact-id@example.com\r\ncseq: 7 INVITE\r\nm: <sip:alice@a.example.com>\r\n"
    b"c: application/sdp\r\nl: 4\r\n\r\nv=0\r\n"
)


def test_compact_forms_and_lower_case() -> None:
    message = parse_message(COMPACT)
    assert message.call_id == "compact-id@example.com"
    assert message.cseq == 7 and message.content_length == 4
    assert message.body == b"v=0\r"
    assert [v.branch for v in message.vias] == ["z9hG4bK1", "z9hG4bK2"]
    assert message.vias[1].sent_by == "b.example.com:5070"
    assert message.from_tag == "x1" and message.to_tag is None
    assert message.headers.get("Contact") == "<sip:alice@a.example.com>"


def test_folded_headers_are_unfolded() -> None:
    raw = (
        b"BYE sip:bob@example.com SIP/2.0\r\nCall-ID:\r\n  folded-id@example.com\r\n"
        b"CSeq: 2\r\n BYE\r\nSubject: one\r\n\ttwo\r\nContent-Length: 0\r\n\r\n"
    )
    message = parse_message(raw)
    assert message.call_id == "folded-id@example.com"
    assert (message.cseq, message.cseq_method) == (2, "BYE")
    assert message.headers.get("subject") == "one two"


def test_odd_spellings_are_found() -> None:
    raw = (
        b"SIP/2.0 200 OK\r\nCALL-ID : odd@example.com\r\nCseq:1 REGISTER\r\n"
        b"content-LENGTH: 0\r\n\r\n"
    )
    message = parse_message(raw)
    assert (message.call_id, message.cseq, message.content_length) == ("odd@example.com", 1, 0)


def test_bare_line_feeds() -> None:
    raw = packets.sip_request(body=packets.SDP).replace(b"\r\n", b"\n")
    message = parse_message(raw)
    assert message.call_id == "a84b4c76e66710@pc33.example.com"
    assert message.sdp is not None and message.sdp.media[0].port == 49170


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        (b"SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\n\r\n", "sip_missing_header"),
        (b"SIP/2.0 200 OK\r\nCall-ID: x\r\n\r\n", "sip_missing_header"),
        (b"INVITE sip:b SIP/2.0\r\nCall-ID: x\r\nCSeq: abc INVITE\r\n\r\n", "sip_bad_header"),
        (b"INVITE sip:b SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 BYE\r\n\r\n", "sip_bad_header"),
        (
            b"INVITE sip:b SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: x\r\n\r\n",
            "sip_bad_header",
        ),
        (
            b"INVITE sip:b SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n"
            b"Content-Length: 99\r\n\r\nv=0",
            "sip_body_short",
        ),
        (b"INVITE sip:b SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 INVITE", "sip_no_blank_line"),
        (
            b"INVITE sip:b\x00c SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\r\n",
            "sip_bad_start_line",
        ),
    ],
)
def test_defects_are_listed_and_the_message_kept(raw: bytes, kind: str) -> None:
    message = parse_message(raw)
    assert [k for k, _ in message.defects] == [kind]


def test_multipart_body_with_sdp() -> None:
    body = (
        "--b1\r\nContent-Type: application/sdp\r\n\r\n"
        + packets.SDP
        + "\r\n--b1\r\nContent-Type: application/isup\r\n\r\nxx\r\n--b1--\r\n"
    )
    raw = packets.sip_request(body=body).replace(
        b"Content-Type: application/sdp", b'Content-Type: multipart/mixed;boundary="b1"', 1
    )
    sdp = parse_message(raw).sdp
    assert sdp is not None
    assert sdp.media[0].codecs == {
        "0": "PCMU/8000",
        "8": "PCMA/8000",
        "101": "telephone-event/8000",
    }


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_parse_or_raise_not_sip(data: bytes) -> None:
    """Invariant: garbage either parses into a message or raises NotSip, never anything else."""
    try:
        message = parse_message(data)
    except NotSip:
        return
    assert message.headers is not None and isinstance(message.body, bytes)
    _ = (message.sdp, message.vias, message.from_tag, message.summary)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                b"INVITE sip:a SIP/2.0",
                b"SIP/2.0 200 OK",
                b"Call-ID: x",
                b"i:y",
                b"CSeq: 1 INVITE",
                b"l: 3",
                b"Content-Length: 9999999999",
                b" fold",
                b"Via: SIP/2.0/UDP h;branch=z",
                b"",
                b"\x00\xff",
                b"c: multipart/mixed",
            ]
        ),
        max_size=12,
    )
)
def test_sip_like_garbage_parses_or_raises_not_sip(lines: list[bytes]) -> None:
    """Invariant: the same, on inputs built from SIP-shaped lines (closer to the edge cases)."""
    test_arbitrary_bytes_parse_or_raise_not_sip.hypothesis.inner_test(b"\r\n".join(lines))  # type: ignore[attr-defined]


_LINES = st.sampled_from(
    [
        b"Call-ID: a@b",
        b"Call-ID: other@b  ",
        b"i: compact@b",
        b"CALL-ID: upper@b",
        b"Call-Id: x@y",
        b"CSeq: 1 INVITE",
        b"CSeq: 2 BYE",
        b"CSeq:  3 INVITE",
        b"Cseq: 4 INVITE",
        b"CSeq: x INVITE",
        b"Content-Length: 0",
        b"Content-Length: 5",
        b"Content-Length: 99",
        b"l: 0",
        b"Content-Length: a",
        b"Via: SIP/2.0/UDP h;branch=z9hG4bK1",
        b" folded",
        b"\tfolded",
        b"Contact: <sip:c@d>",
        b"Max-Forwards: 70",
        b"X-Call-ID: not-me",
        b"Call-ID : spaced@b",
        b"Call-ID:",
        b"CSeq:5 BYE",
        b"CSeq: 6 INVITE ",
        b"Content-Length : 2",
        b"CSeq: 99999999999 INVITE",
    ]
)
_STARTS = st.sampled_from(
    [
        b"INVITE sip:bob@example.com SIP/2.0",
        b"BYE sip:b SIP/2.0",
        b"SIP/2.0 200 OK",
        b"SIP/2.0 487",
        b"SIP/2.0 099 Odd",
        b"invite sip:b SIP/2.0",
        b"INVITE sip:b\x01 SIP/2.0",
        b"SIP/2.0 180 R\xc3\xa9",
    ]
)


@settings(max_examples=1000, deadline=None)
@given(_STARTS, st.lists(_LINES, max_size=8), st.binary(max_size=12), st.booleans())
def test_common_path_agrees_with_the_general_path(
    start: bytes, lines: list[bytes], body: bytes, bare_lf: bool
) -> None:
    """Invariant: whenever the common path takes a message, it reads exactly what the general
    path reads; it hands everything else over."""
    from sipdiag.sip.parser import _parse_common, _parse_general, start_line

    raw = b"\r\n".join([start, *lines]) + b"\r\n\r\n" + body
    if bare_lf:
        raw = raw.replace(b"\r\n", b"\n")
    common = _parse_common(raw)
    if common is not None:
        assert common == _parse_general(raw, *start_line(raw))
