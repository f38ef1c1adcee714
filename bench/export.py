"""Export benchmark: ``sipdiag export`` against tshark and sngrep selecting the same calls.

On ``bench/out/sip-rtp-8k.pcap`` (bench/add_rtp.py: the calls of the first 8,000 SIP packets of
``sip-500k.pcap``, each with a G.711 stream both ways; about 137,000 packets, most RTP), built
if missing, and for the call in the middle of the capture:

a. ``sipdiag export FILE --call ID -o OUT.pcapng`` (SIP and media) against tshark as a user runs
   it: one pass to read the ports the call's SDP announced, one two-pass display filter
   ``sip.Call-ID == "ID" || (udp.port == P1 && udp.port == P2)`` writing a file; and sngrep's
   non-interactive save with the Call-ID as its match expression and ``-r`` (RTP);
b. the same with ``--sip-only``, against ``tshark -2 -Y 'sip.Call-ID == "ID"' -w`` and sngrep
   without ``-r``;
c. ``sipdiag export FILE --since +3.3 --until +3.0 --split DIR`` (the calls started by 3.0 s
   after the first frame and still going at 3.3 s, about a tenth of them) and ``sipdiag FILE
   --since +3.3 --until +3.0 --export DIR`` (the report, then its calls exported), against
   tshark once per call (one pass for every call's ports, then one filter per call). sngrep
   writes one file at most: it has no part in this case.

Each command's best wall time of ``--runs`` (the tshark loop runs once: it is long) and peak
memory of its process tree (bench/measure.py). Each output is read back: its SIP and RTP
packets as tshark dissects them, and its frames (time and bytes) against those of tshark's
output for the same job, which holds exactly the call's SIP and the datagrams between its two
media ports (every call of this capture has ports of its own). Then where sipdiag's time goes:
its four readings (analysis with the selection, analysis of every call, the reading that notes
the frames, the copy) timed one by one in this process through sipdiag.evidence.export.
Results go to stdout and bench/out/export.json.

Usage: python3 bench/export.py [--runs 2] [--sip-packets 8000] [--since 3.3] [--until 3.0]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import media  # noqa: E402
from measure import best_of, packet_count  # noqa: E402

from sipdiag.capture import FrameHandler, open_capture  # noqa: E402
from sipdiag.cli.options import time_point  # noqa: E402
from sipdiag.dialogs.select import Selection  # noqa: E402
from sipdiag.evidence.export import choose, plan, write_one, write_split  # noqa: E402
from sipdiag.problems import ProblemLog  # noqa: E402
from sipdiag.rules import load_engine  # noqa: E402

OUT = HERE / "out"
Frame = tuple[int, bytes]
"""A frame as captured: its time (ns) and bytes; the same in a pcap and a pcapng copy."""


def build(sip_packets: int) -> Path:
    """The capture (bench/media.py makes it if missing)."""
    return media.build(sip_packets, f"sip-rtp-{sip_packets // 1000}k.pcap")


def tshark_fields(capture: Path, display_filter: str, *fields: str) -> list[list[str]]:
    """The fields of each frame tshark's two-pass display filter keeps, a row per frame."""
    argv = ["tshark", "-r", str(capture), "-2", "-Y", display_filter, "-T", "fields"]
    for field in fields:
        argv += ["-e", field]
    text = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in text.splitlines() if line]


def ports_filter(call_id: str) -> str:
    return f'sip.Call-ID == "{call_id}"'


def call_filter(call_id: str, ports: tuple[int, int]) -> str:
    """The call's SIP and the datagrams between the two media ports its SDP announced."""
    return f"{ports_filter(call_id)} || (udp.port == {ports[0]} && udp.port == {ports[1]})"


def media_ports(capture: Path, call_ids: list[str]) -> dict[str, tuple[int, int]]:
    """Each call's offer and answer ports, read by tshark in one pass."""
    wanted = ", ".join(f'"{c}"' for c in call_ids)
    found: dict[str, list[int]] = {}
    for call_id, port in tshark_fields(capture, f"sip.Call-ID in {{{wanted}}} && sdp",
                                       "sip.Call-ID", "sdp.media.port"):
        found.setdefault(call_id, []).append(int(port))
    return {c: (p[0], p[1]) for c, p in found.items() if len(p) >= 2}


