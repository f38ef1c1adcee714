"""Header values (lists, name-addr, Via, URIs) and SDP."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sipdiag.sip.headers import parse_headers, parse_name_addr, parse_uri, parse_via, split_list
from sipdiag.sip.parser import parse_message
from sipdiag.sip.sdp import parse_sdp


def test_split_list_keeps_quotes_and_brackets() -> None:
    value = '"Smith, John" <sip:j@a.example;x=1,2>;tag=9, <sip:b@b.example>, sip:c@c.example'
    assert split_list(value) == [
        '"Smith, John" <sip:j@a.example;x=1,2>;tag=9',
        "<sip:b@b.example>",
        "sip:c@c.example",
    ]


def test_headers_keep_wire_order_and_spelling() -> None:
    headers = parse_headers(
        b"\r\nv: SIP/2.0/UDP a;branch=1\r\nVIA: SIP/2.0/UDP b;branch=2\r\n"
        b'WWW-Authenticate: Digest realm="x", nonce="y"\r\nbroken line\r\n'
    )
    assert [name for name, _, _ in headers.fields] == ["v", "VIA", "WWW-Authenticate"]
    assert headers.values("Via") == ["SIP/2.0/UDP a;branch=1", "SIP/2.0/UDP b;branch=2"]
    assert headers.values("www-authenticate") == ['Digest realm="x", nonce="y"']  # not split
    assert headers.defects == ("broken line",)
    assert "via" in headers and "v" in headers and "route" not in headers


@pytest.mark.parametrize(
    ("value", "display", "uri", "tag"),
    [
        ('"Alice" <sip:alice@example.com>;tag=abc', "Alice", "sip:alice@example.com", "abc"),
        (
            "<sip:alice@example.com;transport=tcp>;tag=z",
            "",
            "sip:alice@example.com;transport=tcp",
            "z",
        ),
        ("sip:alice@example.com;tag=q", "", "sip:alice@example.com", "q"),
        ('"a <b>" <sip:x@y>', "a <b>", "sip:x@y", None),
    ],
)
def test_name_addr(value: str, display: str, uri: str, tag: str | None) -> None:
    parsed = parse_name_addr(value)
    assert (parsed.display, parsed.uri, parsed.tag) == (display, uri, tag)


def test_via_with_received_and_rport() -> None:
    via = parse_via("SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKabc;received=203.0.113.5;rport=40000")
    assert via is not None
    assert (via.transport, via.host, via.port, via.branch) == (
        "UDP",
        "10.0.0.1",
        5060,
        "z9hG4bKabc",
    )
    assert via.params["received"] == "203.0.113.5" and via.params["rport"] == "40000"
    ipv6 = parse_via("SIP / 2.0 / TLS [2001:db8::1]:5061;branch=z9hG4bK1")
    assert ipv6 is not None and (ipv6.host, ipv6.port, ipv6.transport) == (
        "[2001:db8::1]",
        5061,
        "TLS",
    )


def test_uri_parts() -> None:
    uri = parse_uri("sips:+15551234567@gw.example.com:5061;user=phone")
    assert uri is not None
    assert (uri.scheme, uri.user, uri.host, uri.port, uri.params) == (
        "sips",
        "+15551234567",
        "gw.example.com",
        5061,
        {"user": "phone"},
    )


SDP_TEXT = (
    b"v=0\r\no=- 1 2 IN IP4 198.51.100.7\r\ns=call\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\n"
    b"a=sendonly\r\n"
    b"m=audio 4000 RTP/AVP 0 18 96\r\na=rtpmap:96 opus/48000/2\r\n"
    b"m=video 0 RTP/AVP 31\r\nc=IN IP6 2001:db8::7\r\na=inactive\r\n"
    b"m=image 5000 udptl t38\r\n"
)


def test_sdp_media_codecs_and_directions() -> None:
    sdp = parse_sdp(SDP_TEXT)
    assert sdp.origin is not None and sdp.origin.version == "2"
    audio, video, image = sdp.media
    assert audio.codecs == {"0": "PCMU/8000", "18": "G729/8000", "96": "opus/48000/2"}
    assert (audio.direction, audio.connection) == ("sendonly", "198.51.100.7")
    assert (video.port, video.direction, video.connection) == (0, "inactive", "2001:db8::7")
    assert (image.kind, image.protocol, image.formats) == ("image", "udptl", ("t38",))
    assert sdp.addresses == ("198.51.100.7", "2001:db8::7")


_HEADER_LINES = st.sampled_from(
    [
        "Via: SIP/2.0/UDP a;branch=z9hG4bK1",
        "v: SIP/2.0/TCP b;branch=z9hG4bK2, SIP/2.0/UDP c",
        "VIA : SIP/2.0/UDP d;branch=z9hG4bK4",
        "From: <sip:a@b>;tag=1",
        "f: sip:c@d;tag=2",
        'FROM: "x, y" <sip:e@f>;tag=3',
        "To: <sip:g@h>",
        "t: <sip:i@j>;tag=4",
        " folded continuation",
        "\tfolded tab",
        "Contact: <sip:k@l>, <sip:m@n>",
        "m: *",
        "Subject: a, b",
        "X-From: no",
        "no colon here",
        "Max-Forwards: 70",
    ]
)


@settings(max_examples=500, deadline=None)
@given(
    st.lists(_HEADER_LINES, max_size=10),
    st.sampled_from(["via", "from", "to", "contact", "subject", "max-forwards"]),
)
def test_first_value_is_the_first_parsed_value(lines: list[str], name: str) -> None:
    """Invariant: the quick search finds what parsing every header finds."""
    raw = (
        "INVITE sip:b SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n" + "\r\n".join(lines) + "\r\n\r\n"
    ).encode()
    message = parse_message(raw)
    values = message.headers.values(name)
    assert message.first_value(name) == (values[0] if values else None)


_VIA_AND_TAG_LINES = st.sampled_from(
    [
        "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1;rport",
        "v: SIP/2.0/TCP 192.0.2.1:5070;received=1.2.3.4;branch=z9hG4bK2, SIP/2.0/UDP c;branch=x",
        "VIA : SIP / 2.0 / UDP d ; branch = z9hG4bK4",
        "Via: SIP/2.0/UDP [2001:db8::1]:5060;branch=b6",
        "Via: SIP/2.0/UDP e, SIP/2.0/UDP f;branch=second",
        "Via: SIP/2.0/WSS g.invalid;BRANCH=Up",
        "From: <sip:a@b>;tag=1",
        "f: sip:c@d;tag=2;x=y",
        'From: "x;tag=no" <sip:e@f>;tag=3',
        "FROM: <sip:g@h;tag=uri-param>",
        "To: <sip:i@j>",
        "t: <sip:k@l>;Tag=4",
        "To: sip:m@n ; tag = 5",
        " folded continuation",
        "\tfolded tab",
        "Subject: x",
        "Via: SIP/2.0/UDP h :5061;branch=s",
        "Via: SIP/2.0/UDP i;branch=j junk",
    ]
)


@settings(max_examples=800, deadline=None)
@given(st.lists(_VIA_AND_TAG_LINES, max_size=8))
def test_quick_via_and_tags_match_the_full_parse(lines: list[str]) -> None:
    """Invariant: the branch, sent-by and tags read off the raw lines are the parsed ones."""
    raw = (
        "INVITE sip:b SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n" + "\r\n".join(lines) + "\r\n\r\n"
    ).encode()
    message = parse_message(raw)
    via = message.top_via
    assert message.via_key == ((via.branch, via.sent_by) if via else None)
    from_, to = message.name_addr("from"), message.name_addr("to")
    assert message.from_tag == (from_.tag if from_ else None)
    assert message.to_tag == (to.tag if to else None)
