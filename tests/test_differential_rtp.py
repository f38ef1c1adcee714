"""Differential tests of the media: sipdiag's RTP streams against tshark's (``-q -z
rtp,streams``) on every sample and every public capture with RTP.

tshark follows RTP that an SDP announced (with its RTP heuristic off, as by default); every
stream it lists must be one of ours with the same packets, the same loss (its ``Lost`` is
expected minus packets, duplicates counted as received: ours the same way) and the same
maximum delta and jitter within ``TOLERANCE_MS`` (both printed to the microsecond). Streams
we find that tshark does not list must be ones it finds with its RTP heuristic on (RTP no
SDP of the capture announced), or be listed below with the reason. Where the two differ on
purpose, ``KNOWN`` says why.
"""

from __future__ import annotations

import ipaddress
import re
import subprocess
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pyshark
import pytest

from sipdiag.analysis import analyze
from sipdiag.media.codecs import CN_STATIC_TYPES
from sipdiag.media.stream import Stream
from tests.conftest import PUBLIC, SAMPLES, needs_public, public_captures, sample_captures

TOLERANCE_MS = 0.0011
"""tshark prints ms with three decimals, from times held as float ms; ours come from integer
nanoseconds: the last printed digit can differ by one."""
Key = tuple[str, int, str, int, int]
"""Source address and port, destination address and port, SSRC."""
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")


@dataclass(frozen=True)
class TsharkStream:
    packets: int
    lost: int
    max_delta_ms: float
    max_jitter_ms: float
    mean_jitter_ms: float
    payload: str


@dataclass(frozen=True)
class Known:
    reason: str
    tshark_options: tuple[str, ...] = ()
    """What tshark needs to see the streams whole."""
    theirs_only: dict[Key, str] = field(default_factory=dict)
    """Streams tshark lists and we do not, each with why."""
    lost: dict[Key, str] = field(default_factory=dict)
    """Streams whose loss tshark counts otherwise, each with why."""
    more: dict[Key, str] = field(default_factory=dict)
    """Streams of which we count more packets than tshark, each with why."""


STUN = ("a STUN packet on the media port makes tshark take the port for STUN, and it decodes "
        "the RTP after it as plain UDP; without its STUN dissector it sees the stream whole")
FUZZED = ("a bit-flipped copy of irontec/sngrep's aaa.pcap: the SDP that announced these "
          "streams comes in a message whose CSeq the fuzzing broke, which we do not take into "
          "a call (tshark reads that CSeq as 0); the packets that are left (1 to 3 each) are "
          "too few for RTP that no SDP announced")
FUZZ_RELAY = ("192.168.1.2", 30000, "212.242.33.36", 40392)
MGCP_T38 = ("an MGCP message (not SIP) announced image/udptl on this port at the fax switch, "
            "and tshark decodes what follows as T.38; the packets are still RTP of the same "
            "SSRC (G.711 fax pass-through), and we count them")
FAX_CALLEE = ("10.35.60.100", 15580, "10.23.1.52", 16756, 0x0EAF0EAF)
KNOWN: dict[str, Known] = {
    "ntop__nDPI/tests/cfgs/default/pcap/FAX-Call-t38-CA-TDM-SIP-FB-1.pcap": Known(
        "fax call", more={FAX_CALLEE: MGCP_T38}),
    "sipcapture__heplify/example/pcap/FAX-Call-t38-CA-TDM-SIP-FB-1.pcap": Known(
        "fax call", more={FAX_CALLEE: MGCP_T38}),
    "MichalCab__ISA/real_call.pcap": Known(STUN, ("--disable-protocol", "stun")),
    "samples/media/webrtc-ice.pcap": Known(STUN, ("--disable-protocol", "stun")),
    "ntop__nDPI/tests/cfgs/default/pcap/fuzz-2006-06-26-2594.pcap": Known(
        "fuzzed file", theirs_only={
            ("192.168.1.2", 30000, "214.242.33.36", 40392, 0x3796CB71): FUZZED,
            (*FUZZ_RELAY, 0xAAAAAAAA): FUZZED,
            (*FUZZ_RELAY, 0x37968BAA): FUZZED,
            (*FUZZ_RELAY, 0x3796CB71): FUZZED,
            ("192.168.1.2", 30000, "37.115.0.36", 40392, 0x3796CB71): FUZZED,
        }),
    "samples/media/reorder-duplicates-wrap.pcap": Known(
        "a late packet across the sequence number wrap", lost={
            ("192.0.2.10", 49170, "198.51.100.20", 3456, 0xCFA132F8): (
                "65535 arrives after 0: tshark counts a second wrap and 65534 lost; the "
                "extended numbers of RFC 3550 A.1 (ours) lose nothing")}),
}


