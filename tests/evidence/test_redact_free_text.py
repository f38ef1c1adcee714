"""What names someone outside a URI: a number in a vendor's header, a Subject, a device's
instance id (RFC 5626 4.1, an IMEI URN of RFC 7254), redacted; and the digits that are the
protocol's own counters (CSeq, Expires, RSeq) kept, so that transactions still match."""

from __future__ import annotations

import io
import ipaddress
import re
import struct
from pathlib import Path

from sipdiag.analysis import MessageReader
from sipdiag.cli import Environment, main
from sipdiag.evidence.redact.pseudonyms import Pseudonyms
from sipdiag.evidence.redact.sip import redact_message
from sipdiag.evidence.redact.text import redact_text
from sipdiag.sip.parser import parse_message
from tests.packets import ethernet, ipv6, pcap, sip_request, udp, udp4_frame

REGISTER = (
    "REGISTER sip:ims.example.net SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 10.1.2.3:5060;branch=z9hG4bK7765432\r\n"
    "From: <sip:+14155550123@ims.example.net>;tag=1928301774\r\n"
    "To: <sip:+14155550123@ims.example.net>\r\n"
    "Call-ID: 77aa1@10.1.2.3\r\n"
    "CSeq: 1234567 REGISTER\r\n"
    "Expires: 600000\r\n"
    "RSeq: 9876543\r\n"
    "Contact: <sip:+14155550123@10.1.2.3:5060>;+sip.instance=\"<urn:gsma:imei:35209900-176148-1>\""
    ";reg-id=1\r\n"
    "Contact: <sip:alice@10.1.2.3>"
    ";+sip.instance=\"<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>\"\r\n"
    "Subject: Call from John Smith about his account\r\n"
    "Organization: Smith & Sons\r\n"
    "X-Customer-Number: +1 4155550123\r\n"
    "X-Account: +14155550123\r\n"
    "Content-Length: 0\r\n\r\n"
)


def header(message: bytes, name: str) -> list[str]:
    return [line.split(":", 1)[1].strip() for line in message.decode().split("\r\n")
            if line.lower().startswith(name.lower() + ":")]


def test_numbers_names_and_devices_outside_uris_are_replaced() -> None:
    out = redact_message(REGISTER.encode(), Pseudonyms(b"key"))
    for original in ("4155550123", "John", "Smith", "35209900", "176148", "f81d4fae",
                     "a765-00a0c91e6bf6"):
        assert original.encode() not in out, original
    from_header = parse_message(out).name_addr("from")
    assert from_header is not None
    user = from_header.uri.split(":")[1].split("@")[0]
    assert header(out, "X-Account") == [user]  # the same number, the same pseudonym
    assert header(out, "X-Customer-Number")[0].startswith("+1 ")
    contacts = header(out, "Contact")
    assert all(';+sip.instance="<urn:' in c for c in contacts)  # the parameter's name kept
    assert re.search(r"<urn:gsma:imei:\d{8}-\d{6}-\d>", contacts[0])  # the IMEI's shape
    assert header(out, "Subject")[0].startswith("Text ") and header(out, "Organization")


def test_the_protocols_own_numbers_are_kept() -> None:
    out = redact_message(REGISTER.encode(), Pseudonyms(b"key"))
    assert header(out, "CSeq") == ["1234567 REGISTER"]
    assert header(out, "Expires") == ["600000"]
    assert header(out, "RSeq") == ["9876543"]
    assert header(out, "From")[0].endswith(";tag=1928301774")  # a tag names no one


FRAGMENT = "SIP/2.0 200 OK\r\nFrom: \"Walter White\" <sip:walter@w.example>\r\n"
INVITE = (
    "INVITE SIP:frank@Example.COM SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 10.1.2.3:5060;branch=z9hG4bK7765432\r\n"
    "From: <sip:alice@example.com>;tag=1\r\n"
    "To: <sip:bob@example.com>\r\n"
    "Call-ID: 88bb2@10.1.2.3\r\n"
    "CSeq: 1 INVITE\r\n"
    "P-Asserted-Identity: <TEL:+15557654322>\r\n"
    "P-Associated-URI: \"Yvonne Example\" <sip:yvonne@example.com>\r\n"
    "Call-Info: <https://victor:s3cret@ws.example.org/users/trent/photo.jpg>;purpose=icon\r\n"
    "Content-Type: message/sipfrag\r\n"
    f"Content-Length: {len(FRAGMENT)}\r\n\r\n{FRAGMENT}"
)


