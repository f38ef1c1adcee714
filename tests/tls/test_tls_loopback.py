"""SIP over real TLS sockets on loopback, captured by tcpdump: two Python endpoints
(tests/tls/loopback_call.py) place one call over TLS 1.2 and one over TLS 1.3 on port 5061,
the client writing the key log; sipdiag decrypts the recording with it and reads both calls
as the endpoints made them (INVITE, 200, ACK, BYE, 200, completed). Without the key log the
two sessions are told, with their SNI. In a network namespace the test makes (``unshare
-n``) where it can, so nothing else is on that loopback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.namespaces import in_namespace

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="capturing needs root or CAP_NET_RAW"),
    pytest.mark.skipif(shutil.which("tcpdump") is None, reason="needs tcpdump (.ci/run)"),
]

SCRIPT = """
set -e
ip link set lo up 2>/dev/null || true
timeout 30 tcpdump -i lo -U -w "$OUT/tls.pcap" tcp port 5061 2> "$OUT/tcpdump.txt" &
dump=$!
for _ in $(seq 100); do grep -q "listening on lo" "$OUT/tcpdump.txt" && break; sleep 0.1; done
"$PYTHON" "$CALL" 5061 1.2 loopback-tls12@sip.example.test "$OUT/keys.log"
"$PYTHON" "$CALL" 5061 1.3 loopback-tls13@sip.example.test "$OUT/keys.log"
# tcpdump writes each packet as it reads it (-U): stop it once the file has stopped growing
# for a second (on a busy machine the last packets may still wait in the kernel's buffer)
last=-1; still=0
for _ in $(seq 60); do
  size=$(stat -c %s "$OUT/tls.pcap")
  if [ "$size" = "$last" ]; then still=$((still + 1)); else still=0; fi
  [ "$still" -ge 4 ] && break
  last=$size; sleep 0.25
done
kill $dump
wait $dump || true
"""



def report(*args: str) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-m", "sipdiag", *args, "--format", "json",
                          "--fail-on", "never"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    document: dict[str, object] = json.loads(out)
    return document


def test_calls_over_real_tls_sockets_are_read_with_the_key_log(tmp_path: Path) -> None:
    env = {**os.environ, "OUT": str(tmp_path), "PYTHON": sys.executable,
           "CALL": str(HERE / "loopback_call.py")}
    subprocess.run([*in_namespace(), "bash", "-c", SCRIPT], env=env, check=True, timeout=60)
    capture, keys = tmp_path / "tls.pcap", tmp_path / "keys.log"
    document = report(str(capture), "--tls-keylog", str(keys))
    calls = {c["call_id"]: c for c in document["calls"]}  # type: ignore[attr-defined]
    assert set(calls) == {"loopback-tls12@sip.example.test", "loopback-tls13@sip.example.test"}
    for call in calls.values():
        assert call["outcome"] == "completed" and call["final_status"] == 200
    listed = subprocess.run(
        [sys.executable, "-m", "sipdiag", "messages", str(capture), "--tls-keylog", str(keys),
         "--format", "jsonl"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    messages = [json.loads(line) for line in listed.splitlines()]
    for call_id in calls:  # as loopback_call.py sent them, each over TLS from its own port
        mine = [m for m in messages if m["call_id"] == call_id]
        assert [(m["method"] or m["status"], m["transport"]) for m in mine] == [
            ("INVITE", "TLS"), (200, "TLS"), ("ACK", "TLS"), ("BYE", "TLS"), (200, "TLS")]
        assert {m["dst"] for m in mine if m["method"]} == {"127.0.0.1:5061"}
    sessions = document["capture"]["tls_sessions"]  # type: ignore[index]
    assert sorted((s["version"], s["decryption"], s["sni"], s["sip_messages"])
                  for s in sessions) == [("TLS 1.2", "decrypted", "sip.example.test", 5),
                                         ("TLS 1.3", "decrypted", "sip.example.test", 5)]
    without = report(str(capture))
    assert without["calls"] == []
    told = without["capture"]["tls_sessions"]  # type: ignore[index]
    assert sorted((s["version"], s["decryption"], s["sni"]) for s in told) == [
        ("TLS 1.2", "no_keys", "sip.example.test"), ("TLS 1.3", "no_keys", "sip.example.test")]
