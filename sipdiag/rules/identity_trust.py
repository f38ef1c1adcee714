"""The certificates a user trusts (``--stir-certs``), handed to the checks that verify STIR
signatures.

A check's settings are its rule's ``params``; the certificates are one more setting, which only
the command line can give (a rule file that tries is refused: ``checks.identity``). The command
line reads them, and ``trusting`` gives them to every rule whose check takes them: the engine
stays a plain value, built once and inherited by every process of a run, and the rules never
read a file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sipdiag.rules.checks.identity import CERTIFICATES
from sipdiag.rules.engine import Engine
from sipdiag.rules.loader import RuleSet, checks_of
from sipdiag.rules.model import Rule
from sipdiag.sip.identity import SigningCertificate


def trusting(engine: Engine, certificates: Sequence[SigningCertificate]) -> Engine:
    """The engine whose signature checks verify with these certificates."""
    given = tuple(certificates)
    rules = tuple(_given(rule, given) for rule in engine.rules.rules)
    return Engine(RuleSet(rules), engine.catalog)


def _given(rule: Rule, certificates: tuple[SigningCertificate, ...]) -> Rule:
    if rule.check is None or CERTIFICATES not in checks_of(rule.scope)[rule.check].params:
        return rule
    return replace(rule, params={**rule.params, CERTIFICATES: certificates})
