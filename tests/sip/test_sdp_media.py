"""The SDP attributes the media layer follows (``sipdiag.sip.sdp``): where RTCP goes
(``a=rtcp``, RFC 3605 2.1; ``a=rtcp-mux``, RFC 5761 5.1.1), the ICE candidates RTP may come
from (``a=candidate``, RFC 8839 5.1), whether the media is encrypted (SRTP: an SAVP profile,
``a=crypto`` of RFC 4568, a DTLS profile with ``a=fingerprint`` of RFC 5763), whether it is RTP
at all, port 0, what a media section inherits from the session (RFC 3264 5.1), the static
payload types of RFC 3551 and the defects kept from lines that are not SDP.

The bodies are the RFCs' own examples where the RFC has one, and the expected values are read
from the RFC text, not from the code.
"""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sipdiag.sip.sdp import Candidate, Media, Sdp, parse_sdp


def sdp(*lines: str) -> Sdp:
    """An SDP body of these lines, each ended with CRLF (RFC 8866 5)."""
    return parse_sdp("".join(f"{line}\r\n" for line in lines).encode())


def only(parsed: Sdp) -> Media:
    (media,) = parsed.media
    return media


SESSION = ("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0")


# -- a=rtcp (RFC 3605 2.1) ---------------------------------------------------------------

def test_rtcp_with_a_port_only_keeps_the_c_address() -> None:
    # RFC 3605 2.1, first example: RTCP on 53020 at the c= address
    media = only(sdp(*SESSION, "m=audio 49170 RTP/AVP 0", "a=rtcp:53020"))
    assert media.rtcp == (None, 53020)
    assert (media.port, media.connection) == (49170, "192.0.2.1")


def test_rtcp_with_a_port_and_an_ipv4_address() -> None:
    # RFC 3605 2.1, second example
    media = only(sdp(*SESSION, "m=audio 49170 RTP/AVP 0", "a=rtcp:53020 IN IP4 126.16.64.4"))
    assert media.rtcp == ("126.16.64.4", 53020)
    assert media.connection == "192.0.2.1"  # RTP still goes to the c= address


def test_rtcp_with_a_port_and_an_ipv6_address() -> None:
    # RFC 3605 2.1, third example
    media = only(sdp(*SESSION, "m=audio 49170 RTP/AVP 0",
                     "a=rtcp:53020 IN IP6 2001:2345:6789:ABCD:EF01:2345:6789:ABCD"))
    assert media.rtcp is not None
    address, port = media.rtcp
    assert port == 53020
    assert address is not None
    assert ipaddress.ip_address(address) == ipaddress.ip_address(
        "2001:2345:6789:abcd:ef01:2345:6789:abcd")


def test_rtcp_is_per_media_section() -> None:
    """RFC 3605 2.1: a media-level attribute; each section has its own, or none."""
    audio, video = sdp(*SESSION, "m=audio 49170 RTP/AVP 0", "a=rtcp:53020",
                       "m=video 51372 RTP/AVP 31").media
    assert audio.rtcp == (None, 53020)
    assert video.rtcp is None


def test_rtcp_at_session_level_is_not_a_media_sections() -> None:
    """RFC 3605 2.1: it MUST NOT be used as a session-level attribute."""
    media = only(sdp(*SESSION, "a=rtcp:53020", "m=audio 49170 RTP/AVP 0"))
    assert media.rtcp is None


@pytest.mark.parametrize("value", ["", "abc", "-1", "IN IP4 126.16.64.4"])
def test_an_rtcp_attribute_without_a_port_is_ignored(value: str) -> None:
    media = only(sdp(*SESSION, "m=audio 49170 RTP/AVP 0", f"a=rtcp:{value}", "a=rtcp-mux"))
    assert media.rtcp is None
    assert media.rtcp_mux  # the lines after it are still read


def test_a_port_count_on_the_media_line_keeps_the_base_port() -> None:
    # RFC 3605 3.2: "m=video 49170/2 RTP/AVP 31", RTP on 49170 and 49172
    media = only(sdp(*SESSION, "m=video 49170/2 RTP/AVP 31"))
    assert (media.port, media.formats) == (49170, ("31",))


