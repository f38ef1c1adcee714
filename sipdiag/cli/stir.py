"""``--stir-certs DIR``: the certificates a user trusts to verify STIR signatures, read from
the PEM files of a folder and handed to the rules as data (``rules.given``).

Verifying needs the optional ``cryptography`` package; without it the option is refused in
one line (exit 2). The x5u URL a capture names is never fetched: only these files are read.
"""

from __future__ import annotations

from pathlib import Path

from sipdiag.rules import DataError, Engine
from sipdiag.rules.given import trusting
from sipdiag.sip.identity import SigningCertificate

INSTALL = "pip install 'sipdiag[stir]'"
SUFFIXES = (".pem", ".crt", ".cer")
"""The files read: the usual names of PEM certificates (a private key beside them is not)."""


def with_certificates(engine: Engine, folder: Path) -> Engine:
    """The engine, verifying signatures with the certificates of the folder's PEM files;
    DataError when the package is missing, a file holds no certificate, or the folder none."""
    try:
        from sipdiag.sip.identity_signature import certificates_in
    except ImportError as exc:
        raise DataError(f"--stir-certs needs the cryptography package: {INSTALL}") from exc
    found: list[SigningCertificate] = []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES):
        try:
            found += certificates_in(path.read_bytes(), path.name)
        except ValueError as exc:
            raise DataError(f"{path}: not a PEM certificate ({exc})") from exc
        except OSError as exc:
            raise DataError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    if not found:
        raise DataError(f"{folder}: no P-256 certificate (ES256) in its PEM files")
    return trusting(engine, found)
