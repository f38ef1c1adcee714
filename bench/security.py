"""Security rules benchmark: what rules/security (S101-S113) cost a whole run.

On two captures of bench/out/ (built if missing, deterministically):

- ``sip-500k.pcap``: SIPp calls replicated to 500,000 SIP packets (bench/build_capture.py),
  83,334 calls, no attack;
- ``sip-attack.pcap``: the first 100,000 packets of ``sip-500k.pcap`` (editcap) merged in time
  (mergecap) with an attack over the same span, made with the sample helpers (samples/sipflow.py,
  samples/craft_security.py): a scanner (203.0.113.50, User-Agent friendly-scanner) sending
  50,000 OPTIONS, REGISTER and INVITE probes (in turn) to as many extensions of a PBX
  (198.51.100.1), each a Call-ID of its own, answered 404 but for one extension in 1,000,
  challenged 401 (each INVITE ACKed); and a password guesser (203.0.113.77) trying account 2001
  2,000 times: REGISTER, 401, REGISTER with the Digest of a wrong password, 403.

In one run, alternating the commands ``--runs`` times (best wall time of each, peak memory over
all its runs, of the whole process tree: bench/measure.py), with ``SIPDIAG_CACHE=off`` (every
run builds its rules from the YAML files), each with ``-j 1`` and with the default processes:

- ``sipdiag FILE --format json -q``: the command line, every rule;
- this script's runner (``--analyse FILE --rules all``): the garbage collector's thresholds of
  the ``sipdiag`` program, ``load_engine``, ``analyze`` and ``write_json``: what the command
  line does for a JSON report, without its option parsing, its progress bar (off with -q) or
  its look for TLS secrets in the file;
- the same runner with ``--rules no-security``: the engine without the rules whose file lies in
  rules/security (with them go the source ledger they read and their superseding);
- ``sngrep -I FILE -N -q`` for scale.

Each sipdiag run's JSON is read back: its findings counted by rule (the attack capture must
show S101 or S102, and S103, with the security rules, and no S finding without them), and its
bytes compared with the command line's and with its own other runs. Then where the time goes,
in one process of the runner with each set of rules: in the source ledger's ``observe`` (the
ledger is kept whatever the rules, for the report's ``sources``) and in
``Engine.capture_findings`` (the checks of the rules about the whole capture). Results go to
stdout and bench/out/security.json.

Usage: python3 bench/security.py [--runs 3] [--build-only]
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # samples/, put on the path when the attack capture is built
    from sipflow import Capture, Node

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from measure import Measurement, measure, packet_count  # noqa: E402
from media import best  # noqa: E402

OUT = HERE / "out"
BASE = OUT / "sip-500k.pcap"
ATTACK = OUT / "sip-attack.pcap"
BASE_PACKETS = 100_000
"""The packets of sip-500k.pcap the attack capture keeps (its first 99.9 s)."""
PROBES = 50_000
PROBE_METHODS = ("OPTIONS", "REGISTER", "INVITE")
FIRST_EXTENSION = 10_000
EXISTING_EVERY = 1_000
"""One extension in this many exists: the PBX challenges its probe (401) instead of 404."""
GUESSES = 2_000
ANSWER_AFTER = 0.002
"""The PBX answers a probe 2 ms after it."""
SECURITY_FOLDER = "security"
T = TypeVar("T")
ENVIRONMENT = {"SIPDIAG_CACHE": "off", "PYTHONPATH": str(ROOT)}
"""The rules built from their files in every run (the runner has no cache to read), and the
sipdiag of this script's checkout, not the one installed (a snapshot can be measured while the
working tree changes)."""


class Rules(StrEnum):
    ALL = "all"
    NO_SECURITY = "no-security"


# The runner, run as a process of its own

def analyse(capture: Path, rules: Rules, jobs: int, split: bool = False) -> None:
    """The capture's JSON report on stdout, as ``sipdiag FILE --format json`` writes it, made
    by the built-in rules, or by those outside rules/security; with the garbage collector's
    thresholds of the ``sipdiag`` program. ``split``: the seconds spent in the source ledger's
    ``observe`` and in ``Engine.capture_findings`` (every rule about the whole capture), and in
    the whole run, on stderr as a JSON line (in this process only: give ``jobs`` 1)."""
    from sipdiag.analysis import analyze
    from sipdiag.cli import GC_THRESHOLDS
    from sipdiag.report.document import write_json
    from sipdiag.rules import Engine, RuleSet, load_engine

    start = time.perf_counter()
    spent = timed() if split else {}
    gc.set_threshold(*GC_THRESHOLDS)
    engine = load_engine()
    if rules is Rules.NO_SECURITY:
        kept = tuple(r for r in engine.rules.rules if r.path.parent.name != SECURITY_FOLDER)
        engine = Engine(RuleSet(kept), engine.catalog)
    write_json(analyze(str(capture), engine=engine, jobs=jobs), sys.stdout)
    if split:
        spent["whole run"] = time.perf_counter() - start
        sys.stderr.write(json.dumps({k: round(v, 2) for k, v in spent.items()}) + "\n")


def timed() -> dict[str, float]:
    """The seconds spent in the source ledger's ``observe`` (every call and exchange shown to
    the security rules' watch) and in ``Engine.capture_findings``, counted from now on."""
    from sipdiag.dialogs.sources import SourceLedger
    from sipdiag.rules import Engine

    spent: dict[str, float] = {}
    for owner, name in ((SourceLedger, "observe"), (Engine, "capture_findings")):
        key = f"{owner.__name__}.{name}"
        spent[key] = 0.0
        setattr(owner, name, _timing(getattr(owner, name), key, spent))
    return spent


