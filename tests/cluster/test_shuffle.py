"""The capture split by file (``sipdiag.analysis.shuffle``): each file read by one task, each
message analysed by the task of its Call-ID's share, with what one process finds.

The equality of whole analyses on every sample and public capture is in test_cluster.py; here,
what makes it hold: files grouped by time as the merge orders them, a group's messages sorted
by share and nothing lost, each file read once whatever the number of shares, and the blocks
of the capture (where TCP data held back messages, where media was shown) replayed as one
process met them, with blocks of a few frames so that every capture has many."""

from __future__ import annotations

import logging
import pickle
import struct
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from distributed import Client, LocalCluster

from sipdiag import capture as capture_layer
from sipdiag.analysis import analyze, cluster, shuffle
from sipdiag.analysis.cluster import analyze_on
from sipdiag.analysis.pipeline import Share
from sipdiag.analysis.reading import MessageReader
from sipdiag.capture import merge, replay
from sipdiag.dialogs.select import Ladders
from sipdiag.rules import load_engine
from tests.cluster.test_cluster import json_text, many_calls, rotated
from tests.conftest import SAMPLES, public_captures, sample_captures
from tests.media.rtp import rtp
from tests.packets import (
    SDP,
    ethernet,
    ipv4,
    pcap,
    sip_request,
    sip_response,
    tcp,
    udp4_frame,
)

ENGINE = load_engine()


