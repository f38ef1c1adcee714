"""The key fields of a message in every form RFC 3261 allows, and each defect named exactly.

Expected values are read off the bytes each test writes: the start line (7.1, 7.2), Call-ID,
CSeq (8.1.1.5, 20.16) and Content-Length (20.14, 18.3), in full and compact form (7.3.3), in
any case (7.3.1), folded, repeated, with bare LF line ends, and broken.
"""

from __future__ import annotations

import pytest

from sipdiag.sip.parser import NotSip, parse_message


def request(*headers: bytes, start: bytes = b"INVITE sip:bob@biloxi.example.com SIP/2.0",
            body: bytes = b"") -> bytes:
    return b"\r\n".join([start, *headers]) + b"\r\n\r\n" + body


CALL_ID = b"Call-ID: 3848276298220188511@atlanta.example.com"
CSEQ = b"CSeq: 1 INVITE"


@pytest.mark.parametrize(
    ("line", "status"),
    [
        (b"SIP/2.0  180 Ringing", 180),  # unusual spacing, read leniently
        (b"sip/2.0 486 Busy Here", 486),  # version in lower case
    ],
)
def test_status_lines_read_leniently(line: bytes, status: int) -> None:
    message = parse_message(request(CALL_ID, CSEQ, start=line))
    assert (message.method, message.status, message.is_request) == ("", status, False)


@pytest.mark.parametrize(
    "line", [b"INVITE SIP/2.0", b"INVITE sip:bob@biloxi.example.com x SIP/2.0"]
)
def test_a_request_line_has_one_request_uri(line: bytes) -> None:
    # Request-Line = Method SP Request-URI SP SIP-Version CRLF (RFC 3261 7.1), and a URI has no
    # space; tshark does not read either line as SIP.
    with pytest.raises(NotSip):
        parse_message(request(CALL_ID, CSEQ, start=line))


def test_an_extension_method_is_a_method() -> None:
    # extension-method = token (RFC 3261 25.1), on the common path and the general one.
    for cseq in (b"CSeq: 5 NEGOTIATE", b"cseq: 5 NEGOTIATE"):
        start = b"NEGOTIATE sip:gw.example.com SIP/2.0"
        message = parse_message(request(CALL_ID, cseq, start=start))
        assert (message.method, message.cseq, message.cseq_method) == ("NEGOTIATE", 5, "NEGOTIATE")
        assert message.defects == ()


@pytest.mark.parametrize("method", [b"INVITE", b"XXXX"])
def test_a_response_has_no_method_whatever_its_cseq_names(method: bytes) -> None:
    # A Status-Line names no method (RFC 3261 7.2): it is only in the CSeq, which may name an
    # extension method.
    raw = request(CALL_ID, b"CSeq: 1 " + method, b"Content-Length: 0", start=b"SIP/2.0 200 OK")
    message = parse_message(raw)
    assert (message.method, message.cseq_method, message.is_request) == (
        "", method.decode(), False
    )
    assert message.defects == ()


def test_context_defaults() -> None:
    message = parse_message(request(CALL_ID, CSEQ))
    assert (message.frame, message.ts_ns, message.transport, message.frames) == (0, 0, "", (0,))


def test_compact_content_length_first() -> None:
    # l: before the others: the body is as long as it says, not the rest of the payload.
    raw = request(b"l: 4", CALL_ID, CSEQ, body=b"v=0\r\nextra")
    message = parse_message(raw)
    assert message.content_length == 4 and message.body == b"v=0\r"


def test_repeated_key_headers_the_last_counts() -> None:
    raw = request(b"Call-Id: first@a.example.com", b"Call-Id: second@a.example.com",
                  b"Cseq: 1 INVITE", b"Cseq: 2 INVITE", b"l: 0", b"l: 3", body=b"abc")
    message = parse_message(raw)
    assert (message.call_id, message.cseq, message.content_length) == (
        "second@a.example.com", 2, 3
    )


def test_whitespace_around_values() -> None:
    raw = request(b"Call-ID:   spaced@a.example.com  ", b"CSeq:  4294967295  INVITE  ",
                  b"Content-Length: 000000002 ", body=b"ab")
    message = parse_message(raw)
    assert message.call_id == "spaced@a.example.com"
    # The largest CSeq number, 2**32 - 1 (RFC 3261 8.1.1.5), ten digits.
    assert (message.cseq, message.cseq_method) == (4294967295, "INVITE")
    assert message.content_length == 2 and message.defects == ()


def test_non_utf8_bytes_are_shown_escaped() -> None:
    raw = request(b"Call-ID: a\xffb@a.example.com", b"CSeq: 1 INV\xc9TE",
                  start=b"INVITE sip:bob@biloxi.example.com SIP/2.0")
    message = parse_message(raw)
    assert message.call_id == "a\\xffb@a.example.com"
    assert message.cseq_method == "INV\\xc9TE"
    assert message.defects == (("sip_bad_header", "CSeq method INV\\xc9TE differs from INVITE"),)


def test_folded_key_headers() -> None:
    raw = request(b"Call-ID:\r\n a\xffb@a.example.com", b"CSeq: 2\r\n\tBYE",
                  b"Content-Length:\r\n 3", start=b"BYE sip:bob@192.0.2.4 SIP/2.0", body=b"abcdef")
    message = parse_message(raw)
    assert message.call_id == "a\\xffb@a.example.com"
    assert (message.cseq, message.cseq_method) == (2, "BYE")
    assert message.content_length == 3 and message.body == b"abc"


