"""Checking a PASSporT's ES256 signature with certificates the user trusts.

An ES256 JWS signature is R and S, 32 bytes each, over SHA-256 of ``header.claims`` as sent
(RFC 7515 section 5.2, RFC 7518 section 3.4): turned into the DER form ECDSA libraries take,
it is checked with the public key of a P-256 certificate (RFC 8225 section 5.1.2, RFC 8226).

Needs the ``cryptography`` package (``pip install 'sipdiag[stir]'``); only ``--stir-certs``
imports this module. Certificates come in as PEM bytes, read by the command line: nothing here
reads a file, and nothing ever fetches the x5u a capture names.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from sipdiag.sip.identity import ES256_SIGNATURE_BYTES

_HALF = ES256_SIGNATURE_BYTES // 2


@dataclass(frozen=True)
class Certificate:
    """A P-256 certificate: what ``SigningCertificate`` asks of one."""

    name: str
    subject: str
    key: ec.EllipticCurvePublicKey

    def verifies(self, signing_input: bytes, signature: bytes) -> bool:
        if len(signature) != ES256_SIGNATURE_BYTES:
            return False
        der = encode_dss_signature(int.from_bytes(signature[:_HALF]),
                                   int.from_bytes(signature[_HALF:]))
        try:
            self.key.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return False
        return True


def certificates_in(pem: bytes, name: str) -> list[Certificate]:
    """The P-256 certificates of a PEM file (a chain holds several; others are left out);
    ValueError when it holds no certificate at all."""
    found = x509.load_pem_x509_certificates(pem)
    return [Certificate(name, certificate.subject.rfc4514_string(), key)
            for certificate in found
            if isinstance(key := certificate.public_key(), ec.EllipticCurvePublicKey)
            and isinstance(key.curve, ec.SECP256R1)]
