"""The media tracker, fed SIP messages and UDP payloads directly: what an SDP binds, how a
stream is tied to its call (to or from an announced address, or by its shape), addresses
used again, shared by the legs of a B2BUA, passed to other processes, refused by ICMP."""

from __future__ import annotations

import pytest

from sipdiag.media.model import CapturedMedia, Tie
from sipdiag.media.rtcp import ReportBlock
from sipdiag.media.shape import GIVE_UP_AFTER
from sipdiag.media.tracker import (
    EXPIRY_NS,
    IDLE_FLOW_NS,
    MAX_SHARING,
    ORPHAN_SLACK_NS,
    SHARE_NS,
    SPAN_KEEP_NS,
    SR_KEPT,
    MediaTracker,
    _remember,
)
from sipdiag.network import Endpoint
from sipdiag.sip.parser import parse_message
from tests.media.rtp import receiver_report, report_block, rtp, sender_report

ALICE_SIP, BOB_SIP = Endpoint("192.0.2.10", 5060), Endpoint("198.51.100.20", 5060)
ALICE, BOB = Endpoint("192.0.2.10", 49170), Endpoint("198.51.100.20", 3456)
SECOND = 1_000_000_000
NAT = Endpoint("203.0.113.5", 62000)
"""An address no SIP went to and no SDP named."""
DNS_QUERY = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\0\0\1\0\1"


def sdp(address: str, port: int, extra: str = "", media: str = "audio",
        protocol: str = "RTP/AVP 0 101") -> str:
    return (f"v=0\r\no=- 1 1 IN IP4 {address}\r\ns=-\r\nc=IN IP4 {address}\r\nt=0 0\r\n"
            f"m={media} {port} {protocol}\r\na=rtpmap:101 telephone-event/8000\r\n{extra}")


def message(start: str, call_id: str, cseq: str, body: str = "") -> bytes:
    lines = [start, "Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK1",
             "From: <sip:alice@example.com>;tag=a", "To: <sip:bob@example.com>" + (
                 ";tag=b" if start.startswith("SIP/") else ""),
             f"Call-ID: {call_id}", f"CSeq: {cseq}"]
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


class Feed:
    """A tracker and a clock: SIP and RTP in frame order."""

    def __init__(self, owns: object = None, reports_orphans: bool = True,
                 timelines: bool = False) -> None:
        self.tracker = MediaTracker(owns, reports_orphans=reports_orphans,  # type: ignore[arg-type]
                                    timelines=timelines)
        self.frame = 0
        self.now = 10 * SECOND

    def sip(self, raw: bytes, src: Endpoint, dst: Endpoint) -> None:
        self.frame += 1
        self.tracker.observe(parse_message(raw, self.frame, self.now, src, dst, "UDP"))

    def call(self, call_id: str = "c1", alice: Endpoint = ALICE, bob: Endpoint = BOB) -> None:
        """INVITE with alice's SDP, 200 with bob's."""
        self.sip(message("INVITE sip:bob@example.com SIP/2.0", call_id, "1 INVITE",
                         sdp(alice.ip, alice.port)), ALICE_SIP, BOB_SIP)
        self.sip(message("SIP/2.0 200 OK", call_id, "1 INVITE", sdp(bob.ip, bob.port)),
                 BOB_SIP, ALICE_SIP)

    def bye(self, call_id: str = "c1") -> None:
        self.sip(message("BYE sip:bob@example.com SIP/2.0", call_id, "2 BYE"), ALICE_SIP,
                 BOB_SIP)

    def rtp(self, src: Endpoint, dst: Endpoint, count: int, ssrc: int = 7,
            data: bytes | None = None) -> list[bool]:
        taken = []
        for i in range(count):
            self.frame += 1
            self.now += 20_000_000
            payload = data if data is not None else rtp(100 + i, 160 * i, ssrc)
            taken.append(self.tracker.datagram(self.frame, self.now, src, dst, payload))
        return taken


def test_an_sdp_ties_streams_to_and_from_what_it_announced() -> None:
    feed = Feed()
    feed.call()
    assert all(feed.rtp(NAT, BOB, 10, ssrc=1))  # alice behind NAT: to bob's address
    assert all(feed.rtp(BOB, NAT, 10, ssrc=2))  # bob latches: from his address to the NAT's
    streams = {s.stream.ssrc: s for s in feed.tracker.claim("c1").streams}
    assert streams[1].tie is Tie.TO_ANNOUNCED and streams[1].announcement is not None
    assert streams[1].announcement.frame == 2  # bob's address came in the 200 (frame 2)
    assert streams[2].tie is Tie.FROM_ANNOUNCED and streams[2].stream.packets == 10