# -- a=rtcp-mux (RFC 5761 5.1.1) ---------------------------------------------------------

RFC5761_OFFER = (
    "v=0",
    "o=csp 1153134164 1153134164 IN IP6 2001:DB8::211:24ff:fea3:7a2e",
    "s=-",
    "c=IN IP6 2001:DB8::211:24ff:fea3:7a2e",
    "t=1153134164 1153137764",
    "m=audio 49170 RTP/AVP 97",
    "a=rtpmap:97 iLBC/8000",
    "a=rtcp-mux",
)


def test_rtcp_mux_at_media_level() -> None:
    """RFC 5761 5.1.1's offer: both RTP and RTCP to port 49170 at 2001:DB8::211:24ff:fea3:7a2e."""
    parsed = sdp(*RFC5761_OFFER)
    media = only(parsed)
    assert media.rtcp_mux
    assert media.rtcp is None
    assert media.port == 49170
    assert media.connection is not None
    assert ipaddress.ip_address(media.connection) == ipaddress.ip_address(
        "2001:db8::211:24ff:fea3:7a2e")
    assert media.codecs == {"97": "iLBC/8000"}
    assert parsed.origin is not None and parsed.origin.version == "1153134164"


def test_no_rtcp_mux_without_the_attribute() -> None:
    """RFC 5761 5.1.1: without it, RTCP goes to the usual port."""
    media = only(sdp(*RFC5761_OFFER[:-1]))
    assert not media.rtcp_mux


def test_rtcp_mux_of_one_section_is_not_anothers() -> None:
    audio, video = sdp(*SESSION, "m=audio 49170 RTP/AVP 0", "m=video 51372 RTP/AVP 31",
                       "a=rtcp-mux").media
    assert (audio.rtcp_mux, video.rtcp_mux) == (False, True)


def test_rtcp_mux_at_session_level_is_inherited_by_every_section() -> None:
    """RFC 5761 defines a media-level attribute; some stacks put it at session level, and
    sipdiag follows it there for every section (``parse_sdp``'s session draft)."""
    parsed = sdp(*SESSION, "a=rtcp-mux", "m=audio 49170 RTP/AVP 0", "m=video 51372 RTP/AVP 31")
    assert [m.rtcp_mux for m in parsed.media] == [True, True]


def test_rtcp_mux_with_ice_keeps_the_rtcp_fallback_and_both_components() -> None:
    """RFC 5761 5.1.3: an initial offer with ICE and rtcp-mux MUST carry candidates for RTP
    and RTCP and an a=rtcp line with the fallback RTCP port."""
    media = only(sdp(
        *SESSION,
        "m=audio 49170 RTP/AVP 0",
        "a=rtcp:49171",
        "a=rtcp-mux",
        "a=candidate:1 1 UDP 2130706431 192.0.2.1 49170 typ host",
        "a=candidate:1 2 UDP 2130706430 192.0.2.1 49171 typ host",
    ))
    assert media.rtcp_mux
    assert media.rtcp == (None, 49171)
    assert [(c.component, c.port) for c in media.candidates] == [(1, 49170), (2, 49171)]


# -- a=candidate (RFC 8839 4.2.6, 5.1) --------------------------------------------------

RFC8839_EXAMPLE = (
    "v=0",
    "o=jdoe 2890844526 2890842807 IN IP4 203.0.113.141",
    "s=",
    "c=IN IP4 192.0.2.3",
    "t=0 0",
    "a=ice-options:ice2",
    "a=ice-pacing:50",
    "a=ice-pwd:asd88fgpdd777uzjYhagZg",
    "a=ice-ufrag:8hhY",
    "m=audio 45664 RTP/AVP 0",
    "b=RS:0",
    "b=RR:0",
    "a=rtpmap:0 PCMU/8000",
    "a=candidate:1 1 UDP 2130706431 203.0.113.141 8998 typ host",
    "a=candidate:2 1 UDP 1694498815 192.0.2.3 45664 typ srflx raddr 203.0.113.141 rport 8998",
)


