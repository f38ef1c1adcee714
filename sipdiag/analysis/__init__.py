"""The analysis layer: a capture read (``reading``), analysed (``pipeline``) into the
``Analysis`` every report reads (``model``); ``regions`` runs a function over a large
capture's messages in several processes."""

from sipdiag.analysis.model import (
    Analysis,
    CallResult,
    ExchangeResult,
    Result,
    Tally,
    is_problem,
)
from sipdiag.analysis.pipeline import analyze, analyze_live
from sipdiag.analysis.reading import (
    CaptureSummary,
    Inputs,
    MessageReader,
    Progress,
    default_jobs,
    message_kind,
    paths_of,
)
from sipdiag.analysis.regions import map_parts

__all__ = ["Analysis", "CallResult", "CaptureSummary", "ExchangeResult", "Inputs",
           "MessageReader", "Progress", "Result", "Tally", "analyze", "analyze_live",
           "default_jobs", "is_problem",
           "map_parts", "message_kind", "paths_of"]