@cache
def tshark() -> str:
    return str(pyshark.tshark.tshark.get_process_path())


def tshark_streams(path: Path, heuristic: bool = False,
                   options: tuple[str, ...] = ()) -> dict[Key, TsharkStream]:
    if heuristic:
        options = (*options, "-o", "rtp.heuristic_rtp:TRUE")
    done = subprocess.run([tshark(), "-n", "-r", str(path), *options, "-q", "-z", "rtp,streams"],
                          capture_output=True, text=True, timeout=300, check=False)
    return dict(_parse(line) for line in done.stdout.splitlines() if _is_row(line))


def _is_row(line: str) -> bool:
    parts = line.split()
    return len(parts) > 16 and _NUMBER.match(parts[0]) is not None


def _parse(line: str) -> tuple[Key, TsharkStream]:
    """``start end src sport dst dport ssrc payload... pkts lost (p%) 6 figures [X]``."""
    parts = line.split()
    if parts[-1] == "X":
        parts = parts[:-1]
    figures = [float(x) for x in parts[-6:]]
    packets, lost = int(parts[-9]), int(parts[-8])
    key = (_address(parts[2]), int(parts[3]), _address(parts[4]), int(parts[5]),
           int(parts[6], 16))
    return key, TsharkStream(packets, lost, figures[2], figures[5], figures[4],
                             " ".join(parts[7:-9]))


def _address(text: str) -> str:
    """As the network layer writes it (tshark writes ::48.0.0.1 for ::3000:1)."""
    return str(ipaddress.ip_address(text))


def our_streams(path: Path) -> dict[Key, Stream]:
    analysis = analyze(path, jobs=1)
    streams = [s.stream for c in analysis.calls if c.media for s in c.media.streams]
    streams += [s.stream for s in analysis.unattributed]
    return {(s.src.ip, s.src.port, s.dst.ip, s.dst.port, s.ssrc): s for s in streams}


def compare(path: Path, known: Known | None) -> None:
    known = known or Known("")
    ours, theirs = our_streams(path), tshark_streams(path, options=known.tshark_options)
    for key, their in theirs.items():
        if key in known.theirs_only:
            assert key not in ours, "a stream listed as missing is found now: update KNOWN"
            continue
        assert key in ours, f"tshark lists {key}, we do not"
        if key in known.more:
            assert ours[key].packets > their.packets
            continue
        _agree(ours[key], their, key in known.lost)
    assert set(known.theirs_only) <= set(theirs)
    extra = set(ours) - set(theirs)
    if extra:
        heuristic = tshark_streams(path, heuristic=True, options=known.tshark_options)
        for key in extra:
            assert key in heuristic, f"we find {key}, tshark does not even by its heuristic"
            assert ours[key].packets == heuristic[key].packets


def _agree(ours: Stream, their: TsharkStream, lost_differs: bool) -> None:
    assert ours.packets == their.packets
    assert (ours.expected - ours.packets == their.lost) != lost_differs
    if not _comparable(ours):
        return
    assert (ours.max_delta_ms or 0.0) == pytest.approx(their.max_delta_ms, abs=TOLERANCE_MS)
    if ours.jitter_ms_max is not None or their.max_jitter_ms:
        assert ours.jitter_ms_max == pytest.approx(their.max_jitter_ms, abs=TOLERANCE_MS)
        assert ours.jitter_ms_mean == pytest.approx(their.mean_jitter_ms, abs=TOLERANCE_MS)


def _comparable(stream: Stream) -> bool:
    """Delta and jitter are Wireshark's for a stream of one codec (with comfort noise); with
    telephone events or other payload types without a clock in it, Wireshark measures the
    first audio packet after them against their last, and its jitter jumps: ours leaves them
    out of the jitter (``StreamStats._timing``)."""
    return all(pt in (stream.payload_type, *CN_STATIC_TYPES) for pt, _ in stream.payload_types)


@needs_public
@pytest.mark.parametrize("path", [c.path for c in public_captures()],
                         ids=lambda p: str(p.relative_to(PUBLIC)))
def test_public_capture_streams_agree_with_tshark(path: Path) -> None:
    compare(path, KNOWN.get(str(path.relative_to(PUBLIC))))


@pytest.mark.parametrize("path", sample_captures(), ids=lambda p: str(p.relative_to(SAMPLES)))
def test_sample_streams_agree_with_tshark(path: Path) -> None:
    compare(path, KNOWN.get(f"samples/{path.relative_to(SAMPLES)}"))
