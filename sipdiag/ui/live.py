"""A live capture as the UI's ``Capture``: the frames come from an interface or a HEP
collector (``capture.live``), and go, as they are analysed, to a pcapng file (``-w``, or a
temporary one) from which the UI reads a message again or exports calls."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sipdiag.capture import Reader
from sipdiag.capture.live import LiveReader
from sipdiag.capture.writer import PcapngWriter


@dataclass
class LiveCapture:
    reader: LiveReader
    writer: PcapngWriter
    name: str

    def open(self) -> Reader:
        return self.reader

    decryption = None  # a live capture has no key log

    def files(self) -> list[str | Path]:
        self.writer.flush()  # what was analysed is on disk before it is read again
        return list(self.writer.written_files)

    def stop(self) -> None:
        self.reader.stop()
