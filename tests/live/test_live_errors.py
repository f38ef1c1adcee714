"""What ``live`` and ``listen`` say when they cannot start: one line on standard error and
exit code 2 (README, exit codes), never a traceback."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def sipdiag(*args: str, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*prefix, sys.executable, "-m", "sipdiag", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=30,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def assert_one_line(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("sipdiag: error: "), result.stderr
    for word in words:
        assert word in lines[0]


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                    reason="needs root to run sipdiag as a user without capture rights")
def test_capturing_without_the_right_says_what_to_do() -> None:
    result = sipdiag("live", "-i", "lo", "--duration", "1",
                     prefix=("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                             "--inh-caps=-all", "--bounding-set=-all"))
    assert_one_line(result, "capturing on lo needs the right", "CAP_NET_RAW")


@pytest.mark.skipif(os.geteuid() != 0, reason="capturing needs root or CAP_NET_RAW")
def test_a_filter_that_does_not_compile_is_named() -> None:
    assert_one_line(sipdiag("live", "-i", "lo", "udp", "port", "nonsense"),
                    "capture filter 'udp port nonsense' does not compile")


@pytest.mark.skipif(os.geteuid() != 0, reason="capturing needs root or CAP_NET_RAW")
def test_an_interface_that_does_not_exist_is_named() -> None:
    assert_one_line(sipdiag("live", "-i", "nosuch0"), "cannot capture on nosuch0")


def test_a_port_in_use_is_named() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        assert_one_line(sipdiag("listen", "--hep", f"udp:127.0.0.1:{port}"),
                        f"cannot listen on udp:127.0.0.1:{port}: is in use")


@pytest.mark.parametrize("address", ["udp:9060", "sctp:0.0.0.0:9060", "udp:0.0.0.0:70000"])
def test_a_listening_address_that_cannot_be_is_a_usage_error(address: str) -> None:
    result = sipdiag("listen", "--hep", address)
    assert result.returncode == 2
    assert "argument --hep" in result.stderr and "Traceback" not in result.stderr