def test_rtcp_on_the_next_port_and_on_the_rtp_port() -> None:
    feed = Feed()
    feed.call()
    report = receiver_report(0xB0B, [report_block(7, 25, 3, 200, 80, 0, 0)])
    assert feed.rtp(Endpoint(BOB.ip, BOB.port + 1), Endpoint(ALICE.ip, ALICE.port + 1), 1,
                    data=report) == [True]
    feed.rtp(BOB, ALICE, 1, data=receiver_report(0xB0B, []))  # muxed: the second byte says
    media = feed.tracker.claim("c1")                          # RTCP (RFC 5761)
    [block] = [r.item for r in media.rtcp]
    assert isinstance(block, ReportBlock)
    assert (block.reporter, block.source, block.cumulative_lost) == (0xB0B, 7, 3)
    assert media.streams == () and media.malformed == 0


def test_an_address_used_again_by_a_new_call_is_the_new_calls() -> None:
    feed = Feed()
    feed.call("c1")
    feed.rtp(ALICE, BOB, 5, ssrc=1)
    feed.bye("c1")
    feed.call("c2")
    feed.rtp(ALICE, BOB, 7, ssrc=2)
    first, second = feed.tracker.claim("c1"), feed.tracker.claim("c2")
    assert [s.stream.ssrc for s in first.streams] == [1]
    assert [(s.stream.ssrc, s.stream.packets) for s in second.streams] == [(2, 7)]


def test_two_calls_up_at_once_with_one_address_share_its_stream() -> None:
    """A B2BUA that moved the media to flow between the phones: both legs announce the
    phones' addresses within moments, and both legs carry that audio."""
    feed = Feed()
    feed.call("leg-a")  # frames 1 and 2: BOB announced in the 200 at frame 2
    feed.call("leg-b")  # frames 3 and 4
    feed.rtp(ALICE, BOB, 5)
    (a,), (b,) = feed.tracker.claim("leg-a").streams, feed.tracker.claim("leg-b").streams
    assert (a.stream.packets, b.stream.packets) == (5, 5)
    assert a.announcement is not None and b.announcement is not None
    assert (a.announcement.frame, b.announcement.frame) == (2, 4)  # each leg's own SDP


@pytest.mark.parametrize("owner", ["leg-a", "leg-b"])
def test_a_shared_stream_is_the_same_whichever_process_owns_each_leg(owner: str) -> None:
    one = Feed()
    split = Feed(owns=lambda call_id: call_id == owner)
    for feed in (one, split):
        feed.call("leg-a")
        feed.call("leg-b")
        feed.rtp(ALICE, BOB, 5)
    assert split.tracker.claim(owner) == one.tracker.claim(owner)


def test_another_processes_calls_are_taken_and_not_kept() -> None:
    feed = Feed(owns=lambda call_id: call_id == "mine")
    feed.call("theirs")
    assert all(feed.rtp(ALICE, BOB, 5))
    assert feed.tracker.claim("theirs").streams == ()


@pytest.mark.parametrize("capture_over", [True, False])
def test_rtp_no_sdp_announced_is_tied_by_its_hosts_and_time(capture_over: bool) -> None:
    """Tied when the capture ends, or (still going) when its call is claimed."""
    feed = Feed()
    feed.rtp(ALICE, BOB, 10)  # the capture starts mid-call: no INVITE, no SDP
    feed.bye("mid")
    if capture_over:
        feed.tracker.finish()
    [orphan] = feed.tracker.claim("mid").streams
    assert orphan.tie is Tie.HEURISTIC and orphan.stream.packets == 10


def test_rtp_between_strangers_is_reported_as_belonging_to_no_call() -> None:
    feed = Feed()
    feed.call()
    stranger = Endpoint("203.0.113.99", 4000), Endpoint("203.0.113.98", 4002)
    assert all(feed.rtp(*stranger, 10)), "held until its shape is clear, then an orphan's"
    feed.tracker.finish()
    assert [s.stream.packets for s in feed.tracker.unattributed] == [10]
    quiet = Feed(reports_orphans=False)
    quiet.rtp(*stranger, 10)
    quiet.tracker.finish()
    assert quiet.tracker.unattributed == []


def test_udp_that_is_not_rtp_is_left_for_others() -> None:
    feed = Feed()
    taken = feed.rtp(Endpoint("192.0.2.10", 53000), Endpoint("192.0.2.53", 53), 70,
                     data=DNS_QUERY)
    assert not any(taken)


