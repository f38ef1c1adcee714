#!/usr/bin/env python3
"""Craft the STIR/SHAKEN captures of samples/rules/ (identity-*.pcap) and the test
certificate that signs them (samples/identity/sipdiag-test-signer.pem).

Every INVITE here carries an Identity header (RFC 8224) with a real PASSporT (RFC 8225, SHAKEN
claims of RFC 8588), signed ES256 with a TEST KEY made in this script from a fixed number:
it signs nothing but these samples, and its certificate (self-signed, "TEST KEY" in its name)
is committed so that `sipdiag --stir-certs samples/identity` can verify them. A valid call
signed with attestation A; the signed caller or called number not the request's; iat 75 s
stale or 90 s ahead; attestation B (caller withheld, number in P-Asserted-Identity) and C; a
garbled header; the compact form; the answers 428 (no Identity), 436 (certificate URL over
http), 437 and 438 (stale iat; claims altered after signing). Made as craft_scenarios.py makes
its captures (sipflow.py, pcapkit.py): deterministic (RFC 6979 signatures), documentation
addresses, the numbers of the North American fictional range (555-01xx).

Usage:  python3 samples/craft_identity.py [--out DIR] [--check] [--list]
Needs scapy and cryptography (pip install 'sipdiag[stir]').

Generated for sipdiag, CC0.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import sys
from collections.abc import Callable

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID
from pcapkit import T0_US, Catalogue
from sipflow import ALICE, BOB, PROXY, Call, Capture, Tx

CATALOGUE = Catalogue("rules")
CERTIFICATES = Catalogue("identity")
Build = Callable[[Capture], None]

CALLER_TN = "12025550101"
CALLEE_TN = "12025550123"
CERTIFICATE_FILE = "sipdiag-test-signer.pem"
X5U = f"https://cert.example.org/stir/{CERTIFICATE_FILE}"
T0 = T0_US // 1_000_000
"""The capture's first second (2023-11-14 22:13:20 UTC): the iat of a request sent at 0 s."""
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
TEST_KEY = ec.derive_private_key(
    int.from_bytes(hashlib.sha256(b"sipdiag STIR/SHAKEN test key, not for use").digest())
    % (P256_ORDER - 1) + 1,
    ec.SECP256R1(),
)
"""The signing key, from a fixed number: anyone can rebuild it, so it must sign nothing else."""


def scenario(name: str, desc: str) -> Callable[[Build], Build]:
    return CATALOGUE.scenario(name, desc, Capture)


# --------------------------------------------------------------------------
# The certificate and the PASSporTs


def certificate() -> bytes:
    """The test key's self-signed certificate, PEM, the same bytes every time."""
    name = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, "sipdiag STIR test signer (TEST KEY, not for use)"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sipdiag samples"),
    ])
    start = datetime.datetime(2023, 1, 1, tzinfo=datetime.UTC)
    built = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(TEST_KEY.public_key())
        .serial_number(0x51D1A6)
        .not_valid_before(start)
        .not_valid_after(start.replace(year=2043))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(TEST_KEY, hashes.SHA256(), ecdsa_deterministic=True)
    )
    return built.public_bytes(serialization.Encoding.PEM)


@CERTIFICATES.file(CERTIFICATE_FILE, "the self-signed certificate of the test key that signs "
                   "the PASSporTs of identity-*.pcap (TEST KEY: it signs nothing else)")
