"""``sipdiag audio CAPTURE --call CALL_ID -o DIR``: each G.711 stream of a call as a WAV file.

Every expected value comes from outside sipdiag:

- samples/media/truth.json (what samples/craft_media.py put in each crafted capture): the
  streams of each call, their order, SSRCs, senders, packets, expected packets, the sequence
  numbers lost and the tone each one carries;
- craft_media.py's construction: the payloads are a µ-law sine of ``TONE_PEAK`` at 440 Hz (the
  caller) or 660 Hz (the callee), one period of 800 samples, whose sample index is the RTP
  timestamp minus the stream's initial one; a packet every 20 ms (160 samples); DTMF at slots
  25, 50 and 75 of alice's stream, 8 slots each, without voice; the hold of hold-sendonly
  pauses bob from slot 76 to slot 200;
- ITU-T G.711 (µ-law and A-law decoding, written out below as the Sun reference code does it)
  and RFC 3550 5.1 (the RTP header, read from the recorded captures by a small pcap reader here)
  for the SIPp and baresip recordings of samples/media/recorded/ (tones of 440 and 880 Hz, as
  its README says).
"""

from __future__ import annotations

import io
import itertools
import json
import math
import re
import struct
import wave
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sipdiag.cli import Environment, ExitStatus, main
from tests import packets
from tests.conftest import SAMPLES

MEDIA = SAMPLES / "media"
RECORDED = MEDIA / "recorded"
TRUTH = json.loads((MEDIA / "truth.json").read_text(encoding="utf-8"))["files"]
RATE = 8000
SLOT = 160
"""Samples in a 20 ms G.711 packet."""
TONE_PEAK = 32768 * 10 ** (-20.0 / 20) * math.sqrt(2)
"""craft_media.py: a sine whose RMS is -20 dBov."""
TONE_PERIOD = 800


# --- G.711 (ITU-T G.711; the classic Sun reference code) ---------------------------------


def ulaw_decode(code: int) -> int:
    code = ~code & 0xFF
    magnitude = (((code & 0x0F) << 3) + 0x84) << ((code & 0x70) >> 4)
    return 0x84 - magnitude if code & 0x80 else magnitude - 0x84


def alaw_decode(code: int) -> int:
    code ^= 0x55
    step = (code & 0x0F) << 4
    segment = (code & 0x70) >> 4
    if segment == 0:
        step += 8
    elif segment == 1:
        step += 0x108
    else:
        step = (step + 0x108) << (segment - 1)
    return step if code & 0x80 else -step


def ulaw_encode(sample: int) -> int:
    """craft_media.py's encoder (bias 0x84, clip 32635)."""
    sign = 0x80 if sample < 0 else 0x00
    magnitude = min(-sample if sample < 0 else sample, 32635) + 0x84
    exponent = (magnitude >> 7).bit_length() - 1
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | exponent << 4 | mantissa) & 0xFF


def tone(freq: int, n: int) -> int:
    """Sample n of craft_media.py's tone, as a G.711 decoder hears it."""
    index = n % TONE_PERIOD
    return ulaw_decode(ulaw_encode(round(TONE_PEAK * math.sin(2 * math.pi * freq * index
                                                               / RATE))))


# --- tones ---------------------------------------------------------------------------------


def goertzel(samples: Sequence[int], freq: float) -> float:
    """The power of one frequency in the samples (Goertzel's filter)."""
    coefficient = 2 * math.cos(2 * math.pi * freq / RATE)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coefficient * s1 - s2, s1
    return s1 * s1 + s2 * s2 - coefficient * s1 * s2


def crossing_frequency(samples: Sequence[int]) -> float:
    """The frequency of a steady tone from its rising zero crossings (interpolated)."""
    rises = [i - 1 + samples[i - 1] / (samples[i - 1] - samples[i])
             for i in range(1, len(samples)) if samples[i - 1] < 0 <= samples[i]]
    assert len(rises) > 10
    return (len(rises) - 1) * RATE / (rises[-1] - rises[0])


