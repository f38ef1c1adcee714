"""WebSocket framing (RFC 6455 section 5) as SIP over WebSocket (RFC 7118) needs it: messages out
of a byte stream cut anywhere, masked or not, 7/16/64-bit lengths, fragmented messages with
control frames between their fragments, and frames the RFC does not allow."""

from __future__ import annotations

import struct

import pytest

from sipdiag.network import websocket
from sipdiag.network.websocket import WebSocketDecoder, WebSocketError
from tests.network.recording import SIP
from tests.packets import websocket_frame as ws_frame

CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
KEY = b"\x37\xfa\x21\x3d"


def messages(*pieces: bytes) -> list[bytes]:
    decoder = WebSocketDecoder()
    return [message for piece in pieces for message in decoder.feed(piece)]


@pytest.mark.parametrize("key", [None, KEY], ids=["server", "client-masked"])
@pytest.mark.parametrize("size", [0, 1, 5, 125, 126, 200, 40000, 65535, 65536, 70001])
def test_one_frame_messages_of_every_length_encoding(key: bytes | None, size: int) -> None:
    payload = (SIP * (size // len(SIP) + 1))[:size]
    assert messages(ws_frame(TEXT, payload, key=key)) == [payload]


@pytest.mark.parametrize("key", [None, KEY])
def test_a_stream_cut_at_every_byte(key: bytes | None) -> None:
    stream = ws_frame(TEXT, SIP, key=key) + ws_frame(BINARY, b"\x01\x02\x03", key=key)
    decoder = WebSocketDecoder()
    out = [message for byte in range(len(stream)) for message in decoder.feed(
        stream[byte : byte + 1])]
    assert out == [SIP, b"\x01\x02\x03"]
    assert decoder.buffered == 0


def test_bytes_waiting_for_the_rest_of_their_frame_are_counted() -> None:
    decoder = WebSocketDecoder()
    assert decoder.buffered == 0
    frame = ws_frame(TEXT, SIP[:50], fin=False)
    assert list(decoder.feed(frame + b"\x80")) == []
    assert decoder.buffered == 51  # 50 bytes of a first fragment and one of the next frame


@pytest.mark.parametrize("key", [None, KEY])
def test_a_fragmented_message_with_control_frames_between(key: bytes | None) -> None:
    """5.4: a message is a first frame (FIN clear), continuations, and a last one with FIN;
    control frames (close, ping, pong) may come between fragments and are not data (5.5)."""
    stream = b"".join([
        ws_frame(TEXT, SIP[:100], fin=False, key=key),
        ws_frame(PING, b"are you there", key=key),
        ws_frame(CONTINUATION, SIP[100:200], fin=False, key=key),
        ws_frame(PONG, b"yes", key=key),
        ws_frame(CONTINUATION, SIP[200:], key=key),
        ws_frame(CLOSE, b"\x03\xe8", key=key),
        ws_frame(TEXT, b"after", key=key),
    ])
    assert messages(stream) == [SIP, b"after"]


def test_a_new_message_drops_an_unfinished_one() -> None:
    stream = ws_frame(TEXT, b"lost", fin=False) + ws_frame(TEXT, b"kept")
    assert messages(stream) == [b"kept"]


def test_continuations_without_a_first_frame_still_make_a_message() -> None:
    """A capture that starts in the middle of a message: what is there is handed on."""
    stream = ws_frame(CONTINUATION, b"tail", fin=False) + ws_frame(CONTINUATION, b" end")
    assert messages(stream) == [b"tail end"]


def test_messages_one_after_another_do_not_mix() -> None:
    stream = ws_frame(TEXT, b"one", fin=False) + ws_frame(CONTINUATION, b"+") + ws_frame(
        TEXT, b"two", fin=False) + ws_frame(CONTINUATION, b"!")
    assert messages(stream[:9], stream[9:]) == [b"one+", b"two!"]


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        (bytes([0xC1, 0x05]), "frame with opcode 1 and length 5 is not valid"),  # RSV1
        (bytes([0x91, 0x7E, 0x00, 0x80]), "frame with opcode 1 and length 128 is not valid"),
        (bytes([0x82, 0x7F]) + struct.pack(">Q", websocket.MAX_MESSAGE + 1),
         f"frame with opcode 2 and length {websocket.MAX_MESSAGE + 1} is not valid"),
        (bytes([0xA2, 0xFF]) + struct.pack(">Q", 3),
         "frame with opcode 2 and length 3 is not valid"),
        (bytes([0x82, 0x7F]) + struct.pack(">Q", 1 << 63),
         f"frame with opcode 2 and length {1 << 63} is not valid"),
    ],
    ids=["rsv1-7bit", "rsv-16bit", "too-long", "rsv-64bit", "64bit-msb"],
)
def test_frames_rfc_6455_does_not_allow_are_refused_from_their_header(
    header: bytes, detail: str
) -> None:
    """RSV bits must be 0 without an extension that defines them (5.2); a message longer than
    the decoder keeps is refused as soon as its length is read, before its payload; the
    64-bit length is unsigned, its most significant bit 0 (5.2)."""
    with pytest.raises(WebSocketError, match=f"^{detail}$"):
        next(WebSocketDecoder().feed(header))  # refused before any message is handed on


def test_a_frame_of_the_largest_length_kept() -> None:
    payload = b"a" * websocket.MAX_MESSAGE
    assert messages(ws_frame(BINARY, payload)) == [payload]


def test_unmask_with_a_key_of_four_bytes() -> None:
    assert websocket.unmask(b"", KEY) == b""
    assert websocket.unmask(b"\x00" * 9, KEY) == KEY * 2 + KEY[:1]
