"""A HEP collector's packets made back into IP packets (``network.collector``, ``encode``).

Expected values come from the HEP chunks sent (github.com/sipcapture/HEP) and from the IP,
UDP and TCP headers' definitions (RFC 791, 768, 793, 8200); tshark, with checksum validation
on, is the independent reader of what was built.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from sipdiag.capture import linktypes
from sipdiag.capture.writer import PcapngWriter
from sipdiag.network import Endpoint, encode
from sipdiag.network.collector import HepCollector
from sipdiag.network.decoder import Decoder
from sipdiag.problems import ProblemLog
from tests import packets
from tests.live.hep_sender import chunk

INVITE = packets.sip_request()
RECEIVED = 1_800_000_000_000_000_000


def hep3(*chunks: bytes) -> bytes:
    body = b"".join(chunks)
    return b"HEP3" + (6 + len(body)).to_bytes(2, "big") + body


def sip_chunks(protocol: int = 17, six: bool = False, timed: bool = True) -> list[bytes]:
    addresses = ([chunk(5, bytes.fromhex("20010db8" + "00" * 11 + "05")),
                  chunk(6, bytes.fromhex("20010db8" + "00" * 11 + "06"))] if six else
                 [chunk(3, bytes([192, 0, 2, 3])), chunk(4, bytes([192, 0, 2, 4]))])
    times = [chunk(9, (1_700_000_000).to_bytes(4, "big")),
             chunk(10, (654_321).to_bytes(4, "big"))] if timed else []
    return [chunk(2, bytes([protocol])), *addresses, chunk(7, (5071).to_bytes(2, "big")),
            chunk(8, (5082).to_bytes(2, "big")), *times, chunk(11, b"\x01"), chunk(15, INVITE)]


class Payloads:
    """The transport payloads the decoder hands on, with their endpoints."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, int, Endpoint, Endpoint, bytes]] = []

    def datagram(self, transport: str, frame: int, ts: int, src: Endpoint, dst: Endpoint,
                 payload: bytes, frames: tuple[int, ...]) -> bool:
        self.seen.append((transport, ts, src, dst, payload))
        return True

    def stream(self, *args: object) -> None:
        raise AssertionError("not expected")


def decoded(ts_ns: int, packet: bytes) -> list[tuple[str, int, Endpoint, Endpoint, bytes]]:
    sink, problems = Payloads(), ProblemLog()
    decoder = Decoder(sink, problems)  # type: ignore[arg-type]
    decoder.link_handler(linktypes.RAW)(1, ts_ns, packet, 0, len(packet), len(packet))
    decoder.flush()
    assert problems.counts == {}
    return sink.seen


@pytest.mark.parametrize("six", [False, True])
def test_a_udp_message_becomes_its_datagram_at_the_agents_time(six: bool) -> None:
    collector = HepCollector(ProblemLog())
    made = collector.packet(hep3(*sip_chunks(six=six)), RECEIVED, "198.51.100.1:9999")
    assert made is not None
    ts_ns, packet = made
    assert ts_ns == 1_700_000_000_654_321_000
    src, dst = ("2001:db8::5", "2001:db8::6") if six else ("192.0.2.3", "192.0.2.4")
    assert decoded(ts_ns, packet) == [("UDP", ts_ns, Endpoint(src, 5071), Endpoint(dst, 5082),
                                       INVITE)]


def test_without_a_time_the_receiving_time_is_taken() -> None:
    made = HepCollector(ProblemLog()).packet(hep3(*sip_chunks(timed=False)), RECEIVED, "x")
    assert made is not None and made[0] == RECEIVED


def test_tcp_messages_continue_their_connections_stream() -> None:
    collector = HepCollector(ProblemLog())
    packet = hep3(*sip_chunks(protocol=6))
    first, second = (collector.packet(packet, RECEIVED, "x") for _ in range(2))
    assert first is not None and second is not None
    seq = [int.from_bytes(made[1][20 + 4:20 + 8], "big") for made in (first, second)]
    assert seq[1] - seq[0] == len(INVITE)  # RFC 793: the next segment starts where one ends


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"not hep at all", "hep_bad_packet"),
        (hep3(chunk(7, b"\x13\xc4")), "hep_bad_packet"),  # no payload chunk
        (hep3(*sip_chunks()[:-2], chunk(11, b"\x05"), chunk(15, b"RTCP")), "hep_other_payload"),
    ],
)
def test_what_is_not_a_sip_message_is_counted(data: bytes, kind: str) -> None:
    problems = ProblemLog()
    assert HepCollector(problems).packet(data, RECEIVED, "203.0.113.7:4000") is None
    assert problems.counts == {kind: 1}
    assert problems.examples[kind][0].detail.startswith("from 203.0.113.7:4000")


def test_a_collector_with_a_password_takes_only_packets_that_carry_it() -> None:
    problems = ProblemLog()
    collector = HepCollector(problems, password=b"s3cret")
    assert collector.packet(hep3(*sip_chunks(), chunk(14, b"s3cret")), RECEIVED, "a") is not None
    assert collector.packet(hep3(*sip_chunks(), chunk(14, b"guess")), RECEIVED, "b") is None
    assert collector.packet(hep3(*sip_chunks()), RECEIVED, "c") is None
    assert problems.counts == {"hep_wrong_password": 2}
    assert collector.received == 3


def test_tshark_finds_every_length_and_checksum_right(tmp_path: Path) -> None:
    collector = HepCollector(ProblemLog())
    path = tmp_path / "built.pcapng"
    variants = [(protocol, six) for protocol in (17, 6) for six in (False, True)]
    with PcapngWriter(path) as writer:
        for protocol, six in variants:
            for _ in range(2):
                made = collector.packet(hep3(*sip_chunks(protocol, six)), RECEIVED, "x")
                assert made is not None
                writer.write(linktypes.RAW, *made)
    out = subprocess.run(
        ["tshark", "-r", str(path), "-o", "ip.check_checksum:TRUE",
         "-o", "udp.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
         "-T", "fields", "-e", "ip.version", "-e", "sip.Method",
         "-e", "_ws.expert.message"],
        capture_output=True, text=True, check=True).stdout
    # No "Bad checksum", no malformed packet: every message an INVITE, nothing else said.
    expected = [f"{6 if six else 4}\tINVITE\t"
                for _, six in variants for _ in range(2)]
    assert out.splitlines() == expected, out


def test_checksum_is_rfc_1071() -> None:
    # RFC 1071 section 3's example words: 0x0001 f203 f4f5 f6f7 sum to 0xddf2 (after the
    # carries), so the checksum is its complement 0x220d.
    assert encode.checksum(bytes.fromhex("0001f203f4f5f6f7")) == 0x220D
    assert encode.checksum(b"\xff\xff") == 0x0000
    assert encode.checksum(b"") == 0xFFFF
