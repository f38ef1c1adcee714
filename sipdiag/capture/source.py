"""Byte sources: a file, standard input, or either compressed, read block by block.

Theory of operation: every capture reader pulls blocks of bytes from a ``ByteSource`` and never
sees whether they came from disk, a pipe or a decompressor. Compression is recognised by its
magic number, not by the file name, so ``capture.pcap`` that is really gzip still opens and
``-`` (standard input) can be compressed too. Reading in blocks keeps memory flat whatever the
file size (a 10 GB capture is never held in memory).
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import sys
import zlib
from pathlib import Path
from typing import BinaryIO, Protocol

BLOCK_SIZE = 1 << 20

_COMPRESSED_MAGICS: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
)


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class SourceError(Exception):
    """The bytes could not be read (missing file, broken compression); one line for the user."""


class ByteSource:
    """Blocks of a capture's bytes, decompressed when needed."""

    def __init__(
        self, stream: Readable, name: str, compression: str | None, closer: BinaryIO | None
    ) -> None:
        self._stream = stream
        self._closer = closer
        self.name = name
        self.compression = compression
        self.consumed = 0
        """Bytes handed out so far (decompressed), for progress reports."""
        self.cut: str | None = None
        """Why the data ended early (a compressed stream cut short), else None."""

    def read(self, size: int = BLOCK_SIZE) -> bytes:
        """Up to ``size`` bytes; fewer only at the end of the data."""
        try:
            data = self._stream.read(size)
        except EOFError as exc:
            # A cut gzip/xz/bzip2 file: what was decompressed so far is still worth reading.
            self.cut = f"{self.compression} stream ends early ({exc})"
            return b""
        except (OSError, zlib.error, lzma.LZMAError) as exc:
            raise SourceError(f"{self.name}: cannot read {self.compression} data: {exc}") from exc
        self.consumed += len(data)
        return data

    def read_all(self) -> bytes:
        """Everything that is left (for formats that need random access)."""
        parts = []
        while block := self.read():
            parts.append(block)
        return b"".join(parts)

    def close(self) -> None:
        if self._closer is not None:
            self._closer.close()


class _Prefixed:
    """A stream with some bytes already read from its start put back in front."""

    def __init__(self, prefix: bytes, rest: BinaryIO) -> None:
        self._prefix = prefix
        self._rest = rest

    def read(self, size: int = -1, /) -> bytes:
        if not self._prefix:
            return self._rest.read(size)
        if size < 0:
            data, self._prefix = self._prefix + self._rest.read(), b""
            return data
        data, self._prefix = self._prefix[:size], self._prefix[size:]
        if len(data) < size:
            data += self._rest.read(size - len(data))
        return data


def open_source(path: str | Path, stdin: BinaryIO | None = None) -> ByteSource:
    """Open a file (or ``-`` for standard input) and undo any compression."""
    name = str(path)
    if name == "-":
        raw: BinaryIO = stdin if stdin is not None else sys.stdin.buffer
        name = "<stdin>"
    else:
        try:
            raw = open(path, "rb")  # noqa: SIM115 - closed with the reader
        except OSError as exc:
            raise SourceError(f"{name}: {exc.strerror or exc}") from exc
    closer = None if raw is stdin or name == "<stdin>" else raw
    head = raw.read(8)
    stream = _Prefixed(head, raw)
    compression = next((kind for magic, kind in _COMPRESSED_MAGICS if head.startswith(magic)), None)
    if compression is None:
        return ByteSource(stream, name, None, closer)
    return ByteSource(_decompressor(compression, stream), name, compression, closer)


def _decompressor(kind: str, stream: _Prefixed) -> Readable:
    fileobj: BinaryIO = stream  # type: ignore[assignment]  # has the read() the modules use
    if kind == "gzip":
        return gzip.GzipFile(fileobj=fileobj, mode="rb")
    if kind == "bzip2":
        return bz2.BZ2File(fileobj, mode="rb")
    return lzma.LZMAFile(fileobj, mode="rb")
