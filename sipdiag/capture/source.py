"""Byte sources: a file, standard input, or either compressed, read block by block.

Theory of operation: every capture reader pulls blocks of bytes from a ``ByteSource`` and never
sees whether they came from disk, a pipe or a decompressor. Compression is recognised by its
magic number, not by the file name, so ``capture.pcap`` that is really gzip still opens and
``-`` (standard input) can be compressed too. Reading in blocks keeps memory flat whatever the
file size (a 10 GB capture is never held in memory).

gzip, bzip2 and xz are undone with the standard library's incremental decompressors, fed a
block at a time, so a compressed file that was cut short still gives everything before the
cut (the readers then report where the capture ends); concatenated gzip members (``cat a.gz
b.gz``) are read one after the other.
"""

from __future__ import annotations

import bz2
import errno
import lzma
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Protocol

BLOCK_SIZE = 1 << 20


class Decompressor(Protocol):
    @property
    def eof(self) -> bool: ...

    @property
    def unused_data(self) -> bytes: ...

    def decompress(self, data: bytes, /) -> bytes: ...


def _gzip() -> Decompressor:
    return zlib.decompressobj(wbits=31)  # 16 + MAX_WBITS: expect a gzip header and trailer


_COMPRESSIONS: tuple[tuple[bytes, str, Callable[[], Decompressor]], ...] = (
    (b"\x1f\x8b", "gzip", _gzip),
    (b"BZh", "bzip2", bz2.BZ2Decompressor),
    (b"\xfd7zXZ\x00", "xz", lzma.LZMADecompressor),
)


class SourceError(Exception):
    """The bytes could not be read (missing file, broken compression); one line for the user."""


class ByteSource:
    """Blocks of a capture's bytes, decompressed when needed."""

    def __init__(self, raw: BinaryIO, name: str, head: bytes, closer: BinaryIO | None) -> None:
        self._raw = raw
        self._closer = closer
        self._pending = head
        """Bytes read from ``raw`` to look at the magic number, not handed out yet."""
        self.name = name
        self.compression: str | None = None
        self._new_decompressor: Callable[[], Decompressor] | None = None
        self._decompressor: Decompressor | None = None
        for magic, kind, factory in _COMPRESSIONS:
            if head.startswith(magic):
                self.compression, self._new_decompressor = kind, factory
                self._decompressor = factory()
        self.consumed = 0
        """Bytes handed out so far (decompressed), for progress reports."""
        self.limit: int | None = None
        """Stop at this byte of the file (set by ``seek_region``), for reading a part of it."""
        self._blocks_from = 0
        self.cut: str | None = None
        """Why the data ended early (a compressed stream cut short or broken), else None."""
        self._members_done = 0
        """Compressed streams read to their end (gzip members, bzip2 or xz streams)."""
        self._broken_at: int | None = None
        """Where the decompressed data stopped because the compressed data was broken."""

    def read(self, size: int = BLOCK_SIZE) -> bytes:
        """About ``size`` bytes (at least one unless the data has ended)."""
        data = self._read_decompressed(size) if self._decompressor else self._read_raw(size)
        self.consumed += len(data)
        return data

    @classmethod
    def empty(cls, name: str) -> ByteSource:
        """A source with no bytes (for frames that do not come from a file)."""
        import io

        return cls(io.BytesIO(), name, b"", None)

    def seek_region(self, start: int, end: int, blocks_from: int) -> None:
        """Read only bytes start..end of an uncompressed file from now on, in the blocks the
        whole file is read in (``BLOCK_SIZE`` bytes each after its first ``blocks_from``), so
        that a reader of the region ends its blocks where a reader of the file would."""
        if self.compression or not self._raw.seekable():
            raise SourceError(f"{self.name}: only a plain file can be read in parts")
        self._raw.seek(start)
        self._pending = b""
        self.consumed, self.limit = start, end
        self._blocks_from = blocks_from

    def _read_raw(self, size: int) -> bytes:
        if self.limit is not None:
            size = min(size, self.limit - self.consumed, self._block_end() - self.consumed)
            if size <= 0:
                return b""
        if self._pending:
            data, self._pending = self._pending, b""
            return data + self._raw.read(max(size - len(data), 0))
        return self._raw.read(size)

    def _read_decompressed(self, size: int) -> bytes:
        if self._broken_at is not None:
            return b""
        while True:
            compressed = self._read_raw(size)
            decompressor = self._decompressor
            assert decompressor is not None
            if not compressed:
                if not decompressor.eof and self.cut is None:
                    self.cut = f"the {self.compression} stream ends early"
                return b""
            try:
                data = decompressor.decompress(compressed)
            except (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError) as exc:
                return self._broken(exc)
            if decompressor.eof and decompressor.unused_data:
                self._next_member(decompressor.unused_data)
            if data:
                return data

    def _broken(self, exc: Exception) -> bytes:
        """Compressed data that cannot be undone: an error before the first byte; after it, the
        end of the capture (what came before is read, and the cut reported), bytes after a
        complete stream being trailing garbage, as gzip(1) calls them."""
        if not self.consumed:
            raise SourceError(f"{self.name}: broken {self.compression} data: {exc}") from exc
        if self._members_done:
            self.cut = (f"the {self.compression} data is followed by bytes that are not "
                        f"{self.compression} (ignored)")
        else:
            self.cut = f"broken {self.compression} data ({exc})"
        self._broken_at = self.consumed
        return b""

    def _next_member(self, rest: bytes) -> None:
        """Concatenated compressed streams: start again on what follows the first one."""
        self._pending = rest + self._pending
        self._members_done += 1
        assert self._new_decompressor is not None
        self._decompressor = self._new_decompressor()

    def at_end(self) -> bool:
        """True once a region's limit is reached (not tried on streams)."""
        return self.limit is not None and self.consumed >= self._file_size()

    def _block_end(self) -> int:
        """Where the whole file's block that holds the next byte ends."""
        if self.consumed < self._blocks_from:
            return self._blocks_from
        return self.consumed + BLOCK_SIZE - (self.consumed - self._blocks_from) % BLOCK_SIZE

    def _file_size(self) -> int:
        position = self._raw.tell()
        size = self._raw.seek(0, 2)
        self._raw.seek(position)
        return size

    def read_all(self) -> bytes:
        """Everything that is left (for formats that need random access)."""
        parts = []
        while block := self.read():
            parts.append(block)
        return b"".join(parts)

    def close(self) -> None:
        if self._closer is not None:
            self._closer.close()