def test_icmp_errors_and_other_packets_on_the_media_ports() -> None:
    feed = Feed()
    feed.call()
    feed.rtp(ALICE, BOB, 3)
    feed.tracker.unreachable(99, feed.now, BOB.ip, ALICE, BOB, "port")
    feed.rtp(ALICE, BOB, 1, data=b"\x00\x01\x00\x00" + bytes(16))  # STUN
    feed.rtp(ALICE, BOB, 1, data=b"\xff" * 20)  # broken
    media = feed.tracker.claim("c1")
    assert [(u.frame, u.reason) for u in media.unreachable] == [(99, "port")]
    assert (media.other_packets, media.malformed) == (1, 1)
    assert feed.tracker.problems.counts == {"rtp_malformed": 1}
    assert [p.frame for p in feed.tracker.problems.examples["rtp_malformed"]] == [7]


def fax_call() -> Feed:
    """A feed with call "fax" offered: T.38 over UDPTL to ALICE's media address."""
    feed = Feed()
    feed.sip(message("INVITE sip:bob@example.com SIP/2.0", "fax", "1 INVITE",
                     sdp(ALICE.ip, ALICE.port, media="image", protocol="udptl t38")),
             ALICE_SIP, BOB_SIP)
    return feed


def test_fax_over_t38_is_not_read_as_rtp() -> None:
    feed = fax_call()
    feed.rtp(BOB, ALICE, 6, data=b"\x80\x00" + bytes(30))
    media = feed.tracker.claim("fax")
    assert media.streams == () and media.other_packets == 6 and media.malformed == 0
    assert media.captured, "the fax's packets are on the wire"


def test_a_capture_of_only_sip_cannot_hold_the_media() -> None:
    feed = Feed()
    feed.call()
    feed.rtp(Endpoint(ALICE.ip, 5060), Endpoint(BOB.ip, 5060), 2, data=b"\r\n\r\n")
    assert not feed.tracker.claim("c1").captured
    feed = Feed()
    feed.call()
    feed.rtp(Endpoint(ALICE.ip, 53000), Endpoint("192.0.2.53", 53), 1, data=b"dns")
    assert feed.tracker.claim("c1").captured, "other UDP of a media host is there"


def test_what_is_kept_follows_the_calls_in_progress() -> None:
    """Calls long over leave nothing behind: their bound addresses, spans and flows go once
    they are older than SPAN_KEEP_NS, so a day of calls does not grow the tracker."""
    feed = Feed()
    for n in range(40):
        alice, bob = Endpoint("192.0.2.10", 20000 + 2 * n), Endpoint("198.51.100.20", 30000 + 2 * n)
        feed.call(f"old-{n}", alice, bob)
        feed.rtp(alice, bob, 3, ssrc=n)
        feed.bye(f"old-{n}")
        feed.tracker.claim(f"old-{n}")
    feed.now += SPAN_KEEP_NS + IDLE_FLOW_NS
    feed.call("new")
    feed.now += EXPIRY_NS
    feed.bye("new")
    tracker = feed.tracker
    assert set(tracker._spans) == {"new"}
    assert {b.call_id for found in tracker._bindings.values() for b in found} == {"new"}
    assert tracker._flows == {} and tracker._by_endpoint == {} and tracker._claimed == set()


ALICE_RTCP, BOB_RTCP = Endpoint(ALICE.ip, ALICE.port + 1), Endpoint(BOB.ip, BOB.port + 1)


@pytest.mark.parametrize(
    ("lsr", "dlsr", "expected_ms"),
    [
        (0x12345678, 4096, 37.5),  # 100 ms at the capture point, 62.5 ms held by the reporter
        (0x12345678, 65536, 0.0),  # held longer than the whole round trip: not below zero
        (0x12345679, 4096, None),  # echoes an SR the capture did not see
        (0, 0, None),  # no SR received yet (RFC 3550 6.4.1: LSR 0)
    ],
)
def test_round_trip_from_a_report_that_echoes_a_captured_sender_report(
    lsr: int, dlsr: int, expected_ms: float | None
) -> None:
    """RFC 3550 6.4.1: the round trip is the report's arrival minus the arrival of the SR it
    names (LSR: the middle 32 bits of the SR's NTP time) minus the reporter's delay (DLSR, in
    units of 1/65536 s), here timed where the capture was made."""
    feed = Feed()
    feed.call()
    report = sender_report(0xA11CE, 0x0000_1234_5678_0000, 0, 1, 160, [])
    feed.rtp(ALICE_RTCP, BOB_RTCP, 1, data=report)
    sent_at = feed.now
    feed.now += 80_000_000  # the report arrives 100 ms after the SR (feed.rtp adds 20 ms)
    block = report_block(0xA11CE, 0, 0, 100, 0, lsr, dlsr)
    feed.rtp(BOB_RTCP, ALICE_RTCP, 1, data=receiver_report(0xB0B, [block]))
    reports = feed.tracker.claim("c1").rtcp
    assert [(r.frame, r.ts_ns, r.src, r.dst) for r in reports] == [
        (3, sent_at, ALICE_RTCP, BOB_RTCP), (4, sent_at + 100_000_000, BOB_RTCP, ALICE_RTCP)]
    assert reports[0].round_trip_ms is None
    if expected_ms is None:
        assert reports[1].round_trip_ms is None
    else:
        assert reports[1].round_trip_ms == pytest.approx(expected_ms)


