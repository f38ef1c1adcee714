"""ES256 signatures of PASSporTs checked with certificates (RFC 7515 section 5.2, RFC 7518
section 3.4): the signature of samples/rules/identity-valid-a.pcap verifies with the test
certificate that craft_identity.py made beside it; anything changed in what it covers does
not. Certificates come in as PEM bytes; a file with none is refused."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from sipdiag.sip.identity import parse_identity
from sipdiag.sip.identity_signature import certificates_in
from tests.conftest import SAMPLES, read

PEM = (SAMPLES / "identity" / "sipdiag-test-signer.pem").read_bytes()


def sample_identity(name: str = "identity-valid-a.pcap") -> str:
    messages, _ = read(SAMPLES / "rules" / name)
    return messages[0].values("identity")[0]


def self_signed(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, name: str) -> bytes:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    start = datetime.datetime(2023, 1, 1, tzinfo=datetime.UTC)
    built = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
             .public_key(key.public_key()).serial_number(1).not_valid_before(start)
             .not_valid_after(start.replace(year=2024)).sign(key, hashes.SHA256()))
    return built.public_bytes(serialization.Encoding.PEM)


def test_the_sample_signature_verifies_with_the_test_certificate() -> None:
    [certificate] = certificates_in(PEM, "sipdiag-test-signer.pem")
    identity = parse_identity(sample_identity())
    assert certificate.name == "sipdiag-test-signer.pem"
    assert "TEST KEY" in certificate.subject
    assert certificate.verifies(identity.signing_input, identity.signature)


def test_anything_changed_in_what_is_signed_does_not_verify() -> None:
    [certificate] = certificates_in(PEM, "signer.pem")
    identity = parse_identity(sample_identity())
    changed = bytearray(identity.signing_input)
    changed[-1] ^= 1
    assert not certificate.verifies(bytes(changed), identity.signature)
    flipped = bytes([identity.signature[0] ^ 1]) + identity.signature[1:]
    assert not certificate.verifies(identity.signing_input, flipped)
    # a signature that is not R and S of 32 bytes each is no ES256 signature
    assert not certificate.verifies(identity.signing_input, identity.signature[:63])
    assert not certificate.verifies(identity.signing_input, b"")


def test_claims_rewritten_after_signing_do_not_verify() -> None:
    # craft_identity.py signed attestation B and then sent the claims with A
    [certificate] = certificates_in(PEM, "signer.pem")
    identity = parse_identity(sample_identity("identity-signature-altered.pcap"))
    assert identity.passport is not None and identity.passport.attest == "A"
    assert not certificate.verifies(identity.signing_input, identity.signature)


def test_another_key_does_not_verify() -> None:
    other = self_signed(ec.generate_private_key(ec.SECP256R1()), "another signer")
    [certificate] = certificates_in(other, "other.pem")
    identity = parse_identity(sample_identity())
    assert not certificate.verifies(identity.signing_input, identity.signature)


def test_only_p256_certificates_of_a_chain_are_kept() -> None:
    # ES256 is ECDSA with P-256 (RFC 7518 section 3.4); an RSA or P-384 certificate in the
    # same file (a chain, an authority) cannot check it
    rsa_pem = self_signed(rsa.generate_private_key(public_exponent=65537, key_size=2048), "rsa")
    p384 = self_signed(ec.generate_private_key(ec.SECP384R1()), "p384")
    found = certificates_in(rsa_pem + PEM + p384, "chain.pem")
    assert [c.subject for c in found] == [certificates_in(PEM, "x")[0].subject]
    assert certificates_in(rsa_pem, "rsa.pem") == []


@pytest.mark.parametrize("data", [b"", b"not a certificate", b"-----BEGIN CERTIFICATE-----\n"])
def test_a_file_without_a_certificate_is_refused(data: bytes) -> None:
    with pytest.raises(ValueError):
        certificates_in(data, "broken.pem")