def open_source(path: str | Path, stdin: BinaryIO | None = None) -> ByteSource:
    """Open a file (or ``-`` for standard input) and undo any compression."""
    name = str(path)
    if name == "-":
        raw: BinaryIO = stdin if stdin is not None else sys.stdin.buffer
        return ByteSource(raw, "<stdin>", raw.read(8), None)
    try:
        raw = _open_url(name) if is_url(name) else open(path, "rb")  # noqa: SIM115 - closed by ByteSource.close
    except OSError as exc:
        raise SourceError(f"{name}: {exc.strerror or exc}") from exc
    return ByteSource(raw, name, raw.read(8), raw)


def is_url(name: str) -> bool:
    """An fsspec URL (s3://bucket/key, file:///path, memory://name), not a file name."""
    scheme, separator, _ = name.partition("://")
    return bool(separator) and scheme.replace("+", "").isalnum()


def _open_url(url: str) -> BinaryIO:
    """The file at an fsspec URL, read where it lies (fsspec, of the extra ``dask``)."""
    try:
        import fsspec
    except ImportError:
        raise OSError("reading a URL needs fsspec: pip install 'sipdiag[dask]'") from None
    try:
        raw: BinaryIO = fsspec.open(url, "rb").open()
    except FileNotFoundError:  # fsspec's carries the path only, not why
        raise OSError(errno.ENOENT, "No such file or directory") from None
    except (ValueError, ImportError) as exc:  # an unknown scheme, or its package missing
        raise OSError(str(exc)) from exc
    return raw


def expand_urls(names: list[str]) -> list[str]:
    """The names, each URL with a wildcard (``s3://bucket/2026/12/04/*.pcap.gz``) replaced by
    the URLs it matches, sorted; a pattern that matches nothing stays, to be reported when it
    is opened."""
    expanded: list[str] = []
    for name in names:
        if not (is_url(name) and any(c in name for c in "*?[")):
            expanded.append(name)
            continue
        import fsspec

        files = fsspec.open_files(name, "rb")
        expanded += sorted(file.full_name for file in files) or [name]
    return expanded
