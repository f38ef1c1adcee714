"""Settings only the command line gives: the certificates a user trusts (``--stir-certs``),
handed to the checks that verify STIR signatures, and the home country (``--home-cc``), handed
to the checks that class dialled numbers.

A check's settings are its rule's ``params``; these are more settings of the same kind, given
on the command line (the certificates only there: a rule file that tries is refused,
``checks.identity``). ``given`` sets one on every rule whose check takes it: the engine stays a
plain value, built once and inherited by every process of a run, and the rules never read a
file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sipdiag.rules.checks.identity import CERTIFICATES
from sipdiag.rules.checks.numbers import HOME_CC, home_country_code
from sipdiag.rules.engine import Engine
from sipdiag.rules.loader import RuleSet, checks_of
from sipdiag.rules.model import Rule
from sipdiag.sip.identity import SigningCertificate


def given(engine: Engine, name: str, value: object) -> Engine:
    """The engine whose rules that take the param ``name`` have it set to ``value``."""
    rules = tuple(_given(rule, name, value) for rule in engine.rules.rules)
    return Engine(RuleSet(rules), engine.catalog)


def trusting(engine: Engine, certificates: Sequence[SigningCertificate]) -> Engine:
    """The engine whose signature checks verify with these certificates."""
    return given(engine, CERTIFICATES, tuple(certificates))


def at_home(engine: Engine, country_code: str) -> Engine:
    """The engine whose number checks take this country as home (``--home-cc``)."""
    return given(engine, HOME_CC, home_country_code(country_code))


def _given(rule: Rule, name: str, value: object) -> Rule:
    if rule.check is None or name not in checks_of(rule.scope)[rule.check].params:
        return rule
    return replace(rule, params={**rule.params, name: value})