def test_a_broken_rtcp_packet_is_counted_and_reported_as_rtcp() -> None:
    feed = Feed()
    feed.call()
    broken = receiver_report(0xB0B, [])[:2] + b"\x00\x09"  # says 10 words, carries 1
    feed.rtp(BOB_RTCP, ALICE_RTCP, 1, data=broken + b"\x00" * 4)
    media = feed.tracker.claim("c1")
    assert (media.rtcp, media.malformed) == ((), 1)
    [problem] = feed.tracker.problems.examples["rtcp_malformed"]
    assert problem.frame == 3


@pytest.mark.parametrize(
    ("responses", "tied"),
    [
        ((200,), True),  # answered: the call goes on, its unannounced audio is its own
        ((300,), False),  # a redirect ends the attempt (RFC 3261 8.1.3.4): 300 included
        ((486,), False),
        ((200, 491), True),  # a re-INVITE refused after the answer leaves the call up
    ],
    ids=["answered", "redirected", "busy", "reinvite-refused"],
)
def test_unannounced_rtp_after_the_invite_ended_is_not_the_calls(
    responses: tuple[int, ...], tied: bool
) -> None:
    """No SDP anywhere (a late offer the capture did not see): RTP between the call's hosts
    five seconds after its INVITE ended is another call's, not this one's."""
    feed = Feed()
    feed.sip(message("INVITE sip:bob@example.com SIP/2.0", "c1", "1 INVITE"), ALICE_SIP, BOB_SIP)
    for cseq, status in enumerate(responses, start=1):
        feed.now += SECOND
        feed.sip(message(f"SIP/2.0 {status} Reason", "c1", f"{cseq} INVITE"), BOB_SIP, ALICE_SIP)
    feed.now += 5 * SECOND
    feed.rtp(ALICE, BOB, 10)
    feed.tracker.finish()
    assert len(feed.tracker.claim("c1").streams) == (1 if tied else 0)


def test_a_host_talking_to_itself_is_named_with_its_media() -> None:
    """Both user agents on one host (two ports of 127.0.0.1): the capture sees that host's
    audio between its own addresses, which the call's verdict must know."""
    feed = Feed()
    here_a, here_b = Endpoint("127.0.0.1", 5060), Endpoint("127.0.0.1", 5070)
    media_a, media_b = Endpoint("127.0.0.1", 4000), Endpoint("127.0.0.1", 4002)
    feed.sip(message("INVITE sip:bob@example.com SIP/2.0", "c1", "1 INVITE",
                     sdp(media_a.ip, media_a.port)), here_a, here_b)
    feed.sip(message("SIP/2.0 200 OK", "c1", "1 INVITE", sdp(media_b.ip, media_b.port)),
             here_b, here_a)
    feed.rtp(media_a, media_b, 5)
    captured = feed.tracker.claim("c1")
    assert captured.self_talking == frozenset({"127.0.0.1"})
    assert [s.stream.packets for s in captured.streams] == [5]
    other = Feed()
    other.call()
    other.rtp(ALICE, BOB, 5)
    assert other.tracker.claim("c1").self_talking == frozenset()


