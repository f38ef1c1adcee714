"""SDP fields read line by line (RFC 8866 section 5), each expected value read off the text."""

from __future__ import annotations

from sipdiag.sip.sdp import Origin, parse_sdp


def test_origin_fields() -> None:
    # o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address> (5.2)
    sdp = parse_sdp(b"v=0\r\no=jdoe 3724394400 3724394405 IN IP4 198.51.100.1\r\ns=-\r\n")
    assert sdp.origin == Origin("jdoe", "3724394400", "3724394405", "198.51.100.1")
    assert parse_sdp(b"v=0\r\no=jdoe 1 2 IN IP4\r\n").origin is None  # a field missing


def test_multicast_connection_address_without_ttl() -> None:
    # c=IN IP4 <address>/<ttl> (5.7): the address is the part before the slash.
    sdp = parse_sdp(b"v=0\r\nc=IN IP4 233.252.0.1/127\r\nm=audio 49170 RTP/AVP 0\r\n")
    assert sdp.connection == "233.252.0.1" and sdp.media[0].connection == "233.252.0.1"


def test_media_line_without_formats_is_still_a_media_section() -> None:
    # Read leniently: three fields are enough to know where the media goes.
    sdp = parse_sdp(b"v=0\r\nm=audio 49170 RTP/AVP\r\nm=video\r\n")
    assert [(m.kind, m.port, m.protocol, m.formats) for m in sdp.media] == [
        ("audio", 49170, "RTP/AVP", ())
    ]
    assert sdp.defects == ("m=video",)


def test_attribute_values_may_hold_equals_signs() -> None:
    # Best-effort SRTP offers RTP/AVP with SDES keys (RFC 4568): a base64 key ends in "=".
    sdp = parse_sdp(
        b"v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 49170 RTP/AVP 0\r\n"
        b"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR==\r\n"
        b"a=fmtp:101 0-15\r\n"
    )
    assert sdp.defects == ()
    assert sdp.media[0].encrypted


def test_rtpmap_with_extra_spaces() -> None:
    sdp = parse_sdp(b"v=0\r\nm=audio 49170 RTP/AVP 96\r\na=rtpmap:96  opus/48000/2\r\n")
    assert sdp.media[0].codecs == {"96": "opus/48000/2"}