def test_candidates_of_the_rfc_8839_example() -> None:
    """RFC 8839 4.2.6: a host candidate 203.0.113.141:8998 and a server-reflexive one
    192.0.2.3:45664 (the default destination, the c= and m= of the section), both for
    component 1 (RTP) over UDP."""
    parsed = sdp(*RFC8839_EXAMPLE)
    media = only(parsed)
    assert media.candidates == (
        Candidate(1, "UDP", "203.0.113.141", 8998, "host"),
        Candidate(1, "UDP", "192.0.2.3", 45664, "srflx"),
    )
    assert (media.connection, media.port) == ("192.0.2.3", 45664)
    assert media.codecs == {"0": "PCMU/8000"}
    assert parsed.defects == ()  # b=, ice-* and the rest are SDP, not defects


def test_ipv6_candidates_of_the_rfc_8839_appendix() -> None:
    """RFC 8839 Appendix A: the offer of RFC 8445's example, its variables filled in."""
    media = only(sdp(
        "v=0",
        "o=jdoe 2890844526 2890842807 IN IP6 fe80::6676:baff:fe9c:ee4a",
        "s=",
        "c=IN IP6 2001:db8:8101:3a55:4858:a2a9:22ff:99b9",
        "t=0 0",
        "m=audio 45664 RTP/AVP 0",
        "a=candidate:1 1 UDP 2130706431 fe80::6676:baff:fe9c:ee4a 8998 typ host",
        "a=candidate:2 1 UDP 1694498815 2001:db8:8101:3a55:4858:a2a9:22ff:99b9 45664 typ "
        "srflx raddr fe80::6676:baff:fe9c:ee4a rport 8998",
    ))
    assert [(c.address, c.port, c.kind) for c in media.candidates] == [
        ("fe80::6676:baff:fe9c:ee4a", 8998, "host"),
        ("2001:db8:8101:3a55:4858:a2a9:22ff:99b9", 45664, "srflx"),
    ]
    assert media.connection == "2001:db8:8101:3a55:4858:a2a9:22ff:99b9"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("a=candidate:1 1 udp 2130706431 192.0.2.1 5000 typ host",
         Candidate(1, "UDP", "192.0.2.1", 5000, "host")),
        ("a=candidate:4 2 tcp 1518280447 192.0.2.1 9 typ host tcptype active",
         Candidate(2, "TCP", "192.0.2.1", 9, "host")),
        ("a=candidate:7 1 UDP 41885439 198.51.100.7 3478 typ relay raddr 192.0.2.1 rport 5000",
         Candidate(1, "UDP", "198.51.100.7", 3478, "relay")),
        ("a=candidate:8 1 Udp 1845501695 203.0.113.9 5002 typ prflx",
         Candidate(1, "UDP", "203.0.113.9", 5002, "prflx")),
    ],
)
def test_candidate_fields(line: str, expected: Candidate) -> None:
    """RFC 8839 5.1: foundation, component-id, transport (any case), priority,
    connection-address, port, "typ" cand-type, then optional raddr/rport and extensions."""
    media = only(sdp(*SESSION, "m=audio 5000 RTP/AVP 0", line))
    assert media.candidates == (expected,)


@pytest.mark.parametrize(
    "line",
    [
        "a=candidate:",
        "a=candidate:1 1 UDP 2130706431 192.0.2.1",  # no port, no type
        "a=candidate:1 1 UDP 2130706431 192.0.2.1 5000 typ",  # no type after typ
        "a=candidate:1 1 UDP 2130706431 192.0.2.1 5000 host",  # no "typ"
        "a=candidate:1 1 UDP 2130706431 192.0.2.1 port typ host",  # port not a number
        "a=candidate:1 rtp UDP 2130706431 192.0.2.1 5000 typ host",  # component not a number
        "a=candidate:1 1 UDP 2130706431 192.0.2.1 5000 type host",  # "type", not "typ"
    ],
)
def test_a_malformed_candidate_is_left_out_and_the_rest_is_read(line: str) -> None:
    parsed = sdp(
        *SESSION,
        "m=audio 5000 RTP/AVP 0",
        "a=candidate:1 1 UDP 2130706431 192.0.2.1 5000 typ host",
        line,
        "a=candidate:2 1 UDP 1694498815 203.0.113.1 6000 typ srflx raddr 192.0.2.1 rport 5000",
        "a=rtcp-mux",
        "a=sendonly",
        "m=video 5002 RTP/AVP 31",
    )
    audio, video = parsed.media
    assert [(c.address, c.port) for c in audio.candidates] == [
        ("192.0.2.1", 5000), ("203.0.113.1", 6000)]
    assert audio.rtcp_mux and audio.direction == "sendonly"
    assert (video.port, video.candidates) == (5002, ())
    assert parsed.defects == ()  # a malformed value of a known attribute is no defect