def truth_tone(stream: dict[str, Any]) -> int:
    found = re.match(r"(\d+) Hz tone", str(stream["content"]))
    assert found, stream["content"]
    return int(found.group(1))


# --- running the command -------------------------------------------------------------------


def run(argv: list[str], stdin: bytes = b"") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdout=out, stderr=err, stdin=io.BytesIO(stdin), environ={})
    code = main(argv, env)
    return code, out.getvalue(), err.getvalue()


@dataclass(frozen=True)
class Heard:
    code: int
    out: str
    err: str
    folder: Path

    def files(self) -> list[str]:
        return sorted(p.name for p in self.folder.iterdir()) if self.folder.exists() else []

    def samples(self, name: str) -> list[int]:
        with wave.open(str(self.folder / name), "rb") as wav:
            frames = wav.readframes(wav.getnframes())
        return list(struct.unpack(f"<{len(frames) // 2}h", frames))


@pytest.fixture(scope="module")
def hear(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Heard]:
    """``sipdiag audio`` on a capture, once per capture and call for the whole module."""
    done: dict[tuple[str, str], Heard] = {}

    def hear_call(capture: Path, call_id: str) -> Heard:
        key = (str(capture), call_id)
        if key not in done:
            folder = tmp_path_factory.mktemp(capture.stem) / "heard"
            code, out, err = run(["audio", str(capture), "--call", call_id, "-o", str(folder)])
            done[key] = Heard(code, out, err, folder)
        return done[key]

    return hear_call


def crafted(name: str) -> tuple[Path, str, list[dict[str, Any]]]:
    """A crafted capture, the Call-ID of its (first) call and that call's streams."""
    call_id = TRUTH[name]["calls"][0]["call_id"]
    streams = [s for s in TRUTH[name]["rtp_streams"] if s["call_id"] == call_id]
    return MEDIA / name, call_id, streams


def wav_name(number: int, stream: dict[str, Any]) -> str:
    """NN-SENDER-to-RECEIVER-0xSSRC.wav, numbered in the order of the streams' first frames."""
    sender = side_of(stream)
    receiver = {"caller": "callee", "callee": "caller"}[sender]
    return f"{number:02d}-{sender}-to-{receiver}-{ssrc_text(stream)}.wav"


def side_of(stream: dict[str, Any]) -> str:
    """Whose audio a stream carries: its sender's, or for a relay's copy (two-hops-relay), the
    side whose tone it relays (alice's 440 Hz: the caller's)."""
    if stream["sender"] in ("caller", "callee"):
        return str(stream["sender"])
    assert stream["sender"] == "relay"
    relayed = re.search(r"\((alice|bob)'s, relayed\)", str(stream["content"]))
    assert relayed, stream["content"]
    return {"alice": "caller", "bob": "callee"}[relayed.group(1)]


def ssrc_text(stream: dict[str, Any]) -> str:
    """0x%08X, as truth.json writes it."""
    return f"0x{int(str(stream['ssrc']), 16):08X}"


def slot_of(stream: dict[str, Any], seq: int) -> int:
    """The 20 ms slot of a sequence number, from the first one (modulo 2^16)."""
    return (seq - int(stream["first_seq"])) % 65536