def calls_in_window(capture: Path, since: float, until: float) -> list[str]:
    """The Call-IDs whose first SIP message came by ``until`` seconds after the capture's
    first frame and whose last came at ``since`` or later (read by tshark, not by sipdiag)."""
    spans: dict[str, list[float]] = {}
    for call_id, seconds in tshark_fields(capture, "sip", "sip.Call-ID", "frame.time_relative"):
        span = spans.setdefault(call_id, [float(seconds), float(seconds)])
        span[1] = float(seconds)
    return [c for c, (first, last) in spans.items() if first <= until and last >= since]


class _Collect:
    """A frame sink keeping every frame as (time, bytes)."""

    def __init__(self) -> None:
        self.frames: set[Frame] = set()

    def link_handler(self, linktype: int) -> FrameHandler:
        return self.handle

    def handle(self, number: int, ts_ns: int, buf: bytes, start: int, end: int,
               orig_len: int) -> None:
        self.frames.add((ts_ns, bytes(buf[start:end])))


def frames_of(capture: Path) -> set[Frame]:

    sink, reader = _Collect(), open_capture(capture)
    try:
        for _ in reader.frames(sink, ProblemLog()):
            pass
    finally:
        reader.close()
    return sink.frames


def protocols(capture: Path) -> Counter[str]:
    """The frames of a capture as tshark dissects them: sip, rtp, rtcp or other."""
    text = subprocess.run(["tshark", "-r", str(capture), "-T", "fields", "-e",
                           "frame.protocols"], capture_output=True, text=True, check=True).stdout
    found: Counter[str] = Counter()
    for line in text.splitlines():
        layers = line.split(":")
        found[next((p for p in ("sip", "rtcp", "rtp") if p in layers), "other")] += 1
    return found


@dataclass
class Check:
    """An output read back against the reference output of the same job."""

    sip: int
    rtp: int
    other: int
    frames: int
    not_in_reference: int
    reference_missing: int


def check(outputs: Sequence[Path], references: Sequence[Path]) -> Check:
    """Outputs against the references of the same calls (none: the outputs are the
    reference): one file, or a split's files, each paired with the reference of its call
    (sipdiag names a call's file ``<time>_<Call-ID>.pcapng``, the reference ``<Call-ID>.pcapng``)
    so that a frame of another call is counted even when that call was chosen too."""
    found: Counter[str] = Counter()
    extra = missing = 0
    pairs = ({o: [r for r in references if o.name.endswith(r.name)] for o in outputs}
             if len(outputs) > 1 else {o: list(references) for o in outputs})
    for path, paired in pairs.items():
        found += protocols(path)
        ours = frames_of(path)
        reference = set().union(*map(frames_of, paired)) if references else ours
        extra += len(ours - reference)
        missing += len(reference - ours)
    unpaired = set(references) - {r for paired in pairs.values() for r in paired}
    missing += sum(len(frames_of(r)) for r in unpaired)
    return Check(found["sip"], found["rtp"] + found["rtcp"], found["other"],
                 sum(found.values()), extra, missing)


@dataclass
class Row:
    case: str
    tool: str
    command: str
    seconds: float
    peak_mb: float
    runs: int
    check: Check | None = None


class Bench:
    """The commands measured one after the other (one heavy process at a time), their rows."""

    def __init__(self, capture: Path, out: Path, runs: int) -> None:
        self.capture, self.out, self.runs = capture, out, runs
        self.rows: list[Row] = []

    def run(self, case: str, tool: str, argv: list[str], *, runs: int | None = None,
            outputs: Callable[[], list[Path]] | None = None,
            references: Sequence[Path] = (), shown: str = "") -> Row:
        """Measure ``argv`` (best of ``runs``), then read its outputs back against the
        references; ``shown``: the command as the table prints it."""
        m = best_of(runs or self.runs, argv)
        if m.returncode != 0:
            raise SystemExit(f"export bench: {m.command} exited {m.returncode}")
        checked = check(outputs(), references) if outputs is not None else None
        command = shown or " ".join(f"'{a}'" if " " in a else a for a in argv)
        found = Row(case, tool, command.replace(str(self.capture), "FILE")
                    .replace(str(self.out), "OUT").replace(sys.executable, "python"),
                    round(m.seconds, 2), round(m.peak_rss_bytes / 1e6, 1), runs or self.runs,
                    checked)
        self.rows.append(found)
        print(f"  {case} {tool:36} {found.seconds:7.2f} s {found.peak_mb:7.1f} MB  {checked}",
              flush=True)
        return found


