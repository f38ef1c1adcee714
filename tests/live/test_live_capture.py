"""``sipdiag live``: SIPp calls captured from the loopback interface as they happen.

Inside a network namespace the test makes (``unshare -n``, so nothing else is on its loopback;
the host's loopback with a filter on the test's own ports where namespaces are not allowed),
SIPp's built-in UAC places three calls to its built-in UAS while ``sipdiag live`` captures and
tcpdump records the same interface with nanosecond times. The calls sipdiag printed as they
ended must be exactly those of tcpdump's file read afterwards (every field of the JSON
document, frame numbers and times included), and sipdiag's own ``-w`` file must read the same.
Bounded: three calls, timeouts on every process.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.namespaces import in_namespace

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ("sipp", "tcpdump", "ip")

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="capturing needs root or CAP_NET_RAW"),
    pytest.mark.skipif(any(shutil.which(tool) is None for tool in TOOLS),
                       reason=f"needs {', '.join(TOOLS)} (installed by .ci/run)"),
]

SCRIPT = """
set -e
ip link set lo up 2>/dev/null || true
timeout 30 "$PYTHON" -m sipdiag live -i lo --duration 7 --format jsonl -w "$OUT/live.pcapng" \\
    --fail-on never udp port $UAS or udp port $UAC > "$OUT/lines.jsonl" 2> "$OUT/err.txt" &
live=$!
timeout 30 tcpdump -i lo --time-stamp-precision=nano -U -w "$OUT/tcpdump.pcap" \\
    udp port $UAS or udp port $UAC 2> "$OUT/tcpdump.txt" &
dump=$!
for _ in $(seq 200); do  # both capturing (each says so on standard error), 20 s at most
    grep -q "live capture on lo" "$OUT/err.txt" && grep -q "listening on lo" "$OUT/tcpdump.txt" \\
        && break
    sleep 0.1
done
timeout 20 sipp -sn uas -i 127.0.0.1 -p $UAS -m 3 -nostdin >/dev/null 2>&1 &
uas=$!
sleep 0.5
timeout 20 sipp -sn uac 127.0.0.1:$UAS -i 127.0.0.1 -p $UAC -m 3 -r 5 -d 500 -nostdin \\
    >/dev/null 2>&1
wait $uas
wait $live
sleep 0.5
kill $dump
wait $dump || true
"""



def analysed(path: Path) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-m", "sipdiag", str(path), "--format", "json",
                          "--fail-on", "never"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    document: dict[str, object] = json.loads(out)
    return document


def test_calls_printed_live_are_those_of_a_tcpdump_recording(tmp_path: Path) -> None:
    environment = {**os.environ, "PYTHON": sys.executable, "OUT": str(tmp_path),
                   "UAS": "15070", "UAC": "15080", "PYTHONPATH": str(ROOT)}
    subprocess.run([*in_namespace(), "bash", "-c", SCRIPT], env=environment, cwd=ROOT,
                   check=True, timeout=60)
    lines = [json.loads(text) for text in (tmp_path / "lines.jsonl").read_text().splitlines()]
    assert [line.pop("kind") for line in lines] == ["call"] * 3
    recorded = analysed(tmp_path / "tcpdump.pcap")
    calls = recorded["calls"]
    assert isinstance(calls, list) and len(calls) == 3
    # SIPp's built-in UAC: INVITE, 100, 180, 200, ACK, 500 ms, BYE, 200 (RFC 3261 13, 15).
    assert {(c["outcome"], c["final_status"], c["ended_by"]) for c in calls} == {
        ("completed", 200, "caller")}
    assert sorted(lines, key=lambda c: c["frames"]) == calls
    assert analysed(tmp_path / "live.pcapng")["calls"] == calls
    assert "wrote" in (tmp_path / "err.txt").read_text()