def _timing(function: Callable[..., T], key: str, spent: dict[str, float]) -> Callable[..., T]:
    def timing(*args: object) -> T:
        start = time.perf_counter()
        try:
            return function(*args)
        finally:
            spent[key] += time.perf_counter() - start

    return timing


# The attack capture

def build_attack(path: Path) -> None:
    """sip-500k's first packets and the attack, merged in time into ``path``."""
    sys.path.insert(0, str(ROOT / "samples"))
    from craft_security import INTRUDER, PBX, login, registration_of
    from pcapkit import LINKTYPE_ETHERNET, T0_US, write_pcap
    from sipflow import Capture

    with tempfile.TemporaryDirectory() as tmp:
        cut, attack = Path(tmp) / "cut.pcap", Path(tmp) / "attack.pcap"
        subprocess.run(["editcap", "-r", str(BASE), str(cut), f"1-{BASE_PACKETS}"], check=True)
        start_us, end_us = time_span(cut)
        span = (end_us - start_us) / 1e6
        cap = Capture("bench-attack")
        scan(cap, PBX, span)
        for k in range(GUESSES):
            login(registration_of(cap, INTRUDER, PBX), span * k / GUESSES, 1,
                  password=f"guess-{k}", answer=403)
        # sipflow times its frames from T0_US: moved to the first frame of the cut
        write_pcap(str(attack), LINKTYPE_ETHERNET,
                   [(t_us - T0_US + start_us, frame) for t_us, frame in cap.frames()])
        subprocess.run(["mergecap", "-F", "pcap", "-w", str(path), str(cut), str(attack)],
                       check=True)


def scan(cap: Capture, pbx: Node, span: float) -> None:
    """The scanner's probes, evenly over ``span`` seconds: From and To name the extension
    tried (as SIPVicious svwar writes them), a REGISTER's Request-URI the PBX."""
    from craft_registrations import challenge, nonce
    from sipflow import Node

    scanner = Node("scanner", "203.0.113.50", port=5070, agent="friendly-scanner")
    for k in range(PROBES):
        at, method = span * k / PROBES, PROBE_METHODS[k % len(PROBE_METHODS)]
        extension = str(FIRST_EXTENSION + k)
        probe = cap.call(replace(scanner, user=extension), pbx, domain=pbx.ip,
                         to_user=extension,
                         ruri=f"sip:{pbx.ip}" if method == "REGISTER" else None)
        sent = probe.request(method, at)
        if k % EXISTING_EVERY == EXISTING_EVERY // 2:
            challenge(sent, at + ANSWER_AFTER, nonce(probe, 1))
        else:
            sent.reply(at + ANSWER_AFTER, 404)
        if method == "INVITE":
            sent.ack()


def time_span(capture: Path) -> tuple[int, int]:
    """The times of a capture's first and last frames (us), as capinfos reads them."""
    text = subprocess.run(["capinfos", "-T", "-r", "-S", "-a", "-e", str(capture)],
                          capture_output=True, text=True, check=True).stdout
    first, last = text.split("\t")[1:3]
    return round(float(first) * 1e6), round(float(last) * 1e6)


def build() -> list[Path]:
    if not BASE.exists():
        subprocess.run([sys.executable, str(HERE / "build_capture.py"), str(BASE),
                        "--packets", "500000"], check=True)
    if not ATTACK.exists():
        build_attack(ATTACK)
    return [BASE, ATTACK]