def test_a_stream_is_read_with_the_codecs_its_sdp_maps() -> None:
    """A dynamic payload type means what the SDP's rtpmap says (RFC 4566 6, RFC 7587 for
    opus at 48000 Hz); without the SDP it is unknown."""
    def opus(end: Endpoint) -> str:
        return sdp(end.ip, end.port, "a=rtpmap:96 opus/48000/2\r\n", protocol="RTP/AVP 96")

    feed = Feed()
    feed.sip(message("INVITE sip:bob@example.com SIP/2.0", "c1", "1 INVITE", opus(ALICE)),
             ALICE_SIP, BOB_SIP)
    feed.sip(message("SIP/2.0 200 OK", "c1", "1 INVITE", opus(BOB)), BOB_SIP, ALICE_SIP)
    for i in range(5):
        feed.rtp(ALICE, BOB, 1, data=rtp(100 + i, 960 * i, 7, pt=96))
    [tied] = feed.tracker.claim("c1").streams
    assert (tied.stream.codec.name, tied.stream.codec.clock_rate) == ("opus", 48000)


def test_sender_reports_are_remembered_within_a_bound() -> None:
    """Round trips need the SRs a report may echo; a stream sends one every few seconds, so
    the tracker keeps up to 8 * SR_KEPT of them per call and, past that, forgets the oldest
    4 * SR_KEPT (the newest always stay)."""
    reports: dict[tuple[int, int], int] = {}
    for n in range(SR_KEPT * 8):
        _remember(reports, (1, n), n)
    assert len(reports) == SR_KEPT * 8  # at the bound: nothing forgotten yet
    _remember(reports, (1, SR_KEPT * 8), SR_KEPT * 8)
    assert sorted(n for _, n in reports) == list(range(SR_KEPT * 4, SR_KEPT * 8 + 1))


def test_packets_of_a_call_already_claimed_are_taken_and_counted_late() -> None:
    """On the call's flow, or on a new flow to an address it announced."""
    feed = Feed()
    feed.call()
    feed.rtp(ALICE, BOB, 3)
    feed.tracker.claim("c1")
    assert all(feed.rtp(ALICE, BOB, 2) + feed.rtp(NAT, BOB, 1))
    assert feed.tracker.late_packets == 3


def test_a_stream_turned_off_does_not_hide_the_next() -> None:
    """RFC 3264 8.2: port 0 turns an m= line's stream off; the m= lines after it still
    announce theirs (here the second, index 1)."""
    feed = Feed()
    body = sdp(BOB.ip, 0, f"m=audio {BOB.port} RTP/AVP 0\r\n", media="video",
               protocol="RTP/AVP 96")
    feed.sip(message("INVITE sip:bob@example.com SIP/2.0", "c1", "1 INVITE", body), BOB_SIP,
             ALICE_SIP)
    feed.rtp(ALICE, BOB, 5)
    [tied] = feed.tracker.claim("c1").streams
    assert tied.tie is Tie.TO_ANNOUNCED and tied.announcement is not None
    assert (tied.announcement.media_index, tied.announcement.kind) == (1, "audio")


@pytest.mark.parametrize(("partners", "streams"), [(True, [1, 1]), (False, [0, 1])])
def test_an_address_announced_again_long_after_is_shared_only_by_partners(
    partners: bool, streams: list[int]
) -> None:
    """c2 announces c1's addresses beyond SHARE_NS after c1 did, both up: they share them if
    they shared before (a B2BUA's legs, c2 re-INVITEd), else the addresses are c2's now."""
    feed = Feed()
    feed.call("c1")
    if partners:
        feed.call("c2")
    feed.now += SHARE_NS + SECOND
    feed.call("c2")
    feed.rtp(ALICE, BOB, 5)
    assert [len(feed.tracker.claim(c).streams) for c in ("c1", "c2")] == streams


def test_an_address_two_calls_shared_stays_with_the_one_still_going() -> None:
    """When one leg is forgotten (SPAN_KEEP_NS after its last SIP), the other leg, whose SIP
    went on, keeps the addresses both announced."""
    feed = Feed()
    feed.call("leg-a")
    feed.call("leg-b")
    for cseq in (2, 3):
        feed.now += SPAN_KEEP_NS // 2
        feed.sip(message("UPDATE sip:bob@example.com SIP/2.0", "leg-b", f"{cseq} UPDATE"),
                 ALICE_SIP, BOB_SIP)
    feed.rtp(ALICE, BOB, 5)
    [tied] = feed.tracker.claim("leg-b").streams
    assert (tied.tie, tied.stream.packets) == (Tie.TO_ANNOUNCED, 5)


