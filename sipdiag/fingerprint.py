"""A 64-bit fingerprint of text that is the same in every process and on every machine.

Python's ``hash`` of a string changes with each interpreter's hash seed: forked processes share
it, the processes of a Dask cluster do not. What one process counts by a hash and another
merges (the Call-IDs a share saw, the requests of a retry storm) is counted by this instead.
"""

from __future__ import annotations

from hashlib import blake2b


def fingerprint(*parts: str) -> int:
    """A signed 64-bit integer (it fits ``array("q")``) of the parts, each one distinct from
    the same text split otherwise."""
    digest = blake2b("\x00".join(parts).encode("utf-8", "surrogatepass"), digest_size=8)
    return int.from_bytes(digest.digest(), "little", signed=True)
