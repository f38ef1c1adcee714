"""A message as it was captured, read again from the capture files when asked for.

The call list keeps no message text (``rows.strip_text``): the raw view reads the capture once
more (``MessageReader``) and keeps the messages of the one Call-ID it wants. The text is capture
data: each line is shown with its control characters escaped (``for_terminal``), as ``Text``,
never as markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text

from sipdiag.analysis import MessageReader
from sipdiag.network.tls import Decryption
from sipdiag.report.escape import for_terminal
from sipdiag.report.messages import time_of_day
from sipdiag.sip.message import SipMessage


@dataclass(frozen=True, slots=True)
class RawMessage:
    frame: int
    frames: tuple[int, ...]
    ts_ns: int
    src: str
    dst: str
    transport: str
    text: str
    """The message's bytes as captured, decoded as UTF-8 (undecodable bytes as U+FFFD)."""

    @classmethod
    def of(cls, message: SipMessage) -> RawMessage:
        return cls(message.frame, message.frames, message.ts_ns, str(message.src),
                   str(message.dst), message.transport, message.raw.decode("utf-8", "replace"))


def read_call(paths: Sequence[str | Path], call_id: str,
              decryption: Decryption | None = None) -> dict[int, RawMessage]:
    """The messages of one Call-ID, by the frame each is shown in."""
    return {m.frame: RawMessage.of(m) for m in MessageReader(list(paths), decryption=decryption)
            if m.call_id == call_id}


def message_text(message: RawMessage, first_ts_ns: int) -> Text:
    """A heading (frame, time, addresses, transport), then the message line by line."""
    seconds = (message.ts_ns - first_ts_ns) / 1e9
    head = (f"frame {message.frame}  {time_of_day(message.ts_ns)}  +{seconds:.3f} s  "
            f"{message.src} → {message.dst}  {message.transport}")
    if len(message.frames) > 1:
        head += f"  (frames {', '.join(map(str, message.frames))})"
    text = Text(for_terminal(head) + "\n\n", style="bold")
    lines = message.text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for number, line in enumerate(lines):
        text.append(for_terminal(line.removesuffix("\r")) + "\n",
                    style="bold" if number == 0 else "")
    return text
