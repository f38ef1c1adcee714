"""The progress bar shown on stderr while a capture is read, when stderr is a terminal (rich
is loaded only then)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TextIO


@contextmanager
def progress_bar(
    err: TextIO, *, environ: Mapping[str, str], enabled: bool
) -> Iterator[Callable[[int, int | None], None] | None]:
    """A progress bar on stderr while a capture is read, when stderr is a terminal; the
    callback takes (bytes read, total bytes or None)."""
    if not enabled or not err.isatty():
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    from sipdiag.report.terminal import make_console

    console = make_console(err, environ=environ)
    with Progress(
        TextColumn("reading"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
        console=console, transient=True,
    ) as progress:
        task = progress.add_task("read", total=None)

        def update(done: int, total: int | None) -> None:
            progress.update(task, completed=done, total=total)

        yield update
