"""Export from the UI: the marked calls (else those the filter shows, else every one) written
as the report the command line writes for them, in the format the file's name says."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
from pathlib import Path

import pytest

from sipdiag.cli import Environment, main
from sipdiag.ui.export import CallIds, ExportError, format_of
from sipdiag.ui.screens import Prompt
from tests.conftest import SAMPLES
from tests.ui.helpers import settled, started

CALLS = SAMPLES / "calls"


def cli(*argv: str) -> str:
    out = io.StringIO()
    main(list(argv), Environment(stdout=out, stderr=io.StringIO(), environ={}))
    return out.getvalue()


async def export_to(app, pilot, path: Path) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("f2")
    assert isinstance(app.screen, Prompt)
    app.screen.query_one("#answer").value = str(path)
    await pilot.press("enter")
    await settled(app, pilot)
    assert app.exported == path


def test_the_marked_call_as_json_is_what_sipdiag_call_writes(tmp_path: Path) -> None:
    captures = [str(CALLS / "bye-481.pcap"), str(CALLS / "options-keepalive.pcap")]
    target = tmp_path / "calls.json"

    async def scenario() -> None:
        async with started(captures) as (app, pilot):
            await pilot.press("space")  # the first row: the call of bye-481.pcap (frame 1)
            await export_to(app, pilot, target)

    asyncio.run(scenario())
    written = json.loads(target.read_text(encoding="utf-8"))
    expected = json.loads(cli(*captures, "--format", "json", "--call", "bye-481-1@127.0.0.1",
                              "-j", "1"))
    assert [c["call_id"] for c in written["calls"]] == ["bye-481-1@127.0.0.1"]
    assert written["exchanges"] == []
    assert written["calls"] == expected["calls"]
    assert written == expected


def test_the_filtered_calls_as_markdown(tmp_path: Path) -> None:
    captures = [str(p) for p in sorted(CALLS.glob("*.pcap"))]
    target = tmp_path / "failed.md"

    async def scenario() -> None:
        async with started(captures) as (app, pilot):
            await pilot.press("slash", *"failed", "enter")
            await export_to(app, pilot, target)

    asyncio.run(scenario())
    failing = ["bye-481-1@127.0.0.1", "no-ack-32s-1@127.0.0.1",
               "options-keepalive-lost-1@127.0.0.1", "options-keepalive-lost-2@127.0.0.1"]
    argv = [arg for call_id in failing for arg in ("--call", call_id)]
    assert target.read_text(encoding="utf-8") == cli(*captures, "--format", "markdown", *argv,
                                                     "-j", "1")


def test_every_call_as_html_when_nothing_is_chosen(tmp_path: Path) -> None:
    capture = str(CALLS / "busy.pcap")
    target = tmp_path / "all.html"

    async def scenario() -> None:
        async with started([capture]) as (app, pilot):
            await export_to(app, pilot, target)

    asyncio.run(scenario())
    assert target.read_text(encoding="utf-8") == cli(capture, "--format", "html", "-j", "1")


def test_a_name_without_a_known_extension_is_refused(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with started([CALLS / "busy.pcap"]) as (app, pilot):
            app.start_export(tmp_path / "calls.txt", None)
            await settled(app, pilot)
            assert app.exported is None
            assert not (tmp_path / "calls.txt").exists()

    asyncio.run(scenario())
    with pytest.raises(ExportError, match=r"\.json, \.md, \.html or \.pcapng"):
        format_of(Path("calls.pdf"))


def test_the_marked_call_as_a_capture_holds_its_sip_frames_as_captured(tmp_path: Path) -> None:
    """bye-481.pcap's call is 14 SIP messages in 14 frames (tshark); exported with another
    capture's OPTIONS exchanges beside it, the file holds those 14 frames alone, byte for byte
    and with their times, and reads as the same call."""
    captures = [str(CALLS / "bye-481.pcap"), str(CALLS / "options-keepalive.pcap")]
    target = tmp_path / "call.pcapng"

    async def scenario() -> None:
        async with started(captures) as (app, pilot):
            await pilot.press("space")  # the call of bye-481.pcap (frame 1)
            await export_to(app, pilot, target)

    asyncio.run(scenario())
    exported = subprocess.run(["tshark", "-r", str(target), "-T", "fields", "-e",
                               "frame.time_epoch", "-e", "sip.Call-ID"],
                              capture_output=True, text=True, check=True).stdout.splitlines()
    original = subprocess.run(["tshark", "-r", str(CALLS / "bye-481.pcap"), "-Y", "sip",
                               "-T", "fields", "-e", "frame.time_epoch", "-e", "sip.Call-ID"],
                              capture_output=True, text=True, check=True).stdout.splitlines()
    assert len(original) == 14 and exported == original
    again = json.loads(cli(str(target), "--format", "json"))
    alone = json.loads(cli(str(CALLS / "bye-481.pcap"), "--format", "json"))
    assert [(c["call_id"], c["outcome"], c["findings"], c["start"]) for c in again["calls"]] == \
        [(c["call_id"], c["outcome"], c["findings"], c["start"]) for c in alone["calls"]]


def test_call_ids_answer_membership_from_a_set() -> None:
    ids = CallIds(["a", "b", "a"])
    assert ids == ("a", "b") and "b" in ids and "c" not in ids and isinstance(ids, tuple)