# The measurements

@dataclass
class Output:
    """What a sipdiag run wrote: its findings by rule, the digest of its bytes."""

    findings: Counter[str]
    digest: str


def commands(capture: Path) -> dict[str, list[str]]:
    cli = [sys.executable, "-m", "sipdiag", str(capture), "--format", "json", "-q"]
    runner = [sys.executable, str(Path(__file__).resolve()), "--analyse", str(capture)]
    found: dict[str, list[str]] = {}
    for jobs, option in (("-j 1", ["-j", "1"]), ("default -j", [])):
        found[f"sipdiag, all rules, {jobs}"] = [*cli, *option]
        found[f"runner, all rules, {jobs}"] = [*runner, "--rules", Rules.ALL, *option]
        found[f"runner, no security, {jobs}"] = [*runner, "--rules", Rules.NO_SECURITY,
                                                 *option]
    found["sngrep"] = ["sngrep", "-I", str(capture), "-N", "-q"]
    return found


def to_file(argv: list[str], out: Path) -> list[str]:
    """``argv`` with its standard output in ``out`` (the shell replaced by the command: the
    process tree measured is the command's)."""
    return ["sh", "-c", 'exec "$@" > "$0"', str(out), *argv]


def read_output(path: Path) -> Output:
    data = path.read_bytes()
    # every finding, of a call, an exchange or the whole capture, is in the document's list
    findings = Counter(f["rule"] for f in json.loads(data)["findings"])
    return Output(findings, hashlib.sha256(data).hexdigest())


@dataclass(frozen=True)
class Runs:
    """A command's runs: each one's measurement and the CPU time of its process tree (user and
    system, of every process reaped: sipdiag joins its workers)."""

    measurements: list[Measurement]
    cpu_seconds: list[float]

    @property
    def best(self) -> Measurement:
        return best(self.measurements)

    @property
    def median_seconds(self) -> float:
        return statistics.median(m.seconds for m in self.measurements)


def cpu_seconds_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bench(capture: Path, runs: int, folder: Path) -> dict[str, object]:
    packets = packet_count(capture)
    print(f"\n{capture.name}: {packets:,} packets, {capture.stat().st_size / 1e6:,.0f} MB",
          flush=True)
    measured: dict[str, Runs] = {}
    outputs: dict[str, Output] = {}
    for round_ in range(runs):
        for name, argv in commands(capture).items():
            out = folder / "out.json"
            sipdiag = name != "sngrep"
            before = cpu_seconds_of_children()
            m = measure(to_file(argv, out) if sipdiag else argv, env=ENVIRONMENT)
            cpu = cpu_seconds_of_children() - before
            if m.returncode not in ((0, 1) if sipdiag else (0,)):  # 1: findings (--fail-on)
                sys.exit(f"security bench: {name} exited {m.returncode}")
            found = measured.setdefault(name, Runs([], []))
            found.measurements.append(m)
            found.cpu_seconds.append(cpu)
            if sipdiag:
                output = read_output(out)
                if outputs.setdefault(name, output) != output:
                    sys.exit(f"security bench: {name} wrote another report in run {round_ + 1}"
                             " (did the code change during the bench?)")
            print(f"  run {round_ + 1}: {name:32} {m.seconds:8.2f} s (CPU {cpu:7.2f} s) "
                  f"{m.peak_rss_bytes / 1e6:8.1f} MB (PSS {m.peak_pss_bytes / 1e6:.1f})",
                  flush=True)
    split = {rules: split_run(capture, rules) for rules in Rules}
    return {**summary(capture, packets, measured, outputs), "split_one_process": split}


def split_run(capture: Path, rules: Rules) -> dict[str, float]:
    """Where the runner's time goes, in one process (``analyse`` with ``split``)."""
    argv = [sys.executable, str(Path(__file__).resolve()), "--analyse", str(capture),
            "--rules", rules, "-j", "1", "--split"]
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          env={**os.environ, **ENVIRONMENT}, check=True)
    spent: dict[str, float] = json.loads(done.stderr.splitlines()[-1])
    print(f"  one process, {rules}: {spent}", flush=True)
    return spent


