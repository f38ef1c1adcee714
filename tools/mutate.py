"""Mutation testing of one core package at a time (mutmut): how many planted bugs the tests catch.

    python3 tools/mutate.py capture            # mutate sipdiag/capture, its tests on each mutant
    python3 tools/mutate.py sip --jobs 2       # two mutants at a time
    python3 tools/mutate.py dialogs --only sipdiag/dialogs/calls.py
    python3 tools/mutate.py media --survivors  # after a run: the diff of every surviving mutant
    python3 tools/mutate.py rules --sample 600 # a random 600 of its mutants: an estimate

mutmut (pip install mutmut) copies the project into ``mutants/`` of the folder it runs in and
plants one small change at a time (an operator, a constant, a condition, a return value) in the
functions of the mutated files; the tests that call a function are run against each of its
mutants. A mutant the tests fail on is *killed*; one they pass on *survived*: a behaviour no test
pins down, or a change that does not change behaviour (an equivalent mutant, named in
tools/equivalent-mutants.txt with its reason).

Each package is mutated in a working copy of its own, ``.mutation/PACKAGE/`` (the files git
tracks, with a ``[tool.mutmut]`` section for that package), so runs of different packages never
share state and the project's pyproject.toml is left alone. A run of a package
starts afresh (mutmut would keep the verdicts of functions whose source did not change, even
when new tests would now kill their mutants) unless ``--resume`` continues a run that was cut
short. ``../shared`` (the public captures) is linked beside the copy so the
tests find it as they do in the project. The score goes to stdout and to
``.mutation/PACKAGE/score.json``.

A package whose tests take long on each mutant can be measured on a random sample of its mutants
(``--sample N``, seeded so a run can be repeated): the score is then an estimate, given with its
95% interval (Wilson), and the survivors listed are those of the sample.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".mutation"
EQUIVALENT = ROOT / "tools" / "equivalent-mutants.txt"

TESTS = {
    # package: the test files that exercise it (mutmut runs, on each mutant, those of them that
    # call the mutated function)
    "capture": ["tests/capture", "tests/network/test_decoder.py", "tests/test_cli.py"],
    "network": ["tests/network", "tests/capture"],
    "sip": ["tests/sip", "tests/network"],
    "dialogs": ["tests/dialogs", "tests/rules/test_rule_samples.py", "tests/rules/test_steps.py",
                # a call's media (dialogs/media.py), selection and records are read there
                "tests/media/test_samples.py", "tests/report/test_json_fields.py",
                "tests/test_cli.py"],
    "rules": ["tests/rules"],
    # (not tests/media/test_public_captures.py: whole public captures, minutes per mutant, and
    # no expected value of their own beyond "no false alarm")
    "media": ["tests/media", "--ignore=tests/media/test_public_captures.py",
              "tests/rules/test_media_rules.py", "tests/test_audio.py"],
}
KILLED = ("killed", "timeout", "segfault")
"""mutmut's verdicts that mean the tests noticed the mutant (it failed them, hung or crashed)."""
SURVIVED = ("survived", "no tests", "suspicious")
"""Those that mean they did not (or that no test calls the mutated function at all)."""


def working_copy(package: str, only: list[str]) -> Path:
    """``.mutation/PACKAGE``: the tracked files of the project, refreshed, with the mutmut
    configuration for the package."""
    copy = WORK / package
    copy.mkdir(parents=True, exist_ok=True)
    for old in copy.iterdir():  # the project as it is now: nothing left from an earlier copy
        if old.name not in ("mutants", "shared", "score.json"):
            shutil.rmtree(old) if old.is_dir() else old.unlink()
    listing = ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"]
    tracked = subprocess.run(listing, cwd=ROOT, check=True, capture_output=True).stdout
    for name in filter(None, tracked.decode().split("\0")):
        source, target = ROOT / name, copy / name
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    shared = ROOT.parent / "shared"
    link = copy / "shared"  # tests run in copy/mutants and look for ../shared
    if shared.is_dir() and not link.exists():
        link.symlink_to(shared)
    pyproject = copy / "pyproject.toml"
    pyproject.write_text((ROOT / "pyproject.toml").read_text(encoding="utf-8")
                         + _config(package, only), encoding="utf-8")
    return copy


def _config(package: str, only: list[str]) -> str:
    patterns = only or [f"sipdiag/{package}/*"]
    return (
        "\n[tool.mutmut]\n"
        'source_paths = ["sipdiag"]\n'
        f"only_mutate = {json.dumps(patterns)}\n"
        'also_copy = ["samples", "rules"]\n'
        f"pytest_add_cli_args_test_selection = {json.dumps(TESTS[package])}\n"
        # one process: mutmut picks the mutant in the process that runs the tests
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "-n", "0"]\n'
    )


NO_MUTANT = "no.such.mutant"
"""A name no mutant has: mutmut generates the mutants and measures the tests, then stops."""