def test_header_lines_in_the_body_are_not_headers() -> None:
    # A message/sipfrag body (RFC 3420) has header lines of its own.
    raw = request(b"CSeq: 3 NOTIFY", b"Content-Length: 50",
                  start=b"NOTIFY sip:alice@192.0.2.1 SIP/2.0",
                  body=b"SIP/2.0 200 OK\r\nCall-ID: frag@biloxi.example.com\r\n")
    message = parse_message(raw)
    assert message.call_id == ""
    assert message.defects == (("sip_missing_header", "no Call-ID header"),)


@pytest.mark.parametrize(
    ("raw", "defects"),
    [
        (request(CSEQ), [("sip_missing_header", "no Call-ID header")]),
        (request(CALL_ID), [("sip_missing_header", "no CSeq header")]),
        (request(CALL_ID, b"CSeq: one INVITE"),
         [("sip_bad_header", "CSeq 'one INVITE' is not 'number METHOD'")]),
        (request(CALL_ID, b"CSeq: 12345678901 INVITE"),  # more than 32 bits
         [("sip_bad_header", "CSeq '12345678901 INVITE' is not 'number METHOD'")]),
        (request(CALL_ID, b"CSeq: 7"), [("sip_bad_header", "CSeq '7' is not 'number METHOD'")]),
        (request(CALL_ID, b"CSeq: " + b"x" * 70),
         [("sip_bad_header", f"CSeq '{'x' * 60}' is not 'number METHOD'")]),
        (request(CALL_ID, b"CSeq: 1 BYE"),
         [("sip_bad_header", "CSeq method BYE differs from INVITE")]),
        (request(CALL_ID, b"CSeq: 7 INVITE junk"),
         [("sip_bad_header", "CSeq method INVITE junk differs from INVITE")]),
        (request(CALL_ID, CSEQ, b"Content-Length: " + b"9" * 40),
         [("sip_bad_header", f"Content-Length '{'9' * 30}' is not a number")]),
        # A billion bytes or more: no SIP message is that long.
        (request(CALL_ID, CSEQ, b"Content-Length: 1000000000"),
         [("sip_bad_header", "Content-Length '1000000000' is not a number")]),
        (request(CALL_ID, CSEQ, b"Content-Length: -5"),  # quoted for a person, not as bytes
         [("sip_bad_header", "Content-Length '-5' is not a number")]),
        (request(CALL_ID, CSEQ, b"Content-Length: \xc9\x01"),
         [("sip_bad_header", "Content-Length '\\xc9\\x01' is not a number")]),
        (request(CALL_ID, CSEQ, b"Content-Length: 9", body=b"v=0"),
         [("sip_body_short", "Content-Length says 9 bytes, there are 3")]),
        (b"SIP/2.0 200 OK\x01\r\n" + CALL_ID + b"\r\nCSeq: 1 INVITE\r\n\r\n",
         [("sip_bad_start_line", "control characters in the start line")]),
        # With a bare LF, the byte before it is still part of the start line.
        (b"SIP/2.0 200 OK\x01\n" + CALL_ID + b"\nCSeq: 1 INVITE\n\n",
         [("sip_bad_start_line", "control characters in the start line")]),
        (b"OPTIONS sip:bob@biloxi.example.com SIP/2.0\r\n\r\n",
         [("sip_missing_header", "no Call-ID header"), ("sip_missing_header", "no CSeq header")]),
        (b"OPTIONS sip:bob@biloxi.example.com SIP/2.0\n\n",
         [("sip_missing_header", "no Call-ID header"), ("sip_missing_header", "no CSeq header")]),
        (b"OPTIONS sip:bob@biloxi.example.com SIP/2.0\r\n" + CALL_ID + b"\r\nCSeq: 1 OPTIONS",
         [("sip_no_blank_line", "no empty line after the headers")]),
        (b"OPTIONS sip:bob@biloxi.example.com SIP/2.0",  # a start line alone, no line end
         [("sip_no_blank_line", "no empty line after the headers"),
          ("sip_missing_header", "no Call-ID header"), ("sip_missing_header", "no CSeq header")]),
    ],
)
def test_defects_named_exactly(raw: bytes, defects: list[tuple[str, str]]) -> None:
    assert list(parse_message(raw).defects) == defects


def test_missing_fields_read_as_empty() -> None:
    message = parse_message(request(start=b"SIP/2.0 200 OK"))
    assert (message.call_id, message.cseq, message.cseq_method) == ("", -1, "")
    broken = parse_message(request(CALL_ID, b"CSeq: x INVITE"))
    assert (broken.cseq, broken.cseq_method) == (-1, "")


def test_bare_line_feeds_and_a_body_with_a_blank_line() -> None:
    body = b"line one\n\nline three\n"
    raw = (b"MESSAGE sip:bob@biloxi.example.com SIP/2.0\nCall-ID: lf@a.example.com\n"
           b"CSeq: 1 MESSAGE\nContent-Type: text/plain\n\n" + body)
    message = parse_message(raw)
    assert message.body == body and message.body_start == len(raw) - len(body)
    assert message.content_length is None and message.defects == ()