def test_candidates_belong_to_their_own_section() -> None:
    audio, video = sdp(
        *SESSION,
        "a=candidate:9 1 UDP 1 198.51.100.9 9 typ host",  # session level: no section's
        "m=audio 5000 RTP/AVP 0",
        "a=candidate:1 1 UDP 2130706431 192.0.2.1 5000 typ host",
        "m=video 5002 RTP/AVP 31",
        "a=candidate:1 1 UDP 2130706431 192.0.2.1 5002 typ host",
    ).media
    assert [c.port for c in audio.candidates] == [5000]
    assert [c.port for c in video.candidates] == [5002]


# -- encryption --------------------------------------------------------------------------

FINGERPRINT = ("a=fingerprint:sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:"
               "AB:4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF")
CRYPTO = ("a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
          "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4")


def test_rfc_4568_example_is_encrypted() -> None:
    """RFC 4568 (its example offer): SRTP with an SDES key on RTP/SAVP."""
    media = only(sdp(
        "v=0",
        "o=sam 2890844526 2890842807 IN IP4 10.47.16.5",
        "s=SRTP Discussion",
        "i=A discussion of Secure RTP",
        "u=http://www.example.com/seminars/srtp.pdf",
        "e=marge@example.com (Marge Simpson)",
        "c=IN IP4 168.2.17.12",
        "t=2873397496 2873404696",
        "m=audio 49170 RTP/SAVP 0",
        CRYPTO + " FEC_ORDER=FEC_SRTP",
    ))
    assert media.encrypted and media.is_rtp
    assert (media.connection, media.port, media.codecs) == ("168.2.17.12", 49170,
                                                           {"0": "PCMU/8000"})


@pytest.mark.parametrize(
    ("protocol", "attributes", "encrypted"),
    [
        ("RTP/AVP", (), False),
        ("RTP/AVPF", (), False),
        ("RTP/SAVP", (), True),  # a secure profile, whatever its keying
        ("RTP/SAVPF", (), True),
        ("rtp/savp", (), True),  # profiles are compared without case
        ("RTP/AVP", (CRYPTO,), True),  # SDES keys on the plain profile (best-effort SRTP)
        ("RTP/AVP", (FINGERPRINT,), False),  # a fingerprint alone says nothing of RTP
        ("UDP/TLS/RTP/SAVPF", (FINGERPRINT, "a=setup:actpass"), True),  # DTLS-SRTP
        ("UDP/TLS/RTP/SAVP", (FINGERPRINT,), True),
        ("UDP/TLS/RTP/SAVPF", (), True),  # SAVPF is a secure profile even without it
        ("TCP/TLS/RTP/AVP", (FINGERPRINT,), True),  # a DTLS/TLS profile with a fingerprint
        ("TCP/TLS/RTP/AVP", (), False),  # ... and without one
    ],
)
def test_encryption_at_media_level(protocol: str, attributes: tuple[str, ...],
                                   encrypted: bool) -> None:
    media = only(sdp(*SESSION, f"m=audio 49170 {protocol} 0", *attributes))
    assert media.encrypted is encrypted
    assert media.is_rtp


@pytest.mark.parametrize("protocol", ["UDP/TLS/RTP/SAVPF", "TCP/TLS/RTP/AVP"])
def test_a_session_level_fingerprint_covers_every_dtls_section(protocol: str) -> None:
    """RFC 8122 5 (and RFC 5763's examples): a=fingerprint at session level applies to every
    media section that has none of its own."""
    parsed = sdp(*SESSION, FINGERPRINT, f"m=audio 49170 {protocol} 0",
                 f"m=video 51372 {protocol} 31", "m=audio 49180 RTP/AVP 0")
    assert [m.encrypted for m in parsed.media] == [True, True, False]


