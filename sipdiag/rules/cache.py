"""The rules and catalog compiled once: kept in the user's cache, read back while the files
they came from stay the same.

Reading some 150 YAML files and building the rules costs most of a second; CI runs sipdiag on
thousands of one-call captures. The engine built from the rule folders is pickled into the
cache (``$SIPDIAG_CACHE``, else ``$XDG_CACHE_HOME/sipdiag``, else ``~/.cache/sipdiag``) under a
key made of the contents and names of every file in the folders, sipdiag's version and
Python's: any change to a rule file, a new one, or another version builds it again. The cache
is sipdiag's own file in a folder only its user can write (made with mode 0700), like Python's
own ``__pycache__``; ``SIPDIAG_CACHE=off`` turns it off. A cache that cannot be read or written
is passed over in silence: the rules are then read from their files, as without it.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TypeVar

from sipdiag import __version__

T = TypeVar("T")
OFF = "off"


def cache_folder(environ: Mapping[str, str]) -> Path | None:
    """Where compiled rule sets are kept; None when the user turned the cache off."""
    chosen = environ.get("SIPDIAG_CACHE")
    if chosen == OFF:
        return None
    if chosen:
        return Path(chosen)
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sipdiag"


def compiled(folders: Iterable[Path], build: Callable[[], T], cache: Path | None) -> T:
    """What ``build`` makes of the files in ``folders``, from the cache when they are the same
    as when it was kept; else built, and kept."""
    if cache is None:
        return build()
    try:
        path = cache / f"rules-{_fingerprint(folders)}.pickle"
    except OSError:  # a file that cannot be read: building says which, and why
        return build()
    try:
        with path.open("rb") as kept:
            return pickle.load(kept)  # type: ignore[no-any-return]
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        pass
    built = build()
    _keep(path, built)
    return built


def _fingerprint(folders: Iterable[Path]) -> str:
    digest = hashlib.sha256(f"{__version__} {sys.version}".encode())
    for folder in folders:
        for file in sorted(p for p in folder.rglob("*") if p.is_file()):
            digest.update(str(file).encode("utf-8", "surrogateescape") + b"\0")
            digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()[:32]


def _keep(path: Path, value: object) -> None:
    """Write atomically (another sipdiag may be reading it); drop what cannot be written."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(handle, "wb") as out:
            pickle.dump(value, out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)
    except (OSError, pickle.PicklingError):
        Path(temporary).unlink(missing_ok=True)
