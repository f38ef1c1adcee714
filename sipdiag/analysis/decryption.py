"""Decrypting a capture's TLS with Wireshark: ``decrypt(inputs, keylog)`` runs tshark once.

Why tshark and not pyshark: pyshark drives tshark too, but through its PDML/JSON output, which
gives the fields of the dissected protocols and not the bytes of the "Decrypted TLS" data
sources; and it costs an event loop and an object per packet. What sipdiag needs is the
plaintext of every TLS record of application data and the frame that completed the record;
one tshark run prints both:

- ``-x`` prints every data source of a frame with its name: one ``Decrypted TLS (N bytes)``
  per record tshark decrypted (handshake and alert records of TLS 1.3 and the Finished of
  TLS 1.2 included, without the TLS 1.3 inner content type), alongside ``Reassembled TCP``,
  ``Reassembled TLS`` (a SIP message put together from several records: a copy, skipped) and
  others;
- ``-P`` with one custom column, ``tls.record.content_type``, prints the content type of every
  record of the frame, in order: for a decrypted TLS 1.3 record, its inner type.

Records in the clear come before encrypted ones within a direction (encryption, once on,
stays on), and tshark decrypts a session's records all or none, so the decrypted records of a
frame are the last of its records: the ``n`` data sources go with the last ``n`` content
types, and those of type 23 (application data) are the plaintext sipdiag reads.

Several files are decrypted as one ``mergecap``'d temporary file: sipdiag numbers merged frames
as mergecap does (``capture.merge``). Standard input cannot be read twice: refused.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

from sipdiag.analysis.reading import Inputs, paths_of
from sipdiag.capture import CaptureError, open_captures
from sipdiag.capture.tls import embedded_keylog
from sipdiag.network.tls import ContentType, Decryption, is_keylog, keyed_randoms

INSTALL_HINT = "install Wireshark's command-line tool (Debian, Ubuntu: apt install tshark)"
_SUMMARY = re.compile(r"^ *(\d+)(?: +([\d,]*))?\s*$")
_SOURCE = re.compile(r"^([A-Za-z][^()]*) \((\d+) bytes\):$")
_HEX = re.compile(r"^[0-9a-f]{4,} ")


class DecryptionError(CaptureError):
    """TLS cannot be decrypted as asked; the message is one line for the user."""


def decrypt(inputs: Inputs, keylog: Path | None) -> Decryption | None:
    """What Wireshark decrypts of the captures with ``keylog`` and the secrets embedded in
    them; None when there is no secret at all (nothing to decrypt with)."""
    paths = paths_of(inputs)
    if "-" in map(str, paths):
        if keylog is None:
            return None
        raise DecryptionError("--tls-keylog cannot be used with standard input (-): "
                              "tshark must read the capture itself; save it to a file")
    keys = _read_keylog(keylog) if keylog is not None else ""
    embedded = "".join(embedded_keylog(path) for path in paths)
    if not keys and not embedded:
        return None
    with closing(open_captures(paths)):  # not a capture: said as for any other reading
        pass
    tshark = shutil.which("tshark")
    if tshark is None:
        raise DecryptionError(f"decrypting TLS needs tshark, which is not installed: "
                              f"{INSTALL_HINT}")
    with tempfile.TemporaryDirectory(prefix="sipdiag-tls-") as folder:
        capture = _one_file(paths, folder)
        output = _run(tshark, capture, keylog)
    return Decryption(plaintext_by_frame(output), keyed_randoms(keys + embedded), keys + embedded)


def _read_keylog(path: Path) -> str:
    try:
        text = path.read_text("utf-8", errors="replace")
    except OSError as exc:
        raise DecryptionError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    if not is_keylog(text):
        raise DecryptionError(f"{path}: not a TLS key log (lines of LABEL CLIENT_RANDOM SECRET, "
                              "as SSLKEYLOGFILE writes them)")
    return text


def _one_file(paths: Sequence[str | Path], folder: str) -> str:
    if len(paths) == 1:
        return str(paths[0])
    merged = os.path.join(folder, "merged.pcapng")
    mergecap = shutil.which("mergecap")
    if mergecap is None:
        raise DecryptionError(f"decrypting TLS in several files needs mergecap: {INSTALL_HINT}")
    done = subprocess.run([mergecap, "-w", merged, *map(str, paths)], capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise DecryptionError(f"mergecap could not merge the captures: {_first_line(done)}")
    return merged


def _run(tshark: str, capture: str, keylog: Path | None) -> str:
    command = [tshark, "-n", "-r", capture, "-P", "-x", "-Y", "tls",
               "-o", 'gui.column.format:"No","%m","Types","%Cus:tls.record.content_type:0:U"']
    if keylog is not None:
        command += ["-o", f"tls.keylog_file:{keylog}"]
    done = subprocess.run(command, capture_output=True, text=True, errors="replace",
                          check=False)
    if done.returncode != 0 and not done.stdout:  # a file cut short still gives its frames
        raise DecryptionError(f"tshark could not read {capture}: {_first_line(done)}")
    return done.stdout


def _first_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in done.stderr.splitlines()
             if line.strip() and "dangerous" not in line and not line.startswith("Running as")]
    return lines[0] if lines else f"exit status {done.returncode}"


def plaintext_by_frame(output: str) -> dict[int, tuple[bytes, ...]]:
    """The application data of each frame, from ``tshark -P -x`` with the content types
    column (see the module's docstring)."""
    found: dict[int, tuple[bytes, ...]] = {}
    frame, types, decrypted = 0, list[int](), list[bytearray]()
    source: bytearray | None = None
    previous_blank = True
    for line in output.splitlines():
        summary = _SUMMARY.match(line) if previous_blank else None
        previous_blank = not line.strip()
        if summary:
            _keep(found, frame, types, decrypted)
            frame, decrypted, source = int(summary[1]), [], None
            types = [int(t) for t in (summary[2] or "").split(",") if t]
            continue
        named = _SOURCE.match(line)
        if named:
            source = bytearray() if named[1] == "Decrypted TLS" else None
            if source is not None:
                decrypted.append(source)
        elif source is not None and _HEX.match(line):
            offset_width = line.index(" ")
            source += bytes.fromhex(line[offset_width + 2:offset_width + 2 + 47])
    _keep(found, frame, types, decrypted)
    return found


def _keep(found: dict[int, tuple[bytes, ...]], frame: int, types: list[int],
          decrypted: list[bytearray]) -> None:
    """The decrypted records are the last of the frame's records: keep their application data."""
    if not decrypted or len(decrypted) > len(types):
        return
    paired = zip(types[len(types) - len(decrypted):], decrypted, strict=True)
    data = tuple(bytes(d) for t, d in paired if t == ContentType.APPLICATION_DATA and d)
    if data:
        found[frame] = data