def files_in(folder: Path) -> Callable[[], list[Path]]:
    return lambda: sorted(folder.iterdir())


def cost_split(capture: Path, call_id: str, window: tuple[str, str], runs: int,
               folder: Path) -> dict[str, dict[str, float]]:
    """The time of each of sipdiag export's readings (the best of ``runs``), as the command
    makes them: the analysis of every call with the chosen ones marked (``choose``), the
    reading that notes the frames (``plan``), the copy (``write_one`` / ``write_split``)."""
    engine = load_engine()
    inputs = [str(capture)]
    since, until = window
    jobs = {
        "one call": (Selection(call_ids=(call_id,)), True),
        "one call --sip-only": (Selection(call_ids=(call_id,)), False),
        f"--since +{since} --until +{until} --split": (
            Selection(since=time_point(f"+{since}"), until=time_point(f"+{until}")), True),
    }
    results: dict[str, dict[str, float]] = {}
    for name, (selection, with_media) in jobs.items():
        best: dict[str, float] = {}
        for _ in range(runs):
            times: dict[str, float] = {}
            start = time.perf_counter()
            _, groups = choose(inputs, engine, selection)
            times["1 analysis (every call, the chosen marked)"] = time.perf_counter() - start
            start = time.perf_counter()
            chosen_plan = plan(inputs, groups, media=with_media)
            times["2 frames noted (plan)"] = time.perf_counter() - start
            start = time.perf_counter()
            if name.endswith("--split"):
                write_split(inputs, chosen_plan, folder / "split")
            else:
                write_one(inputs, chosen_plan, folder / "one.pcapng")
            times["3 copy"] = time.perf_counter() - start
            for stage, seconds in times.items():
                best[stage] = round(min(best.get(stage, seconds), seconds), 2)
        results[name] = best
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--sip-packets", type=int, default=8000)
    parser.add_argument("--since", default="3.3", help="case c: the calls still going this "
                        "many seconds after the first frame ...")
    parser.add_argument("--until", default="3.0", help="... and started by this many")
    args = parser.parse_args()
    for tool in ("tshark", "sngrep"):
        if shutil.which(tool) is None:
            sys.exit(f"export bench: {tool} is needed (Debian packages tshark and sngrep)")
    OUT.mkdir(exist_ok=True)
    capture = build(args.sip_packets)
    packets = packet_count(capture)
    invites = [c for (c,) in tshark_fields(capture, 'sip.Method == "INVITE"', "sip.Call-ID")]
    call_id = invites[len(invites) // 2]
    ports = media_ports(capture, [call_id])[call_id]
    print(f"{capture.name}: {packets:,} packets, {capture.stat().st_size / 1e6:,.0f} MB, "
          f"{len(invites):,} calls; call {call_id}, media ports {ports}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        bench = Bench(capture, out, args.runs)
        one_call(bench, call_id, ports)
        chosen = calls_in_split(bench, args.since, args.until)
        print("cost split of sipdiag export (in this process, seconds):", flush=True)
        split = cost_split(capture, call_id, (args.since, args.until), args.runs, out)
        for name, stages in split.items():
            print(f"  {name:36} {stages}  total {sum(stages.values()):.2f}")
    ours = {r.case: r for r in bench.rows if r.tool.startswith("sipdiag export")}
    document = {"capture": capture.name, "packets": packets, "calls": len(invites),
                "call": call_id, "ports": ports, "split_calls": chosen,
                "rows": [{**asdict(r), "sipdiag_time_ratio": round(
                    ours[r.case].seconds / r.seconds, 2) if r.case in ours else None}
                    for r in bench.rows],
                "cost_split": split}
    (OUT / "export.json").write_text(json.dumps(document, indent=2) + "\n")


def one_call(bench: Bench, call_id: str, ports: tuple[int, int]) -> None:
    """(a) one call with its media, (b) its SIP only: sipdiag, tshark, sngrep."""
    capture, out = str(bench.capture), bench.out
    sipdiag = [sys.executable, "-m", "sipdiag", "export", capture, "--call", call_id, "-q"]
    expression = "Call-ID: " + call_id.replace(".", r"\.")
    """sngrep's match expression is a POSIX regular expression on the payload."""
    tshark_call, tshark_sip = out / "tshark-call.pcapng", out / "tshark-sip.pcapng"
    bench.run("a", "tshark: the call's media ports", ["tshark", "-r", capture, "-2", "-Y",
              ports_filter(call_id), "-T", "fields", "-e", "sdp.media.port"])
    bench.run("a", "tshark: SIP + ports, written", ["tshark", "-r", capture, "-2", "-Y",
              call_filter(call_id, ports), "-w", str(tshark_call)],
              outputs=lambda: [tshark_call])
    bench.run("a", "sngrep -r (match on Call-ID)", ["sngrep", "-I", capture, "-O",
              str(out / "sngrep.pcap"), "-N", "-q", "-r", expression],
              outputs=lambda: [out / "sngrep.pcap"], references=[tshark_call])
    bench.run("a", "sipdiag export", [*sipdiag, "-o", str(out / "sipdiag.pcapng")],
              outputs=lambda: [out / "sipdiag.pcapng"], references=[tshark_call])
    bench.run("b", "tshark: SIP, written", ["tshark", "-r", capture, "-2", "-Y",
              ports_filter(call_id), "-w", str(tshark_sip)],
              outputs=lambda: [tshark_sip])
    bench.run("b", "sngrep (match on Call-ID)", ["sngrep", "-I", capture, "-O",
              str(out / "sngrep-sip.pcap"), "-N", "-q", expression],
              outputs=lambda: [out / "sngrep-sip.pcap"], references=[tshark_sip])
    bench.run("b", "sipdiag export --sip-only", [*sipdiag, "--sip-only", "-o",
              str(out / "sipdiag-sip.pcapng")],
              outputs=lambda: [out / "sipdiag-sip.pcapng"], references=[tshark_sip])


def calls_in_split(bench: Bench, since: str, until: str) -> list[str]:
    """(c) the calls still going at +since and started by +until, one file each: sipdiag's
    two ways, and tshark once per call (run once: it is long). The calls, as tshark reads
    them."""
    capture, out = str(bench.capture), bench.out
    chosen = calls_in_window(bench.capture, float(since), float(until))
    ports = media_ports(bench.capture, chosen)
    print(f"  c: {len(chosen)} calls started by +{until} s and going at +{since} s (tshark's "
          "reading)", flush=True)
    wanted = ", ".join(f'"{c}"' for c in chosen)
    bench.run("c", "tshark: the calls' media ports", ["tshark", "-r", capture, "-2", "-Y",
              f"sip.Call-ID in {{{wanted}}} && sdp", "-T", "fields", "-e", "sip.Call-ID",
              "-e", "sdp.media.port"], runs=1,
              shown="tshark -r FILE -2 -Y 'sip.Call-ID in {<the calls>} && sdp' -T fields "
              "-e sip.Call-ID -e sdp.media.port")
    references = out / "tshark-split"
    references.mkdir()
    script = out / "tshark-split.sh"
    script.write_text("".join(f"tshark -r '{capture}' -2 -Y '{call_filter(c, ports[c])}' "
                              f"-w '{references}/{c}.pcapng'\n" for c in chosen))
    bench.run("c", f"tshark x{len(chosen)}, one file per call", ["sh", str(script)], runs=1,
              outputs=files_in(references),
              shown=f"{len(chosen)} x tshark -r FILE -2 -Y '<its SIP + ports>' "
              "-w OUT/CALL-ID.pcapng")
    reference_files = sorted(references.iterdir())
    window = ["--since", f"+{since}", "--until", f"+{until}", "-q"]
    split, report = out / "sipdiag-split", out / "sipdiag-report"
    for tool, argv, folder in (
        ("sipdiag export --split", ["export", capture, *window, "--split", str(split)], split),
        ("sipdiag FILE --export", [capture, *window, "--export", str(report)], report),
    ):
        found = bench.run("c", tool, [sys.executable, "-m", "sipdiag", *argv],
                          outputs=files_in(folder), references=reference_files)
        found.tool += f" ({len(list(folder.iterdir()))} files)"
    return chosen


if __name__ == "__main__":
    main()