@pytest.fixture(scope="module")
def threads() -> Iterator[Client]:
    """Workers in this process (threads): what a test changes here, they see."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                      dashboard_address=":0", silence_logs=logging.ERROR) as cluster, \
            Client(cluster) as client:
        yield client


def surveyed(name: str, frames: int, earliest: int | None, latest: int | None
             ) -> shuffle.Survey:
    return shuffle.Survey(name, name, "pcap", None, frames, earliest, latest)


def test_files_that_follow_one_another_are_groups_of_their_own() -> None:
    files = [surveyed("a", 10, 0, 100), surveyed("b", 5, 101, 200), surveyed("c", 7, 300, 400)]
    assert shuffle.plan_groups(files) == [shuffle.Group(("a",), 1), shuffle.Group(("b",), 11),
                                          shuffle.Group(("c",), 16)]


def test_files_given_out_of_time_order_are_numbered_in_time_order() -> None:
    files = [surveyed("late", 3, 500, 600), surveyed("early", 4, 0, 10)]
    assert shuffle.plan_groups(files) == [shuffle.Group(("early",), 1),
                                          shuffle.Group(("late",), 5)]


def test_files_whose_times_overlap_or_touch_are_read_together_in_the_order_given() -> None:
    # b's frames fall among a's, c begins at a's last time (the merge breaks that tie by file)
    files = [surveyed("a", 10, 0, 100), surveyed("b", 5, 50, 60), surveyed("c", 2, 100, 120),
             surveyed("d", 1, 121, 121)]
    assert shuffle.plan_groups(files) == [shuffle.Group(("a", "b", "c"), 1),
                                          shuffle.Group(("d",), 18)]


def test_a_file_inside_another_files_time_joins_it_however_the_files_are_named() -> None:
    files = [surveyed("long", 10, 0, 1000), surveyed("short", 2, 10, 20),
             surveyed("later", 1, 500, 500), surveyed("after", 1, 2000, 2000)]
    assert shuffle.plan_groups(files) == [shuffle.Group(("long", "short", "later"), 1),
                                          shuffle.Group(("after",), 14)]


def test_a_file_without_frames_is_read_with_the_first_group() -> None:
    files = [surveyed("a", 3, 10, 20), surveyed("empty", 0, None, None), surveyed("b", 2, 30, 40)]
    assert shuffle.plan_groups(files) == [shuffle.Group(("a", "empty"), 1),
                                          shuffle.Group(("b",), 4)]


def test_a_groups_messages_go_to_their_shares_whole_and_the_clock_to_all(tmp_path: Path) -> None:
    capture = many_calls(tmp_path / "calls.pcap", 60)
    shares = 3
    read = shuffle.read_group(shuffle.Group((str(capture),), 1), merged=False, shares=shares)
    pieces: list[shuffle.Piece] = [pickle.loads(packed) for packed in read[shuffle.Slot.PIECES:]]
    assert len(pieces) == shares
    everything = [message for batch in MessageReader(capture).batches() for message in batch]
    for index, piece in enumerate(pieces):
        assert piece.messages and all(Share(index, shares).owns(m.call_id)
                                      for m in piece.messages)
    got = sorted((m.frame, m.call_id) for piece in pieces for m in piece.messages)
    assert got == sorted((m.frame, m.call_id) for m in everything)  # each once, none lost
    clock: shuffle.Clock = read[shuffle.Slot.CLOCK]
    # the capture's messages come in time order, some at the same time: each of those later
    # than every one before moves the clock, of whatever share
    later = [m for index, m in enumerate(everything)
             if all(m.ts_ns > before.ts_ns for before in everything[:index])]
    assert len(later) < len(everything)
    assert list(clock.frames) == [m.frame for m in later]
    assert list(clock.times) == [m.ts_ns for m in later]
    # every message was shown to the media layer, named by where it went; no RTP
    observed = [args for _, happening, args in pickle.loads(read[shuffle.Slot.EVENTS])
                if happening is shuffle.Happening.OBSERVED]
    assert [pieces[share].messages[index].frame for share, index in observed] == [
        m.frame for m in everything]
    assert not read[shuffle.Slot.READ].media


def test_only_media_makes_a_capture_show_every_share_its_media_events() -> None:
    sip_only = shuffle.read_group(shuffle.Group((str(SAMPLES / "calls" / "bye-481.pcap"),), 1),
                                  merged=False, shares=2)
    with_rtp = shuffle.read_group(shuffle.Group((str(SAMPLES / "media" / "two-way-g711.pcap"),),
                                                1), merged=False, shares=2)
    assert not sip_only[shuffle.Slot.READ].media
    assert with_rtp[shuffle.Slot.READ].media
    kinds = Counter(event[1] for event in pickle.loads(with_rtp[shuffle.Slot.EVENTS]))
    assert kinds[shuffle.Happening.DATAGRAM] > 100 and kinds[shuffle.Happening.OBSERVED] > 0


def test_each_file_is_read_once_whatever_the_number_of_shares(
        threads: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = rotated(many_calls(tmp_path / "calls.pcap", 200), tmp_path, parts=4)
    opened: Counter[str] = Counter()
    real = shuffle.open_capture

    def counted(name: str, *args: object) -> object:
        opened[Path(name).name] += 1
        return real(name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(shuffle, "open_capture", counted)  # surveys
    monkeypatch.setattr(capture_layer, "open_capture", counted)  # merges
    run = analyze_on(threads, files, engine=ENGINE, ladders=Ladders.ALL, shares=5)
    # once to survey it (frames, times), once to read it
    assert opened == {Path(name).name: 2 for name in files}
    assert json_text(run.analysis) == json_text(analyze(files, engine=ENGINE,
                                                        ladders=Ladders.ALL, jobs=1))


CAPTURES = [*sample_captures(), *(c.path for c in public_captures())]


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_blocks_of_three_frames_are_replayed_as_one_process_reads_them(
        capture: Path, threads: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for module in (merge, replay, shuffle):  # a block every 3 frames, here and in the workers
        monkeypatch.setattr(module, "BATCH", 3)
    files = rotated(capture, tmp_path, parts=4)
    one = json_text(analyze(files, engine=ENGINE, ladders=Ladders.ALL, jobs=1))
    run = analyze_on(threads, files, engine=ENGINE, ladders=Ladders.ALL, shares=3)
    assert json_text(run.analysis) == one


def alternating(capture: Path, folder: Path) -> list[str]:
    """The capture's frames dealt alternately into two files (both span its whole time, as
    captures of one moment on two hosts do)."""
    data = capture.read_bytes()
    header, offset = data[:24], 24
    records: list[list[bytes]] = [[], []]
    endian = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
    while offset < len(data):
        length = struct.unpack_from(endian + "I", data, offset + 8)[0]
        records[len(records[0]) > len(records[1])].append(data[offset:offset + 16 + length])
        offset += 16 + length
    names = [folder / "host-a.pcap", folder / "host-b.pcap"]
    for name, kept in zip(names, records, strict=True):
        name.write_bytes(header + b"".join(kept))
    return [str(name) for name in names]


@pytest.mark.parametrize("capture", [SAMPLES / "calls" / "tcp-call.pcap",
                                     SAMPLES / "media" / "two-hops-relay.pcap"],
                         ids=lambda p: p.name)
def test_captures_of_one_moment_on_two_hosts_are_one_capture(
        capture: Path, threads: Client, tmp_path: Path) -> None:
    files = alternating(capture, tmp_path)
    done = subprocess.run(["capinfos", "-c", "-M", *files], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.count("Number of packets:") == 2
    one = json_text(analyze(files, engine=ENGINE, ladders=Ladders.ALL, jobs=1))
    run = analyze_on(threads, files, engine=ENGINE, ladders=Ladders.ALL, shares=2)
    assert json_text(run.analysis) == one


def proxy_between_tcp_and_udp(path: Path) -> Path:
    """A call through a proxy (192.0.2.1) from a TCP leg (192.0.2.10) to a UDP leg
    (198.51.100.20), the caller's BYE sent after a TCP segment that was never captured: TCP
    hands it on only when it gives up on the hole (``tcp.GAP_TIMEOUT_NS`` later), with its own
    frame, and one process holds back every later message until then so that calls are fed in
    frame order. Keep-alive OPTIONS of other Call-IDs go on meanwhile."""
    caller, proxy, callee = "192.0.2.10", "192.0.2.1", "198.51.100.20"

    def on_tcp(src: str, dst: str, seq: int, payload: bytes) -> bytes:
        ports = (5070, 5060) if src == caller else (5060, 5070)
        return ethernet(ipv4(src, dst, 6, tcp(*ports, seq, payload)))

    invite, ack = sip_request("INVITE", call_id="leg"), sip_request("ACK", call_id="leg")
    bye = sip_request("BYE", call_id="leg", cseq=2)
    lost = b"OPTIONS sip:x SIP/2.0\r\n"  # the segment the capture missed
    steps: list[tuple[float, bytes]] = [
        (0.00, on_tcp(caller, proxy, 1000, invite)),
        (0.01, udp4_frame(proxy, callee, invite)),
        (0.02, udp4_frame(callee, proxy, sip_response(100, "Trying", call_id="leg"))),
        (0.50, udp4_frame(callee, proxy, sip_response(180, "Ringing", call_id="leg"))),
        (1.00, udp4_frame(callee, proxy, sip_response(200, "OK", call_id="leg"))),
        (1.01, on_tcp(proxy, caller, 5000, sip_response(200, "OK", call_id="leg"))),
        (1.10, on_tcp(caller, proxy, 1000 + len(invite), ack)),
        (1.11, udp4_frame(proxy, callee, ack)),
        (5.00, on_tcp(caller, proxy, 1000 + len(invite) + len(ack) + len(lost), bye)),
        (5.01, udp4_frame(proxy, callee, bye)),
        (5.02, udp4_frame(callee, proxy, sip_response(200, "OK", call_id="leg", cseq=2,
                                                        method="BYE"))),
        (5.03, on_tcp(proxy, caller, 5000 + len(sip_response(200, "OK", call_id="leg")),
                      sip_response(200, "OK", call_id="leg", cseq=2, method="BYE"))),
    ]
    for index in range(40):  # every half second for 20 s: past the hole's timeout
        keepalive = sip_request("OPTIONS", call_id=f"ka-{index}")
        steps.append((5.5 + index / 2, udp4_frame(proxy, callee, keepalive)))
        steps.append((5.51 + index / 2, udp4_frame(callee, proxy, sip_response(
            200, "OK", call_id=f"ka-{index}", method="OPTIONS"))))
    start = 1_700_000_000_000_000_000
    path.write_bytes(pcap((start + round(at * 1e9), frame) for at, frame in sorted(steps)))
    return path


@pytest.mark.parametrize("batch", [3, 2048])
def test_messages_held_back_behind_a_tcp_hole_are_fed_as_one_process_feeds_them(
        batch: int, threads: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for module in (merge, replay, shuffle):
        monkeypatch.setattr(module, "BATCH", batch)
    files = rotated(proxy_between_tcp_and_udp(tmp_path / "proxy.pcap"), tmp_path, parts=3)
    one = json_text(analyze(files, engine=ENGINE, ladders=Ladders.ALL, jobs=1))
    assert '"tcp_gap"' in one
    run = analyze_on(threads, files, engine=ENGINE, ladders=Ladders.ALL, shares=2)
    assert json_text(run.analysis) == one


def callee_talks_on_after_bye(path: Path) -> Path:
    """A call whose callee goes on sending RTP for 40 s after the caller's BYE, while keep-alive
    OPTIONS of another Call-ID move the clock: the call is read (and its media claimed) once
    the clock passes its BYE by ``calls.LINGER_NS``; the packets after that are no longer its
    stream's. Where the capture is cut, a share must have been shown just the packets one
    process had been shown by then."""
    caller, callee = "192.0.2.10", "198.51.100.20"
    answer = SDP.replace("192.0.2.10", callee).replace("49170", "3456")

    def in_dialog(method: str, cseq: int) -> bytes:  # with the To tag the 200 OK gave
        return sip_request(method, call_id="talk", cseq=cseq).replace(
            b"To: Bob <sip:bob@example.com>", b"To: Bob <sip:bob@example.com>;tag=a6c85cf")

    steps: list[tuple[float, bytes]] = [
        (0.0, udp4_frame(caller, callee, sip_request("INVITE", call_id="talk", body=SDP))),
        (0.5, udp4_frame(callee, caller, sip_response(200, "OK", call_id="talk", body=answer))),
        (0.6, udp4_frame(caller, callee, in_dialog("ACK", 1))),
        (3.0, udp4_frame(caller, callee, in_dialog("BYE", 2))),
        (3.1, udp4_frame(callee, caller, sip_response(200, "OK", call_id="talk", cseq=2,
                                                      method="BYE"))),
    ]
    for index in range(int(2.4 / 0.02)):  # both ways from the answer to the BYE
        at = 0.6 + index * 0.02
        steps.append((at, udp4_frame(caller, callee, rtp(index, index * 160, 1), 49170, 3456)))
        steps.append((at + 0.001, udp4_frame(callee, caller, rtp(index, index * 160, 2),
                                             3456, 49170)))
    steps.extend((0.6 + index * 0.02 + 0.001, udp4_frame(  # the callee alone, every 100 ms
        callee, caller, rtp(index, index * 160, 2), 3456, 49170))
        for index in range(int(2.4 / 0.02), int(43 / 0.02), 5))
    for index in range(10):  # every 5 s
        options = sip_request("OPTIONS", call_id=f"ping-{index}")
        steps.append((5.0 + index * 5, udp4_frame(caller, "192.0.2.1", options)))
    start = 1_700_000_000_000_000_000
    path.write_bytes(pcap((start + round(at * 1e9), frame) for at, frame in sorted(steps)))
    return path


def test_a_shares_media_is_claimed_after_the_packets_one_process_had_read(
        threads: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for module in (merge, replay, shuffle):  # blocks shorter than the callee's last 40 s
        monkeypatch.setattr(module, "BATCH", 3)
    files = rotated(callee_talks_on_after_bye(tmp_path / "talk.pcap"), tmp_path, parts=3)
    one = analyze(files, engine=ENGINE, ladders=Ladders.ALL, jobs=1)
    [call] = list(one.calls)
    sent_by_callee = 120 + len(range(120, int(43 / 0.02), 5))
    streams = {s.stream.ssrc: s.stream for s in call.media.streams}
    assert 120 < streams[2].packets < sent_by_callee  # the stream ends with the claim
    run = analyze_on(threads, files, engine=ENGINE, ladders=Ladders.ALL, shares=2)
    assert json_text(run.analysis) == json_text(one)


def block_ends_of_one_process(files: list[str]) -> list[tuple[int, int | None]]:
    """Where one process reading the capture ends its blocks (after the last one, the end of
    the capture, comes one more batch: not a block)."""
    reader = MessageReader(files if len(files) > 1 else files[0])
    ends = [(reader.summary.frames, reader.summary.last_ts_ns) for _ in reader.batches()]
    return sorted(set(ends[:-1]))


@pytest.mark.parametrize(("batch", "parts"), [(7, 4), (16, 3), (2048, 5), (16, 1)])
def test_the_blocks_of_the_capture_are_those_one_process_reads(
        batch: int, parts: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for module in (merge, replay, shuffle):
        monkeypatch.setattr(module, "BATCH", batch)
    files = rotated(many_calls(tmp_path / "calls.pcap", 30), tmp_path, parts=parts)
    assert len(files) == parts
    groups = shuffle.plan_groups([shuffle.survey(name) for name in files])
    reads = [shuffle.read_group(group, len(files) > 1, 2)[shuffle.Slot.READ]
             for group in groups]
    assert shuffle.capture_ends(reads, len(files) > 1) == block_ends_of_one_process(files)


@pytest.fixture(scope="module")
def large_capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One file of some 4 MB (blocks of 1 MiB: ``source.BLOCK_SIZE``): 2,000 calls over UDP,
    a call whose media outlives it, a call with a TCP leg whose BYE comes after a hole, all at
    the same time."""
    folder = tmp_path_factory.mktemp("large")
    parts = [str(many_calls(folder / "calls.pcap", 2000)),
             str(callee_talks_on_after_bye(folder / "talk.pcap")),
             str(proxy_between_tcp_and_udp(folder / "proxy.pcap"))]
    merged = folder / "large.pcap"
    subprocess.run(["mergecap", "-F", "pcap", "-w", str(merged), *parts], check=True,
                   capture_output=True, timeout=60)
    assert merged.stat().st_size > 4 * 2**20
    return merged


