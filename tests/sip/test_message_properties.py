"""Every property of SipMessage on a full request and a full response, read off the bytes.

The quick searches (``first_value``, ``values``, the tags, ``via_key``) must look only at the
header block, give what the full parse gives, and read every spelling RFC 3261 allows: compact
forms (7.3.3), several values on one line and on several lines (7.3.1), folding, quoted
display names and parameters.
"""

from __future__ import annotations

import pytest

from sipdiag.sip.parser import parse_message

SDP = (
    b"v=0\r\no=alice 2890844526 2890844527 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
    b"t=0 0\r\nm=audio 49172 RTP/AVP 0\r\n"
)
REQUEST = (
    b"INVITE sip:bob@biloxi.example.com;transport=tcp SIP/2.0\r\n"
    b"Via: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9X\r\n"
    b"v: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1, SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK2\r\n"
    b"Max-Forwards: 70\r\n"
    b'From: "Alice >;tag=no" <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n'
    b"To: Bob <sip:bob@biloxi.example.com;tag=in-uri>\r\n"  # a URI parameter, not the tag
    b"Call-ID: 3848276298220188511@atlanta.example.com\r\n"
    b"CSeq: 2 INVITE\r\n"
    b"Contact: <sip:alice@client.atlanta.example.com;transport=tcp>, <sip:1,2@example.com>\r\n"
    b"m: <sip:alice@192.0.2.1>\r\n"
    b"Subject:\r\n"
    b"Supported:\r\n"
    b"Content-Type: application/sdp\r\n"
    b"Content-Length: " + str(len(SDP)).encode() + b"\r\n\r\n" + SDP
)


def test_full_request() -> None:
    message = parse_message(REQUEST, frame=7)
    assert message.is_request and message.status == 0 and message.method == "INVITE"
    assert message.first_line == "INVITE sip:bob@biloxi.example.com;transport=tcp SIP/2.0"
    assert message.request_uri == "sip:bob@biloxi.example.com;transport=tcp"
    assert message.reason == ""
    assert message.summary == "INVITE sip:bob@biloxi.example.com;transport=tcp"
    assert (message.call_id, message.cseq, message.cseq_method) == (
        "3848276298220188511@atlanta.example.com", 2, "INVITE"
    )
    assert message.frames == (7,)
    assert message.body == SDP and message.content_length == len(SDP)
    assert message.body_start == len(REQUEST) - len(SDP)
    # Via: two lines, the second (compact) with two values: three Vias, the top one first.
    assert message.values("via") == [
        "SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9X",
        "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1",
        "SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK2",
    ]
    assert [via.sent_by for via in message.vias] == [
        "client.atlanta.example.com:5060", "192.0.2.1", "192.0.2.2"
    ]
    assert message.branch == "z9hG4bK74bf9X"
    assert message.via_key == ("z9hG4bK74bf9X", "client.atlanta.example.com:5060")
    # Contact: a comma inside <> does not separate values; m: is the same header.
    assert message.values("contact") == [
        "<sip:alice@client.atlanta.example.com;transport=tcp>",
        "<sip:1,2@example.com>",
        "<sip:alice@192.0.2.1>",
    ]
    assert message.first_value("m") == "<sip:alice@client.atlanta.example.com;transport=tcp>"
    # A quoted display name may hold ">" and ";tag=": the tag is the parameter after the URI.
    assert message.from_tag == "9fxced76sl"
    assert message.to_tag is None
    from_ = message.name_addr("from")
    assert from_ is not None and (from_.display, from_.uri) == (
        "Alice >;tag=no", "sip:alice@atlanta.example.com"
    )
    # An empty Subject is a value (RFC 3261 20.36); an empty Supported is an empty list.
    assert message.first_value("subject") == "" and message.values("s") == [""]
    assert message.first_value("supported") is None and message.values("k") == []
    assert message.first_value("route") is None and message.values("route") == []
    assert message.name_addr("route") is None
    sdp = message.sdp
    assert sdp is not None and sdp.media[0].port == 49172


RESPONSE = (
    b"SIP/2.0 180 Ringing\r\n"
    b"Via: SIP/2.0/UDP 192.0.2.1:5060 ;branch=\"z9hG4bKnashds8\";received=192.0.2.1\r\n"
    b"To: Bob <sip:bob@biloxi.example.com>;tag=\"Xy8321\"\r\n"
    b"f: sip:alice@atlanta.example.com;tag=9fxced76sl\r\n"
    b"Call-ID: 3848276298220188511@atlanta.example.com\r\n"
    b"CSeq: 2 INVITE\r\n"
    b"Content-Length: 0\r\n\r\n"
)


def test_full_response() -> None:
    message = parse_message(RESPONSE)
    assert not message.is_request and message.status == 180 and message.method == ""
    assert message.first_line == "SIP/2.0 180 Ringing"
    assert message.request_uri == ""
    assert message.reason == "Ringing"
    assert message.summary == "180 Ringing"
    assert message.body == b"" and message.sdp is None
    # Quoted parameter values are read without their quotes, as parse_params reads them.
    assert message.via_key == ("z9hG4bKnashds8", "192.0.2.1:5060")
    assert message.to_tag == "Xy8321"
    # An addr-spec without <>: its parameters are the header's (RFC 3261 20.10).
    assert message.from_tag == "9fxced76sl"


