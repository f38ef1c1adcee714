"""The analysis layer: a capture read (``reading``), analysed (``pipeline``) into the
``Analysis`` every report reads (``model``); ``regions`` runs a function over a large
capture's messages in several processes."""

from sipdiag.analysis.model import Analysis, Tally, findings_by_call, with_findings
from sipdiag.analysis.pipeline import analyze
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

__all__ = ["Analysis", "CaptureSummary", "Inputs", "MessageReader", "Progress", "Tally",
           "analyze", "default_jobs", "findings_by_call", "map_parts", "message_kind",
           "paths_of", "with_findings"]