def run_mutmut(copy: Path, jobs: int, names: list[str] | None = None) -> None:
    """mutmut run on every mutant, or on those named."""
    mutmut = shutil.which("mutmut", path=str(Path(sys.executable).parent)) or "mutmut"
    command = [mutmut, "run", "--max-children", str(jobs), *(names or [])]
    subprocess.run(command, cwd=copy, check=False,
                   stderr=subprocess.DEVNULL if names == [NO_MUTANT] else None)


def mutant_names(copy: Path) -> list[str]:
    """Every mutant mutmut generated, from the ``.meta`` file beside each mutated source."""
    names = []
    for meta in sorted((copy / "mutants").rglob("*.py.meta")):
        names += json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
    return names


def sample(copy: Path, jobs: int, size: int, seed: int) -> list[str]:
    """Generate the mutants, then run a seeded random ``size`` of them; the names run."""
    run_mutmut(copy, jobs, [NO_MUTANT])
    names = mutant_names(copy)
    chosen = sorted(random.Random(seed).sample(names, min(size, len(names))))
    run_mutmut(copy, jobs, chosen)
    return chosen


def wilson(killed: int, judged: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% interval of a proportion measured on a sample (Wilson score interval)."""
    share = killed / judged
    centre = (share + z * z / (2 * judged)) / (1 + z * z / judged)
    spread = z * math.sqrt(share * (1 - share) / judged + z * z / (4 * judged * judged))
    spread /= 1 + z * z / judged
    return round(100 * (centre - spread), 1), round(100 * (centre + spread), 1)


def results(copy: Path) -> dict[str, str]:
    """Every mutant of the last run and its verdict (mutmut results --all)."""
    mutmut = shutil.which("mutmut", path=str(Path(sys.executable).parent)) or "mutmut"
    out = subprocess.run([mutmut, "results", "--all", "true"], cwd=copy, check=True,
                         capture_output=True, text=True).stdout
    verdicts = {}
    for line in out.splitlines():
        match = re.match(r"\s*(\S+): (.+)$", line)
        if match:
            verdicts[match[1]] = match[2].strip()
    return verdicts


def equivalent() -> dict[str, str]:
    """Surviving mutants read and found not to change behaviour: ``name  reason`` per line."""
    if not EQUIVALENT.exists():
        return {}
    found = {}
    for line in EQUIVALENT.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, reason = line.strip().partition(" ")
            found[name] = reason.strip()
    return found


def score(package: str, verdicts: dict[str, str]) -> dict[str, Any]:
    """Killed mutants as a share of those that change behaviour: every mutant but the
    equivalent ones and those the run did not get to. A mutant no test reaches counts as
    surviving: no test would notice it."""
    explained = equivalent()
    counts = Counter(verdicts.values())
    survived = sorted(n for n, v in verdicts.items()
                      if v in SURVIVED and n not in explained)
    killed = sum(counts[v] for v in KILLED)
    judged = killed + len(survived)
    return {
        "package": package,
        "mutants": len(verdicts),
        "verdicts": dict(counts),
        "equivalent": sum(1 for n, v in verdicts.items() if v in SURVIVED and n in explained),
        "killed": killed,
        "judged": judged,
        "killed_percent": round(100 * killed / judged, 1) if judged else None,
        "survivors": survived,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("package", choices=sorted(TESTS))
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="mutants tested at once (default: one per core)")
    parser.add_argument("--only", action="append", default=[],
                        help="mutate only these files of the package (glob, repeatable)")
    parser.add_argument("--survivors", action="store_true",
                        help="show the surviving mutants of the last run instead of running")
    parser.add_argument("--resume", action="store_true",
                        help="continue the last run (its verdicts kept) instead of starting afresh")
    parser.add_argument("--sample", type=int, default=0, metavar="N",
                        help="run a random N of the mutants: an estimate with its interval")
    parser.add_argument("--seed", type=int, default=1, help="the sample's random seed")
    args = parser.parse_args(argv)
    copy = working_copy(args.package, args.only)
    if args.survivors:
        mutmut = shutil.which("mutmut", path=str(Path(sys.executable).parent)) or "mutmut"
        for name in score(args.package, results(copy))["survivors"]:
            subprocess.run([mutmut, "show", name], cwd=copy, check=False)
        return 0
    if not args.resume:
        shutil.rmtree(copy / "mutants", ignore_errors=True)
    if args.sample:
        chosen = sample(copy, args.jobs, args.sample, args.seed)
    else:
        run_mutmut(copy, args.jobs)
    verdicts = results(copy)
    if args.sample:
        verdicts = {name: verdicts[name] for name in chosen}
    summary = score(args.package, verdicts)
    if args.sample and summary["judged"]:
        summary["sample"] = {"size": len(chosen), "seed": args.seed,
                             "interval_95": wilson(summary["killed"], summary["judged"])}
    (copy / "score.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in summary.items() if k != "survivors"}))
    print(f"{len(summary['survivors'])} surviving mutants: "
          f"python3 tools/mutate.py {args.package} --survivors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