def test_a_fingerprint_of_one_section_is_not_anothers() -> None:
    first, second = sdp(*SESSION, "m=audio 49170 TCP/TLS/RTP/AVP 0", FINGERPRINT,
                        "m=audio 49180 TCP/TLS/RTP/AVP 0").media
    assert (first.encrypted, second.encrypted) == (True, False)


def test_crypto_is_a_media_level_attribute() -> None:
    """RFC 4568 9.1: a=crypto is media level; at session level it keys no section."""
    parsed = sdp(*SESSION, CRYPTO, "m=audio 49170 RTP/AVP 0", "m=audio 49180 RTP/AVP 0", CRYPTO)
    assert [m.encrypted for m in parsed.media] == [False, True]


# -- RTP or not --------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("line", "is_rtp"),
    [
        ("m=audio 49170 RTP/AVP 0", True),
        ("m=audio 49170 RTP/AVPF 96", True),
        ("m=audio 49170 RTP/SAVPF 96", True),
        ("m=audio 9 UDP/TLS/RTP/SAVPF 111", True),
        ("m=audio 9 TCP/RTP/AVP 0", True),  # RFC 4571
        ("m=image 49172 udptl t38", False),  # T.38 fax (RFC 3362)
        ("m=image 49172 UDPTL t38", False),
        ("m=application 54111 UDP/DTLS/SCTP webrtc-datachannel", False),  # RFC 8841
        ("m=application 9 TCP/DTLS/SCTP webrtc-datachannel", False),
        ("m=audio 49170 udp 0", False),  # raw UDP, no RTP header
    ],
)
def test_is_rtp(line: str, is_rtp: bool) -> None:
    assert only(sdp(*SESSION, line)).is_rtp is is_rtp


def test_a_data_channel_is_not_srtp() -> None:
    """RFC 8841: DTLS carries SCTP, not RTP; ``encrypted`` speaks of SRTP, so it is False
    even with a fingerprint (the rule needs an SAVP profile, a=crypto, or a (UDP|TCP)/TLS/
    profile, and UDP/DTLS/SCTP is none of them)."""
    media = only(sdp(*SESSION, FINGERPRINT, "m=application 54111 UDP/DTLS/SCTP "
                     "webrtc-datachannel", "a=sctp-port:5000"))
    assert (media.kind, media.formats, media.is_rtp, media.encrypted) == (
        "application", ("webrtc-datachannel",), False, False)
    assert media.codecs == {"webrtc-datachannel": ""}


def test_a_t38_section() -> None:
    media = only(sdp(*SESSION, "m=image 49172 udptl t38", "a=T38FaxVersion:0"))
    assert (media.kind, media.port, media.protocol, media.formats) == (
        "image", 49172, "udptl", ("t38",))
    assert media.codecs == {"t38": ""}
    assert not media.is_rtp and not media.encrypted


# -- port 0, and what a section inherits ------------------------------------------------

def test_port_0_is_kept_with_its_formats() -> None:
    """RFC 3264 6: a stream rejected (or, in an offer, refused before it starts) has port 0;
    it keeps its place, formats and the session's address."""
    audio, video = sdp(*SESSION, "m=audio 49170 RTP/AVP 0", "m=video 0 RTP/AVP 31").media
    assert (audio.port, video.port) == (49170, 0)
    assert video.formats == ("31",) and video.codecs == {"31": "H261/90000"}
    assert video.connection == "192.0.2.1"


def test_a_section_inherits_the_session_connection_and_direction() -> None:
    """RFC 8866 5.7: a session-level c= applies to every section without its own; RFC 3264
    5.1: so does a session-level direction attribute."""
    parsed = sdp(
        "v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0",
        "a=recvonly",
        "m=audio 49170 RTP/AVP 0",
        "m=video 51372 RTP/AVP 31",
        "c=IN IP4 198.51.100.2",
        "a=sendrecv",
        "m=audio 49180 RTP/AVP 8",
        "a=inactive",
    )
    first, second, third = parsed.media
    assert (first.connection, first.direction) == ("192.0.2.1", "recvonly")
    assert (second.connection, second.direction) == ("198.51.100.2", "sendrecv")
    assert (third.connection, third.direction) == ("192.0.2.1", "inactive")
    assert parsed.direction == "recvonly" and parsed.connection == "192.0.2.1"
    assert sorted(parsed.addresses) == ["192.0.2.1", "198.51.100.2"]  # each once