def summary(capture: Path, packets: int, measured: dict[str, Runs],
            outputs: dict[str, Output]) -> dict[str, object]:
    sngrep = measured["sngrep"].best
    rows = []
    for name, runs in measured.items():
        m = runs.best
        rows.append({
            "tool": name, "seconds": round(m.seconds, 2),
            "median_seconds": round(runs.median_seconds, 2),
            "runs_seconds": [round(r.seconds, 2) for r in runs.measurements],
            "cpu_seconds": round(min(runs.cpu_seconds), 2),
            "packets_per_second": round(packets / m.seconds),
            "peak_mb": round(m.peak_rss_bytes / 1e6, 1),
            "peak_pss_mb": round(m.peak_pss_bytes / 1e6, 1),
            "time_vs_sngrep": round(m.seconds / sngrep.seconds, 2),
            "memory_vs_sngrep": round(m.peak_rss_bytes / sngrep.peak_rss_bytes, 2),
            "security_findings": {rule: n for rule, n in sorted(outputs[name].findings.items())
                                  if rule.startswith("S")} if name in outputs else None,
            "same_report_as_sipdiag": outputs[name].digest == outputs[
                name.replace("runner", "sipdiag")].digest if name.startswith(
                    "runner, all rules") else None})
    costs = [cost(with_, measured[with_], measured[f"runner, no security, {jobs}"])
             for jobs in ("-j 1", "default -j")
             for with_ in (f"sipdiag, all rules, {jobs}", f"runner, all rules, {jobs}")]
    print("\nbest of the runs (median; CPU: the least of the runs):")
    for row in rows:
        print(f"  {row['tool']:32} {row['seconds']:8.2f} s ({row['median_seconds']:.2f}; CPU "
              f"{row['cpu_seconds']:.2f}) {row['peak_mb']:8.1f} MB   x{row['time_vs_sngrep']} "
              f"sngrep's time, x{row['memory_vs_sngrep']} its memory")
    print("security rules (with minus without):")
    for found in costs:
        print(f"  {found['with']:32} {found['seconds']:+} s ({found['seconds_percent']:+}%), "
              f"median {found['median_seconds']:+} s ({found['median_seconds_percent']:+}%), "
              f"CPU {found['cpu_seconds']:+} s ({found['cpu_seconds_percent']:+}%), "
              f"{found['peak_mb']:+} MB ({found['peak_mb_percent']:+}%)")
    findings = {name: dict(sorted(o.findings.items())) for name, o in outputs.items()}
    return {"capture": capture.name, "packets": packets, "rows": rows, "costs": costs,
            "findings": findings}


def cost(name: str, with_: Runs, without: Runs) -> dict[str, object]:
    """What the runs with the security rules take beyond those without them: best wall time,
    median wall time, least CPU time, peak memory; each also as a percent of without."""
    pairs = {
        "seconds": (with_.best.seconds, without.best.seconds),
        "median_seconds": (with_.median_seconds, without.median_seconds),
        "cpu_seconds": (min(with_.cpu_seconds), min(without.cpu_seconds)),
        "peak_mb": (with_.best.peak_rss_bytes / 1e6, without.best.peak_rss_bytes / 1e6),
    }
    found: dict[str, object] = {"with": name}
    for key, (a, b) in pairs.items():
        found[key] = round(a - b, 2)
        found[f"{key}_percent"] = round(100 * (a - b) / b, 1)
    return found


def detects(result: dict[str, object]) -> bool:
    """Whether every run with the security rules found the scan (S101 or S102) and the
    guessing (S103), and every run without them no S finding."""
    findings = result["findings"]
    assert isinstance(findings, dict)
    for name, found in findings.items():
        security = sum(n for rule, n in found.items() if rule.startswith("S"))
        if "no security" in name and security:
            return False
        if "no security" not in name and not (
                (found.get("S101") or found.get("S102")) and found.get("S103")):
            return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--analyse", type=Path, metavar="FILE",
                        help="be the runner: the JSON report of FILE on stdout")
    parser.add_argument("--rules", type=Rules, choices=list(Rules), default=Rules.ALL)
    parser.add_argument("-j", "--jobs", type=int, default=0)
    parser.add_argument("--split", action="store_true",
                        help="the runner: where its time went, on stderr (with -j 1)")
    args = parser.parse_args()
    if args.analyse is not None:
        analyse(args.analyse, args.rules, args.jobs, args.split)
        return
    OUT.mkdir(exist_ok=True)
    captures = build()
    if args.build_only:
        return
    with tempfile.TemporaryDirectory() as tmp:
        results = [bench(capture, args.runs, Path(tmp)) for capture in captures]
    (OUT / "security.json").write_text(json.dumps(results, indent=2) + "\n")
    attack = results[-1]
    print(f"\n{attack['capture']}: findings by rule {json.dumps(attack['findings'])}")
    if not detects(attack):
        sys.exit("security bench: the attack capture's runs did not find what they must")


if __name__ == "__main__":
    main()