def write_certificate(path: str) -> None:
    with open(path, "wb") as out:
        out.write(certificate())


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def canonical_json(value: dict) -> bytes:
    """Keys in order, no white space (RFC 8225 section 9)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def es256(signing_input: bytes) -> bytes:
    """R and S, 32 bytes each (RFC 7518 section 3.4), RFC 6979 deterministic."""
    der = TEST_KEY.sign(signing_input, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    r, s = decode_dss_signature(der)
    return r.to_bytes(32) + s.to_bytes(32)


def claims(c: Call, at: float, *, attest: str = "A", orig: str = CALLER_TN,
           dest: str = CALLEE_TN, iat_offset: int = 0) -> dict:
    """The SHAKEN claims of an INVITE sent at `at` seconds."""
    return {
        "attest": attest,
        "dest": {"tn": [dest]},
        "iat": T0 + round(at) + iat_offset,
        "orig": {"tn": orig},
        "origid": c.id("origid", n=32),
    }


def identity(payload: dict, *, x5u: str = X5U, signed: dict | None = None) -> str:
    """The Identity header of these claims; `signed`: the claims the signature was made over,
    when the claims sent are not those (altered after signing)."""
    header = b64url(canonical_json({"alg": "ES256", "ppt": "shaken", "typ": "passport",
                                    "x5u": x5u}))
    signing_input = f"{header}.{b64url(canonical_json(signed or payload))}"
    signature = b64url(es256(signing_input.encode()))
    return f"{header}.{b64url(canonical_json(payload))}.{signature};info=<{x5u}>;alg=ES256;" \
           "ppt=shaken"


def numbered_call(cap: Capture, **kw) -> Call:
    """alice at +1 202 555 0101 calls bob at +1 202 555 0123 (sip: URIs with user=phone)."""
    return cap.call(ALICE, BOB, from_uri=f"sip:+{CALLER_TN}@example.com;user=phone",
                    to_uri=f"sip:+{CALLEE_TN}@example.com;user=phone", **kw)


PCMU = ((0, "PCMU/8000", None),)


def offer(c: Call) -> str:
    """The caller's SDP, PCMU alone: with an Identity header an INVITE comes close to the
    1300 bytes over which RFC 3261 section 18.1.1 wants TCP, and these samples are UDP."""
    return c.sdp(ALICE, codecs=PCMU, ptime=None)


def signed_call(c: Call, value: str, headers: dict | None = None) -> Tx:
    """INVITE with this Identity, 100, 180, 200, ACK; BYE at 5 s, 200."""
    inv = c.setup(offer=offer(c), headers={**(headers or {}), "Identity": value})
    c.bye(5.0).reply(5.004, 200)
    return inv


def refused(c: Call, code: int, reason: str, value: str | None) -> Tx:
    """INVITE (with this Identity, if any), 100, then `code` from the verifier, ACK."""
    inv = c.invite(0.0, sdp=offer(c), headers={"Identity": value})
    inv.reply(0.004, 100)
    inv.reply(0.030, code, reason)
    inv.ack()
    return inv


# --------------------------------------------------------------------------
# The captures


@scenario(
    "identity-valid-a.pcap",
    "alice (+12025550101) calls bob (+12025550123) through the proxy: the INVITE carries a "
    "PASSporT signed at the time it is sent, attestation A, orig and dest as From and To; the "
    "proxy passes it on; answered, ACKed, BYE at 5 s",
)
def valid_a(cap: Capture) -> None:
    c = numbered_call(cap, proxy=PROXY)
    inv = c.invite(0.0, sdp=offer(c), headers={"Identity": identity(claims(c, 0.0))})
    inv.reply(0.002, 100)
    out = inv.forward(0.004, BOB, ruri=f"sip:+{CALLEE_TN}@{BOB.ip};user=phone",
                      record_route=False)
    out.reply(0.006, 100)
    inv.relay(0.202, out.reply(0.2, 180))
    inv.relay(2.502, out.reply(2.5, 200, sdp=c.sdp(BOB)))
    ack = inv.ack()
    ack.forward(ack.at + 0.002, BOB, record_route=False)
    c.bye(5.0).reply(5.004, 200)


@scenario(
    "identity-wrong-orig.pcap",
    "the PASSporT signs orig.tn 12025550199 but From is +12025550101 (no P-Asserted-Identity); "
    "answered",
)
def wrong_orig(cap: Capture) -> None:
    c = numbered_call(cap)
    signed_call(c, identity(claims(c, 0.0, orig="12025550199")))


@scenario(
    "identity-wrong-dest.pcap",
    "the PASSporT signs dest.tn [12025550188] but To and the Request-URI are +12025550123; "
    "answered",
)
def wrong_dest(cap: Capture) -> None:
    c = numbered_call(cap)
    signed_call(c, identity(claims(c, 0.0, dest="12025550188")))


@scenario(
    "identity-stale-iat.pcap",
    "the PASSporT's iat is 75 s before the INVITE is sent (2023-11-14 22:12:05 UTC); answered",
)
def stale_iat(cap: Capture) -> None:
    c = numbered_call(cap)
    signed_call(c, identity(claims(c, 0.0, iat_offset=-75)))


@scenario(
    "identity-iat-ahead.pcap",
    "the PASSporT's iat is 90 s after the INVITE is sent (the signer's clock ahead); answered",
)
def iat_ahead(cap: Capture) -> None:
    c = numbered_call(cap)
    signed_call(c, identity(claims(c, 0.0, iat_offset=90)))


@scenario(
    "identity-attest-b.pcap",
    "caller withheld (From anonymous, Privacy: id) with its number in P-Asserted-Identity; the "
    "PASSporT signs it with attestation B; answered",
)
def attest_b(cap: Capture) -> None:
    c = cap.call(ALICE, BOB, from_uri="sip:anonymous@anonymous.invalid",
                 to_uri=f"sip:+{CALLEE_TN}@example.com;user=phone")
    pai = f"<sip:+{CALLER_TN}@example.com;user=phone>"
    signed_call(c, identity(claims(c, 0.0, attest="B")),
                {"P-Asserted-Identity": pai, "Privacy": "id"})


@scenario(
    "identity-attest-c.pcap",
    "the PASSporT signs the call with attestation C (gateway); answered",
)
def attest_c(cap: Capture) -> None:
    c = numbered_call(cap)
    signed_call(c, identity(claims(c, 0.0, attest="C")))


@scenario(
    "identity-garbled.pcap",
    "the Identity header's claims part has four characters turned into %25 on the way (an "
    "element URL-encoding it), so it is no longer base64url; answered",
)
def garbled(cap: Capture) -> None:
    c = numbered_call(cap)
    header, payload, rest = identity(claims(c, 0.0)).split(".", 2)
    damaged = payload[:20] + "%25%25%25%25" + payload[24:]
    signed_call(c, f"{header}.{damaged}.{rest}")


@scenario(
    "identity-compact.pcap",
    "the Identity header in the compact form (..signature: header and claims left out, "
    "RFC 8225 section 7); answered",
)
def compact(cap: Capture) -> None:
    c = numbered_call(cap)
    _, _, rest = identity(claims(c, 0.0)).split(".", 2)
    signed_call(c, f"..{rest}")


@scenario("identity-428.pcap", "an INVITE with no Identity header, answered 428 Use Identity "
          "Header by the verifier; ACK")
def refused_428(cap: Capture) -> None:
    refused(numbered_call(cap), 428, "Use Identity Header", None)


@scenario(
    "identity-436.pcap",
    "the PASSporT's x5u and the info parameter name the certificate over http:, not https:; "
    "answered 436 Bad Identity Info; ACK",
)
def refused_436(cap: Capture) -> None:
    c = numbered_call(cap)
    url = f"http://cert.example.org/stir/{CERTIFICATE_FILE}"
    refused(c, 436, "Bad Identity Info", identity(claims(c, 0.0), x5u=url))


@scenario(
    "identity-437.pcap",
    "a valid PASSporT whose certificate the verifier does not trust (a self-signed test "
    "certificate): answered 437 Unsupported Credential; ACK",
)
def refused_437(cap: Capture) -> None:
    c = numbered_call(cap)
    refused(c, 437, "Unsupported Credential", identity(claims(c, 0.0)))


@scenario(
    "identity-438-stale.pcap",
    "the PASSporT's iat is 75 s before the INVITE: answered 438 Invalid Identity Header; ACK",
)
def refused_438_stale(cap: Capture) -> None:
    c = numbered_call(cap)
    refused(c, 438, "Invalid Identity Header", identity(claims(c, 0.0, iat_offset=-75)))


@scenario(
    "identity-signature-altered.pcap",
    "the PASSporT was signed with attestation B and its claims then rewritten to A, the "
    "signature kept: answered 438 Invalid Identity Header; ACK",
)
def signature_altered(cap: Capture) -> None:
    c = numbered_call(cap)
    value = identity(claims(c, 0.0, attest="A"), signed=claims(c, 0.0, attest="B"))
    refused(c, 438, "Invalid Identity Header", value)


def main(argv: list[str] | None = None) -> int:
    return max(CATALOGUE.main(argv, __doc__, __file__),
               CERTIFICATES.main(argv, __doc__, __file__))


if __name__ == "__main__":
    sys.exit(main())