def test_schemes_in_capitals_urls_and_any_display_name_are_replaced() -> None:
    """URI schemes are case-insensitive (RFC 3261 19.1.4); a URL's user, password and path;
    a display name before a <URI> whatever the field; a sipfrag body's fields (RFC 3420)."""
    out = redact_message(INVITE.encode(), Pseudonyms(b"key"))
    for original in ("frank", "5557654322", "Yvonne", "victor", "s3cret", "trent", "photo",
                     "Walter", "walter"):
        assert original.encode() not in out, original
    assert b"<TEL:+" in out and out.startswith(b"INVITE SIP:")  # the schemes as written
    body = out.split(b"\r\n\r\n", 1)[1]
    assert header(out, "Content-Length") == [str(len(body))]


def test_a_stun_attribute_longer_than_its_packet_is_left_out(tmp_path: Path) -> None:
    """RFC 8489 14.2: an XOR-MAPPED-ADDRESS of family IPv4 needs 8 bytes; this one claims
    them and has 4. The frame is left out and counted, with no traceback."""
    stun = struct.pack(">HHI12s", 0x0101, 8, 0x2112A442, bytes(12)) \
        + struct.pack(">HHBBH", 0x0020, 8, 0, 1, 1234)
    capture, out = tmp_path / "stun.pcap", tmp_path / "out.pcapng"
    capture.write_bytes(pcap([(10**18, udp4_frame("192.0.2.1", "192.0.2.2", stun, 3478,
                                                  40000))]))
    env = Environment(stdout=io.StringIO(), stderr=io.StringIO(), environ={})
    assert main(["redact", str(capture), "-o", str(out), "--key", "k"], env) == 0
    assert "left out: 1 frame" in env.stderr.getvalue()  # type: ignore[attr-defined]


def test_a_call_id_escaped_in_a_replaces_maps_as_the_call_id_does() -> None:
    """RFC 3891: a Replaces in a URI's headers names the Call-ID with ``@`` escaped as
    ``%40``; redacted, it still names the redacted Call-ID, its escapes intact."""
    names = Pseudonyms(b"key")
    call_id = redact_text("abc@pc33.example.com", names)
    refer = redact_text("<sip:bob@b.example?Replaces=abc%40pc33.example.com%3Bto-tag%3D1>",
                        names)
    assert f"Replaces={call_id.replace('@', '%40')}%3Bto-tag%3D1>" in refer
    assert "example" not in refer


def _with_destination_options(option: bytes) -> bytes:
    """An Ethernet/IPv6 frame whose destination options header (RFC 8200 4.6) holds PadN then
    ``option`` (18 bytes), then UDP carrying an OPTIONS request."""
    options = bytes([17, 2]) + bytes([1, 2, 0, 0]) + option  # next header UDP, 3 x 8 bytes
    message = sip_request("OPTIONS", "opt@2001:db8::1")
    packet = ipv6("2001:db8::1", "2001:db8::2", 60, options + udp(5060, 5060, message))
    return ethernet(packet, 0x86DD)


def test_an_ipv6_home_address_option_is_replaced_and_an_unknown_option_refused(
        tmp_path: Path) -> None:
    """RFC 6275 6.3: the Home Address option (type 201) carries a whole address."""
    home = ipaddress.IPv6Address("2001:db8::99").packed
    frames = [(10**18, _with_destination_options(bytes([0xC9, 16]) + home)),
              (10**18 + 1, _with_destination_options(bytes([0x1E, 16]) + home))]
    capture, out = tmp_path / "hao.pcap", tmp_path / "out.pcapng"
    capture.write_bytes(pcap(frames))
    env = Environment(stdout=io.StringIO(), stderr=io.StringIO(), environ={})
    assert main(["redact", str(capture), "-o", str(out), "--key", "k"], env) == 0
    assert home not in out.read_bytes()
    said = env.stderr.getvalue()  # type: ignore[attr-defined]
    assert "left out: 1 frame: IPv6 option 30 is not redacted" in said
    assert [m.method for m in MessageReader(out)] == ["OPTIONS"]
