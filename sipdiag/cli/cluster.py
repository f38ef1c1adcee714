"""``--dask``: the Dask cluster an analysis runs on, a running one or one started here."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sipdiag.capture import CaptureError

if TYPE_CHECKING:
    from distributed import Client

ENVIRONMENT = "SIPDIAG_DASK"
CONNECT_SECONDS = 30


class ClusterError(CaptureError):
    """Dask missing, or no scheduler at the address: one line for the user, exit 2."""


def cluster_address(option: str | None, environ: Mapping[str, str]) -> str | None:
    """The ``--dask`` option, else the environment's ``SIPDIAG_DASK``, else None."""
    return option or environ.get(ENVIRONMENT) or None


@contextmanager
def dask_client(address: str) -> Iterator[Client]:
    """A client of the scheduler at ``address``, or of a cluster of N processes started here
    and stopped after (``local`` or ``local:N``; N: one per core)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ClusterError("--dask needs Dask: pip install 'sipdiag[dask]'") from None
    if address == "local" or address.startswith("local:"):
        workers = _worker_count(address)
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=":0", silence_logs=logging.ERROR) as cluster, \
                Client(cluster) as client:
            yield client
        return
    try:
        client = Client(address, timeout=CONNECT_SECONDS)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(f"--dask {address}: no Dask scheduler answered ({exc})") from None
    with client:
        yield client


def _worker_count(address: str) -> int:
    _, _, count = address.partition(":")
    if not count:
        return os.cpu_count() or 1
    if not count.isdigit() or int(count) < 1:
        raise ClusterError(f"--dask {address}: give local, or local:N with N workers (1 or "
                           f"more)")
    return int(count)
