"""What the rule tests share: a capture analysed once with the built-in rules, a rule's
findings in it, and tshark's reading of its SIP fields (the independent side)."""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path

from sipdiag.analysis import Analysis, analyze
from sipdiag.rules import Engine, load_engine
from sipdiag.rules.loader import RuleSet
from sipdiag.rules.model import Finding

ENGINE = load_engine()
WITHOUT_SECURITY = Engine(RuleSet(tuple(r for r in ENGINE.rules.rules
                                        if r.path.parent.name != "security")), ENGINE.catalog)
"""The rules but the security ones (S1xx), which supersede some per-call findings on the calls
an attack is made of: to see a per-call rule on a capture that holds an attack."""


@cache
def analysed(path: Path) -> Analysis:
    return analyze(path, engine=ENGINE)


def findings(path: Path, rule: str) -> list[Finding]:
    return [f for f in analysed(path).findings if f.rule.id == rule]


@cache
def tshark_fields(path: Path, display_filter: str,
                  fields: tuple[str, ...]) -> tuple[dict[str, str], ...]:
    """Each packet tshark shows through ``display_filter``: its ``fields`` (the first
    occurrence of each), by name."""
    command = ["tshark", "-n", "-r", str(path), "-Y", display_filter, "-T", "fields",
               "-E", "separator=\t", "-E", "occurrence=f"]
    for name in fields:
        command += ["-e", name]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return tuple(dict(zip(fields, line.split("\t"), strict=True)) for line in out.splitlines())