def regions_of(client: Client, capture: Path, parts: int) -> list[shuffle.Group]:
    return cluster._groups(client, [shuffle.survey(str(capture))], parts)


def test_a_large_file_is_cut_into_regions_numbered_as_the_whole(
        threads: Client, large_capture: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster, "PARALLEL_MIN_BYTES", 2**20)
    groups = regions_of(threads, large_capture, 3)
    assert len(groups) == 3 and all(group.region is not None for group in groups)
    last_frames = []
    for group in groups:  # each region read, its frames numbered on from the one before
        reader = MessageReader(str(large_capture), region=group.region)
        list(reader)
        last_frames.append(reader.summary.frames)
    assert [group.first_frame for group in groups] == [1, *(n + 1 for n in last_frames[:-1])]
    done = subprocess.run(["capinfos", "-c", "-M", str(large_capture)], capture_output=True,
                          text=True, timeout=60, check=True)
    assert last_frames[-1] == int(done.stdout.split()[-1])
    monkeypatch.setattr(cluster, "PARALLEL_MIN_BYTES", large_capture.stat().st_size + 1)
    assert [group.region for group in regions_of(threads, large_capture, 3)] == [None]


def test_the_blocks_of_a_file_read_in_regions_are_those_one_process_reads(
        threads: Client, large_capture: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster, "PARALLEL_MIN_BYTES", 2**20)
    reads = [shuffle.read_group(group, False, 2)[shuffle.Slot.READ]
             for group in regions_of(threads, large_capture, 4)]
    expected = block_ends_of_one_process([str(large_capture)])
    assert len(expected) > 4
    assert shuffle.capture_ends(reads, merged=False) == expected


def test_a_large_file_cut_into_regions_gives_what_one_process_gives(
        threads: Client, large_capture: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster, "PARALLEL_MIN_BYTES", 2**20)
    one = json_text(analyze(str(large_capture), engine=ENGINE, ladders=Ladders.ALL, jobs=1))
    run = analyze_on(threads, [str(large_capture)], engine=ENGINE, ladders=Ladders.ALL,
                     shares=3)
    assert json_text(run.analysis) == one