def assert_slots(samples: list[int], freq: int, silent: set[int], first_n: int = 0) -> None:
    """Each 20 ms slot is the crafted tone, sample for sample, or silence (zeros) for the
    slots in ``silent``."""
    assert len(samples) % SLOT == 0
    for slot in range(len(samples) // SLOT):
        got = samples[slot * SLOT:(slot + 1) * SLOT]
        if slot in silent:
            assert got == [0] * SLOT, f"slot {slot} should be silent"
        else:
            want = [tone(freq, first_n + slot * SLOT + i) for i in range(SLOT)]
            assert got == want, f"slot {slot} is not the {freq} Hz tone"


# --- one WAV per stream ---------------------------------------------------------------------


def test_one_wav_per_g711_stream_named_by_order_sender_and_ssrc(hear) -> None:
    capture, call_id, streams = crafted("loss-burst.pcap")
    heard = hear(capture, call_id)
    assert (heard.code, heard.err) == (ExitStatus.OK, "")
    names = [wav_name(n, s) for n, s in enumerate(streams, 1)]
    assert heard.files() == sorted(names) and len(names) == 2
    # one line per file: where it is, how long, packets, lost, from -> to
    lines = heard.out.splitlines()
    assert len(lines) == len(streams)
    for line, name, stream in zip(lines, names, streams, strict=True):
        seconds = stream["expected"] * SLOT / RATE
        assert line == (f"{heard.folder / name}: {seconds:.2f} s, {stream['packets']} packets, "
                        f"{stream['lost']} lost ({stream['src']} -> {stream['dst']})")


@pytest.mark.parametrize("name", ["loss-burst.pcap", "loss-random.pcap", "jitter.pcap",
                                  "two-hops-relay.pcap", "ipv6-rtp.pcap"])
def test_each_wav_is_mono_8000_hz_16_bit_and_spans_the_rtp_timestamps(hear, name: str) -> None:
    capture, call_id, streams = crafted(name)
    heard = hear(capture, call_id)
    assert heard.code == ExitStatus.OK
    assert heard.files() == sorted(wav_name(n, s) for n, s in enumerate(streams, 1))
    for number, stream in enumerate(streams, 1):
        with wave.open(str(heard.folder / wav_name(number, stream)), "rb") as wav:
            assert (wav.getnchannels(), wav.getframerate(), wav.getsampwidth()) == (1, 8000, 2)
            assert wav.getcomptype() == "NONE"
            # 20 ms packets, timestamp + 160 each: the first to the last packet's samples
            assert wav.getnframes() == stream["expected"] * SLOT


# --- what is in it --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["loss-burst.pcap", "loss-random.pcap", "jitter.pcap"])
def test_the_tone_that_was_sent_and_silence_exactly_where_packets_were_lost(
    hear, name: str
) -> None:
    capture, call_id, streams = crafted(name)
    heard = hear(capture, call_id)
    for number, stream in enumerate(streams, 1):
        lost = {slot_of(stream, seq) for seq in stream["lost_seqs"]}
        assert len(lost) == stream["lost"]
        assert_slots(heard.samples(wav_name(number, stream)), truth_tone(stream), lost)


def test_a_burst_loss_is_silence_for_the_length_of_the_burst(hear) -> None:
    capture, call_id, streams = crafted("loss-burst.pcap")
    heard = hear(capture, call_id)
    (lossy,) = [(n, s) for n, s in enumerate(streams, 1) if s["lost"]]
    samples = heard.samples(wav_name(*lossy))
    runs, start = [], None
    for index, value in enumerate([*samples, 1]):
        if value == 0 and start is None:
            start = index
        elif value != 0 and start is not None:
            if index - start >= SLOT:  # a tone's own zero samples are single
                runs.append((start, index - start))
            start = None
    seqs = lossy[1]["lost_seqs"]
    bursts = [seqs[i:i + 6] for i in range(0, len(seqs), 6)]
    assert len(runs) == len(bursts) == 3
    for (begin, length), burst in zip(runs, bursts, strict=True):
        # the run of zeros may start or end on a zero sample of the tone next to it
        assert slot_of(lossy[1], burst[0]) * SLOT - begin in (0, 1)
        assert 6 * SLOT <= length <= 6 * SLOT + 2


def test_each_direction_holds_its_own_tone(hear) -> None:
    capture, call_id, streams = crafted("loss-random.pcap")
    heard = hear(capture, call_id)
    tones = {truth_tone(s) for s in streams}
    assert tones == {440, 660}  # craft_media.py: the caller 440 Hz, the callee 660 Hz
    for number, stream in enumerate(streams, 1):
        samples = heard.samples(wav_name(number, stream))
        mine = truth_tone(stream)
        (other,) = tones - {mine}
        # the longest run without a lost packet, for the zero crossings
        lost = sorted(slot_of(stream, seq) for seq in stream["lost_seqs"])
        edges = [-1, *lost, len(samples) // SLOT]
        a, b = max(itertools.pairwise(edges), key=lambda pair: pair[1] - pair[0])
        assert crossing_frequency(samples[(a + 1) * SLOT:b * SLOT]) == pytest.approx(mine, abs=2)
        assert goertzel(samples, mine) > 1000 * goertzel(samples, other)


def test_late_duplicated_and_wrapped_packets_land_in_their_place(hear) -> None:
    """reorder-duplicates-wrap: the sequence wraps, three pairs arrive swapped, two packets
    twice; nothing is lost, so the tone is whole."""
    capture, call_id, streams = crafted("reorder-duplicates-wrap.pcap")
    caller = streams[0]
    assert caller["out_of_order_seqs"] and caller["duplicate_seqs"] and caller["seq_cycles"]
    heard = hear(capture, call_id)
    samples = heard.samples(wav_name(1, caller))
    assert len(samples) == caller["expected"] * SLOT == 150 * SLOT
    assert_slots(samples, truth_tone(caller), set())


def test_a_pause_in_the_stream_is_silence_as_long_as_the_timestamps_jump(hear) -> None:
    """hold-sendonly: bob stops for the hold (slots 76 to 200) and resumes with the same SSRC,
    his timestamps moved on by the pause."""
    capture, call_id, streams = crafted("hold-sendonly.pcap")
    heard = hear(capture, call_id)
    (number, bob) = next((n, s) for n, s in enumerate(streams, 1) if s["sender"] == "callee")
    samples = heard.samples(wav_name(number, bob))
    # the timestamps follow the sampling clock: first to last packet, plus the last's samples
    span = round((float(bob["end_s"]) - float(bob["start_s"])) * RATE) + SLOT
    assert len(samples) == span == 276 * SLOT
    assert bob["packets"] == 76 + 75
    assert_slots(samples, truth_tone(bob), set(range(76, 201)))


def test_telephone_events_leave_silence_in_their_slots(hear) -> None:
    capture, call_id, streams = crafted("dtmf-rfc4733.pcap")
    (number, alice) = next((n, s) for n, s in enumerate(streams, 1) if s.get("dtmf"))
    events = alice["dtmf"]
    assert [e["digit"] for e in events] == ["1", "2", "#"]
    # the first event 0.5 s into the stream (slot 25); the others where their timestamps are
    first = 25
    slots = [first + (e["rtp_timestamp"] - events[0]["rtp_timestamp"]) // SLOT for e in events]
    assert slots == [25, 50, 75]
    silent = {slot + k for slot in slots for k in range(8)}  # 8 packets of 20 ms each
    heard = hear(capture, call_id)
    samples = heard.samples(wav_name(number, alice))
    assert len(samples) == alice["expected"] * SLOT
    assert_slots(samples, truth_tone(alice), silent)


def test_a_new_ssrc_on_the_same_path_is_a_file_of_its_own(hear) -> None:
    capture, call_id, streams = crafted("ssrc-change.pcap")
    heard = hear(capture, call_id)
    assert heard.code == ExitStatus.OK
    assert heard.files() == sorted(wav_name(n, s) for n, s in enumerate(streams, 1))
    assert len(heard.files()) == 3
    for number, stream in enumerate(streams, 1):
        samples = heard.samples(wav_name(number, stream))
        assert len(samples) == stream["expected"] * SLOT
        # each SSRC starts its own timestamps, so its tone starts at phase 0
        assert_slots(samples, truth_tone(stream), set())


# --- recorded captures: PCMA, and SIPp's one SSRC for both directions -----------------------


def rtp_of(capture: Path, sport: int, dport: int) -> list[tuple[int, int, bytes]]:
    """(payload type, timestamp, payload) of the RTP packets of one UDP flow (RFC 3550 5.1),
    from a little-endian microsecond pcap of Ethernet frames with IPv4."""
    data = capture.read_bytes()
    magic, linktype = struct.unpack_from("<I", data)[0], struct.unpack_from("<I", data, 20)[0]
    assert (magic, linktype) == (0xA1B2C3D4, 1)
    found, offset = [], 24
    while offset < len(data):
        length = struct.unpack_from("<I", data, offset + 8)[0]
        frame = data[offset + 16:offset + 16 + length]
        offset += 16 + length
        if frame[12:14] != b"\x08\x00" or frame[23] != 17:
            continue
        udp = frame[14 + (frame[14] & 0x0F) * 4:]
        if struct.unpack_from("!HH", udp) != (sport, dport):
            continue
        rtp = udp[8:struct.unpack_from("!H", udp, 4)[0]]
        assert rtp[0] >> 6 == 2 and not rtp[0] & 0x30  # version 2, no padding, no extension
        header = 12 + 4 * (rtp[0] & 0x0F)
        found.append((rtp[1] & 0x7F, struct.unpack_from("!I", rtp, 4)[0], rtp[header:]))
    return found


def heard_of(packets: list[tuple[int, int, bytes]], payload_type: int,
             decode: Callable[[int], int]) -> list[int]:
    """The samples a G.711 receiver plays: each packet of the codec at its timestamp."""
    voice = [(ts, payload) for pt, ts, payload in packets if pt == payload_type]
    first = voice[0][0]
    samples: list[int] = []
    for ts, payload in voice:
        at = (ts - first) & 0xFFFFFFFF
        samples += [0] * max(0, at + len(payload) - len(samples))
        samples[at:at + len(payload)] = [decode(b) for b in payload]
    return samples


def test_a_recorded_pcma_call_with_one_ssrc_both_ways(hear) -> None:
    """sipp-rtp-call: SIPp on both sides, PCMA (payload type 8), SSRC 0xCA110000 both ways;
    the caller (6000) sends 440 Hz, the callee (6100) 880 Hz."""
    capture = RECORDED / "sipp-rtp-call.pcap"
    heard = hear(capture, "sipp-rtp-call-1@127.0.0.1")
    assert (heard.code, heard.err) == (ExitStatus.OK, "")
    caller_file = "01-caller-to-callee-0xCA110000.wav"
    callee_file = "02-callee-to-caller-0xCA110000.wav"
    assert heard.files() == [caller_file, callee_file]
    for name, (sport, dport), freq, other in ((caller_file, (6000, 6100), 440, 880),
                                              (callee_file, (6100, 6000), 880, 440)):
        packets = rtp_of(capture, sport, dport)
        assert {pt for pt, _, _ in packets} == {8} and len(packets) in (150, 151)
        samples = heard.samples(name)
        assert samples == heard_of(packets, 8, alaw_decode)
        assert crossing_frequency(samples) == pytest.approx(freq, abs=3)
        assert goertzel(samples, freq) > 1000 * goertzel(samples, other)


def test_baresip_dtmf_beside_the_voice_does_not_overwrite_it(hear) -> None:
    """baresip-dtmf: alice (10008) sends her 440 Hz tone in PCMU and, in the same SSRC, the
    telephone-events of 1 2 3 # (payload type 101) with the event's start timestamp: only the
    voice is decoded, and it goes on under the digits."""
    capture = RECORDED / "baresip-dtmf.pcap"
    (call_id,) = {line.split(":", 1)[1].strip() for line in _sip_call_ids(capture)}
    heard = hear(capture, call_id)
    assert heard.code == ExitStatus.OK
    # bob's stream starts first (0.012 s, alice's 0.014 s: recorded/README.md)
    alice = "02-caller-to-callee-0x0C6EAB76.wav"
    assert heard.files() == ["01-callee-to-caller-0x5D61F123.wav", alice]
    packets = rtp_of(capture, 10008, 10020)
    assert {pt for pt, _, _ in packets} == {0, 101}
    samples = heard.samples(alice)
    assert samples == heard_of(packets, 0, ulaw_decode)
    assert crossing_frequency(samples) == pytest.approx(440, abs=3)


def _sip_call_ids(capture: Path) -> list[str]:
    """The Call-ID header lines of the SIP in a capture (text search in the frames)."""
    data = capture.read_bytes()
    return [m.group(0).decode() for m in re.finditer(rb"Call-ID: [^\r\n]+", data)]


# --- streams left out, and errors ---------------------------------------------------------


def note(stream: dict[str, Any], why: str) -> str:
    return (f"sipdiag: {stream['src']} -> {stream['dst']} SSRC {ssrc_text(stream)} is {why}: "
            f"left out, only G.711 is decoded")


@pytest.mark.parametrize(("name", "why"), [
    ("unexpected-payload-type.pcap", "G729/8000"),  # bob sends G.729 in a PCMU call
    ("comfort-noise-only.pcap", "CN/8000"),  # bob sends only comfort noise (PT 13)
])
def test_a_stream_in_another_codec_is_named_and_left_out(hear, name: str, why: str) -> None:
    capture, call_id, streams = crafted(name)
    heard = hear(capture, call_id)
    g711 = [s for s in streams if s["codec"] in ("PCMU", "PCMA")]
    other = [s for s in streams if s not in g711]
    assert len(g711) == len(other) == 1
    assert heard.code == ExitStatus.OK
    assert heard.err == note(other[0], why) + "\n"
    assert heard.files() == [wav_name(1, g711[0])]
    assert_slots(heard.samples(wav_name(1, g711[0])), truth_tone(g711[0]), set())


def error_line(err: str) -> str:
    """The last line of stderr: the error, on a line of its own."""
    assert err.endswith("\n")
    last = err.splitlines()[-1]
    assert last.startswith("sipdiag: error: ")
    return last


@pytest.mark.parametrize(("name", "why"), [
    ("g729-loss.pcap", "G729/8000"),
    ("srtp-savp.pcap", "encrypted (SRTP)"),  # PCMU, but RTP/SAVP
    ("webrtc-ice.pcap", "encrypted (SRTP)"),  # opus over DTLS-SRTP
])
def test_a_call_without_a_g711_stream_is_an_error(hear, name: str, why: str) -> None:
    capture, call_id, streams = crafted(name)
    heard = hear(capture, call_id)
    assert heard.code == ExitStatus.ERROR and heard.out == ""
    assert heard.err.splitlines()[:-1] == [note(s, why) for s in streams]
    assert error_line(heard.err) == ("sipdiag: error: the call has no G.711 stream (PCMU or "
                                     "PCMA, not encrypted) to decode")
    assert heard.files() == [] and not heard.folder.exists()


def test_a_call_whose_media_was_not_captured_is_an_error(hear) -> None:
    capture, call_id, streams = crafted("sip-only-not-captured.pcap")
    assert streams == []
    heard = hear(capture, call_id)
    assert heard.code == ExitStatus.ERROR and heard.out == ""
    assert heard.err == ("sipdiag: error: the call has no G.711 stream (PCMU or PCMA, not "
                         "encrypted) to decode\n")
    assert not heard.folder.exists()


def test_a_call_id_that_is_not_in_the_capture(tmp_path: Path) -> None:
    capture, call_id, _ = crafted("loss-burst.pcap")
    missing = "not-" + call_id
    code, out, err = run(["audio", str(capture), "--call", missing, "-o", str(tmp_path / "o")])
    assert (code, out) == (ExitStatus.ERROR, "")
    assert err == f"sipdiag: error: no call has the Call-ID {missing!r}\n"
    assert not (tmp_path / "o").exists()


def test_standard_input_is_refused(tmp_path: Path) -> None:
    capture, call_id, _ = crafted("loss-burst.pcap")
    folder = tmp_path / "o"
    code, out, err = run(["audio", "-", "--call", call_id, "-o", str(folder)],
                         stdin=capture.read_bytes())
    assert (code, out) == (ExitStatus.ERROR, "")
    assert err == ("sipdiag: error: audio reads the capture twice: give a file, not standard "
                   "input\n")
    assert not folder.exists()
    code, out, err = run(["audio", str(capture), "-", "--call", call_id, "-o", str(folder)],
                         stdin=capture.read_bytes())
    assert (code, out) == (ExitStatus.ERROR, "")
    assert error_line(err) == err.rstrip("\n")
    assert not folder.exists()


def test_an_output_folder_that_cannot_be_written(tmp_path: Path) -> None:
    capture, call_id, _ = crafted("loss-burst.pcap")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    for folder in (blocker / "wav", blocker):  # inside a file; a file itself: refused at once
        code, out, err = run(["audio", str(capture), "--call", call_id, "-o", str(folder)])
        assert (code, out) == (ExitStatus.ERROR, "")
        assert err.splitlines()[-1] == (f"sipdiag audio: error: argument -o/--output: {folder}: "
                                        f"{blocker} is not a folder")
    assert blocker.read_text() == "not a folder\n"


def test_options_are_required(tmp_path: Path) -> None:
    capture, call_id, _ = crafted("loss-burst.pcap")
    code, _, err = run(["audio", str(capture), "-o", str(tmp_path)])
    assert code == ExitStatus.ERROR and "--call" in err
    code, _, err = run(["audio", str(capture), "--call", call_id])
    assert code == ExitStatus.ERROR and "-o/--output" in err


# --- known bug -----------------------------------------------------------------------------------


def _late_first_packet_capture() -> bytes:
    """A PCMU call whose first RTP packet (seq 0) arrives right after the second (seq 1): all
    100 packets of the stream are there, sequence numbers 0-99, timestamps 1000 + 160 n."""

    def sdp(ip: str, port: int) -> str:
        return (f"v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
                f"m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n")

    t0, alice, bob = 1_700_000_000_000_000_000, "192.0.2.10", "198.51.100.20"
    frames = [(t0, packets.udp4_frame(alice, bob, packets.sip_request(
                  call_id="late@example.com", body=sdp(alice, 4000)))),
              (t0 + 500_000_000, packets.udp4_frame(bob, alice, packets.sip_response(
                  call_id="late@example.com", body=sdp(bob, 5000))))]
    for i, seq in enumerate([1, 0, *range(2, 100)]):
        payload = bytes(tone_code(440, 160 * seq + k) for k in range(SLOT))
        rtp = struct.pack("!BBHII", 0x80, 0, seq, 1000 + 160 * seq, 0x1234) + payload
        frames.append((t0 + 600_000_000 + i * 20_000_000,
                       packets.udp4_frame(alice, bob, rtp, 4000, 5000)))
    return packets.pcap(frames)


def tone_code(freq: int, n: int) -> int:
    """The µ-law byte of sample n of a craft_media.py tone."""
    index = n % TONE_PERIOD
    return ulaw_encode(round(TONE_PEAK * math.sin(2 * math.pi * freq * index / RATE)))


def test_a_first_packet_that_arrives_late_still_lands_in_its_place(write_capture) -> None:
    capture = write_capture(_late_first_packet_capture())
    heard = run(["audio", str(capture), "--call", "late@example.com", "-o",
                 str(capture.parent / "heard")])
    assert heard[0] == ExitStatus.OK
    assert heard[1].endswith(": 2.00 s, 100 packets, 0 lost "
                             "(192.0.2.10:4000 -> 198.51.100.20:5000)\n")
    with wave.open(str(capture.parent / "heard" / "01-caller-to-callee-0x00001234.wav")) as wav:
        frames = wav.readframes(wav.getnframes())
    samples = list(struct.unpack(f"<{len(frames) // 2}h", frames))
    assert len(samples) == 100 * SLOT  # the timestamps span 100 packets
    assert_slots(samples, 440, set())  # sample n is the tone's sample n, from seq 0 on