def test_without_any_direction_a_section_is_sendrecv() -> None:
    """RFC 3264 5.1: sendrecv is the default."""
    media = only(sdp(*SESSION, "m=audio 49170 RTP/AVP 0"))
    assert media.direction == "sendrecv"


def test_a_direction_after_a_media_line_is_that_sections_only() -> None:
    parsed = sdp(*SESSION, "m=audio 49170 RTP/AVP 0", "a=sendonly", "m=video 51372 RTP/AVP 31")
    assert [m.direction for m in parsed.media] == ["sendonly", "sendrecv"]
    assert parsed.direction == "sendrecv"


def test_hold_with_the_old_zero_address_is_kept_as_written() -> None:
    """RFC 3264 8.4: RFC 2543 put a call on hold with c=0.0.0.0; the address is kept for the
    media layer to read as hold."""
    media = only(sdp("v=0", "o=- 1 2 IN IP4 192.0.2.1", "s=-", "c=IN IP4 0.0.0.0", "t=0 0",
                     "m=audio 49170 RTP/AVP 0"))
    assert media.connection == "0.0.0.0"


def test_no_connection_anywhere() -> None:
    media = only(sdp("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "t=0 0",
                     "m=audio 49170 RTP/AVP 0"))
    assert media.connection is None


# -- codecs ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("payload_type", "codec"),
    [
        # RFC 3551 table 4 (audio): encoding name / clock rate [/ channels]
        ("0", "PCMU/8000"),
        ("3", "GSM/8000"),
        ("4", "G723/8000"),
        ("5", "DVI4/8000"),
        ("6", "DVI4/16000"),
        ("7", "LPC/8000"),
        ("8", "PCMA/8000"),
        ("9", "G722/8000"),  # 8000 in the table although G.722 samples at 16 kHz (4.5.2)
        ("10", "L16/44100/2"),
        ("11", "L16/44100"),
        ("12", "QCELP/8000"),
        ("13", "CN/8000"),
        ("14", "MPA/90000"),
        ("15", "G728/8000"),
        ("16", "DVI4/11025"),
        ("17", "DVI4/22050"),
        ("18", "G729/8000"),
        # table 5 (video)
        ("25", "CelB/90000"),
        ("26", "JPEG/90000"),
        ("28", "nv/90000"),
        ("31", "H261/90000"),
        ("32", "MPV/90000"),
        ("33", "MP2T/90000"),
        ("34", "H263/90000"),
        # reserved or unassigned in the tables, and dynamic ones: no name without rtpmap
        ("1", ""),
        ("2", ""),
        ("19", ""),
        ("20", ""),
        ("35", ""),
        ("96", ""),
        ("127", ""),
    ],
)
def test_static_payload_types_without_rtpmap(payload_type: str, codec: str) -> None:
    media = only(sdp(*SESSION, f"m=audio 49170 RTP/AVP {payload_type}"))
    assert media.codecs == {payload_type: codec}


def test_rtpmap_names_keep_their_case_and_win_over_the_table() -> None:
    """RFC 8866 6.6: encoding names are case-insensitive, so they are kept as written (the
    media layer compares them without case); an rtpmap for a static type is what it says."""
    media = only(sdp(
        *SESSION,
        "m=audio 49170 RTP/AVP 96 97 18 0 8 101",
        "a=rtpmap:96 opus/48000/2",
        "a=rtpmap:97 iLBC/8000",
        "a=rtpmap:18 g729/8000",
        "a=rtpmap:101 telephone-event/8000",
    ))
    assert media.codecs == {
        "96": "opus/48000/2",
        "97": "iLBC/8000",
        "18": "g729/8000",
        "0": "PCMU/8000",
        "8": "PCMA/8000",
        "101": "telephone-event/8000",
    }
    assert media.formats == ("96", "97", "18", "0", "8", "101")


