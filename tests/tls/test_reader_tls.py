"""SipReader with a Decryption: plaintext by frame into the same framing as clear TCP.

The ciphertext here is the sample's real TLS 1.3 handshake (its hellos, taken out with
tshark), and the plaintext is handed as Wireshark would: by the frame that completed each
record.
"""

from __future__ import annotations

import subprocess

from sipdiag.network import Endpoint, Flow
from sipdiag.network.tls import Decryption
from sipdiag.problems import ProblemLog
from sipdiag.sip.reader import CLASSIFY_LIMIT, SipReader
from tests import packets
from tests.conftest import SAMPLES

CLIENT, SERVER = Endpoint("::1", 50613), Endpoint("::1", 5061)
UP, DOWN = Flow(CLIENT, SERVER), Flow(SERVER, CLIENT)


def payload(frame: int) -> bytes:
    """The TCP payload of a frame of samples/tls/tls13-call.pcap."""
    return bytes.fromhex(subprocess.run(
        ["tshark", "-r", str(SAMPLES / "tls" / "tls13-call.pcap"), "-Y",
         f"frame.number == {frame}", "-T", "fields", "-e", "tcp.payload"],
        capture_output=True, text=True, check=True).stdout.strip())


def reader(plaintext: dict[int, tuple[bytes, ...]]) -> tuple[SipReader, ProblemLog]:
    problems = ProblemLog()
    return SipReader(problems, decryption=Decryption(plaintext, frozenset())), problems


def test_records_are_framed_across_frames_and_several_to_a_frame() -> None:
    invite, ok = packets.sip_request(body=packets.SDP), packets.sip_response()
    cut = len(invite) // 3
    # the INVITE in two records (frames 8, 9); the 200 OK with the end of the INVITE (frame 9)
    sip, problems = reader({8: (invite[:cut],), 9: (invite[cut:], ok)})
    assert sip.stream(UP, [(payload(4), 4)], 4, 40)
    assert sip.stream(UP, [(b"\x17\x03\x03\x00\x10" + bytes(16), 8)], 8, 80)
    assert sip.drain(None) == []
    assert sip.stream(UP, [(b"\x17\x03\x03\x00\x10" + bytes(16), 9)], 9, 90)
    first, second = sip.drain(None)
    assert (first.method, first.frame, first.frames, first.transport) == ("INVITE", 9, (8, 9),
                                                                          "TLS")
    assert (second.status, second.frame, second.frames) == (200, 9, (9,))
    assert problems.counts == {}
    [session] = sip.tls_sessions()
    assert session.sip_messages == 2 and session.plaintext_bytes == len(invite + ok)


def test_the_client_is_the_side_of_the_client_hello() -> None:
    sip, _ = reader({})
    sip.stream(DOWN, [(payload(5), 5)], 5, 50)  # the server's flight seen first
    sip.stream(UP, [(payload(4), 4)], 4, 40)
    [session] = sip.tls_sessions()
    assert (session.client, session.server) == (CLIENT, SERVER)
    assert (session.sni, session.version) == ("sip.example.test", "TLS 1.3")


def test_plaintext_is_not_taken_for_tls_again() -> None:
    """Plaintext that starts like a TLS record is data that is not SIP, told as such."""
    sip, problems = reader({8: (b"\x16\x03\x01" + bytes(CLASSIFY_LIMIT),)})
    sip.stream(UP, [(payload(4), 4)], 4, 40)
    sip.stream(UP, [(b"\x17\x03\x03\x00\x10" + bytes(16), 8)], 8, 80)
    assert sip.drain(None) == []
    assert problems.counts == {"sip_unrecognised": 1}


def test_a_frame_s_plaintext_is_taken_once() -> None:
    """A frame whose data comes in two chunks (a retransmission that carries more than the
    segment it repeats) still gave its records once."""
    request = packets.sip_request()
    sip, problems = reader({8: (request,)})
    sip.stream(UP, [(payload(4), 4)], 4, 40)
    record = b"\x17\x03\x03\x00\x10" + bytes(16)
    sip.stream(UP, [(record[:10], 8), (record[10:], 8)], 8, 80)
    sip.stream(UP, [(b"", 8)], 8, 80)
    assert [m.frame for m in sip.drain(None)] == [8] and problems.counts == {}


def test_a_new_connection_on_the_same_ports_is_a_session_of_its_own() -> None:
    """A phone that reconnects from its fixed port: the first connection ends (FIN: both
    directions over), a second one opens with its own ClientHello."""
    sip, _ = reader({})
    sip.stream(UP, [(payload(4), 4)], 4, 40)
    sip.stream(DOWN, [(payload(5), 5)], 5, 50)
    sip.stream_end(UP)
    assert len(sip.tls_sessions()) == 1  # the other direction still open: one session
    sip.stream_end(DOWN)
    sip.stream(UP, [(payload(4), 40)], 40, 400)
    first, second = sip.tls_sessions()
    assert (first.first_frame, second.first_frame) == (4, 40)
    assert (second.client, second.sni) == (CLIENT, "sip.example.test")
