"""Running a test's traffic in a network namespace of its own (``unshare -n``), where the
machine allows it, so that nothing else is on its loopback."""

from __future__ import annotations

import subprocess


def in_namespace() -> list[str]:
    """The command prefix that runs in a new network namespace; none where not allowed."""
    allowed = subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0
    return ["unshare", "-n"] if allowed else []
