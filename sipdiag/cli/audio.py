"""``sipdiag audio CAPTURE --call CALL_ID -o DIR``: what each side of a call heard, as WAV.

The call is found by a first reading (its streams, their codecs); a second reading keeps the
packets of its G.711 streams, which are decoded into one WAV file per stream (8000 Hz, 16-bit,
mono), silent where packets were lost. Streams in other codecs, or encrypted, are named and
left out. Standard input cannot be read twice: the capture must be a file.
"""

from __future__ import annotations

import argparse
import wave
from pathlib import Path

from sipdiag.analysis import MessageReader, analyze, paths_of
from sipdiag.analysis.decryption import decrypt
from sipdiag.cli.common import Environment, ExitStatus, error
from sipdiag.dialogs.media import MediaStream
from sipdiag.dialogs.select import Selection
from sipdiag.media import audio
from sipdiag.media.payloads import PayloadCollector


def run(args: argparse.Namespace, env: Environment) -> int:
    if "-" in map(str, paths_of(args.capture)):
        return error(env, "audio reads the capture twice: give a file, not standard input")
    decryption = decrypt(args.capture, args.tls_keylog)
    analysis = analyze(args.capture, selection=Selection(call_ids=(args.call,)), jobs=1,
                       decryption=decryption)
    calls = list(analysis.calls)
    if not calls:
        return error(env, f"no call has the Call-ID {args.call!r}")
    streams = calls[0].media.streams if calls[0].media else ()
    chosen = [s for s in streams if _decodable(s, env)]
    if not chosen:
        return error(env, "the call has no G.711 stream (PCMU or PCMA, not encrypted) to decode")
    collector = PayloadCollector((s.stream.src, s.stream.dst, s.stream.ssrc) for s in chosen)
    for _ in MessageReader(args.capture, media=collector, decryption=decryption).batches():
        pass
    try:
        args.output.mkdir(parents=True, exist_ok=True)
        for number, item in enumerate(chosen, 1):
            _write(args.output / _name(number, item), item, collector, env)
    except OSError as exc:
        return error(env, f"cannot write in {args.output}: {exc.strerror or exc}")
    return ExitStatus.OK


def _decodable(item: MediaStream, env: Environment) -> bool:
    stream = item.stream
    if audio.decodable(stream.codec.key) and not stream.encrypted:
        return True
    why = "encrypted (SRTP)" if stream.encrypted else (
        str(stream.codec) or f"payload type {stream.payload_type}")
    env.stderr.write(f"sipdiag: {stream.src} -> {stream.dst} SSRC 0x{stream.ssrc:08X} is "
                     f"{why}: left out, only G.711 is decoded\n")
    return False


def _name(number: int, item: MediaStream) -> str:
    sender = item.sender.value if item.sender else "unknown"
    receiver = item.sender.other.value if item.sender else "unknown"
    return f"{number:02d}-{sender}-to-{receiver}-0x{item.stream.ssrc:08X}.wav"


def _write(path: Path, item: MediaStream, collector: PayloadCollector, env: Environment) -> None:
    stream = item.stream
    packets = collector.packets[(stream.src, stream.dst, stream.ssrc)]
    samples = audio.pcm(packets, stream.codec.key, stream.payload_type)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(audio.SAMPLE_RATE)
        out.writeframes(samples)
    seconds = len(samples) / 2 / audio.SAMPLE_RATE
    env.stdout.write(f"{path}: {seconds:.2f} s, {stream.packets} packets, {stream.lost} lost "
                     f"({stream.src} -> {stream.dst})\n")

