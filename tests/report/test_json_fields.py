"""Every field of the JSON document, pinned to a value found outside sipdiag.

Each expected value comes from the capture itself: the frames and bytes a test writes (and so
knows), tshark's reading of a bundled sample (``tshark -r FILE -T fields``, ``-z rtp,streams``),
``samples/media/truth.json`` (what each crafted media capture holds by construction), the rule
files in ``rules/`` (the texts a finding is made of), or the definitions of the RFCs and ITU-T
recommendations the fields name. No expected value is copied from sipdiag's own output.

``FIELDS`` names, for every field of the schema, the test that pins it; the coverage test walks
the schema and fails on a field that no test claims, so a new field cannot go untested.
"""

from __future__ import annotations

import gzip
import itertools
import json
import math
import re
import statistics
import struct
import subprocess
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from sipdiag.dialogs.select import Ladders
from sipdiag.report.document import document, schema
from tests.conftest import ROOT, SAMPLES
from tests.media.rtp import rtp
from tests.packets import pcap, udp4_frame
from tests.report.test_json_schema import analysis_of

Doc = dict[str, Any]
MEDIA = SAMPLES / "media"
TRUTH: dict[str, Any] = json.loads((MEDIA / "truth.json").read_text("utf-8"))["files"]
T0 = 1_700_000_000 * 10**9
"""The first frame of every capture built here: 2023-11-14T22:13:20Z."""


@cache
def doc(path: Path, ladders: Ladders = Ladders.ALL) -> Doc:
    return document(analysis_of(path, ladders))