def test_a_flow_given_up_stays_given_up_while_it_is_busy() -> None:
    """UDP that showed it is not media is left alone until it has been idle IDLE_FLOW_NS: RTP
    on it 10 s later is not taken, whatever passes over the idle flows happened between."""
    feed = Feed()
    feed.now = 1_700_000_000 * SECOND  # captures are timed from 1970
    stranger = Endpoint("203.0.113.99", 4000), Endpoint("203.0.113.98", 4002)
    assert not any(feed.rtp(*stranger, GIVE_UP_AFTER, data=DNS_QUERY))
    feed.now += EXPIRY_NS
    feed.bye("c1")
    assert not any(feed.rtp(*stranger, 10))


@pytest.mark.parametrize("towards_the_call", [True, False])
def test_an_orphan_fits_a_call_whose_sdp_announced_one_of_its_ends(
    towards_the_call: bool
) -> None:
    """A media gateway the call's SDP announced, at another port, and an address no SIP went
    to (a NAT): the orphan between them is the call's, whichever way it flows."""
    feed = Feed()
    gateway = Endpoint("192.0.2.77", 40000)
    feed.call("c1", alice=gateway)
    away = Endpoint(gateway.ip, 50000)
    feed.rtp(*((NAT, away) if towards_the_call else (away, NAT)), 10)
    feed.tracker.finish()
    [orphan] = feed.tracker.claim("c1").streams
    assert (orphan.tie, orphan.stream.packets) == (Tie.HEURISTIC, 10)


def test_rtp_before_a_call_whose_invite_was_not_captured_may_be_the_calls() -> None:
    """The capture starts after the INVITE: the call's first message seen is a 100 Trying
    (no To tag: RFC 3261 8.2.6.2), and its audio may have begun any time before."""
    feed = Feed()
    feed.rtp(ALICE, BOB, 150)  # 3 s
    trying = message("SIP/2.0 100 Trying", "c1", "1 INVITE").replace(b";tag=b", b"")
    feed.sip(trying, BOB_SIP, ALICE_SIP)
    feed.tracker.finish()
    [orphan] = feed.tracker.claim("c1").streams
    assert (orphan.tie, orphan.stream.packets) == (Tie.HEURISTIC, 150)


@pytest.mark.parametrize(("gap_ns", "tied"), [(ORPHAN_SLACK_NS, 1), (ORPHAN_SLACK_NS + 1, 0)])
def test_an_orphan_may_end_up_to_the_slack_before_the_calls_sip(gap_ns: int, tied: int) -> None:
    feed = Feed()
    feed.rtp(ALICE, BOB, 10)
    feed.now += gap_ns
    feed.bye("mid")
    feed.tracker.finish()
    assert len(feed.tracker.claim("mid").streams) == tied


@pytest.mark.parametrize(("owner", "tied"), [("mid", 1), ("other", 0)])
def test_an_orphan_is_kept_by_the_process_that_owns_its_call(owner: str, tied: int) -> None:
    feed = Feed(owns=lambda call_id: call_id == owner)
    feed.rtp(ALICE, BOB, 10)
    feed.bye("mid")
    feed.tracker.finish()
    assert len(feed.tracker.claim("mid").streams) == tied


def test_timelines_are_kept_when_asked_for() -> None:
    feed = Feed(timelines=True)
    feed.call()
    feed.rtp(ALICE, BOB, 5)
    [tied] = feed.tracker.claim("c1").streams
    assert tied.stream.timeline is not None and tied.stream.timeline.packets == (5,)


@pytest.mark.parametrize("second_byte", [192, 223])
def test_a_second_byte_of_192_to_223_is_rtcp_not_rtp(second_byte: int) -> None:
    """RFC 5761 4: where RTP and RTCP share a port, a second byte of 192-223 is an RTCP
    packet type, not an RTP payload type of 64-95 with the marker; neither end of the range
    is an SR or RR, so the packet is broken RTCP."""
    feed = Feed()
    feed.call()
    feed.rtp(ALICE, BOB, 1, data=bytes([0x80, second_byte, 0, 2]) + bytes(8))
    assert feed.tracker.claim("c1").streams == ()
    assert feed.tracker.problems.counts == {"rtcp_malformed": 1}


def test_rtp_shorter_than_its_header_is_malformed_and_makes_no_stream() -> None:
    """RFC 3550 5.1: CC 15 announces 60 bytes of CSRCs after the fixed 12; a packet of 20
    bytes cannot hold them."""
    feed = Feed()
    feed.call()
    assert feed.rtp(ALICE, BOB, 1, data=rtp(100, 0, 7, csrcs=15)[:20]) == [True]
    media = feed.tracker.claim("c1")
    assert (media.streams, media.malformed) == ((), 1)
    [problem] = feed.tracker.problems.examples["rtp_malformed"]
    assert problem.frame == 3 and "(20 bytes)" in problem.detail


