"""The UI tests run Textual apps with ``asyncio.run``, which leaves the thread without a current
event loop; tests in the same process that use pyshark (its synchronous API asks
``asyncio.get_event_loop``) need one: each UI test puts back the loop the thread had, or a new
one."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _event_loop_kept() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            before: asyncio.AbstractEventLoop | None = asyncio.get_event_loop()
        except RuntimeError:
            before = None
    yield
    asyncio.set_event_loop(before if before is not None and not before.is_closed()
                           else asyncio.new_event_loop())
