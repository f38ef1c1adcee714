"""The UI over a live capture (``sipdiag listen`` or ``live`` on a terminal): calls appear as
they end, and a message is read again from the file the frames are written to.

A HEP sender plays the agent: busy.pcap's messages (one call answered 486: busy, RFC 3261
21.4.24) sent to a collector on loopback, then a message of another call 40 s later, which
moves the capture's clock past the 32 s (64*T1) in which the busy call's retransmissions could
still come: its row appears while the capture goes on, and the raw view shows the INVITE
exactly as the agent saw it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sipdiag.analysis.sources import HepFrames
from sipdiag.capture.live import Listen, LiveReader
from sipdiag.capture.writer import PcapngWriter
from sipdiag.ui.app import SipdiagApp
from sipdiag.ui.live import LiveCapture
from sipdiag.ui.screens import MessageScreen
from tests.conftest import SAMPLES
from tests.live.hep_sender import hep3, messages_of, send_udp
from tests.ui.helpers import SIZE, engine, list_rows, screen_text

BUSY = SAMPLES / "calls" / "busy.pcap"


def test_calls_of_a_live_capture_appear_and_their_messages_can_be_read(tmp_path: Path) -> None:
    async def scenario() -> None:
        source = HepFrames(Listen.parse("udp:127.0.0.1:0"))
        writer = PcapngWriter(tmp_path / "live.pcapng", flush_interval=3600)  # only when asked
        capture = LiveReader(source, writer=writer)
        app = SipdiagApp(LiveCapture(capture, writer, source.name), engine())
        try:
            await check(app, source)
        finally:
            capture.stop()  # whatever happened: the analysis thread ends
            writer.close()

    async def check(app: SipdiagApp, source: HepFrames) -> None:
        async with app.run_test(size=SIZE) as pilot:
            messages = messages_of(BUSY)
            later = hep3(messages[0], ts_ns=messages[-1].ts_ns + 40 * 1_000_000_000,
                         raw=messages[0].raw.replace(b"busy-1@", b"later-1@"))
            send_udp([*map(hep3, messages), later], source.address)
            for _ in range(100):
                await asyncio.sleep(0.1)
                app.drain()
                if list_rows(app):
                    break
            assert list_rows(app) == [("busy-1@127.0.0.1", "busy", 486)]
            assert not app.feed.progress.done  # still capturing
            await pilot.press("enter", "enter")
            for _ in range(100):  # the message is read again from the file, in a worker
                await pilot.pause(0.1)
                if "INVITE sip:" in screen_text(app):
                    break
            assert isinstance(app.screen, MessageScreen)
            assert "INVITE sip:bob@127.0.0.1:5060 SIP/2.0" in screen_text(app)
            await pilot.press("q", "q", "q")

    asyncio.run(scenario())
