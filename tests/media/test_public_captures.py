"""No media warning on a public capture that was captured without its media, or whose one-way
media is what the SDP asked for.

Every capture in ../shared/captures/public/ is analysed, and each call is read again with
tshark, independently of sipdiag: the SDPs of the call (``-Y sip -T json``, their lines in the
order they were written) and the UDP packets of the capture (``-Y udp``, with Wireshark's
SDP-to-RTP set-up frame and its RTP heuristic on). A call's media is in the capture when a UDP
packet that is not SIP goes to or from an address and port the call's SDP announced (its RTP
port, the RTCP port after it or the one ``a=rtcp`` names, an ICE candidate), when Wireshark
ties an RTP or RTCP packet to one of the call's SDPs, or when RTP goes to or from an address
the call's SDP announced while the call's SIP goes on. A call asked for one-way media or hold
when one of its SDPs says ``sendonly``, ``recvonly`` or ``inactive`` for its audio (or for the
whole session), gives its audio port 0, or puts its audio at 0.0.0.0 without ICE candidates
(RFC 3264 5.1, 8.2 and 8.4; RFC 8839 5.1).

For every call of every capture:

- without media in the capture: sipdiag gives it no media record (then tshark must not see a
  2xx to its INVITE with SDP both ways) or the ``not_captured`` state, and no media rule
  (M101-M119) reports anything about it at ``warning`` or ``error``;
- with media in the capture: sipdiag never says ``not_captured``;
- having asked for one-way media or hold: no warning or error about silence, one-way audio,
  refused RTP or audio that stopped or started late (``SILENCE_RULES``);
- every other media warning or error must be in ``KNOWN``, with the reason it is true,
  found by looking at the capture with tshark; every entry of ``KNOWN`` must still be
  reported, so that the list stays honest, and its evidence is checked again with tshark
  (``EVIDENCE``).

tshark runs at most twice per capture here (four times for a capture in ``KNOWN``), each run
bounded by ``TSHARK_TIMEOUT_S`` and its output kept for the module.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from sipdiag.analysis import Analysis, analyze
from sipdiag.dialogs.media import MediaState
from sipdiag.dialogs.records import CallRecord
from sipdiag.rules import load_engine
from sipdiag.rules.model import Finding
from tests.conftest import PUBLIC, PublicCapture, needs_public, public_captures

pytestmark = needs_public
TSHARK_TIMEOUT_S = 120
SLACK_S = 5.0
"""How far outside a call's SIP messages RTP may flow and still be taken as the call's."""
MEDIA_RULES = frozenset(f"M{n}" for n in range(101, 120))
"""rules/media/: M101 to M119."""
SILENCE_RULES = frozenset({"M101", "M102", "M103", "M104", "M105", "M106", "M107", "M108",
                           "M114"})
"""One-way or no audio, RTP refused, audio that stopped (one way, or both before the BYE) or
started late: what a call put on hold or made one-way by its SDP shows without any fault."""
SERIOUS = frozenset({"warning", "error"})
ONE_WAY = frozenset({"sendonly", "recvonly", "inactive"})
HOLD_ADDRESSES = frozenset({"0.0.0.0", "::"})
ENGINE = load_engine()

TSHARK_OPTIONS: dict[str, tuple[str, ...]] = {
    # its SIP is on TCP port 6060 (MANIFEST.tsv), which tshark shows as X11 unless told
    "sipcapture__heplify/example/pcap/sip_ipv4_tcp_fragmented.pcap": (
        "-d", "tcp.port==6060,sip"),
}

ISA = "MichalCab__ISA/"
TREX = "cisco-system-traffic-generator__trex-core/scripts/exp/"
NDPI_FAX = "ntop__nDPI/tests/cfgs/default/pcap/FAX-Call-t38-CA-TDM-SIP-FB-1.pcap"
HEPLIFY_FAX = "sipcapture__heplify/example/pcap/FAX-Call-t38-CA-TDM-SIP-FB-1.pcap"
ZFONE = "NormB__sipnab/tests/pcap-samples/Asterisk_ZFONE_XLITE.pcap"
DTMF2 = "NormB__sipnab/tests/pcap-samples/SIP_DTMF2.cap"

DIGITAL_SILENCE = (
    "digital silence: every sample of every G.711 A-law packet of {streams} is within 32 of "
    "zero (bytes 0xD5/0x55, +-8; tshark -o rtp.heuristic_rtp:TRUE --disable-protocol stun "
    "-e rtp.payload, decoded with the G.711 A-law table): the phones sent silence, as a "
    "muted or absent microphone does")
ISA_SILENCE = DIGITAL_SILENCE.format(
    streams="both Linphone streams (10.0.2.4:7078 <-> 10.0.2.5:7078), which the Asterisk "
            "B2BUA's re-INVITEs made flow directly, so both legs report it")
TRIMMED = (
    "the file keeps the first RTP packets only: tshark shows 8 RTP packets from 0.509 s to "
    "0.659 s (frames 6-13) and the BYE at 24.538 s (frame 14), so all media does stop 23.9 s "
    "before the BYE in this file; it is TRex's short SIP template (the same Call-ID, SIP "
    "and timings as avl/delay_10_sip_video_call_full.pcap, whose RTP runs up to the BYE)")
NDPI_TRIMMED = (
    "nDPI's copy keeps 1552 of the 7217 packets of the capture heplify keeps whole (the same "
    "frames, times and lengths): of the callee's stream 10.35.60.100:15580 -> "
    "10.23.1.52:16756 it holds 132 RTP packets with 1712 missing sequence numbers (tshark "
    "rtp,streams: Lost 1712 (92.8%), max delta 34261.832 ms), and its last RTP packet is at "
    "65.241 s while the BYE is at 104.748 s (frame 1534). True of this file; heplify's full "
    "copy shows 6 lost and RTP up to the BYE, so the loss is the trimming's, which one "
    "direction's gaps alone cannot tell from the network's")
PAYLOAD_100 = (
    "tshark: the caller's stream 10.23.1.52:16756 -> 10.35.60.100:15580 (SSRC 0x17D90134) "
    "carries 3 packets of RTP payload type 100 (tshark rtp,streams: 'g711A, CN, RTPType-100'; "
    "Cisco's NSE fax/modem events), and every SDP announcing 10.35.60.100:15580 lists only 8 "
    "and 102 (frames 49-51, 1426-1428) or 8 (frames 166, 167, 176)")
FAX_LATE = (
    "tshark: the 200 OK to the caller's INVITE is frame 49 at 27.862 s and the caller's first "
    "RTP (10.23.1.52:16756 -> 10.35.60.100:15580) is frame 184 at 29.971 s, 2.109 s later "
    "(the gateway re-INVITEd at 29.90 s before sending)")
KNOWN: dict[tuple[str, str], str] = {
    (f"{TREX}sip_short1-0-ex.erf", "M108"): TRIMMED,
    (f"{TREX}sip_short1_v6-0-ex.erf", "M108"): TRIMMED + " (IPv6 rewrite)",
    ("javier-pastor__ptavi-p5/sip.cap", "M104"): DIGITAL_SILENCE.format(
        streams="the caller's 611 packets 192.168.1.34:5010 -> 86.64.162.35:12440 (the "
                "largest sample +-24, bytes 0xD4/0x54)"),
    ("javier-pastor__ptavi-p5/sip.cap", "M111"): (
        "tshark rtp,streams: 192.168.1.34:5010 -> 86.64.162.35:12440 (g711A, 611 packets) has "
        "a mean jitter of 40.655 ms, up to 119.635 ms, and deltas up to 1290 ms"),
    ("javier-pastor__ptavi-p5/sip.cap", "M103"): (
        "tshark: the callee 86.64.162.35 answered with audio at 86.64.162.35:12440 (frame 105) "
        "and sent no RTP at all (only SIP from port 5060), while the caller's 611 A-law and "
        "196 H.261 packets to it are in the capture"),
    ("javier-pastor__ptavi-p5/sip.libpcap.gz", "M103"): "the same capture as sip.cap, gzipped",
    ("javier-pastor__ptavi-p5/sip.libpcap.gz", "M104"): "the same capture as sip.cap, gzipped",
    ("javier-pastor__ptavi-p5/sip.libpcap.gz", "M111"): "the same capture as sip.cap, gzipped",
    (f"{ISA}hodinovy_rozhovor_s_filipem.pcap", "M104"): DIGITAL_SILENCE.format(
        streams="the callee's 115 packets 192.168.1.13:7078 -> 192.168.1.2:7078 (the only RTP "
                "of the capture)"),
    (f"{ISA}hodinovy_rozhovor_s_filipem.pcap", "M103"): (
        "tshark rtp,streams: the only RTP is the callee's 192.168.1.13:7078 -> "
        "192.168.1.2:7078 (115 packets, 27.18-29.47 s); the caller 192.168.1.2, which "
        "announced 192.168.1.2:7078 (frames 167, 170), sent none, and the Asterisk B2BUA's "
        "re-INVITE (frame 195) made the media flow between the phones, so both legs report it"),
    (f"{ISA}i_was_called_by_another_pc.pcap", "M104"): ISA_SILENCE,
    (f"{ISA}real_call.pcap", "M104"): ISA_SILENCE,
    (f"{ISA}real_sip_call.pcap", "M104"): ISA_SILENCE,
    (ZFONE, "M109"): (
        "tshark rtp,streams: the caller's 192.168.10.41:64508 -> 192.168.10.40:49848 (SSRC "
        "0xBEE0F2ED) has 205 packets and Lost 369 (64.3%): its sequence numbers jump 4618 -> "
        "4743 (2.5 s, frames 235-362) and 4764 -> 4998 (4.68 s, frames 405-641) with RTP "
        "timestamps advancing alike, while the other direction (790 packets, 1 lost) flows "
        "on through both gaps: packets sent and never seen, not a capture outage"),
    (ZFONE, "M112"): "the same stream: max delta 4680.243 ms (seq 4764 -> 4998, frame 641)",
    (ZFONE, "M113"): "the same stream: 64.3% of its packets lost",
    (NDPI_FAX, "M108"): NDPI_TRIMMED,
    (NDPI_FAX, "M109"): NDPI_TRIMMED,
    (NDPI_FAX, "M112"): NDPI_TRIMMED,
    (NDPI_FAX, "M113"): NDPI_TRIMMED,
    (NDPI_FAX, "M114"): FAX_LATE,
    (NDPI_FAX, "M115"): PAYLOAD_100,
    (HEPLIFY_FAX, "M114"): FAX_LATE,
    (HEPLIFY_FAX, "M115"): PAYLOAD_100,
}
"""(capture, rule) -> why its warning is true, as tshark shows the capture."""

# -- tshark's view -----------------------------------------------------------------------

@dataclass(frozen=True)
class Section:
    """One m= line of an SDP, with its c= address (its own or the session's) and direction."""

    kind: str
    port: int
    protocol: str
    address: str | None
    direction: str
    rtcp_port: int | None
    candidates: tuple[tuple[str, int], ...]
    """ICE candidates (RFC 8839 5.1): where else its media may flow."""
    formats: tuple[str, ...]


@dataclass
class CallView:
    """What tshark shows of one Call-ID's SIP."""

    sdp_frames: set[int] = field(default_factory=set)
    sections: list[Section] = field(default_factory=list)
    first_s: float = float("inf")
    last_s: float = float("-inf")
    """The times of its first and last SIP message."""
    sdp_in_request: bool = False
    sdp_in_response: bool = False
    answered_s: float | None = None
    """The time of its first 2xx to an INVITE."""
    bye_s: float | None = None
    """The time of its first BYE."""
    invite_statuses: set[int] = field(default_factory=set)
    """The status codes of the responses to its INVITEs."""

    @property
    def answered_with_sdp(self) -> bool:
        return self.answered_s is not None and self.sdp_in_request and self.sdp_in_response

    @property
    def endpoints(self) -> set[tuple[str, int]]:
        """Every address and port an SDP of the call announced for RTP or RTCP."""
        found: set[tuple[str, int]] = set()
        for section in self.sections:
            if section.port == 0:
                continue
            found.update(section.candidates)
            if section.address is None:
                continue
            found.add((section.address, section.port))
            if section.rtcp_port is not None:
                found.add((section.address, section.rtcp_port))
            elif "RTP/" in section.protocol.upper():
                found.add((section.address, section.port + 1))
        return found

    @property
    def addresses(self) -> set[str]:
        found = {s.address for s in self.sections if s.address is not None and s.port}
        return found | {address for s in self.sections for address, _ in s.candidates}

    @property
    def asked_one_way(self) -> bool:
        return any(s.kind == "audio" and (
            s.direction in ONE_WAY or s.port == 0
            or (s.address in HOLD_ADDRESSES and not s.candidates)) for s in self.sections)


@dataclass(frozen=True)
class Datagram:
    frame: int
    time_s: float
    addresses: frozenset[str]
    """Every IP address of the packet's headers (the outer ones of a tunnel too)."""
    src_port: int
    dst_port: int
    setup_frames: frozenset[int]
    """The frames Wireshark set its RTP or RTCP conversation up from (an SDP's, or the
    packet's own first frame for RTP found by its heuristic)."""
    rtp: bool
    """tshark reads it as RTP or RTCP (its heuristic on)."""
    source: str
    destination: str
    """The innermost addresses (IPv6 in a tunnel over IPv4 as in GTP, else the last IPv4)."""
    payload_type: int | None


def tshark(path: Path, *arguments: str) -> str:
    options = TSHARK_OPTIONS.get(path.relative_to(PUBLIC).as_posix(), ())
    done = subprocess.run(
        ["tshark", "-n", "-r", str(path), "-o", "tcp.reassemble_out_of_order:TRUE", *options,
         *arguments],
        capture_output=True, text=True, timeout=TSHARK_TIMEOUT_S, check=False,
    )
    # tshark exits with status 2 on a file cut short, after printing what it could read
    assert done.returncode in (0, 2), done.stderr
    return done.stdout


def _normal(address: str) -> str:
    try:
        return str(ipaddress.ip_address(address.strip("[]")))
    except ValueError:
        return address


Pairs = list[tuple[str, Any]]


def _walk(pairs: Pairs) -> Iterator[tuple[str, Any]]:
    """Every (key, value) of a JSON object read with its duplicate keys, in document order."""
    for key, value in pairs:
        yield key, value
        if isinstance(value, list) and value and isinstance(value[0], tuple):
            yield from _walk(value)


def _first(pairs: Pairs, name: str) -> Any:
    return next((value for key, value in _walk(pairs) if key == name), None)


def _sections(sdp: Pairs) -> list[Section]:
    """The m= sections of one SDP, from its lines in order (session c= and direction first)."""
    session_address: str | None = None
    session_direction = "sendrecv"
    drafts: list[dict[str, Any]] = []
    for key, value in sdp:
        if not isinstance(value, str):
            continue
        if key == "sdp.connection_info":
            parts = value.split()
            address = _normal(parts[2].split("/")[0]) if len(parts) >= 3 else None
            if drafts:
                drafts[-1]["address"] = address
            else:
                session_address = address
        elif key == "sdp.media":
            parts = value.split()
            port = parts[1].split("/")[0] if len(parts) > 1 else ""
            drafts.append({"kind": parts[0] if parts else "",
                           "port": int(port) if port.isdigit() else 0,
                           "protocol": parts[2] if len(parts) > 2 else "",
                           "address": None, "direction": None, "rtcp": None,
                           "candidates": [], "formats": tuple(parts[3:])})
        elif key in ("sdp.media_attr", "sdp.session_attr"):
            name, _, rest = value.partition(":")
            name = name.strip().lower()
            if key == "sdp.session_attr" or not drafts:
                if name in (*ONE_WAY, "sendrecv"):
                    session_direction = name
            elif name in (*ONE_WAY, "sendrecv"):
                drafts[-1]["direction"] = name
            elif name == "rtcp" and rest.split() and rest.split()[0].isdigit():
                drafts[-1]["rtcp"] = int(rest.split()[0])
            elif name == "candidate":
                # foundation component transport priority address port typ type ...
                parts = rest.split()
                if len(parts) >= 6 and parts[2].upper() == "UDP" and parts[5].isdigit():
                    drafts[-1]["candidates"].append((_normal(parts[4]), int(parts[5])))
    return [Section(d["kind"], d["port"], d["protocol"], d["address"] or session_address,
                    d["direction"] or session_direction, d["rtcp"], tuple(d["candidates"]),
                    d["formats"])
            for d in drafts]


@cache
def tshark_calls(path: Path) -> dict[str, CallView]:
    """Each Call-ID's SDPs and answer, as tshark reads the capture's SIP."""
    packets = json.loads(tshark(path, "-Y", "sip && !icmp && !icmpv6", "-T", "json",
                                "-J", "frame sip") or "[]",
                         object_pairs_hook=lambda pairs: pairs)
    calls: dict[str, CallView] = {}
    for packet in packets:
        layers = _first(packet, "layers") or []
        frame = int(_first(layers, "frame.number") or 0)
        time_s = float(_first(layers, "frame.time_epoch") or 0)
        for key, sip in layers:
            if key != "sip" or not isinstance(sip, list):
                continue
            call_id = _first(sip, "sip.Call-ID")
            if call_id is None:
                continue
            view = calls.setdefault(str(call_id), CallView())
            view.first_s, view.last_s = min(view.first_s, time_s), max(view.last_s, time_s)
            status = _first(sip, "sip.Status-Code")
            method = _first(sip, "sip.CSeq.method")
            if status is not None and method == "INVITE":
                view.invite_statuses.add(int(status))
            if status is not None and str(status).startswith("2") and method == "INVITE":
                view.answered_s = min(time_s, view.answered_s or time_s)
            if status is None and method == "BYE":
                view.bye_s = min(time_s, view.bye_s or time_s)
            sdp = _first(sip, "sdp")
            if not isinstance(sdp, list):
                continue
            sections = _sections(sdp)
            if not sections:
                continue
            view.sdp_frames.add(frame)
            view.sections.extend(sections)
            if status is None:
                view.sdp_in_request = True
            else:
                view.sdp_in_response = True
    return calls


@cache
def tshark_udp(path: Path) -> tuple[Datagram, ...]:
    """Every UDP packet of the capture that tshark does not read as SIP."""
    fields = ("frame.number", "frame.time_epoch", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst",
              "udp.srcport", "udp.dstport", "rtp.setup-frame", "rtcp.setup-frame", "rtp.version",
              "rtcp.version", "rtp.p_type")
    out = tshark(path, "-o", "rtp.heuristic_rtp:TRUE", "-o", "rtcp.heuristic_rtcp:TRUE",
                 "-Y", "udp && !sip && !icmp && !icmpv6", "-T", "fields",
                 "-E", "occurrence=a", "-E", "aggregator=,",
                 *(option for name in fields for option in ("-e", name)))
    found = []
    for line in out.splitlines():
        values = [v.split(",") if v else [] for v in line.split("\t")]
        if len(values) != len(fields) or not values[6] or not values[7]:
            continue
        frame, time_s, ip_src, ip_dst, ip6_src, ip6_dst, sport, dport = values[:8]
        rtp, rtcp, rtp_version, rtcp_version, payload_type = values[8:]
        addresses = frozenset(_normal(a) for a in (*ip_src, *ip_dst, *ip6_src, *ip6_dst))
        # the last UDP header is the innermost one (GTP, VXLAN, ... carry UDP in UDP)
        found.append(Datagram(
            int(frame[0]), float(time_s[0]), addresses, int(sport[-1]), int(dport[-1]),
            frozenset(int(f) for f in (*rtp, *rtcp) if f.isdigit()),
            bool(rtp_version or rtcp_version),
            _normal((ip6_src or ip_src or [""])[-1]), _normal((ip6_dst or ip_dst or [""])[-1]),
            int(payload_type[-1]) if payload_type else None))
    return tuple(found)


def media_packets(path: Path, view: CallView) -> list[Datagram]:
    """The UDP packets that are this call's media, as tshark shows the capture: to
    or from an address and port its SDP announced, tied by Wireshark to one of its SDPs, or
    RTP to or from an address its SDP announced (at another port: a NAT, or a sender that
    does not send from where it receives) while its SIP went on."""
    endpoints, addresses = view.endpoints, view.addresses
    ports = {port for _, port in endpoints}
    start, end = view.first_s - SLACK_S, view.last_s + SLACK_S
    return [
        d for d in tshark_udp(path)
        if d.setup_frames & view.sdp_frames
        or any((address, port) in endpoints for address in d.addresses
               for port in {d.src_port, d.dst_port} & ports)
        or (d.rtp and d.addresses & addresses and start <= d.time_s <= end)
    ]


# -- sipdiag's view ----------------------------------------------------------------------

@cache
def analysed(path: Path) -> Analysis:
    return analyze(path, engine=ENGINE, jobs=1)


def serious_media_findings(analysis: Analysis) -> list[Finding]:
    return [f for f in analysis.findings if f.rule.id in MEDIA_RULES and f.severity in SERIOUS]


def _describe(finding: Finding) -> str:
    return f"{finding.rule.id} ({finding.severity}) on {finding.call_id}: {finding.message()}"


def check_capture(capture: PublicCapture) -> None:
    path = capture.path
    analysis = analysed(path)
    views = tshark_calls(path)
    findings = serious_media_findings(analysis)
    problems = []
    for call in analysis.calls:
        mine = [f for f in findings if f.call_id == call.call_id]
        problems += check_call(path, call, views.get(call.call_id, CallView()), mine)
    assert not problems, "\n".join(problems)
    unknown = [_describe(f) for f in findings if (capture.name, f.rule.id) not in KNOWN]
    assert not unknown, "media warnings not in KNOWN:\n" + "\n".join(unknown)
    fired = {f.rule.id for f in findings}
    stale = sorted(rule for name, rule in KNOWN if name == capture.name and rule not in fired)
    assert not stale, f"no longer reported, take them out of KNOWN: {stale}"


def check_call(path: Path, call: CallRecord, view: CallView,
               findings: list[Finding]) -> list[str]:
    """What is wrong in sipdiag's view of one call's media, against tshark's."""
    problems = []
    media = call.media
    state = media.state if media is not None else None
    packets = media_packets(path, view)
    if not packets:
        if media is None:
            if view.answered_with_sdp:
                problems.append(f"{call.call_id}: answered with SDP both ways (tshark), "
                                "yet no media record")
        elif state is not MediaState.NOT_CAPTURED:
            problems.append(f"{call.call_id}: no media in the capture, yet {state}")
        problems += [f"no media in the capture, yet {_describe(f)}" for f in findings]
    elif state is MediaState.NOT_CAPTURED:
        frames = [d.frame for d in packets[:5]]
        problems.append(f"{call.call_id}: media in frames {frames}..., yet not_captured")
    if view.asked_one_way:
        problems += [f"the SDP asked for one-way media or hold, yet {_describe(f)}"
                     for f in findings if f.rule.id in SILENCE_RULES]
    return problems


@pytest.mark.parametrize("capture", public_captures(), ids=lambda c: c.name)
def test_no_media_warning_without_media_or_against_the_sdp(capture: PublicCapture) -> None:
    check_capture(capture)


FAX_CALL = "00e9d4a500e9d48-0015-0001-0000-0000@10.35.40.25"


@pytest.mark.parametrize("name", [HEPLIFY_FAX, NDPI_FAX])
def test_a_refused_offer_leaves_the_media_as_it_was(name: str) -> None:
    """The fax call's gateway offers T.38 (image udptl, no audio: frame 3100 of heplify's copy,
    64.463 s) and is refused with 488 (64.550 s); its audio goes on. Every SDP of the call that
    was accepted has sendrecv audio, so both sides' audio may flow from the answer to the end
    of the call (RFC 3261 14.1: after a non-2xx final response to a re-INVITE the session is
    unchanged)."""
    view = tshark_calls(PUBLIC / name)[FAX_CALL]
    if not ({"image", "audio"} <= {s.kind for s in view.sections} and 488 in view.invite_statuses
            and all(s.direction == "sendrecv" and s.port
                    for s in view.sections if s.kind == "audio")):
        pytest.fail("tshark no longer shows the refused T.38 offer and sendrecv audio")
    call = next(c for c in analysed(PUBLIC / name).calls if c.call_id == FAX_CALL)
    assert call.media is not None
    held = [(a, b) for a, b, sides in call.media.windows if len(sides) < 2]
    assert not held, f"audio stopped by the refused offer: {held}"


# -- the evidence of KNOWN, checked again with tshark --------------------------------------

@dataclass(frozen=True)
class RtpStream:
    """A row of ``tshark -q -z rtp,streams``."""

    src: str
    dst: str
    packets: int
    lost: int
    max_delta_ms: float
    mean_jitter_ms: float

    @property
    def loss_percent(self) -> float:
        return 100 * self.lost / max(1, self.packets + self.lost)


HEURISTIC = ("-o", "rtp.heuristic_rtp:TRUE", "--disable-protocol", "stun")
"""RTP no SDP announced too (a stream that a STUN packet on its port hides otherwise)."""


@cache
def rtp_streams(path: Path) -> tuple[RtpStream, ...]:
    found = []
    for line in tshark(path, *HEURISTIC, "-q", "-z", "rtp,streams").splitlines():
        parts = line.split()
        if parts and parts[-1] == "X":
            parts = parts[:-1]
        if len(parts) < 16 or not parts[0][0].isdigit() or not parts[-9].isdigit():
            continue
        found.append(RtpStream(f"{parts[2]}:{parts[3]}", f"{parts[4]}:{parts[5]}",
                               int(parts[-9]), int(parts[-8]), float(parts[-4]),
                               float(parts[-2])))
    return tuple(found)


def _ulaw(code: int) -> int:
    """ITU-T G.711 mu-law to a 16-bit sample: inverted bits, sign, 3-bit exponent, 4 bits."""
    code = ~code & 0xFF
    magnitude = (((code & 0x0F) << 3) + 0x84 << ((code >> 4) & 0x07)) - 0x84
    return -magnitude if code & 0x80 else magnitude


def _alaw(code: int) -> int:
    """ITU-T G.711 A-law to a 16-bit sample: even bits inverted, sign, exponent, 4 bits."""
    code ^= 0x55
    exponent, mantissa = (code >> 4) & 0x07, (code & 0x0F) << 4
    magnitude = mantissa + 8 if exponent == 0 else (mantissa + 0x108) << (exponent - 1)
    return magnitude if code & 0x80 else -magnitude


G711 = {0: [abs(_ulaw(c)) for c in range(256)], 8: [abs(_alaw(c)) for c in range(256)]}
SILENT_PEAK = 32
"""About -60 dBov: digital silence and the lowest steps around it."""


@cache
def g711_peaks(path: Path) -> dict[tuple[str, str], list[int]]:
    """For each G.711 stream (source, destination), the loudest sample of each packet."""
    fields = ("ip.src", "udp.srcport", "ip.dst", "udp.dstport", "rtp.p_type", "rtp.payload")
    out = tshark(path, *HEURISTIC, "-Y", "rtp.p_type == 0 || rtp.p_type == 8", "-T", "fields",
                 "-E", "occurrence=l", *(option for name in fields for option in ("-e", name)))
    peaks: dict[tuple[str, str], list[int]] = {}
    for line in out.splitlines():
        src, sport, dst, dport, payload_type, payload = line.split("\t")
        if payload:
            table = G711[int(payload_type)]
            loudest = max(table[b] for b in bytes.fromhex(payload.replace(":", "")))
            peaks.setdefault((f"{src}:{sport}", f"{dst}:{dport}"), []).append(loudest)
    return peaks


def _silent_g711(path: Path) -> list[str]:
    return [f"{src} -> {dst}: {len(p)} packets, loudest sample {max(p)}"
            for (src, dst), p in g711_peaks(path).items()
            if len(p) >= 50 and max(p) <= SILENT_PEAK]


def _lossy(percent: float) -> Callable[[Path], list[str]]:
    def check(path: Path) -> list[str]:
        return [f"{s.src} -> {s.dst}: {s.lost} lost of {s.packets + s.lost}"
                for s in rtp_streams(path)
                if s.packets + s.lost >= 50 and s.loss_percent > percent]
    return check


def _jittery(path: Path) -> list[str]:
    return [f"{s.src} -> {s.dst}: mean jitter {s.mean_jitter_ms} ms"
            for s in rtp_streams(path) if s.packets >= 50 and s.mean_jitter_ms > 20]


def _cut(path: Path) -> list[str]:
    return [f"{s.src} -> {s.dst}: {s.max_delta_ms} ms without a packet, {s.lost} lost"
            for s in rtp_streams(path) if s.max_delta_ms > 1000 and s.lost]


def _call_rtp(path: Path) -> Iterator[tuple[CallView, list[Datagram]]]:
    for view in tshark_calls(path).values():
        yield view, [d for d in media_packets(path, view) if d.rtp]


def _stopped_before_bye(path: Path) -> list[str]:
    return [f"last RTP {bye - packets[-1].time_s:.3f} s before the BYE"
            for view, packets in _call_rtp(path)
            if packets and (bye := view.bye_s) is not None and bye - packets[-1].time_s > 5]


def _late(path: Path) -> list[str]:
    found = []
    for view, packets in _call_rtp(path):
        first: dict[str, float] = {}
        for d in packets:
            first.setdefault(d.source, d.time_s)
        if view.answered_s is not None:
            found += [f"{source} first sends {t - view.answered_s:.3f} s after the answer"
                      for source, t in first.items() if t - view.answered_s > 2]
    return found


def _unoffered_payload(path: Path) -> list[str]:
    """RTP in a payload type that no SDP announcing its destination lists (comfort noise in
    its static types 13 and 19 left out)."""
    listed: dict[tuple[str, int], set[str]] = {}
    for view in tshark_calls(path).values():
        for s in view.sections:
            if s.address is not None:
                listed.setdefault((s.address, s.port), set()).update(s.formats)
    found = set()
    for _, packets in _call_rtp(path):
        for d in packets:
            formats = listed.get((d.destination, d.dst_port))
            if formats and d.payload_type is not None and d.payload_type not in (13, 19) and (
                    str(d.payload_type) not in formats):
                found.add(f"payload type {d.payload_type} to {d.destination}:{d.dst_port}, "
                          f"which its SDPs list as {sorted(formats)}")
    return sorted(found)


def _one_side_sends(path: Path) -> list[str]:
    """A call with RTP in the capture, none of it from an address its SDP announced audio at."""
    found = []
    for view, packets in _call_rtp(path):
        announced = {s.address for s in view.sections
                     if s.kind == "audio" and s.port and s.address is not None}
        senders = {d.source for d in packets}
        if packets and len(announced) >= 2:
            found += [f"{address} announced audio and sent no RTP; {sorted(senders)} did"
                      for address in sorted(announced - senders)]
    return found


EVIDENCE: dict[str, Callable[[Path], list[str]]] = {
    "M103": _one_side_sends,
    "M104": _silent_g711,
    "M108": _stopped_before_bye,
    "M109": _lossy(3),
    "M111": _jittery,
    "M112": _cut,
    "M113": _lossy(20),  # G.711 with 20% loss has an E-model MOS far below 3.6
    "M114": _late,
    "M115": _unoffered_payload,
}
"""What tshark must show of a capture for each kind of KNOWN finding to be true."""


@pytest.mark.parametrize(("name", "rule"), sorted(KNOWN), ids=lambda v: str(v))
def test_known_findings_are_what_tshark_shows(name: str, rule: str) -> None:
    assert (PUBLIC / name).is_file()
    assert rule in EVIDENCE, f"no way to check {rule} against tshark"
    assert EVIDENCE[rule](PUBLIC / name), KNOWN[(name, rule)]


def test_known_names_public_captures_and_media_rules() -> None:
    names = {c.name for c in public_captures()}
    for name, rule in KNOWN:
        assert name in names and rule in MEDIA_RULES
