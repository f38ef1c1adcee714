"""The addresses one SDP media section announces, where the tracker expects its RTP and RTCP:
c= and m= (RFC 4566), RTCP on the next port up (RFC 3550 section 11) or where a=rtcp says
(RFC 3605), none apart with a=rtcp-mux (RFC 5761), and the UDP ICE candidates (RFC 8839), RTCP
candidates (component 2) only without rtcp-mux."""

from __future__ import annotations

from sipdiag.media.tracker import _addresses
from sipdiag.network import Endpoint
from sipdiag.sip.sdp import parse_sdp

RTP, RTCP = (False, False), (True, False)


def announced(*lines: str, proto: str = "RTP/AVP", connection: str = "192.0.2.10"
              ) -> list[tuple[Endpoint, bool, bool]]:
    body = ["v=0", "o=- 1 1 IN IP4 192.0.2.10", "s=-", f"c=IN IP4 {connection}", "t=0 0",
            f"m=audio 4000 {proto} 0", *lines]
    [media] = parse_sdp(("\r\n".join(body) + "\r\n").encode()).media
    return list(_addresses(media))


def test_rtp_on_the_port_and_rtcp_on_the_next_one() -> None:
    assert announced() == [(Endpoint("192.0.2.10", 4000), *RTP),
                           (Endpoint("192.0.2.10", 4001), *RTCP)]


def test_rtcp_where_a_rtcp_says() -> None:
    assert announced("a=rtcp:5005") == [(Endpoint("192.0.2.10", 4000), *RTP),
                                        (Endpoint("192.0.2.10", 5005), *RTCP)]
    assert announced("a=rtcp:5005 IN IP4 198.51.100.7") == [
        (Endpoint("192.0.2.10", 4000), *RTP), (Endpoint("198.51.100.7", 5005), *RTCP)]


def test_no_rtcp_address_apart_with_rtcp_mux() -> None:
    assert announced("a=rtcp-mux") == [(Endpoint("192.0.2.10", 4000), *RTP)]


def test_no_rtcp_for_what_is_not_rtp() -> None:
    """T.38 over UDPTL has no RTCP."""
    assert announced(proto="udptl") == [(Endpoint("192.0.2.10", 4000), *RTP)]


def test_no_address_from_a_hold_connection() -> None:
    """c=0.0.0.0 (RFC 3264 8.4, the old way to hold) announces nothing to send to."""
    assert announced(connection="0.0.0.0") == []


CANDIDATES = (
    "a=candidate:1 1 UDP 2130706431 203.0.113.5 50000 typ host",
    "a=candidate:1 2 UDP 2130706430 203.0.113.5 50001 typ host",
    "a=candidate:2 1 TCP 1518280447 203.0.113.5 9 typ host tcptype active",
)


def test_udp_ice_candidates_with_their_component() -> None:
    found = announced(*CANDIDATES)
    assert found[2:] == [(Endpoint("203.0.113.5", 50000), False, True),
                         (Endpoint("203.0.113.5", 50001), True, True)]


def test_rtcp_candidates_are_dropped_with_rtcp_mux() -> None:
    found = announced(*CANDIDATES, "a=rtcp-mux")
    assert found == [(Endpoint("192.0.2.10", 4000), *RTP),
                     (Endpoint("203.0.113.5", 50000), False, True)]