# A NOTIFY for a REFER (RFC 3515 2.4.5) carries a message/sipfrag body with header lines of
# its own: they are not the NOTIFY's headers.
SIPFRAG = (
    b"SIP/2.0 503 Service Unavailable\r\n"
    b"Via: SIP/2.0/UDP frag.example.com;branch=z9hG4bKfrag\r\n"
    b"To: <sip:carol@chicago.example.com>;tag=frag\r\n"
    b'Warning: 399 gw.example.com "busy"\r\n'
    b"Retry-After: 120\r\n"
)
NOTIFY = (
    b"NOTIFY sip:alice@client.atlanta.example.com SIP/2.0\r\n"
    b"From: <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
    b"Call-ID: 3848276298220188511@atlanta.example.com\r\n"
    b"CSeq: 3 NOTIFY\r\n"
    b"Event: refer\r\n"
    b"Content-Type: message/sipfrag;version=2.0\r\n"
    b"Content-Length: " + str(len(SIPFRAG)).encode() + b"\r\n\r\n" + SIPFRAG
)


def test_header_lines_of_the_body_are_not_headers() -> None:
    message = parse_message(NOTIFY)
    assert message.body == SIPFRAG
    assert message.first_value("warning") is None and message.values("warning") == []
    assert message.first_value("retry-after") is None
    assert message.to_tag is None  # this NOTIFY (wrongly) has no To
    assert message.via_key is None and message.top_via is None and message.vias == []
    assert message.sdp is None  # not application/sdp


def test_folded_lines_are_read_through_the_full_parse() -> None:
    raw = (
        b"BYE sip:bob@192.0.2.4 SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP 192.0.2.1;\r\n branch=z9hG4bKfold,\r\n\tSIP/2.0/UDP 192.0.2.2\r\n"
        b"From: <sip:alice@atlanta.example.com>;\r\n tag=folded\r\n"
        b"Supported:\r\n \r\n"
        b"Call-ID: f@atlanta.example.com\r\nCSeq: 4 BYE\r\nContent-Length: 0\r\n\r\n"
    )
    message = parse_message(raw)
    assert message.values("v") == ["SIP/2.0/UDP 192.0.2.1; branch=z9hG4bKfold",
                                   "SIP/2.0/UDP 192.0.2.2"]
    assert message.first_value("via") == "SIP/2.0/UDP 192.0.2.1; branch=z9hG4bKfold"
    assert message.via_key == ("z9hG4bKfold", "192.0.2.1")
    assert message.from_tag == "folded"
    # A folded, empty list: no value, and no error.
    assert message.first_value("supported") is None and message.values("supported") == []


def test_a_via_that_cannot_be_read_gives_no_key() -> None:
    raw = (
        b"OPTIONS sip:bob@192.0.2.4 SIP/2.0\r\nVia: garbage\r\n"
        b"Call-ID: g@atlanta.example.com\r\nCSeq: 1 OPTIONS\r\n\r\n"
    )
    message = parse_message(raw)
    assert message.top_via is None and message.via_key is None and message.branch is None


def test_bytes_that_are_not_utf8_are_shown_escaped() -> None:
    raw = (
        b"OPTIONS sip:bob@192.0.2.4 SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP h\xff.example.com;branch=z9hG4bK\xff1\r\n"
        b"From: <sip:alice@atlanta.example.com>;tag=t\xff\r\n"
        b"Subject: caf\xe9\r\n"
        b"Call-ID: u@atlanta.example.com\r\nCSeq: 1 OPTIONS\r\n\r\n"
    )
    message = parse_message(raw)
    assert message.via_key == ("z9hG4bK\\xff1", "h\\xff.example.com")
    assert message.from_tag == "t\\xff"
    assert message.first_value("subject") == "caf\\xe9"
    assert message.values("subject") == ["caf\\xe9"]


MULTIPART = (
    b"--unique-boundary-1\r\n"
    b"\r\n"
    b"a part without headers is text/plain (RFC 2046 5.1.1)\r\n"
    b"--unique-boundary-1\r\n"
    b"Content-Type: application/sdp;charset=UTF-8\r\n\r\n" + SDP + b"\r\n"
    b"--unique-boundary-1--\r\n"
)


@pytest.mark.parametrize(
    ("content_type", "body", "port"),
    [
        (b"application/sdp;charset=UTF-8", SDP, 49172),
        (b'multipart/mixed;boundary="unique-boundary-1"', MULTIPART, 49172),
        (b"multipart/mixed", MULTIPART, None),  # no boundary: the parts cannot be found
        (b"text/plain", SDP, None),
    ],
)
def test_sdp_by_content_type(content_type: bytes, body: bytes, port: int | None) -> None:
    raw = (
        b"INVITE sip:bob@192.0.2.4 SIP/2.0\r\nCall-ID: m@atlanta.example.com\r\n"
        b"CSeq: 1 INVITE\r\nContent-Type: " + content_type + b"\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    sdp = parse_message(raw).sdp
    assert (sdp.media[0].port if sdp else None) == port
