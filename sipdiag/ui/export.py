"""Export from the UI: the calls chosen (marked, else those the filter shows, else every one)
as a report file, Markdown, HTML or JSON, or as a capture (pcapng: their frames as captured,
as ``sipdiag export`` writes them), by the file's extension.

The capture is analysed again with a ``Selection`` of those Call-IDs, as ``sipdiag CAPTURE
--call ID ... --format F`` would analyse it, and written by the same reporter: the file is the
one that command writes (its figures, the findings of the rules about the whole capture, the
links and the ladders all as the command has them), which filtering the results the UI holds
would not guarantee. It costs a second reading of the capture, in a worker.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from sipdiag.analysis import analyze
from sipdiag.dialogs.select import Ladders, Selection
from sipdiag.evidence.export import choose, plan, write_one
from sipdiag.network.tls import Decryption
from sipdiag.report.reporters import Format, Settings, reporter
from sipdiag.rules import Engine

FORMATS = {".json": Format.JSON, ".md": Format.MARKDOWN, ".markdown": Format.MARKDOWN,
           ".html": Format.HTML, ".htm": Format.HTML}
CAPTURE = ".pcapng"


class ExportError(ValueError):
    """Why the file cannot be written (one line for the user)."""


class CallIds(tuple[str, ...]):
    """Call-IDs as ``Selection`` holds them (a tuple), looked up in a set: choosing thousands
    of calls costs no more per call than choosing one."""

    def __new__(cls, call_ids: Iterable[str]) -> CallIds:
        ids = super().__new__(cls, dict.fromkeys(call_ids))
        ids._set = frozenset(ids)
        return ids

    _set: frozenset[str]

    def __contains__(self, item: object) -> bool:
        return item in self._set


def format_of(path: Path) -> Format | None:
    """The report's format; None for a capture."""
    suffix = path.suffix.lower()
    if suffix == CAPTURE:
        return None
    found = FORMATS.get(suffix)
    if found is None:
        raise ExportError(f"{path.name}: name the file .json, .md, .html or .pcapng (the "
                          f"format)")
    return found


def check_target(path: Path) -> Format | None:
    """The format of the file (None: a capture), once it is known it can be written there."""
    form = format_of(path)
    if path.is_dir():
        raise ExportError(f"{path} is a folder")
    if not path.parent.is_dir():
        raise ExportError(f"{path.parent} is not a folder")
    return form


def export(paths: Sequence[str | Path], engine: Engine, settings: Settings,
           call_ids: Sequence[str] | None, path: Path,
           decryption: Decryption | None = None) -> None:
    """Write the report of the calls named (None: every call and exchange) to ``path``.

    As the command line: naming calls keeps their ladders (``--call``); an HTML page draws
    every call it holds."""
    form = check_target(path)
    if form is None:
        _export_capture(paths, call_ids, path, engine, decryption)
        return
    selection = Selection(call_ids=CallIds(call_ids)) if call_ids is not None else None
    ladders = Ladders.ALL if call_ids is not None or form is Format.HTML else Ladders.NONE
    analysis = analyze(list(paths), engine=engine, selection=selection, ladders=ladders, jobs=1,
                       decryption=decryption)
    try:
        with path.open("w", encoding="utf-8", newline="\n") as out:
            reporter(form, settings).analysis(analysis, out)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None


def _export_capture(paths: Sequence[str | Path], call_ids: Sequence[str] | None,
                    path: Path, engine: Engine, decryption: Decryption | None) -> None:
    """The frames of the calls, as ``sipdiag export --call ID ... -o FILE`` writes them: their
    SIP, media and linked legs (every call: ``call_ids`` None)."""
    inputs = list(paths)
    selection = Selection(call_ids=CallIds(call_ids)) if call_ids is not None else Selection()
    _, groups = choose(inputs, engine, selection, jobs=1, decryption=decryption)
    try:
        write_one(inputs, plan(inputs, groups, decryption=decryption), path)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