def test_a_telephone_event_is_read_after_the_rtp_header() -> None:
    """RFC 4733 2.3: event 5, the E bit, a duration of 800 units (100 ms at 8000 Hz)."""
    feed = Feed()
    feed.call()
    event = bytes([5, 0x8A]) + (800).to_bytes(2, "big")
    feed.rtp(ALICE, BOB, 1, data=rtp(100, 0, 7, pt=101, payload=event))
    [tied] = feed.tracker.claim("c1").streams
    assert [(e.event, e.duration_ms) for e in tied.stream.events] == [("5", 100.0)]


@pytest.mark.parametrize(
    ("src", "dst"),
    [(Endpoint("203.0.113.9", 5060), Endpoint(ALICE.ip, 40000)),
     (Endpoint("203.0.113.9", 40000), Endpoint(ALICE.ip, 5090))],
    ids=["from-a-sip-port", "to-an-address-sip-used"],
)
def test_udp_a_capture_filtered_to_sip_holds_does_not_show_the_media_was_captured(
    src: Endpoint, dst: Endpoint
) -> None:
    """A capture filtered to SIP holds UDP from or to SIP's ports, and to or from addresses
    SIP went between (here SIP on port 5090)."""
    feed = Feed()
    feed.sip(message("OPTIONS sip:bob@example.com SIP/2.0", "ping", "1 OPTIONS"),
             Endpoint(ALICE.ip, 5090), BOB_SIP)
    feed.call()
    feed.rtp(src, dst, 1, data=b"\r\n\r\n")
    assert not feed.tracker.claim("c1").captured


@pytest.mark.parametrize(("ends", "tie"), [((NAT, BOB), Tie.TO_ANNOUNCED),
                                           ((BOB, NAT), Tie.FROM_ANNOUNCED)])
def test_rtp_already_flowing_is_bound_from_the_frame_its_address_is_announced(
    ends: tuple[Endpoint, Endpoint], tie: Tie
) -> None:
    """An SDP binds its address at the very frame it is seen (as Wireshark's SDP-to-RTP
    setup does): a flow to or from it that began before is looked up again, and its packets
    after the SDP are the call's, tied by that address."""
    feed = Feed()
    feed.rtp(*ends, 10)
    feed.call()
    feed.rtp(*ends, 10, ssrc=8)
    bound = [(s.tie, s.stream.packets) for s in feed.tracker.claim("c1").streams
             if s.stream.ssrc == 8]
    assert bound == [(tie, 10)]


def test_on_the_rtcp_port_every_packet_is_read_as_rtcp() -> None:
    """The port after the RTP one receives RTCP only (RFC 3550 11): a packet there that
    looks like RTP (type 0) is broken RTCP, no stream."""
    feed = Feed()
    feed.call()
    feed.rtp(BOB_RTCP, ALICE_RTCP, 1)
    assert feed.tracker.claim("c1").streams == ()
    assert feed.tracker.problems.counts == {"rtcp_malformed": 1}


def test_a_short_packet_with_the_marker_and_type_96_is_short_rtp() -> None:
    """8 bytes, second byte 0xE0: the marker and payload type 96, above RTCP's 192-223 (RFC
    5761 4), in fewer bytes than RTP's fixed header (RFC 3550 5.1)."""
    feed = Feed()
    feed.call()
    feed.rtp(ALICE, BOB, 1, data=b"\x80\xe0" + bytes(6))
    [problem] = feed.tracker.problems.examples["rtp_malformed"]
    assert problem.detail == f"{ALICE} -> {BOB}: RTP of 8 bytes, shorter than its header"
    assert feed.tracker.problems.counts == {"rtp_malformed": 1}


def test_a_process_that_leaves_orphans_to_another_reports_its_own_calls_problems() -> None:
    feed = Feed(reports_orphans=False)
    feed.call()
    feed.rtp(ALICE, BOB, 1, data=b"\xff" * 20)
    assert feed.tracker.problems.counts == {"rtp_malformed": 1}