def test_an_rtpmap_for_a_format_not_on_the_media_line_is_not_a_codec_of_it() -> None:
    media = only(sdp(*SESSION, "m=audio 49170 RTP/AVP 0", "a=rtpmap:96 opus/48000/2"))
    assert media.codecs == {"0": "PCMU/8000"}


# -- what is not SDP ---------------------------------------------------------------------

def test_garbage_lines_are_kept_as_defects_and_the_rest_is_read() -> None:
    parsed = sdp(
        "v=0",
        "o=- 1 1 IN IP4 192.0.2.1",
        "this is not an SDP line",
        "s=-",
        "c=IN IP4 192.0.2.1",
        "xy=two letters",
        "t=0 0",
        "m=audio",  # too short
        "m=audio port RTP/AVP 0",  # port not a number
        "=no type",
        "m=audio 49170 RTP/AVP 0",
        "a=sendonly",
        "",
        "m=video 51372 RTP/AVP 31",
    )
    assert parsed.defects == ("this is not an SDP line", "xy=two letters", "m=audio",
                              "m=audio port RTP/AVP 0", "=no type")
    audio, video = parsed.media
    assert (audio.port, audio.direction, video.port) == (49170, "sendonly", 51372)
    assert audio.connection == "192.0.2.1"


def test_attributes_before_a_broken_media_line_stay_where_they_were() -> None:
    """A broken m= line starts no section: the lines after it are the previous section's."""
    audio, = sdp(*SESSION, "m=audio 49170 RTP/AVP 0", "m=video x RTP/AVP 31",
                 "a=rtcp-mux").media
    assert audio.rtcp_mux


def test_malformed_values_of_known_lines_are_not_raised() -> None:
    parsed = sdp("v=0", "o=too short", "s=-", "c=IN IP4", "t=0 0", "m=audio 1 RTP/AVP x9 0",
                 "a=rtpmap:", "a=rtcp:", "a=candidate:", "a=fingerprint", "a=crypto")
    assert parsed.origin is None and parsed.connection is None
    media = only(parsed)
    assert media.codecs == {"x9": "", "0": "PCMU/8000"}
    assert media.encrypted  # a=crypto, even with no value


def test_lf_only_and_bytes_that_are_not_utf8() -> None:
    parsed = parse_sdp(b"v=0\nc=IN IP4 192.0.2.1\n\xff\xfe garbage\nm=audio 49170 RTP/AVP 0\n"
                       b"s=\xe9t\xe9\n")
    assert only(parsed).connection == "192.0.2.1"
    assert len(parsed.defects) == 1 and "garbage" in parsed.defects[0]


def test_an_empty_body() -> None:
    assert parse_sdp(b"") == Sdp(None, None, "sendrecv", (), ())


_LINES = st.sampled_from([
    "v=0", "o=- 1 1 IN IP4 192.0.2.1", "c=IN IP4 192.0.2.1", "c=IN IP6 ::1", "c=", "t=0 0",
    "m=audio 49170 RTP/AVP 0 8 96", "m=video 0 RTP/AVP 31", "m=image 1 udptl t38", "m=x",
    "m=audio -1 RTP/AVP 0", "a=rtpmap:96 opus/48000/2", "a=rtpmap:", "a=rtcp:53020",
    "a=rtcp:53020 IN IP4 126.16.64.4", "a=rtcp:x", "a=rtcp-mux", "a=sendonly", "a=INACTIVE",
    "a=candidate:1 1 UDP 2130706431 192.0.2.1 5000 typ host", "a=candidate:1 1", CRYPTO,
    FINGERPRINT, "garbage", "==", "a", "",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_LINES, st.text(max_size=30)), max_size=15),
       st.sampled_from(["\r\n", "\n"]))
def test_any_body_parses_without_raising(lines: list[str], newline: str) -> None:
    parsed = parse_sdp(newline.join(lines).encode("utf-8", "surrogatepass"))
    for media in parsed.media:
        assert media.port >= 0
        assert set(media.codecs) == set(media.formats)
        assert all(c.transport == c.transport.upper() for c in media.candidates)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_parse_without_raising(body: bytes) -> None:
    parse_sdp(body)