def iso(epoch: str) -> str:
    """tshark's frame.time_epoch (``seconds.nanoseconds``) as the document writes times."""
    seconds, _, fraction = epoch.partition(".")
    day = datetime.fromtimestamp(int(seconds), UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{day}.{fraction.ljust(9, '0')[:9]}Z"


def iso_ns(ts_ns: int) -> str:
    seconds, rest = divmod(ts_ns, 10**9)
    return iso(f"{seconds}.{rest:09d}")


# --- tshark, the independent reader --------------------------------------------------------------

SIP_FIELDS = (
    "frame.number", "frame.time_epoch", "frame.time_relative", "ip.src", "udp.srcport",
    "ip.dst", "udp.dstport", "sip.Method", "sip.Status-Code", "sip.Status-Line", "sip.Call-ID",
    "sip.CSeq.seq", "sip.CSeq.method", "sip.from.addr", "sip.to.addr", "sip.to.tag",
    "sip.r-uri", "sip.User-Agent", "sip.Server", "udp.payload",
)


def tshark(path: Path, fields: tuple[str, ...], display_filter: str = "") -> list[dict[str, str]]:
    command = ["tshark", "-n", "-r", str(path), "-T", "fields", "-E", "separator=\t",
               "-E", "occurrence=f"]
    if display_filter:
        command += ["-Y", display_filter]
    for name in fields:
        command += ["-e", name]
    out = subprocess.run(command, capture_output=True, text=True, check=False).stdout
    return [dict(zip(fields, line.split("\t"), strict=True)) for line in out.splitlines()]


@cache
def sip_rows(path: Path) -> list[dict[str, str]]:
    """Every SIP message as tshark reads it (one per frame: UDP samples only), with what the
    tests need: its endpoints, its raw bytes and its first line."""
    rows = tshark(path, SIP_FIELDS, "sip")
    for row in rows:
        row["src"] = f"{row['ip.src']}:{row['udp.srcport']}"
        row["dst"] = f"{row['ip.dst']}:{row['udp.dstport']}"
        row["raw"] = bytes.fromhex(row["udp.payload"]).decode("utf-8", "replace")
        row["label"] = row["sip.Method"] or row["sip.Status-Line"].removeprefix("SIP/2.0 ")
    return rows


def frame_times(path: Path) -> dict[int, str]:
    """Frame number -> seconds from the first frame, read from the bytes of a classic pcap
    file (microseconds, little-endian): record headers one after the other."""
    data = path.read_bytes()
    assert data[:4] == b"\xd4\xc3\xb2\xa1"
    offset, found, first = 24, {}, None
    while offset + 16 <= len(data):
        sec, usec, length = struct.unpack_from("<III", data, offset)
        ts = sec * 10**6 + usec
        first = ts if first is None else first
        found[len(found) + 1] = f"{(ts - first) // 10**6}.{(ts - first) % 10**6:06d}"
        offset += 16 + length
    return found


def seconds(relative: str) -> float:
    return round(float(relative), 6)


def copies(rows: list[dict[str, str]]) -> dict[int, int]:
    """Frame -> which copy of the same bytes it is (1 for the first)."""
    seen: Counter[str] = Counter()
    found = {}
    for row in rows:
        seen[row["raw"]] += 1
        found[int(row["frame.number"])] = seen[row["raw"]]
    return found


def header(raw: str, name: str) -> str:
    match = re.search(rf"^{name}:[ \t]*(.*?)\r?$", raw, re.I | re.M)
    return match[1] if match else ""


def sdp_of(raw: str) -> list[dict[str, object]]:
    """The m= sections of a message's SDP body (RFC 4566), read from its bytes; static payload
    types without rtpmap named by RFC 3551."""
    body = raw.partition("\r\n\r\n")[2]
    session_address, sections = "", []
    static = {"0": "PCMU/8000", "8": "PCMA/8000", "18": "G729/8000", "13": "CN/8000"}
    for line in body.splitlines():
        key, _, value = line.partition("=")
        if key == "c" and not sections:
            session_address = value.split()[-1]
        elif key == "m":
            kind, port, protocol, *formats = value.split()
            sections.append({"kind": kind, "address": session_address, "port": int(port),
                             "protocol": protocol, "formats": formats, "rtpmap": {},
                             "direction": "sendrecv"})
        elif sections and key == "c":
            sections[-1]["address"] = value.split()[-1]
        elif sections and key == "a" and value.startswith("rtpmap:"):
            pt, name = value[len("rtpmap:"):].split(None, 1)
            sections[-1]["rtpmap"][pt] = name  # type: ignore[index]
        elif sections and key == "a" and value in ("sendrecv", "sendonly", "recvonly",
                                                   "inactive"):
            sections[-1]["direction"] = value
    return [
        {"kind": s["kind"], "address": s["address"], "port": s["port"],
         "protocol": s["protocol"], "direction": s["direction"],
         "codecs": [s["rtpmap"].get(f, static.get(f, f)) for f in s["formats"]]}  # type: ignore[attr-defined]
        for s in sections
    ]


# --- captures built here -------------------------------------------------------------------------

CALLER, SBC, CALLEE = ("192.0.2.10", 5060), ("198.51.100.1", 5060), ("198.51.100.20", 5060)


def sdp_body(address: str, port: int) -> str:
    return (f"v=0\r\no=- 1 1 IN IP4 {address}\r\ns=-\r\nc=IN IP4 {address}\r\nt=0 0\r\n"
            f"m=audio {port} RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n")


def sip_text(first: str, call_id: str, cseq: str, *, via: tuple[str, int], from_tag: str,
             to_tag: str = "", extra: tuple[str, ...] = (), body: str = "",
             user: str = "bob") -> bytes:
    lines = [
        first,
        f"Via: SIP/2.0/UDP {via[0]}:{via[1]};branch=z9hG4bK-{call_id}-{cseq.split()[0]}",
        f"From: <sip:alice@example.com>;tag={from_tag}",
        f"To: <sip:{user}@example.com>" + (f";tag={to_tag}" if to_tag else ""),
        f"Call-ID: {call_id}",
        f"CSeq: {cseq}",
        "Max-Forwards: 70",
        *extra,
    ]
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append(f"Content-Length: {len(body.encode())}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


class Capture:
    """Frames to write, each with a name; numbered in time order when written."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str, bytes, bytes]] = []

    def send(self, at: float, src: tuple[str, int], dst: tuple[str, int], payload: bytes,
             name: str = "") -> bytes:
        self.sent.append((T0 + round(at * 1e9), name, payload,
                          udp4_frame(src[0], dst[0], payload, src[1], dst[1])))
        return payload

    def write(self, path: Path, tail: bytes = b"") -> Built:
        ordered = sorted(self.sent, key=lambda item: item[0])
        path.write_bytes(pcap((ts, data) for ts, _, _, data in ordered) + tail)
        frames = {name: n for n, (_, name, _, _) in enumerate(ordered, 1) if name}
        times = {n: ts for n, (ts, _, _, _) in enumerate(ordered, 1)}
        return Built(path, frames, times, len(ordered))


@dataclass(frozen=True)
class Built:
    path: Path
    frames: dict[str, int]
    """Frame number by name."""
    times: dict[int, int]
    """Capture time (ns) by frame number."""
    count: int

    def at(self, name: str) -> int:
        return self.times[self.frames[name]]


def dialog(capture: Capture, call_id: str, a: tuple[str, int], b: tuple[str, int], at: float,
           extra: tuple[str, ...] = ()) -> bytes:
    """An answered call from a to b (INVITE, 180, 200, ACK; frames named ``call_id:what``);
    returns the INVITE's bytes."""
    tag = f"{call_id}-from"
    invite = capture.send(at, a, b, sip_text(
        "INVITE sip:bob@example.com SIP/2.0", call_id, "1 INVITE", via=a, from_tag=tag,
        extra=extra, body=sdp_body(a[0], 4000)), f"{call_id}:invite")
    for status, when, body in (("180 Ringing", 0.3, ""), ("200 OK", 1.0, sdp_body(b[0], 5000))):
        capture.send(at + when, b, a, sip_text(
            f"SIP/2.0 {status}", call_id, "1 INVITE", via=a, from_tag=tag, to_tag="callee",
            body=body), f"{call_id}:{status[:3]}")
    capture.send(at + 1.01, a, b, sip_text(
        "ACK sip:bob@example.com SIP/2.0", call_id, "1 ACK", via=a, from_tag=tag,
        to_tag="callee"), f"{call_id}:ack")
    return invite


def bye(capture: Capture, call_id: str, a: tuple[str, int], b: tuple[str, int],
        at: float) -> None:
    tag = f"{call_id}-from"
    capture.send(at, a, b, sip_text("BYE sip:bob@example.com SIP/2.0", call_id, "2 BYE", via=a,
                                    from_tag=tag, to_tag="callee"), f"{call_id}:bye")
    capture.send(at + 0.01, b, a, sip_text("SIP/2.0 200 OK", call_id, "2 BYE", via=a,
                                           from_tag=tag, to_tag="callee"), f"{call_id}:bye-200")


NO_CALL_ID = (b"OPTIONS sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;"
              b"branch=z9hG4bK-x\r\nFrom: <sip:alice@example.com>;tag=x\r\n"
              b"To: <sip:example.com>\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
CUT = 40
"""Bytes of the last record of the b2bua capture (whose header announces 200)."""


@pytest.fixture(scope="module")
def b2bua(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """Two legs of one call through a B2BUA (the second names the first in X-CID); the first
    INVITE seen twice by the capture (the same bytes 0.1 ms apart: a duplicate), the second
    leg's INVITE sent again 0.5 s later (a retransmission); a REGISTER challenged then
    accepted; a message without Call-ID; the file cut short inside its last record."""
    capture = Capture()
    invite = dialog(capture, "leg-a@sbc", CALLER, SBC, 0.0)
    capture.send(0.0001, CALLER, SBC, invite, "leg-a@sbc:invite-dup")
    invite = dialog(capture, "leg-b@sbc", SBC, CALLEE, 0.02, extra=("X-CID: leg-a@sbc",))
    capture.send(0.52, SBC, CALLEE, invite, "leg-b@sbc:invite-again")
    bye(capture, "leg-b@sbc", SBC, CALLEE, 4.0)
    bye(capture, "leg-a@sbc", CALLER, SBC, 4.1)
    for cseq, status, at in (("1", "401 Unauthorized", 6.0), ("2", "200 OK", 6.2)):
        auth = ("Authorization: Digest username=\"alice\"",) if cseq == "2" else ()
        capture.send(at, CALLER, SBC, sip_text(
            "REGISTER sip:example.com SIP/2.0", "reg-1@alice", f"{cseq} REGISTER", via=CALLER,
            from_tag="reg", user="alice", extra=auth), f"register-{cseq}")
        capture.send(at + 0.05, SBC, CALLER, sip_text(
            f"SIP/2.0 {status}", "reg-1@alice", f"{cseq} REGISTER", via=CALLER,
            from_tag="reg", to_tag="registrar", user="alice"), f"register-{cseq}-answer")
    capture.send(7.0, CALLER, SBC, NO_CALL_ID, "no-call-id")
    # A record header announcing 200 bytes, then only CUT of them: the file was cut there.
    tail = (T0 // 10**9 + 8).to_bytes(4, "little") + bytes(4) + (200).to_bytes(4, "little") * 2
    return capture.write(tmp_path_factory.mktemp("b2bua") / "b2bua.pcap", tail + bytes(CUT))


# --- the table of fields and their tests ---------------------------------------------------------

FIELDS: dict[str, str] = {}


def pins(*paths: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Record that the decorated test pins these fields of the schema."""

    def mark(test: Callable[..., None]) -> Callable[..., None]:
        for path in paths:
            FIELDS.setdefault(path, test.__name__)
        return test

    return mark


def schema_fields() -> Iterator[str]:
    """Every field of the schema, as a path: ``calls[].media.streams[].ssrc``."""
    definitions = schema()["$defs"]

    def walk(node: dict[str, Any], path: str, seen: frozenset[str]) -> Iterator[str]:
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                yield from walk(definitions[name], path, seen | {name})
            return
        for key in ("anyOf", "oneOf", "allOf"):
            for sub in node.get(key, []):
                yield from walk(sub, path, seen)
        for name, sub in node.get("properties", {}).items():
            field = f"{path}.{name}" if path else name
            yield field
            yield from walk(sub, field, seen)
        if isinstance(node.get("items"), dict):
            yield from walk(node["items"], f"{path}[]", seen)
        if isinstance(node.get("additionalProperties"), dict):
            yield from walk(node["additionalProperties"], f"{path}{{}}", seen)

    return walk(schema(), "", frozenset())


# --- capture, tool -------------------------------------------------------------------------------


@pins("schema_version", "tool", "tool.name", "tool.version", "capture", "capture.file",
      "capture.format", "capture.compression", "capture.frames", "capture.first_time",
      "capture.last_time", "capture.sip_messages", "capture.defective_messages",
      "capture.problems", "capture.problems[].kind", "capture.problems[].count",
      "capture.problems[].examples", "capture.problems[].examples[].frame",
      "capture.problems[].examples[].detail")
def test_capture_fields(b2bua: Built, tmp_path: Path) -> None:
    value = doc(b2bua.path)
    assert value["schema_version"] == schema()["properties"]["schema_version"]["const"]
    assert value["tool"] == {"name": "sipdiag", "version": metadata.version("sipdiag")}
    frames = tshark(b2bua.path, ("frame.number", "frame.time_epoch"))
    capture = value["capture"]
    assert capture["file"] == str(b2bua.path)
    assert (capture["format"], capture["compression"]) == ("pcap", None)
    assert capture["frames"] == len(frames) == b2bua.count
    assert capture["first_time"] == iso(frames[0]["frame.time_epoch"]) == iso_ns(T0)
    assert capture["last_time"] == iso(frames[-1]["frame.time_epoch"])
    assert capture["last_time"] == iso_ns(b2bua.times[b2bua.count])
    assert capture["sip_messages"] == len(sip_rows(b2bua.path)) == b2bua.count
    assert capture["defective_messages"] == 1  # the message without Call-ID
    problems = {p["kind"]: p for p in capture["problems"]}
    assert list(problems) == sorted(problems) == ["capture_truncated", "sip_missing_header"]
    [cut] = problems["capture_truncated"]["examples"]
    assert problems["capture_truncated"]["count"] == 1
    assert cut["frame"] == b2bua.count + 1
    assert f"{16 + CUT} bytes" in cut["detail"]  # the 16-byte record header, then CUT
    assert f"frame {b2bua.count + 1}" in cut["detail"]
    [missing] = problems["sip_missing_header"]["examples"]
    assert problems["sip_missing_header"]["count"] == 1
    assert missing["frame"] == b2bua.frames["no-call-id"]
    assert "Call-ID" in missing["detail"]
    packed = tmp_path / "b2bua.pcap.gz"
    packed.write_bytes(gzip.compress(b2bua.path.read_bytes()))
    other = document(analysis_of(packed))["capture"]
    assert (other["file"], other["format"], other["compression"]) == (str(packed), "pcap",
                                                                      "gzip")
    assert other["frames"] == b2bua.count
    pcapng = SAMPLES / "transport" / "two-interfaces.pcapng"
    assert doc(pcapng)["capture"]["format"] == "pcapng"
    assert doc(pcapng)["capture"]["frames"] == len(tshark(pcapng, ("frame.number",)))


# --- calls, against tshark -----------------------------------------------------------------------

OUTCOMES = {
    # file: (outcome, ended_by), from what each recording is (samples/record.sh, scenarios/)
    "basic-call.pcap": ("completed", "caller"),  # answered, BYE from the caller, 200 to it
    "no-ack-32s.pcap": ("dropped", "callee"),  # 2xx never ACKed: the callee gives up, BYE
    "busy.pcap": ("busy", "callee"),  # 486 Busy Here
    "cancelled-call.pcap": ("cancelled", "caller"),  # CANCEL while ringing, 487
    "redirect-302.pcap": ("completed", "caller"),  # the 302 followed: 2nd INVITE answered
}


def first_of(rows: list[dict[str, str]], test: Callable[[dict[str, str]], bool]
             ) -> dict[str, str] | None:
    return next((row for row in rows if test(row)), None)


def rel(row: dict[str, str] | None, start: dict[str, str]) -> float | None:
    if row is None:
        return None
    return round(float(row["frame.time_epoch"]) - float(start["frame.time_epoch"]), 6)


def status(row: dict[str, str]) -> int:
    return int(row["sip.Status-Code"] or 0)


def what(row: dict[str, str]) -> str:
    """How a message is named in retransmissions and evidence: method, or status and method."""
    return row["sip.Method"] or f"{row['sip.Status-Code']} {row['sip.CSeq.method']}"


def retransmitted(rows: list[dict[str, str]]) -> list[dict[str, object]]:
    """Messages whose exact bytes were sent again, with their frames and times from the first."""
    groups: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        groups.setdefault(row["raw"], []).append(row)
    return sorted(
        ({"what": what(g[0]), "frames": [int(r["frame.number"]) for r in g],
          "times": [rel(r, g[0]) for r in g]} for g in groups.values() if len(g) > 1),
        key=lambda item: item["frames"][0])  # type: ignore[index]


@pins("calls", "calls[].call_id", "calls[].outcome", "calls[].final_status", "calls[].reason",
      "calls[].ended_by", "calls[].caller", "calls[].callee", "calls[].agents",
      "calls[].agents.caller", "calls[].agents.callee", "calls[].request_uri",
      "calls[].start", "calls[].end", "calls[].frames", "calls[].messages", "calls[].timings",
      "calls[].timings.post_dial_delay", "calls[].timings.time_to_answer",
      "calls[].timings.talk_time", "calls[].timings.total", "calls[].legs",
      "calls[].legs[].src", "calls[].legs[].dst", "calls[].legs[].transport",
      "calls[].legs[].first_frame", "calls[].legs[].final_status", "calls[].dialogs",
      "calls[].sdp", "calls[].sdp.offer", "calls[].sdp.offer.sender", "calls[].sdp.offer.frame",
      "calls[].sdp.offer.media", "calls[].sdp.offer.media[].kind",
      "calls[].sdp.offer.media[].address", "calls[].sdp.offer.media[].port",
      "calls[].sdp.offer.media[].protocol", "calls[].sdp.offer.media[].codecs",
      "calls[].sdp.offer.media[].direction", "calls[].sdp.answer", "calls[].sdp.answer.sender",
      "calls[].sdp.answer.frame", "calls[].sdp.answer.media", "calls[].sdp.answer.media[].kind",
      "calls[].sdp.answer.media[].address", "calls[].sdp.answer.media[].port",
      "calls[].sdp.answer.media[].protocol", "calls[].sdp.answer.media[].codecs",
      "calls[].sdp.answer.media[].direction", "calls[].retransmissions",
      "calls[].retransmissions[].what", "calls[].retransmissions[].frames",
      "calls[].retransmissions[].times")
@pytest.mark.parametrize("name", sorted(OUTCOMES))
def test_call_fields_against_tshark(name: str) -> None:
    path = SAMPLES / "calls" / name
    [call] = doc(path)["calls"]
    rows = sip_rows(path)
    assert {row["sip.Call-ID"] for row in rows} == {call["call_id"]}
    invites = [r for r in rows if r["sip.Method"] == "INVITE" and not r["sip.to.tag"]]
    first, caller = invites[0], invites[0]["src"]
    to_caller = [r for r in rows if r["dst"] == caller and r["sip.CSeq.method"] == "INVITE"]
    mine = [r for r in invites if r["src"] == caller]
    last_cseq = mine[-1]["sip.CSeq.seq"]
    final = first_of(to_caller, lambda r: status(r) >= 200 and r["sip.CSeq.seq"] == last_cseq)
    assert (call["outcome"], call["ended_by"]) == OUTCOMES[name]
    assert call["final_status"] == (status(final) if final else None)
    assert call["reason"] == (final["sip.Status-Line"].split(" ", 2)[2] if final else "")
    assert (call["caller"], call["callee"]) == (first["sip.from.addr"], first["sip.to.addr"])
    assert call["request_uri"] == first["sip.r-uri"]
    named = [r["sip.Server"] or r["sip.User-Agent"] for r in rows  # answers not the caller's
             if status(r) and r["sip.CSeq.method"] == "INVITE" and r["src"] != caller]
    assert call["agents"] == {"caller": first["sip.User-Agent"] or None,
                              "callee": next((n for n in reversed(named) if n), None)}
    assert (call["start"], call["end"]) == (iso(rows[0]["frame.time_epoch"]),
                                            iso(rows[-1]["frame.time_epoch"]))
    assert call["frames"] == [int(rows[0]["frame.number"]), int(rows[-1]["frame.number"])]
    assert call["messages"] == len(rows)
    ringing = first_of(to_caller, lambda r: status(r) in (180, 183))
    answer = first_of(to_caller, lambda r: 200 <= status(r) < 300)
    bye = first_of(rows, lambda r: r["sip.Method"] == "BYE")
    if answer is not None and bye is not None:
        assert call["ended_by"] == ("caller" if bye["src"] == caller else "callee")
    talk = None if answer is None else rel(bye or rows[-1], answer)
    assert call["timings"] == {"post_dial_delay": rel(ringing, first),
                               "time_to_answer": rel(answer, first), "talk_time": talk,
                               "total": rel(rows[-1], rows[0])}
    hops: dict[tuple[str, str], list[dict[str, str]]] = {}
    for invite in invites:
        hops.setdefault((invite["src"], invite["dst"]), []).append(invite)
    legs = []
    for (src, dst), sent in hops.items():
        answered = first_of(rows, lambda r, src=src, dst=dst, seq=sent[-1]["sip.CSeq.seq"]: (
            r["src"], r["dst"], r["sip.CSeq.seq"]) == (dst, src, seq) and status(r) >= 200
            and r["sip.CSeq.method"] == "INVITE")
        legs.append({"src": src, "dst": dst, "transport": "UDP",
                     "first_frame": int(sent[0]["frame.number"]),
                     "final_status": status(answered) if answered else None})
    assert call["legs"] == legs
    tags = {r["sip.to.tag"] for r in to_caller if 100 < status(r) < 300 and r["sip.to.tag"]}
    assert call["dialogs"] == len(tags)
    offer = first_of(mine, lambda r: "application/sdp" in header(r["raw"], "Content-Type"))
    reply = first_of(to_caller, lambda r: "application/sdp" in header(r["raw"], "Content-Type"))
    assert call["sdp"] == {
        "offer": offer and {"sender": "caller", "frame": int(offer["frame.number"]),
                            "media": sdp_of(offer["raw"])},
        "answer": reply and {"sender": "callee", "frame": int(reply["frame.number"]),
                             "media": sdp_of(reply["raw"])},
    }
    assert sorted(call["retransmissions"], key=lambda r: r["frames"][0]) == retransmitted(rows)



# --- ladders and exchanges, against tshark -------------------------------------------------------


def ladder_of(rows: list[dict[str, str]]) -> list[dict[str, object]]:
    """Every message as a ladder draws it: its first line, whether it carries SDP, which copy
    of the same bytes it is."""
    copy = copies(rows)
    return [
        {"frame": int(r["frame.number"]), "time": seconds(r["frame.time_relative"]),
         "src": r["src"], "dst": r["dst"], "transport": "UDP", "label": r["label"],
         "status": status(r) or None, "copy": copy[int(r["frame.number"])],
         "sdp": "application/sdp" in header(r["raw"], "Content-Type")}
        for r in rows
    ]


@pins("calls[].ladder", "calls[].ladder[].frame", "calls[].ladder[].time",
      "calls[].ladder[].src", "calls[].ladder[].dst", "calls[].ladder[].transport",
      "calls[].ladder[].label", "calls[].ladder[].status", "calls[].ladder[].copy",
      "calls[].ladder[].sdp", "exchanges[].ladder", "exchanges[].ladder[].frame",
      "exchanges[].ladder[].time", "exchanges[].ladder[].src", "exchanges[].ladder[].dst",
      "exchanges[].ladder[].transport", "exchanges[].ladder[].label",
      "exchanges[].ladder[].status", "exchanges[].ladder[].copy", "exchanges[].ladder[].sdp")
@pytest.mark.parametrize("name", ["no-ack-32s.pcap", "options-keepalive.pcap", "basic-call.pcap"])
def test_ladders_against_tshark(name: str) -> None:
    path = SAMPLES / "calls" / name
    rows = sip_rows(path)
    value = doc(path)
    for item in [*value["calls"], *value["exchanges"]]:
        mine = [r for r in rows if r["sip.Call-ID"] == item["call_id"]]
        assert item["ladder"] == ladder_of(mine)
    assert [c["ladder"] for c in doc(path, Ladders.NONE)["calls"]] == [None] * len(
        value["calls"])


@pins("exchanges", "exchanges[].call_id", "exchanges[].method", "exchanges[].outcome",
      "exchanges[].final_status", "exchanges[].reason", "exchanges[].caller",
      "exchanges[].callee", "exchanges[].start", "exchanges[].end", "exchanges[].frames",
      "exchanges[].messages", "exchanges[].transactions", "exchanges[].retransmissions",
      "exchanges[].retransmissions[].what", "exchanges[].retransmissions[].frames",
      "exchanges[].retransmissions[].times")
def test_exchange_fields_against_tshark(b2bua: Built) -> None:
    for path in (SAMPLES / "calls" / "options-keepalive.pcap", SAMPLES / "calls" /
                 "register.pcap", b2bua.path):
        rows = [r for r in sip_rows(path) if r["sip.Call-ID"]]
        exchanges = doc(path)["exchanges"]  # none for the message without Call-ID
        ids = list(dict.fromkeys(r["sip.Call-ID"] for r in rows
                                 if r["sip.CSeq.method"] not in ("INVITE", "ACK", "BYE")))
        assert [e["call_id"] for e in exchanges] == ids
        for exchange in exchanges:
            mine = [r for r in rows if r["sip.Call-ID"] == exchange["call_id"]]
            first = mine[0]
            requests = [r for r in mine if r["sip.Method"]]
            final = first_of(mine[::-1], lambda r: status(r) >= 200)
            # RFC 3261 17.1.2.2: no final answer to a non-INVITE request in 64*T1 is a timeout
            outcome = "timeout" if final is None else "ok" if status(final) < 300 else "?"
            assert exchange["method"] == first["sip.Method"]
            assert exchange["outcome"] == outcome
            assert exchange["final_status"] == (status(final) if final else None)
            assert exchange["reason"] == (final["label"].split(" ", 1)[1] if final else "")
            assert (exchange["caller"], exchange["callee"]) == (first["sip.from.addr"],
                                                                first["sip.to.addr"])
            assert (exchange["start"], exchange["end"]) == (iso(first["frame.time_epoch"]),
                                                            iso(mine[-1]["frame.time_epoch"]))
            assert exchange["frames"] == [int(first["frame.number"]),
                                          int(mine[-1]["frame.number"])]
            assert exchange["messages"] == len(mine)
            assert exchange["transactions"] == len({r["sip.CSeq.seq"] for r in requests})
            assert sorted(exchange["retransmissions"], key=lambda r: r["frames"][0]) == (
                retransmitted(mine))
    [register] = doc(b2bua.path)["exchanges"]
    assert (register["transactions"], register["final_status"]) == (2, 200)
    assert register["frames"] == [b2bua.frames["register-1"], b2bua.frames["register-2-answer"]]


# --- B2BUA legs, duplicates and retransmissions --------------------------------------------------


@pins("links", "links[].call_id", "links[].other", "links[].reason", "links[].confidence",
      "calls[].linked_calls", "calls[].linked_calls[].call_id",
      "calls[].linked_calls[].reason", "calls[].linked_calls[].confidence")
def test_linked_legs_are_listed_both_ways(b2bua: Built) -> None:
    value = doc(b2bua.path)
    # leg b names leg a in its X-CID header: one link, seen from either leg, as sure as can be
    reason = f"X-CID in frame {b2bua.frames['leg-b@sbc:invite']}"
    assert value["links"] == [{"call_id": "leg-b@sbc", "other": "leg-a@sbc", "reason": reason,
                               "confidence": "header"}]
    linked = {c["call_id"]: c["linked_calls"] for c in value["calls"]}
    assert linked == {
        "leg-a@sbc": [{"call_id": "leg-b@sbc", "reason": reason, "confidence": "header"}],
        "leg-b@sbc": [{"call_id": "leg-a@sbc", "reason": reason, "confidence": "header"}]}
    assert [c["linked_calls"] for c in doc(SAMPLES / "calls" / "basic-call.pcap")["calls"]] == [
        []]


@pins("calls[].duplicates")
def test_duplicates_and_retransmissions_of_the_legs(b2bua: Built) -> None:
    calls = {c["call_id"]: c for c in doc(b2bua.path)["calls"]}
    a, b = calls["leg-a@sbc"], calls["leg-b@sbc"]
    # leg a: its INVITE captured twice 0.1 ms apart, the same bytes: one duplicate, no
    # retransmission (a sender retransmits after T1 = 500 ms, RFC 3261 17.1.1.2)
    assert a["duplicates"] == 1
    assert a["retransmissions"] == []
    # leg b: its INVITE sent again 0.5 s later: a retransmission, not a duplicate
    assert b["duplicates"] == 0
    frames = [b2bua.frames["leg-b@sbc:invite"], b2bua.frames["leg-b@sbc:invite-again"]]
    assert b["retransmissions"] == [{"what": "INVITE", "frames": frames, "times": [0.0, 0.5]}]
    for call, leg in ((a, "leg-a@sbc"), (b, "leg-b@sbc")):
        assert call["frames"] == [b2bua.frames[f"{leg}:invite"], b2bua.frames[f"{leg}:bye-200"]]
        assert call["start"] == iso_ns(b2bua.at(f"{leg}:invite"))
        assert call["end"] == iso_ns(b2bua.at(f"{leg}:bye-200"))



# --- summary -------------------------------------------------------------------------------------


def attempt(capture: Capture, call_id: str, at: float, ring: float | None,
            final: str | None, cancel: bool = False) -> None:
    """An INVITE from CALLER to CALLEE, ringing after ``ring`` s, answered by ``final`` 3 s in
    (ACKed; a 2xx then ended by the caller's BYE); a CANCEL at 1 s with ``cancel``."""
    tag = f"{call_id}-from"

    def reply(line: str, when: float, cseq: str = "1 INVITE") -> None:
        capture.send(at + when, CALLEE, CALLER, sip_text(
            f"SIP/2.0 {line}", call_id, cseq, via=CALLER, from_tag=tag, to_tag="callee"))

    def request(method: str, when: float, cseq: str, to_tag: str = "callee") -> None:
        capture.send(at + when, CALLER, CALLEE, sip_text(
            f"{method} sip:bob@example.com SIP/2.0", call_id, cseq, via=CALLER, from_tag=tag,
            to_tag=to_tag))

    request("INVITE", 0.0, "1 INVITE", to_tag="")
    if ring is not None:
        reply("180 Ringing", ring)
    if cancel:
        request("CANCEL", 1.0, "1 CANCEL", to_tag="")
        reply("200 OK", 1.01, "1 CANCEL")
    if final is not None:
        reply(final, 3.0)
        request("ACK", 3.01, "1 ACK")
    if final == "200 OK":
        request("BYE", 5.0, "2 BYE")
        reply("200 OK", 5.01, "2 BYE")


PDD = [round(0.1 * (i + 1), 1) for i in range(20)]
"""The post-dial delays of the 20 answered calls of the summary capture."""


@pytest.fixture(scope="module")
def many_calls(tmp_path_factory: pytest.TempPathFactory) -> Built:
    capture = Capture()
    for i, ring in enumerate(PDD):
        attempt(capture, f"ok-{i}@x", 10.0 * i, ring, "200 OK")
    attempt(capture, "busy@x", 300, 0.05, "486 Busy Here")
    attempt(capture, "missing@x", 310, None, "404 Not Found")
    attempt(capture, "cancelled@x", 320, 0.3, "487 Request Terminated", cancel=True)
    attempt(capture, "no-answer@x", 330, 0.2, "480 Temporarily Unavailable")
    capture.send(340, CALLER, SBC, sip_text("OPTIONS sip:example.com SIP/2.0", "ping@x",
                                            "1 OPTIONS", via=CALLER, from_tag="p"))
    capture.send(340.01, SBC, CALLER, sip_text("SIP/2.0 200 OK", "ping@x", "1 OPTIONS",
                                               via=CALLER, from_tag="p", to_tag="q"))
    attempt(capture, "ringing@x", 341, None, None)  # the capture ends 0 s after its INVITE
    return capture.write(tmp_path_factory.mktemp("many") / "many.pcap")


@pins("summary", "summary.calls", "summary.exchanges", "summary.attempts", "summary.answered",
      "summary.delivered", "summary.asr", "summary.ner", "summary.post_dial_delay",
      "summary.post_dial_delay.count", "summary.post_dial_delay.mean",
      "summary.post_dial_delay.median", "summary.post_dial_delay.p95",
      "summary.post_dial_delay.max", "summary.call_outcomes", "summary.exchange_outcomes",
      "summary.final_statuses", "summary.findings", "summary.findings.info",
      "summary.findings.warning", "summary.findings.error")
def test_summary_fields(many_calls: Built) -> None:
    value = doc(many_calls.path)
    summary = value["summary"]
    # 25 calls: 20 answered, busy (486), rejected (404), cancelled (487), no answer (480) and
    # one still ringing when the capture ends (not an attempt); one OPTIONS answered.
    attempts, answered = 24, 20
    delivered = answered + 3  # ITU-T E.425: busy, no answer and cancelled while ringing count
    delays = sorted([*PDD, 0.05, 0.3, 0.2])  # every call that rang, from INVITE to 180
    rank = math.ceil(0.95 * len(delays))  # nearest-rank 95th percentile
    severities = Counter(f["severity"] for f in value["findings"])
    assert summary == {
        "calls": 25, "exchanges": 1, "attempts": attempts, "answered": answered,
        "delivered": delivered, "asr": round(100 * answered / attempts, 3),
        "ner": round(100 * delivered / attempts, 3),
        "post_dial_delay": {"count": len(delays), "mean": round(statistics.fmean(delays), 6),
                            "median": statistics.median(delays), "p95": delays[rank - 1],
                            "max": delays[-1]},
        "call_outcomes": {"completed": 20, "busy": 1, "rejected": 1, "cancelled": 1,
                          "no_answer": 1, "in_progress": 1},
        "exchange_outcomes": {"ok": 1},
        "final_statuses": {"200": 20, "486": 1, "404": 1, "487": 1, "480": 1, "none": 1},
        "findings": {"info": severities["info"], "warning": severities["warning"],
                     "error": severities["error"]},
        "media": summary["media"],  # below
    }
    assert severities["info"] + severities["warning"] + severities["error"] > 0
    assert list(summary["findings"]) == ["info", "warning", "error"]
    assert summary["media"] == {"streams": 0, "rtp_packets": 0, "unattributed_streams": 0,
                                "call_states": {}}  # no SDP, no RTP: no media to speak of



# --- findings ------------------------------------------------------------------------------------


@cache
def rule_files() -> dict[str, dict[str, Any]]:
    import yaml

    found = {}
    for path in (ROOT / "rules").rglob("*.yaml"):
        data = yaml.safe_load(path.read_text("utf-8"))
        if isinstance(data, dict) and "id" in data and "message" in data:
            found[data["id"]] = data
    return found


def filled(template: str, values: dict[str, str]) -> str:
    return re.sub(r"\{([^{}]+)\}", lambda m: values[m[1]], template)


def check_finding(finding: dict[str, Any], path: Path, evidence: list[dict[str, str]]) -> None:
    """The texts from the rule file, the call from the capture, the evidence from tshark."""
    rule = rule_files()[finding["rule"]]
    assert (finding["name"], finding["severity"]) == (rule["name"], rule["severity"])
    assert finding["title"] == rule["title"]["en"]
    assert finding["message"] == filled(" ".join(rule["message"]["en"].split()),
                                        finding["values"])
    rows = sip_rows(path)
    mine = [r for r in rows if r["sip.Call-ID"] == finding["call_id"]]
    assert finding["call_frame"] == int(mine[0]["frame.number"])
    values = finding["values"]
    assert (values["call.call_id"], values["call.caller"], values["call.callee"]) == (
        mine[0]["sip.Call-ID"], mine[0]["sip.from.addr"], mine[0]["sip.to.addr"])
    copy = copies(rows)
    assert finding["evidence"] == [
        {"frame": int(r["frame.number"]), "time": seconds(r["frame.time_relative"]),
         "message": what(r), "copy": copy[int(r["frame.number"])]} for r in evidence]
    samples = [s["sample"] for s in rule.get("tests", rule.get("samples", []))
               if isinstance(s, dict) and s.get("expect")]
    if samples:
        assert path.relative_to(ROOT).as_posix() in samples


@pins("findings", "findings[].rule", "findings[].name", "findings[].severity",
      "findings[].title", "findings[].message", "findings[].call_id", "findings[].call_frame",
      "findings[].values", "findings[].evidence", "findings[].evidence[].frame",
      "findings[].evidence[].time", "findings[].evidence[].message",
      "findings[].evidence[].copy", "findings[].see_also", "findings[].see_also[].kind",
      "findings[].see_also[].code", "calls[].findings", "exchanges[].findings")
def test_finding_fields() -> None:
    # The 2xx never ACKed (RFC 3261 13.3.1.4): every copy of the 200 and the callee's BYE.
    path = SAMPLES / "calls" / "no-ack-32s.pcap"
    rows = sip_rows(path)
    oks = [r for r in rows if r["label"] == "200 OK" and r["sip.CSeq.method"] == "INVITE"]
    bye = [r for r in rows if r["sip.Method"] == "BYE"]
    value = doc(path)
    [finding] = value["findings"]
    assert finding["rule"] == "D104"
    check_finding(finding, path, [*oks, *bye])
    assert {k: v for k, v in finding["values"].items() if k.startswith("ok.")} == {
        "ok.frame": oks[0]["frame.number"], "ok.sender": oks[0]["src"],
        "ok.receiver": oks[0]["dst"], "ok.copies": str(len(oks)),
        "ok.span": f"{float(oks[-1]['frame.time_epoch']) - float(oks[0]['frame.time_epoch']):.3f}"}
    assert finding["see_also"] == []
    assert [c["findings"] for c in value["calls"]] == [["D104"]]
    # A BYE whose Reason header gives a Q.850 cause (RFC 3326): the cause is named in see_also.
    path = SAMPLES / "rules" / "bye-reason-q850.pcap"
    rows = sip_rows(path)
    [bye] = [r for r in rows if r["sip.Method"] == "BYE"]
    reason = header(bye["raw"], "Reason")
    cause = int(re.search(r"cause=(\d+)", reason)[1])  # type: ignore[index]
    [finding] = [f for f in doc(path)["findings"] if f["rule"] == "I101"]
    check_finding(finding, path, [bye])
    assert finding["see_also"] == [{"kind": "q850", "code": cause}]
    assert (finding["values"]["cause"], finding["values"]["sender"]) == (str(cause), bye["src"])
    # Exchanges: the OPTIONS never answered (RFC 3261 timer F) have a finding each, the
    # answered ones none.
    path = SAMPLES / "calls" / "options-keepalive.pcap"
    value = doc(path)
    by_call = Counter(f["call_id"] for f in value["findings"])
    assert [len(e["findings"]) for e in value["exchanges"]] == [
        by_call[e["call_id"]] for e in value["exchanges"]]
    assert [bool(e["findings"]) for e in value["exchanges"]] == [
        e["final_status"] is None for e in value["exchanges"]]
    assert [e["findings"] for e in value["exchanges"]] == [
        [f["rule"] for f in value["findings"] if f["call_id"] == e["call_id"]]
        for e in value["exchanges"]]



# --- media, against truth.json and tshark --------------------------------------------------------


def streams_of(value: Doc) -> list[tuple[str | None, dict[str, Any]]]:
    """(Call-ID or None, stream) of every stream of the document, in order of first frame."""
    found = [(c["call_id"], s) for c in value["calls"] if c["media"]
             for s in c["media"]["streams"]]
    found += [(None, s) for s in value["media"]["unattributed"]]
    return sorted(found, key=lambda item: item[1]["first_frame"])


def relayed(truth: dict[str, Any], item: dict[str, Any]) -> dict[str, Any] | None:
    """The stream a relay forwarded as ``item`` (it keeps the SSRC), if ``item`` is relayed."""
    if item["sender"] != "relay":
        return None
    return next(s for s in truth["rtp_streams"] if s["ssrc"] == item["ssrc"] and s is not item)


@pins("calls[].media", "calls[].media.state", "calls[].media.silent_side",
      "calls[].media.streams", "calls[].media.streams[].from", "calls[].media.streams[].to",
      "calls[].media.streams[].ssrc", "calls[].media.streams[].payload_type",
      "calls[].media.streams[].codec", "calls[].media.streams[].payload_types",
      "calls[].media.streams[].payload_types[].payload_type",
      "calls[].media.streams[].payload_types[].packets", "calls[].media.streams[].packets",
      "calls[].media.streams[].expected", "calls[].media.streams[].lost",
      "calls[].media.streams[].loss_percent", "calls[].media.streams[].duplicates",
      "calls[].media.streams[].out_of_order", "calls[].media.streams[].encrypted",
      "calls[].media.streams[].first_frame", "calls[].media.streams[].last_frame",
      "calls[].media.streams[].first_time", "calls[].media.streams[].last_time",
      "calls[].media.streams[].sender", "calls[].media.streams[].hop",
      "calls[].media.streams[].tie", "calls[].media.streams[].from_elsewhere",
      "calls[].media.streams[].upstream_loss_percent", "calls[].media.streams[].kind",
      "summary.media", "summary.media.streams", "summary.media.rtp_packets",
      "summary.media.call_states")
@pytest.mark.parametrize("name", sorted(TRUTH))
def test_media_streams_against_truth(name: str) -> None:
    path, truth = MEDIA / name, TRUTH[name]
    value = doc(path)
    times = frame_times(path)
    states: Counter[str] = Counter()
    for call, expected in zip(value["calls"], truth["calls"], strict=True):
        assert call["call_id"] == expected["call_id"]
        state, silent = expected["media_state"], expected["not_heard"]
        unheard = [side for side, heard in expected["audio_heard"].items() if heard is False]
        if state == "two_way" and len(unheard) == 1:  # packets both ways, one side inaudible
            state, silent = "one_way", unheard[0]
        assert (call["media"]["state"], call["media"]["silent_side"]) == (state, silent)
        states[state] += 1
    found = streams_of(value)
    assert len(found) == len(truth["rtp_streams"])
    for (call_id, stream), expected in zip(found, truth["rtp_streams"], strict=True):
        origin = relayed(truth, expected)
        tie = ("to_announced" if expected["dst_in_sdp"] else
               "from_announced" if expected["src_in_sdp"] else "heuristic")
        assert call_id == expected["call_id"]
        assert {k: stream[k] for k in (
            "from", "to", "ssrc", "payload_type", "codec", "packets", "expected", "lost",
            "loss_percent", "duplicates", "out_of_order", "encrypted", "first_frame",
            "last_frame", "first_time", "last_time", "sender", "hop", "tie", "from_elsewhere",
            "upstream_loss_percent", "kind")} == {
            "from": expected["src"], "to": expected["dst"], "ssrc": expected["ssrc"],
            "payload_type": expected["payload_type"],
            "codec": f"{expected['codec']}/{expected['clock_rate']}",
            "packets": expected["packets"], "expected": expected["expected"],
            "lost": expected["lost"],
            "loss_percent": round(100 * expected["lost"] / expected["expected"], 3),
            "duplicates": expected["duplicates"], "out_of_order": expected["out_of_order"],
            "encrypted": expected["srtp"], "first_frame": expected["first_frame"],
            "last_frame": expected["last_frame"],
            "first_time": seconds(times[expected["first_frame"]]),
            "last_time": seconds(times[expected["last_frame"]]),
            "sender": origin["sender"] if origin else expected["sender"],
            # the relay's far leg (to and from bob) is the second hop of the call
            "hop": 2 if name == "two-hops-relay.pcap" and "198.51.100.20:3456" in (
                expected["src"], expected["dst"]) else 1,
            "tie": tie, "from_elsewhere": not expected["src_in_sdp"],
            "upstream_loss_percent": None if origin is None else round(
                100 * origin["lost"] / origin["expected"], 3),
            "kind": "audio",
        }
        assert {str(p["payload_type"]): p["packets"] for p in stream["payload_types"]} == (
            expected["payload_types"])
        assert [p["payload_type"] for p in stream["payload_types"]] == sorted(
            int(k) for k in expected["payload_types"])
    assert value["summary"]["media"] == {
        "streams": len(truth["rtp_streams"]),
        "rtp_packets": sum(s["packets"] for s in truth["rtp_streams"]),
        "unattributed_streams": 0, "call_states": dict(states)}


RTP_FIELDS = ("frame.number", "frame.time_epoch", "ip.src", "udp.srcport", "rtp.ssrc",
              "rtp.seq", "rtp.timestamp", "rtp.marker", "rtp.p_type", "rtp.payload")


@cache
def rtp_view(path: Path) -> tuple[list[dict[str, str]], dict[str, list[float]]]:
    """tshark's RTP packets (heuristic RTP on, ICMP quotes left out), and per SSRC its
    [max delta, mean jitter, max jitter] in ms from ``-z rtp,streams`` (one run for both)."""
    command = ["tshark", "-n", "-o", "rtp.heuristic_rtp:TRUE", "-r", str(path), "-T", "fields",
               "-E", "separator=\t", "-E", "occurrence=f", "-Y", "rtp && !icmp",
               "-z", "rtp,streams"]
    for name in RTP_FIELDS:
        command += ["-e", name]
    out = subprocess.run(command, capture_output=True, text=True, check=False).stdout
    lines = out.splitlines()
    cut = next(i for i, line in enumerate(lines) if "RTP Streams" in line)
    rows = [dict(zip(RTP_FIELDS, line.split("\t"), strict=True)) for line in lines[:cut]]
    found = {}
    for line in lines[cut:]:
        parts = line.split()
        ssrcs = [p for p in parts if p.startswith("0x")]
        if ssrcs:
            numbers = [p for p in parts if re.fullmatch(r"-?\d+\.\d+", p)]
            found[ssrcs[0]] = [float(numbers[-4]), float(numbers[-2]), float(numbers[-1])]
    return rows, found


def rfc3550_jitter(rows: list[dict[str, str]], rate: int = 8000) -> list[float]:
    """The interarrival jitter (RFC 3550 A.8) after each packet, in ms."""
    jitter, previous, found = 0.0, None, []
    for row in rows:
        arrival, stamp = float(row["frame.time_epoch"]), int(row["rtp.timestamp"])
        if previous is not None:
            transit = (arrival - previous[0]) * 1000 - (stamp - previous[1]) * 1000 / rate
            jitter += (abs(transit) - jitter) / 16
        previous = (arrival, stamp)
        found.append(jitter)
    return found


def of_stream(rows: list[dict[str, str]], stream: dict[str, Any]) -> list[dict[str, str]]:
    return [r for r in rows if f"{r['ip.src']}:{r['udp.srcport']}" == stream["from"]
            and int(r["rtp.ssrc"], 16) == int(stream["ssrc"], 16)]


@pins("calls[].media.streams[].jitter_ms_mean", "calls[].media.streams[].jitter_ms_max",
      "calls[].media.streams[].max_delta_ms", "calls[].media.streams[].longest_outage",
      "calls[].media.streams[].longest_outage.seconds",
      "calls[].media.streams[].longest_outage.lost",
      "calls[].media.streams[].longest_outage.frame", "calls[].media.streams[].markers",
      "calls[].media.streams[].comfort_noise", "calls[].media.streams[].silent_packets",
      "calls[].media.streams[].event_packets", "calls[].media.streams[].timeline",
      "calls[].media.streams[].timeline.packets", "calls[].media.streams[].timeline.lost",
      "calls[].media.streams[].timeline.jitter_ms")
@pytest.mark.parametrize("name", ["jitter.pcap", "audio-gap.pcap", "silence-only.pcap",
                                  "comfort-noise-only.pcap", "dtmf-rfc4733.pcap"])
def test_stream_figures_against_tshark(name: str) -> None:
    path = MEDIA / name
    rows, wireshark = rtp_view(path)
    for _, stream in streams_of(doc(path)):
        mine = of_stream(rows, stream)
        events = [r for r in mine if r["rtp.p_type"] == "101"]  # RFC 4733 (a=rtpmap:101)
        if not events and stream["codec"] != "CN/8000":  # Wireshark counts events in
            delta, mean, most = wireshark[stream["ssrc"]]
            assert stream["max_delta_ms"] == pytest.approx(delta, abs=0.0006)
            assert stream["jitter_ms_mean"] == pytest.approx(mean, abs=0.0006)
            assert stream["jitter_ms_max"] == pytest.approx(most, abs=0.0006)
        assert stream["markers"] == sum(r["rtp.marker"] in ("1", "True") for r in mine)
        assert stream["event_packets"] == len(events)
        assert stream["comfort_noise"] == sum(r["rtp.p_type"] == "13" for r in mine)  # RFC 3389
        silent = {"0": {"ff", "7f"}, "8": {"d5", "55"}}  # G.711 zero codes, u-law and A-law
        assert stream["silent_packets"] == (None if stream["codec"] == "CN/8000" else sum(
            r["rtp.p_type"] in silent and {r["rtp.payload"][i:i + 2] for i in range(
                0, len(r["rtp.payload"]), 3)} <= silent[r["rtp.p_type"]] for r in mine))
        # the longest gap in the sequence numbers: from the packet before it to the one after
        ordered = sorted({int(r["rtp.seq"]) + (65536 if int(r["rtp.seq"]) < 1000 and int(
            mine[0]["rtp.seq"]) > 60000 else 0): r for r in mine}.items())
        gaps = [(b[0] - a[0] - 1, a[1], b[1]) for a, b in itertools.pairwise(ordered)]
        lost, before, after = max(gaps, key=lambda g: g[0], default=(0, None, None))
        if lost <= 0 or before is None or after is None:
            assert stream["longest_outage"] is None
        else:
            assert stream["longest_outage"] == {
                "seconds": round(float(after["frame.time_epoch"]) - float(
                    before["frame.time_epoch"]), 6),
                "lost": lost, "frame": int(after["frame.number"])}
        # per second from the first packet: packets, and the largest RFC 3550 jitter
        start = float(mine[0]["frame.time_epoch"])
        second = [int(float(r["frame.time_epoch"]) - start) for r in mine]
        timeline = stream["timeline"]
        assert timeline["packets"] == [second.count(i) for i in range(second[-1] + 1)]
        # each lost packet in the second it was due (sent at a steady pace across the gap)
        due = [int(float(a["frame.time_epoch"]) + k * (float(b["frame.time_epoch"]) - float(
            a["frame.time_epoch"])) / (n + 1) - start) for n, a, b in gaps for k in range(
            1, n + 1)]
        lost = list(timeline["lost"])
        while lost and not lost[-1]:
            lost.pop()  # a packet counted lost that came late is taken back: zeros remain
        assert lost == [due.count(i) for i in range(max(due, default=-1) + 1)]
        if not events and stream["codec"] != "CN/8000" and "reorder" not in name:
            jitter = rfc3550_jitter(mine)
            paired = list(zip(jitter, second, strict=True))
            assert timeline["jitter_ms"] == pytest.approx(
                [max((j for j, s in paired if s == i), default=0.0)
                 for i in range(second[-1] + 1)], abs=0.001)
    assert [s["timeline"] for c in doc(path, Ladders.NONE)["calls"]
            for s in c["media"]["streams"]] == [None] * len(streams_of(doc(path)))



CAUSES = {
    # (file, silent side): why, as each file's description in truth.json tells it
    ("one-way-callee-silent.pcap", "callee"): "nothing_sent",
    ("silence-only.pcap", "callee"): "only_silence",
    ("comfort-noise-only.pcap", "callee"): "only_comfort_noise",
    ("unexpected-payload-type.pcap", "callee"): "unnegotiated_payload",
    ("rtp-wrong-port.pcap", "caller"): "wrong_destination",
    ("icmp-unreachable.pcap", "caller"): "unreachable",
    ("one-way-nat-private-sdp.pcap", "caller"): "private_address",
}
DESTINATIONS = {
    ("one-way-nat-private-sdp.pcap", "caller"): "private",  # to bob's private SDP address
    ("rtp-wrong-port.pcap", "caller"): "elsewhere",  # to bob's SDP port + 2
    ("nat-latching-ok.pcap", "callee"): "latched",  # to where alice's RTP comes from
}
DIRECTION_FILES = ["two-way-g711.pcap", "one-way-callee-silent.pcap", "silence-only.pcap",
                   "comfort-noise-only.pcap", "dtmf-rfc4733.pcap", "rtp-wrong-port.pcap",
                   "icmp-unreachable.pcap", "one-way-nat-private-sdp.pcap",
                   "unexpected-payload-type.pcap", "nat-latching-ok.pcap", "ssrc-change.pcap",
                   "ssrc-change-reinvite.pcap", "capture-dropped.pcap"]


@pins("calls[].media.answered", "calls[].media.acked", "calls[].media.stopped_before_end",
      "calls[].media.rtcp_packets", "calls[].media.directions",
      "calls[].media.directions[].sender", "calls[].media.directions[].expected_seconds",
      "calls[].media.directions[].packets", "calls[].media.directions[].audio_packets",
      "calls[].media.directions[].silent_percent", "calls[].media.directions[].silent",
      "calls[].media.directions[].cause", "calls[].media.directions[].start_after_answer",
      "calls[].media.directions[].start_after_ack",
      "calls[].media.directions[].stop_before_end",
      "calls[].media.directions[].on_hold_at_end", "calls[].media.directions[].announced",
      "calls[].media.directions[].announced_frame", "calls[].media.directions[].sent_to",
      "calls[].media.streams[].announced_frame", "calls[].media.streams[].destination",
      "calls[].media.streams[].unexpected_payload_types",
      "calls[].media.streams[].follows_ssrc", "calls[].media.streams[].capture_dropped",
      "calls[].media.streams[].icmp_unreachable", "calls[].media.dtmf",
      "calls[].media.dtmf[].side", "calls[].media.dtmf[].event", "calls[].media.dtmf[].frame",
      "calls[].media.dtmf[].time", "calls[].media.dtmf[].duration_ms")
@pytest.mark.parametrize("name", DIRECTION_FILES)
def test_media_directions_against_truth(name: str) -> None:
    path, truth = MEDIA / name, TRUTH[name]
    [call] = doc(path)["calls"]
    media, [expected] = call["media"], truth["calls"]
    times = {n: float(t) for n, t in frame_times(path).items()}
    sip = {r["sip.Call-ID"] and int(r["frame.number"]): r for r in sip_rows(path)}
    answer, bye = expected["answer_frame"], expected["bye_frame"]
    ack = min(n for n, r in sip.items() if r["sip.Method"] == "ACK")
    assert media["answered"] == iso(sip[answer]["frame.time_epoch"])
    assert media["acked"] == iso(sip[ack]["frame.time_epoch"])
    assert media["rtcp_packets"] == len(truth.get("rtcp", []))
    offer = sip[min(sip)]
    formats = {f for r in sip.values() for m in re.findall(r"m=audio \d+ \S+ ([\d ]+)", r["raw"])
               for f in m.split()}
    addresses = {"caller": expected["sdp_media_addresses"][1],  # where each side must send:
                 "callee": expected["sdp_media_addresses"][0]}  # the other side's SDP
    streams = truth["rtp_streams"]
    directions = []
    for side in ("caller", "callee"):
        mine = [s for s in streams if s["sender"] == side]
        events = sum(d["packets"] for s in mine for d in s.get("dtmf", []))
        noise = sum(s["payload_types"].get("13", 0) for s in mine)  # RFC 3389 comfort noise
        packets = sum(s["packets"] for s in mine)
        audio = packets - events - noise
        g711 = all(s["codec"] in ("PCMU", "PCMA") for s in mine)
        silent_packets = sum(s["packets"] for s in mine if s["codec"] == "PCMU") if (
            name == "silence-only.pcap" and side == "callee") else 0
        heard = expected["audio_heard"][side]
        # a side nobody can hear never started its audio
        start = times[mine[0]["first_frame"]] if mine and heard else None
        stop = times[max(s["last_frame"] for s in mine)] if mine and heard else None
        directions.append({
            "sender": side,
            "expected_seconds": round(times[bye] - times[answer], 6),
            "packets": packets, "audio_packets": audio,
            "silent_percent": round(100 * silent_packets / audio, 6) if audio and g711 else None,
            "silent": None if heard is None else not heard,
            "cause": CAUSES.get((name, side)),
            "start_after_answer": None if start is None else round(start - times[answer], 6),
            "start_after_ack": None if start is None else round(start - times[ack], 6),
            "stop_before_end": None if stop is None else round(times[bye] - stop, 6),
            "on_hold_at_end": False,  # every call here ends off hold
            "announced": addresses[side],
            "announced_frame": max(n for n, r in sip.items() if r["src"] == (
                sip[answer]["src"] if side == "caller" else offer["src"]) and "application/sdp"
                in header(r["raw"], "Content-Type")),  # the other side's latest SDP
            "sent_to": mine[0]["dst"] if mine else None,
        })
    assert media["directions"] == directions
    last = max((s["last_frame"] for s in streams), default=None)  # the last RTP of the call
    assert media["stopped_before_end"] == (None if last is None else round(
        times[bye] - times[last], 6))
    icmp = truth["other_packets"].get("icmp", {}).get("packets", 0)
    found = sorted(media["streams"], key=lambda s: s["first_frame"])
    for index, (stream, item) in enumerate(zip(found, streams, strict=True)):
        earlier = [s for s in streams[:index] if (s["src"], s["dst"]) == (item["src"],
                                                                          item["dst"])]
        renegotiated = earlier and any(
            r["sip.Method"] == "INVITE" and earlier[-1]["last_frame"] < n < item["first_frame"]
            for n, r in sip.items())
        assert {k: stream[k] for k in ("announced_frame", "destination",
                                       "unexpected_payload_types", "follows_ssrc",
                                       "capture_dropped", "icmp_unreachable")} == {
            # the SDP that announced where it goes, else the one that announced where it
            # comes from (the answer is the callee's, the offer the caller's)
            "announced_frame": max(n for n, r in sip.items() if n < item["first_frame"] and (
                r["src"] == (sip[answer]["src"] if (item["sender"] == "caller") == item[
                    "dst_in_sdp"] else offer["src"])) and "application/sdp" in header(
                    r["raw"], "Content-Type")),
            "destination": DESTINATIONS.get((name, item["sender"]), "announced"),
            "unexpected_payload_types": sorted(
                int(p) for p in item["payload_types"] if p not in formats),
            "follows_ssrc": earlier[-1]["ssrc"] if earlier and not renegotiated else None,
            "capture_dropped": item["lost"] if name == "capture-dropped.pcap" else 0,
            "icmp_unreachable": icmp if item["sender"] == "caller" else 0,  # alice's RTP
        }
    assert media["dtmf"] == [
        {"side": s["sender"], "event": d["digit"], "frame": d["start_frame"],
         "time": round(times[d["start_frame"]], 6), "duration_ms": d["duration_ms"]}
        for s in streams for d in s.get("dtmf", [])]



@pins("calls[].media.streams[].remote", "calls[].media.streams[].remote.reports",
      "calls[].media.streams[].remote.fraction_lost_max_percent",
      "calls[].media.streams[].remote.cumulative_lost",
      "calls[].media.streams[].remote.round_trip_ms", "calls[].media.streams[].remote.mos_lq",
      "calls[].media.streams[].remote.r_factor", "calls[].media.streams[].mos",
      "calls[].media.streams[].r_factor", "calls[].media.streams[].mos_delay_ms")
def test_rtcp_and_quality_against_truth() -> None:
    for name in ("two-way-g711.pcap", "rtcp-xr-voip-metrics.pcap", "rtcp-remote-loss.pcap"):
        truth = TRUTH[name]
        for stream in doc(MEDIA / name)["calls"][0]["media"]["streams"]:
            blocks = [b for r in truth["rtcp"] for b in r["report_blocks"]
                      if b["source_ssrc"] == stream["ssrc"]]
            xr = [r["xr_voip_metrics"] for r in truth["rtcp"] if "xr_voip_metrics" in r
                  and r["xr_voip_metrics"]["source_ssrc"] == stream["ssrc"]]
            remote = stream["remote"]
            assert remote["reports"] == len(blocks)
            assert remote["fraction_lost_max_percent"] == round(
                100 * max(b["fraction_lost"] for b in blocks) / 256, 3)  # RFC 3550 6.4.1
            assert remote["cumulative_lost"] == blocks[-1]["cumulative_lost"]
            assert remote["mos_lq"] == (xr[-1]["mos_lq_value"] if xr else None)  # RFC 3611
            assert remote["r_factor"] == (xr[-1]["r_factor"] if xr else None)
            if stream["sender"] == "caller":  # bob's reports reach alice, at the capture
                assert remote["round_trip_ms"] == pytest.approx(blocks[-1]["rtt_ms"], abs=0.01)
    assert doc(MEDIA / "dtmf-rfc4733.pcap")["calls"][0]["media"]["streams"][1]["remote"] is None
    # ITU-T G.107: MOS from R (Annex B); G.711 with PLC under random loss, G.113 Appendix I:
    # Ie = 0, Bpl = 25.1, so Ie,eff = 95 Ppl / (Ppl + 25.1); the delay lowers R.
    relay = {s["first_frame"]: s for s in doc(MEDIA / "two-hops-relay.pcap")["calls"][0][
        "media"]["streams"]}
    for stream in relay.values():
        r = stream["r_factor"]
        assert stream["mos"] == pytest.approx(
            1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6, abs=1e-5)
    clean, lossy = relay[11], relay[12]
    loss = lossy["loss_percent"]
    assert lossy["mos_delay_ms"] == clean["mos_delay_ms"]
    assert lossy["r_factor"] == pytest.approx(clean["r_factor"] - 95 * loss / (loss + 25.1),
                                              abs=1e-4)
    assert clean["r_factor"] < 93.2  # G.107 default R with no delay and no loss: 93.2
    near = doc(MEDIA / "dtmf-rfc4733.pcap")["calls"][0]["media"]["streams"][1]
    far = doc(MEDIA / "two-way-g711.pcap")["calls"][0]["media"]["streams"][0]
    rtt = TRUTH["two-way-g711.pcap"]["rtcp"][1]["report_blocks"][0]["rtt_ms"]
    assert far["mos_delay_ms"] - near["mos_delay_ms"] == pytest.approx(rtt / 2, abs=0.05)
    assert far["r_factor"] < near["r_factor"]


@pytest.fixture(scope="module")
def rtp_call(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """An answered call with RTP both ways; in alice's: one stray packet numbered far away
    (RFC 3550 A.1), a STUN-like and a DTLS-like packet (RFC 7983: first byte 0, 22) and one
    too short for an RTP header; besides, RTP between two hosts of no call, with one packet
    lost and one seen twice."""
    capture = Capture()
    dialog(capture, "media@x", CALLER, CALLEE, 0.0)
    alice, bob = (CALLER[0], 4000), (CALLEE[0], 5000)  # as the SDP of dialog() says
    for i in range(50):
        at = 1.1 + 0.02 * i
        capture.send(at, alice, bob, rtp(1000 + i, 160 * i, 0xA11CE, marker=i == 0), f"a{i}")
        capture.send(at + 0.005, bob, alice, rtp(2000 + i, 160 * i, 0xB0B, marker=i == 0))
        if i != 10:
            packet = rtp(3000 + i, 160 * i, 0xCAFE, marker=i == 0)
            capture.send(at + 0.007, ("203.0.113.5", 7000), ("203.0.113.6", 7002), packet,
                         f"x{i}")
            if i == 20:
                capture.send(at + 0.008, ("203.0.113.5", 7000), ("203.0.113.6", 7002),
                             packet, "x-dup")
    capture.send(1.111, alice, bob, rtp(31000, 0, 0xA11CE), "stray")
    capture.send(1.112, alice, bob, b"\x00\x01\x00\x00" + bytes(16), "stun")
    capture.send(1.1125, alice, bob, b"\x16\xfe\xfd" + bytes(20), "dtls")
    capture.send(1.113, alice, bob, b"\x80\x00\x00\x01" + bytes(6), "short")
    bye(capture, "media@x", CALLER, CALLEE, 2.5)
    return capture.write(tmp_path_factory.mktemp("rtp") / "rtp.pcap")


@pins("calls[].media.other_packets", "calls[].media.malformed_packets",
      "calls[].media.streams[].sequence_errors", "media", "media.unattributed",
      "media.unattributed[].from", "media.unattributed[].to", "media.unattributed[].ssrc",
      "media.unattributed[].payload_type", "media.unattributed[].codec",
      "media.unattributed[].payload_types", "media.unattributed[].payload_types[].payload_type",
      "media.unattributed[].payload_types[].packets", "media.unattributed[].packets",
      "media.unattributed[].expected", "media.unattributed[].lost",
      "media.unattributed[].loss_percent", "media.unattributed[].duplicates",
      "media.unattributed[].out_of_order", "media.unattributed[].sequence_errors",
      "media.unattributed[].jitter_ms_mean", "media.unattributed[].jitter_ms_max",
      "media.unattributed[].max_delta_ms", "media.unattributed[].longest_outage",
      "media.unattributed[].longest_outage.seconds", "media.unattributed[].longest_outage.lost",
      "media.unattributed[].longest_outage.frame", "media.unattributed[].markers",
      "media.unattributed[].comfort_noise", "media.unattributed[].silent_packets",
      "media.unattributed[].event_packets", "media.unattributed[].encrypted",
      "media.unattributed[].first_frame", "media.unattributed[].last_frame",
      "media.unattributed[].first_time", "media.unattributed[].last_time",
      "media.unattributed[].timeline", "media.unattributed[].timeline.packets",
      "media.unattributed[].timeline.lost", "media.unattributed[].timeline.jitter_ms",
      "media.unattributed[].tie", "summary.media.unattributed_streams")
def test_broken_stray_and_unattributed_rtp(rtp_call: Built) -> None:
    value = doc(rtp_call.path)
    [call] = value["calls"]
    media = call["media"]
    assert (media["other_packets"], media["malformed_packets"]) == (2, 1)
    streams = {s["ssrc"]: s for s in media["streams"]}
    assert (streams["0x000A11CE"]["sequence_errors"], streams["0x00000B0B"][
        "sequence_errors"]) == (1, 0)
    frames = f = rtp_call.frames
    first = (rtp_call.at("x0") - T0) / 1e9
    last = (rtp_call.at("x49") - T0) / 1e9
    [unattributed] = value["media"]["unattributed"]
    _, mean, most = rtp_view(rtp_call.path)[1]["0x0000CAFE"]  # the duplicate jitters
    assert unattributed["jitter_ms_mean"] == pytest.approx(mean, abs=0.0006)
    assert unattributed["jitter_ms_max"] == pytest.approx(most, abs=0.0006)
    assert unattributed["timeline"]["jitter_ms"] == [round(most, 3)]
    assert value["media"]["unattributed"] == [{
        "from": "203.0.113.5:7000", "to": "203.0.113.6:7002", "ssrc": "0x0000CAFE",
        "payload_type": 0, "codec": "PCMU/8000",  # RFC 3551: static payload type 0
        "payload_types": [{"payload_type": 0, "packets": 50}], "packets": 50,
        "expected": 50, "lost": 1, "loss_percent": 2.0, "duplicates": 1, "out_of_order": 0,
        "sequence_errors": 0, "jitter_ms_mean": unattributed["jitter_ms_mean"],
        "jitter_ms_max": unattributed["jitter_ms_max"],
        "max_delta_ms": 40.0,  # the gap of the lost packet
        "longest_outage": {"seconds": 0.04, "lost": 1, "frame": f["x11"]},
        "markers": 1, "comfort_noise": 0, "silent_packets": 0, "event_packets": 0,
        "encrypted": False, "first_frame": frames["x0"], "last_frame": f["x49"],
        "first_time": round(first, 6), "last_time": round(last, 6),
        "timeline": {"packets": [50], "lost": [1],
                     "jitter_ms": unattributed["timeline"]["jitter_ms"]},
        "tie": "heuristic",
    }]
    assert value["summary"]["media"]["unattributed_streams"] == 1


def test_every_field_of_the_schema_has_a_test() -> None:
    fields = list(schema_fields())
    assert len(fields) > 250  # the walk reached every definition
    assert [f for f in fields if f not in FIELDS] == []
    assert sorted(set(FIELDS) - set(fields)) == []  # no stale names in the table
    tests = {name for name, value in globals().items() if name.startswith("test_")
             and callable(value)}
    assert set(FIELDS.values()) <= tests


def test_agents_name_each_side_against_tshark() -> None:
    """baresip calls SIPp through kamailio: the INVITE's User-Agent is baresip's; the answers
    kamailio relays from SIPp carry SIPp's User-Agent, and kamailio's own 100 its Server."""
    path = SAMPLES / "calls" / "baresip-call.pcap"
    rows = sip_rows(path)
    first = next(r for r in rows if r["sip.Method"] == "INVITE")
    answers = [r["sip.Server"] or r["sip.User-Agent"] for r in rows
               if r["sip.CSeq.method"] == "INVITE" and status(r) and r["src"] != first["src"]]
    [call] = doc(path)["calls"]
    assert call["agents"] == {"caller": first["sip.User-Agent"],
                              "callee": next(a for a in reversed(answers) if a)}
    assert call["agents"]["caller"].startswith("baresip")
    assert call["agents"]["callee"].startswith("SIPp")


# --- TLS sessions, against tshark ----------------------------------------------------------------

TLS_SAMPLES = SAMPLES / "tls"


def tls_expected(path: Path, keylog: Path) -> list[dict[str, object]]:
    """Each TLS connection as tshark reads it: the ClientHello's sender and SNI, the
    ServerHello's version (supported_versions for TLS 1.3, RFC 8446 4.2.1) and cipher, its
    first TLS frame, and the SIP messages tshark decrypts on it with the key log."""
    text = subprocess.run(["tshark", "-n", "-r", str(path), "-O", "tls,tcp", "-V", "-Y", "tls"],
                          capture_output=True, text=True, check=True).stdout
    sessions: dict[str, dict[str, object]] = {}
    for packet in text.split("\n\n"):
        frame = re.search(r"^Frame (\d+):", packet, re.M)
        stream = re.search(r"\[Stream index: (\d+)\]", packet)
        if not frame or not stream:
            continue
        entry = sessions.setdefault(stream.group(1), {"first_frame": int(frame.group(1))})
        if "Handshake Type: Client Hello" in packet:
            ports = re.search(r"Src Port: (\d+), Dst Port: (\d+)", packet)
            address = re.search(r"Internet Protocol Version (\d), Src: (\S+), Dst: (\S+)",
                                packet)
            assert ports and address
            ip = "{}" if address.group(1) == "4" else "[{}]"
            entry["client"] = f"{ip.format(address.group(2))}:{ports.group(1)}"
            entry["server"] = f"{ip.format(address.group(3))}:{ports.group(2)}"
            sni = re.search(r"Server Name: (\S+)", packet)
            entry["sni"] = sni.group(1) if sni else None
        if "Handshake Type: Server Hello" in packet:
            chosen = re.search(r"Supported Version: (TLS 1\.\d)", packet) or re.search(
                r"Handshake Protocol: Server Hello\n.*\n.*\n\s+Version: (TLS 1\.\d)", packet)
            cipher = re.search(r"Cipher Suite: (\S+) \(0x", packet)
            assert chosen and cipher
            entry["version"], entry["cipher"] = chosen.group(1), cipher.group(1)
    messages = Counter(row["tcp.stream"] for row in tshark_tls_sip(path, keylog))
    return [{**entry, "sip_messages": messages[stream]} for stream, entry in
            sorted(sessions.items(), key=lambda item: int(item[0]))]


def tshark_tls_sip(path: Path, keylog: Path) -> list[dict[str, str]]:
    command = ["tshark", "-n", "-r", str(path), "-o", f"tls.keylog_file:{keylog}", "-Y", "sip",
               "-T", "fields", "-E", "occurrence=a", "-e", "tcp.stream", "-e", "sip.Call-ID"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():  # a frame may complete several messages: one Call-ID each
        stream, call_ids = line.split("\t")
        rows += [{"tcp.stream": stream} for _ in call_ids.split(",")]
    return rows


def tls_doc(path: Path, keylog: Path | None) -> list[dict[str, object]]:
    from sipdiag.analysis import analyze
    from sipdiag.analysis.decryption import decrypt

    analysis = analyze(path, jobs=1, decryption=decrypt(path, keylog))
    return list(document(analysis)["capture"].get("tls_sessions", []))


@pins("capture.tls_sessions", "capture.tls_sessions[].client", "capture.tls_sessions[].server",
      "capture.tls_sessions[].first_frame", "capture.tls_sessions[].sni",
      "capture.tls_sessions[].version", "capture.tls_sessions[].cipher",
      "capture.tls_sessions[].transport", "capture.tls_sessions[].sip_messages",
      "capture.tls_sessions[].decryption")
@pytest.mark.parametrize(("name", "transport"), [
    ("tls12-calls", "TLS"), ("tls13-call", "TLS"), ("wss-call", "WSS")])
def test_tls_sessions(name: str, transport: str) -> None:
    path, keylog = TLS_SAMPLES / f"{name}.pcap", TLS_SAMPLES / f"{name}.keylog"
    expected = tls_expected(path, keylog)
    assert expected and all(e["sip_messages"] for e in expected)
    sessions = tls_doc(path, keylog)
    fields = ("client", "server", "first_frame", "sni", "version", "cipher", "sip_messages")
    assert [{f: s[f] for f in fields} for s in sessions] == expected
    assert {(s["transport"], s["decryption"]) for s in sessions} == {(transport, "decrypted")}
    if name != "wss-call":  # on port 8443: not a SIP port, so without keys it is not told
        without = tls_doc(path, None)
        assert [s["client"] for s in without] == [e["client"] for e in expected]
        assert {(s["decryption"], s["sip_messages"]) for s in without} == {("no_keys", 0)}
    foreign = TLS_SAMPLES / ("tls13-call.keylog" if name != "tls13-call" else "wss-call.keylog")
    assert {s["decryption"] for s in tls_doc(path, foreign)} <= {"no_key"}


# --- the per-source summary ----------------------------------------------------------------------

SOURCE_FIELDS = ("frame.number", "frame.time_epoch", "ip.src", "sip.Method", "sip.Status-Code",
                 "sip.Call-ID", "sip.CSeq.seq", "sip.CSeq.method", "sip.from.tag", "sip.to.tag",
                 "sip.to.user", "sip.r-uri.user", "sip.User-Agent")


def sources_expected(path: Path) -> dict[str, dict[str, Any]]:
    """Each source address as tshark reads the capture (one hop, no proxy): its requests by
    method (a retransmission is the same CSeq; ACK gets no answer and is not counted), the class
    of the first final response to each, the users of those outside a dialog (To of a REGISTER,
    else the Request-URI), its first and last request and its User-Agents."""
    rows = tshark(path, SOURCE_FIELDS, "sip")
    finals: dict[tuple[str, str, str], int] = {}
    for row in rows:
        status = int(row["sip.Status-Code"] or 0)
        key = (row["sip.Call-ID"], row["sip.CSeq.seq"], row["sip.CSeq.method"])
        if status >= 200:
            finals.setdefault(key, status)
    found: dict[str, dict[str, Any]] = {}
    seen: set[tuple[str, ...]] = set()
    for row in rows:
        method = row["sip.Method"]
        key = (row["sip.Call-ID"], row["sip.CSeq.seq"], method, row["sip.from.tag"])
        if not method or method == "ACK" or key in seen:
            continue
        seen.add(key)
        source = found.setdefault(row["ip.src"], {
            "address": row["ip.src"], "requests": Counter(), "statuses": Counter(),
            "users": set(), "first_frame": int(row["frame.number"]),
            "first_seen": iso(row["frame.time_epoch"]), "user_agents": []})
        source["requests"][method] += 1
        status = finals.get((row["sip.Call-ID"], row["sip.CSeq.seq"], method), 0)
        source["statuses"][f"{status // 100}xx" if status else "none"] += 1
        if not row["sip.to.tag"] and method != "CANCEL":
            source["users"].add(row["sip.to.user"] if method == "REGISTER"
                                else row["sip.r-uri.user"] or row["sip.to.user"])
        source["last_frame"], source["last_seen"] = (int(row["frame.number"]),
                                                     iso(row["frame.time_epoch"]))
        agent = row["sip.User-Agent"]
        if agent and agent not in source["user_agents"] and len(source["user_agents"]) < 5:
            source["user_agents"].append(agent)
    for source in found.values():
        source["request_count"] = sum(source["requests"].values())
        source["users"] = len(source["users"])
    return found


@pins("sources", "sources[].address", "sources[].requests", "sources[].request_count",
      "sources[].statuses", "sources[].users", "sources[].first_seen", "sources[].last_seen",
      "sources[].first_frame", "sources[].last_frame", "sources[].user_agents",
      "sources[].findings")
@pytest.mark.parametrize("name", ["toll-new-source", "credential-stuffing", "busy-registrar"])
def test_sources(name: str) -> None:
    path = SAMPLES / "security" / f"{name}.pcap"
    expected = sources_expected(path)
    assert expected
    sources = doc(path, Ladders.NONE)["sources"]
    fields = ("address", "requests", "request_count", "statuses", "users", "first_seen",
              "last_seen", "first_frame", "last_frame", "user_agents")
    assert [{f: s[f] for f in fields} for s in sources] == sorted(
        ({f: dict(e[f]) if isinstance(e[f], Counter) else e[f] for f in fields}
         for e in expected.values()),
        key=lambda e: (not _named(name, e["address"], path), -e["request_count"], e["address"]))
    # the rules that name a source: S106 on each call of the newcomer to 011... and +8816...,
    # S104 on the one source that tries eight accounts (the rule files' tests say how many)
    named = {s["address"]: s["findings"] for s in sources if s["findings"]}
    assert named == {a: _findings(name) for a in expected if _named(name, a, path)}


def _findings(name: str) -> list[str]:
    return {"toll-new-source": ["S106", "S106"], "credential-stuffing": ["S104", "S109"],
            "busy-registrar": []}[name]


def _named(name: str, address: str, path: Path) -> bool:
    """The source the sample's attack comes from, read with tshark: the one calling numbers
    dialled 011 or +881 (toll-new-source), the one sending credentials for more than one
    account (credential-stuffing)."""
    rows = [r for r in tshark(path, ("ip.src", "sip.Method", "sip.r-uri.user", "sip.auth.username"),
                             "sip.Method") if r["ip.src"] == address]
    if name == "toll-new-source":
        return any(r["sip.r-uri.user"].startswith(("011", "+881")) for r in rows)
    if name == "credential-stuffing":
        return len({r["sip.auth.username"] for r in rows if r["sip.auth.username"]}) > 1
    return False