def test_srtcp_is_read_no_further_than_its_first_header() -> None:
    """RFC 3711 3.4: after SRTCP's first 8 bytes (header, SSRC) comes ciphertext, then the
    E flag and index (4 bytes) and the authentication tag (10 here): nothing to read, and
    nothing broken."""
    feed = Feed()
    for start, src, dst, end in (("INVITE sip:bob@example.com SIP/2.0", ALICE_SIP, BOB_SIP,
                                  ALICE),
                                 ("SIP/2.0 200 OK", BOB_SIP, ALICE_SIP, BOB)):
        feed.sip(message(start, "c1", "1 INVITE", sdp(end.ip, end.port, protocol="RTP/SAVP 0")),
                 src, dst)
    ciphertext = bytes(range(0x41, 0x41 + 24))
    srtcp = b"\x80\xc8\x00\x06" + ciphertext + b"\x80\x00\x00\x01" + bytes(10)
    feed.rtp(BOB_RTCP, ALICE_RTCP, 1, data=srtcp)
    media = feed.tracker.claim("c1")
    assert (media.rtcp, media.malformed) == ((), 0)


def test_a_call_whose_hosts_sent_other_udp_but_none_of_its_media() -> None:
    """The capture could hold the call's media (UDP of its media host is there), and holds
    none of it."""
    feed = Feed()
    feed.call()
    feed.rtp(Endpoint(ALICE.ip, 53000), Endpoint("192.0.2.53", 53), 1, data=b"dns")
    assert feed.tracker.claim("c1") == CapturedMedia((), (), (), 0, 0, True, frozenset())


def test_a_fax_flow_counts_its_packets_across_the_passes_over_idle_flows() -> None:
    feed = fax_call()
    feed.rtp(BOB, ALICE, 1, data=b"\x80\x00" + bytes(30))
    feed.now += IDLE_FLOW_NS
    feed.sip(message("UPDATE sip:bob@example.com SIP/2.0", "fax", "2 UPDATE"), ALICE_SIP,
             BOB_SIP)
    feed.rtp(BOB, ALICE, 1, data=b"\x80\x00" + bytes(30))
    assert feed.tracker.claim("fax").other_packets == 2


def test_a_call_forgotten_after_the_one_that_took_its_addresses() -> None:
    """c2 announces c1's addresses beyond SHARE_NS after c1 (they are c2's now); c1's SIP goes
    on, so c2 is forgotten first (SPAN_KEEP_NS after its last SIP), and its addresses with
    it; c1, forgotten later, has nothing bound left to let go."""
    feed = Feed()
    feed.call("c1")
    feed.now += SHARE_NS + SECOND
    feed.call("c2")
    feed.now += SPAN_KEEP_NS // 2
    feed.sip(message("UPDATE sip:bob@example.com SIP/2.0", "c1", "2 UPDATE"), ALICE_SIP,
             BOB_SIP)
    for _ in range(2):
        feed.now += SPAN_KEEP_NS // 2 + SECOND
        feed.bye("other")
    assert set(feed.tracker._spans) == {"other"} and feed.tracker._bindings == {}


def test_a_stream_turned_off_binds_no_address() -> None:
    """RFC 3264 8.2: port 0 turns the stream off; RTP to that port is no call's."""
    feed = Feed()
    feed.sip(message("INVITE sip:bob@example.com SIP/2.0", "c1", "1 INVITE",
                     sdp(ALICE.ip, 0)), ALICE_SIP, BOB_SIP)
    feed.rtp(NAT, Endpoint(ALICE.ip, 0), 10)
    assert feed.tracker.claim("c1").streams == ()


def test_a_load_test_that_gives_every_call_one_port_stays_linear() -> None:
    """SIPp gives every call the same media port by default: 200 calls up at once announce
    one address. Each shares it with the MAX_SHARING latest only, so neither the bindings of
    that address nor any call's partners grow with the number of calls up; the latest call
    still takes its stream."""
    feed = Feed()
    for n in range(200):
        feed.call(f"load-{n}")
    tracker = feed.tracker
    assert len(tracker._bindings[BOB]) == MAX_SHARING
    assert max(len(partners) for partners in tracker._partners.values()) <= 2 * MAX_SHARING
    feed.rtp(ALICE, BOB, 3)
    (stream,) = tracker.claim("load-199").streams
    assert stream.stream.packets == 3


def test_a_call_hung_up_lets_its_partners_go_while_its_span_is_kept() -> None:
    """A load test's calls each share their port with dozens: a call hung up (BYE) or
    cancelled shares nothing any more, so its partners go at once, both ways, not
    SPAN_KEEP_NS later with its span (which orphans still need)."""
    feed = Feed()
    for n in range(20):
        feed.call(f"load-{n}")
    tracker = feed.tracker
    assert tracker._partners["load-3"]
    for n in range(19):
        feed.bye(f"load-{n}")
    assert set(tracker._partners) == {"load-19"} and tracker._partners["load-19"] == set()
    assert len(tracker._spans) == 20  # the spans stay
