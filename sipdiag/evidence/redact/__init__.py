"""Redacted captures: every identifier (numbers, names, addresses, host names, credentials)
replaced by a pseudonym from a keyed hash, the capture still valid and still analysable.

``Redactor`` is a frame sink over any ``FrameWriter`` (a ``PcapngWriter``); see its module for
how frames are taken apart and held, ``pseudonyms`` for what each pseudonym keeps of the
identifier it replaces, ``sip`` and ``sdp`` for what of a message is replaced.
"""

from sipdiag.evidence.redact.pseudonyms import Kind
from sipdiag.evidence.redact.redactor import RedactionSummary, Redactor, redact_frames

__all__ = ["Kind", "RedactionSummary", "Redactor", "redact_frames"]
