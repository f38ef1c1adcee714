"""What the store's tests share: sipdiag run in this process, a capture crafted across hours,
and the start of each Call-ID as tshark reads it (independently of sipdiag)."""

from __future__ import annotations

import hashlib
import io
import struct
import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sipdiag.cli import Environment, main
from tests.packets import pcap, sip_request, sip_response, udp4_frame

CALLER, CALLEE = "192.0.2.10", "198.51.100.20"


def sipdiag(*argv: str) -> tuple[int, str, str]:
    """``sipdiag ARGV`` in this process: exit status, standard output, standard error."""
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), Environment(stdout=out, stderr=err, stdin=io.BytesIO(),
                                        environ={}))
    return code, out.getvalue(), err.getvalue()


def at(text: str) -> int:
    """ns since the epoch of an ISO time (UTC)."""
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()) * 1_000_000_000


def _sip(ts: int, payload: bytes, towards_callee: bool = True) -> tuple[int, bytes]:
    src, dst = (CALLER, CALLEE) if towards_callee else (CALLEE, CALLER)
    return ts, udp4_frame(src, dst, payload)


def call(call_id: str, start: int, *, status: int, trunk: str, talk_s: int = 10,
         ) -> list[tuple[int, bytes]]:
    """A call from CALLER to CALLEE whose INVITE carries ``X-Trunk: trunk``, answered
    ``status`` after 0.5 s: a 200 is ACKed, talked over ``talk_s`` seconds and ended by the
    caller's BYE; another final status is ACKed (RFC 3261 17.1.1.3)."""
    ms = 1_000_000
    invite = sip_request("INVITE", call_id, 1, extra=[f"X-Trunk: {trunk}"])
    frames = [_sip(start, invite),
              _sip(start + 100 * ms, sip_response(180, "Ringing", call_id), False)]
    reason = {200: "OK", 486: "Busy Here"}[status]
    frames += [_sip(start + 500 * ms, sip_response(status, reason, call_id), False),
               _sip(start + 510 * ms, sip_request("ACK", call_id, 1))]
    if status == 200:
        end = start + talk_s * 1000 * ms
        frames += [_sip(end, sip_request("BYE", call_id, 2)),
                   _sip(end + 20 * ms, sip_response(200, "OK", call_id, 2, "BYE"), False)]
    return frames


def options(call_id: str, start: int) -> list[tuple[int, bytes]]:
    return [_sip(start, sip_request("OPTIONS", call_id, 1, uri="sip:198.51.100.20")),
            _sip(start + 30_000_000, sip_response(200, "OK", call_id, 1, "OPTIONS"), False)]


def rtp(start: int, packets: int = 100) -> list[tuple[int, bytes]]:
    """G.711 u-law RTP (RFC 3550 5.1: version 2, PT 0, one SSRC) that no SIP announced:
    ``packets`` of 20 ms."""
    return [(start + i * 20_000_000, udp4_frame(
        CALLER, CALLEE, struct.pack("!BBHII", 0x80, 0, 1000 + i, 160 * i, 0x1234) + b"\xff" * 160,
        40000, 50000)) for i in range(packets)]


HOURS_CALLS = {
    # Call-ID: (start, final status, trunk)
    "early@x": ("2026-12-04T09:59:58", 200, "north"),  # from 09:59:58 to 10:00:08
    "busy@x": ("2026-12-04T10:00:00", 486, "south"),
    "late@x": ("2026-12-04T11:30:00", 200, "north"),
}
HOURS_OPTIONS = {"ping@x": "2026-12-04T10:15:00"}
HOURS_RTP = "2026-12-04T10:20:00"
"""When the stream of no call starts."""


def hours_capture(folder: Path) -> Path:
    """Three calls, an OPTIONS and a stream of no call over three hours of 2026-12-04."""
    frames = [frame for call_id, (start, status, trunk) in HOURS_CALLS.items()
              for frame in call(call_id, at(start), status=status, trunk=trunk)]
    frames += [frame for call_id, start in HOURS_OPTIONS.items()
               for frame in options(call_id, at(start))]
    frames += rtp(at(HOURS_RTP))
    path = folder / "hours.pcap"
    path.write_bytes(pcap(sorted(frames, key=lambda frame: frame[0])))
    return path


def tshark_starts(*captures: Path | str) -> dict[str, int]:
    """The time of each Call-ID's first SIP message, in ns, as tshark reads the captures."""
    starts: dict[str, int] = {}
    for capture in captures:
        lines = subprocess.run(
            ["tshark", "-r", str(capture), "-Y", "sip", "-T", "fields", "-e", "frame.time_epoch",
             "-e", "sip.Call-ID"], capture_output=True, text=True, check=True, timeout=60,
        ).stdout.splitlines()
        for line in lines:
            epoch, call_id = line.split("\t")
            ns = int(Decimal(epoch) * 1_000_000_000)
            starts[call_id] = min(ns, starts.get(call_id, ns))
    return starts


def hour_folder(ns: int) -> str:
    """``day=YYYY-MM-DD/hour=HH`` of a time, in UTC."""
    when = datetime.fromtimestamp(ns / 1e9, UTC)
    return f"day={when:%Y-%m-%d}/hour={when.hour}"


def digests(root: Path, names: Sequence[Path] | None = None) -> dict[str, str]:
    """The SHA-256 of every file under ``root`` (or of ``names``), by path under ``root``."""
    paths = names if names is not None else sorted(p for p in root.rglob("*") if p.is_file())
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def tshark_frame_count(capture: Path | str) -> int:
    """How many frames tshark reads in the capture."""
    return len(subprocess.run(["tshark", "-r", str(capture), "-T", "fields", "-e", "frame.number"],
                              capture_output=True, text=True, check=True, timeout=60
                              ).stdout.split())
