"""Expectations about recorded calls (``sipdiag check``): read from a YAML file (``file``) and
checked against an analysis (``engine``), values only."""

from sipdiag.expectations.engine import Expectations, Selector, Verdict, check
from sipdiag.expectations.file import load_expectations

__all__ = ["Expectations", "Selector", "Verdict", "check", "load_expectations"]
