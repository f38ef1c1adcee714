"""A SIP message redacted: each field that names someone, with what must stay readable."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping

import pytest

from sipdiag.evidence.redact.pseudonyms import Kind, Pseudonyms
from sipdiag.evidence.redact.refusal import Unredactable
from sipdiag.evidence.redact.sip import redact_message
from sipdiag.sip.headers import parse_name_addr, parse_uri, parse_via
from sipdiag.sip.parser import parse_message

SDP = (
    "v=0\r\n"
    "o=alice 2890844526 2890844527 IN IP4 192.168.1.10\r\n"
    "s=-\r\n"
    "c=IN IP4 192.168.1.10\r\n"
    "t=0 0\r\n"
    "m=audio 49170 RTP/SAVP 0\r\n"
    "a=rtcp:49171 IN IP4 192.168.1.10\r\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\n"
    "a=candidate:1 1 UDP 2130706431 192.168.1.10 49170 typ host\r\n"
    "a=candidate:2 1 UDP 1694498815 203.0.113.50 61000 typ srflx raddr 192.168.1.10 "
    "rport 49170\r\n"
)
INVITE = (
    "INVITE sip:+15557654321@pbx.example.com;user=phone SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK776;received=203.0.113.50;rport=61000\r\n"
    "Via: SIP/2.0/TCP proxy.example.com:5060;branch=z9hG4bK777;maddr=10.9.8.7\r\n"
    'From: "Alice Smith" <sip:+15551234567@example.com>;tag=1928301774\r\n'
    "To: Bob <tel:+1-555-765-4321>\r\n"
    "Call-ID: a84b4c76e66710@192.168.1.10\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:+15551234567@192.168.1.10:5060>\r\n"
    "P-Asserted-Identity: \"+15551234567\" <sip:+15551234567@example.com>\r\n"
    "Record-Route: <sip:[2001:db8::7];lr>\r\n"
    'Proxy-Authorization: Digest username="+15551234567", realm="example.com", '
    'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="sip:+15557654321@pbx.example.com", '
    'response="6629fae49393a05397450978507c4ef1", cnonce="0a4f113b", nc=00000001, qop=auth\r\n'
    "Content-Type: application/sdp\r\n"
    f"Content-Length: {len(SDP)}\r\n"
    "\r\n" + SDP
)
ORIGINALS = ("+15551234567", "15551234567", "5551234567", "+15557654321", "5557654321",
             "555-765-4321", "Alice", "Smith", "example.com", "192.168.1.10", "203.0.113.50",
             "10.9.8.7", "2001:db8::7", "dcd98b7102dd2f0e8b11d0f600bfb0c093",
             "6629fae49393a05397450978507c4ef1", "0a4f113b",
             "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR")


def _redacted(text: str, names: Pseudonyms | None = None) -> str:
    return redact_message(text.encode(), names or Pseudonyms(b"k")).decode()


def _field(message: str, name: str) -> list[str]:
    return re.findall(rf"(?im)^{name}:\s*(.*?)\r$", message)


@pytest.mark.parametrize("original", ORIGINALS)
def test_no_identifier_is_left(original: str) -> None:
    assert original.lower() not in _redacted(INVITE).lower()


def test_the_message_still_parses_with_the_same_transaction() -> None:
    redacted = _redacted(INVITE)
    before, after = parse_message(INVITE.encode()), parse_message(redacted.encode())
    assert (after.method, after.cseq) == (before.method, before.cseq)
    assert after.call_id.split("@")[0] == "a84b4c76e66710"  # the random part is kept
    assert _field(redacted, "Via")[0].split(";")[1] == "branch=z9hG4bK776"


def test_content_length_is_the_new_body_length() -> None:
    redacted = _redacted(INVITE)
    head, body = redacted.split("\r\n\r\n", 1)
    assert int(_field(head + "\r\n", "Content-Length")[0]) == len(body.encode())
    assert len(body) != len(SDP)  # the addresses changed length, so the test means something


def test_bytes_after_the_content_length_stay_after_it() -> None:
    """RFC 3261 18.3: over UDP, what follows the Content-Length's bytes is not the body. The
    new Content-Length ends the body where the old one did, whatever changed after it."""
    cut = SDP.index("a=rtcp")
    message = INVITE.replace(f"Content-Length: {len(SDP)}", f"Content-Length: {cut}")
    redacted = _redacted(message)
    head, body = redacted.split("\r\n\r\n", 1)
    length = int(_field(head + "\r\n", "Content-Length")[0])
    assert body[:length].endswith("m=audio 49170 RTP/SAVP 0\r\n")
    assert "192.168.1.10" not in body[length:]


def test_one_number_gets_one_pseudonym_in_every_place() -> None:
    """From, Contact, PAI, the Digest username (RFC 3261 22.4) and the PAI's display name all
    name +15551234567: they all read the same pseudonym."""
    redacted = _redacted(INVITE)
    users = {parse_uri(parse_name_addr(_field(redacted, name)[0]).uri).user  # type: ignore[union-attr]
             for name in ("From", "Contact", "P-Asserted-Identity")}
    assert len(users) == 1
    user = users.pop()
    assert re.fullmatch(r"\+\d{11}", user)
    assert f'username="{user}"' in redacted
    assert parse_name_addr(_field(redacted, "P-Asserted-Identity")[0]).display == user


def test_one_address_gets_one_pseudonym_in_every_layer_of_the_message() -> None:
    redacted = _redacted(INVITE)
    via = parse_via(_field(redacted, "Via")[0])
    assert via is not None
    contact = parse_uri(parse_name_addr(_field(redacted, "Contact")[0]).uri)
    assert contact is not None
    address = via.host
    assert contact.host == address and _field(redacted, "Call-ID")[0].endswith("@" + address)
    assert f"c=IN IP4 {address}\r\n" in redacted and f"IN IP4 {address}\r\na=crypto" in redacted
    assert f" {address} 49170 typ host" in redacted and f"raddr {address} rport" in redacted
    public = via.params["received"]
    assert f" {public} 61000 typ srflx" in redacted


def test_hosts_and_secrets_keep_their_shape() -> None:
    redacted = _redacted(INVITE)
    via = parse_via(_field(redacted, "Via")[1])
    assert via is not None and via.host.endswith(".invalid") and via.host.count(".") == 2
    assert re.search(r"maddr=\d+\.\d+\.\d+\.\d+", redacted)
    assert re.search(r"<sip:\[[0-9a-f:]+\];lr>", redacted)
    assert re.search(r'response="[0-9a-f]{32}"', redacted) and "nc=00000001" in redacted
    assert re.search(r"inline:[A-Za-z0-9+/]{40}\r\n", redacted)
    assert re.search(r"To: \"Name [0-9a-f]{6}\" <tel:\+\d-\d{3}-\d{3}-\d{4}>", redacted)


def _jws_part(data: Mapping[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_identity_claims_are_mapped_like_the_message_numbers() -> None:
    """RFC 8225: orig.tn and dest.tn are the numbers of From and To; after redaction they are
    still the same numbers as From's and To's pseudonyms; the x5u host is replaced."""
    header = {"alg": "ES256", "typ": "passport", "ppt": "shaken",
              "x5u": "https://cert.example.org/cert.pem"}
    claims = {"attest": "A", "dest": {"tn": ["15557654321"]}, "iat": 1700000000,
              "orig": {"tn": "15551234567"}, "origid": "123e4567-e89b-12d3-a456-426655440000"}
    identity = f"{_jws_part(header)}.{_jws_part(claims)}.c2lnbmF0dXJl;info=<https://cert.example.org/cert.pem>;alg=ES256;ppt=shaken"
    message = INVITE.replace("CSeq:", f"Identity: {identity}\r\nCSeq:")
    names = Pseudonyms(b"k")
    redacted = _redacted(message, names)
    value = _field(redacted, "Identity")[0]
    token = value.split(";")[0]
    new_header, new_claims = (json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
                              for p in token.split(".")[:2])
    from_user = parse_uri(parse_name_addr(_field(redacted, "From")[0]).uri).user  # type: ignore[union-attr]
    assert new_claims["orig"]["tn"] == from_user.lstrip("+")
    assert new_claims["dest"]["tn"][0] != "15557654321"
    assert "example.org" not in value and "cert" not in new_header["x5u"]
    assert re.fullmatch(r"https://h[0-9a-f]{6}\.h[0-9a-f]{6}\.invalid/[a-z]{4}\.[a-z]{3}",
                        new_header["x5u"])  # host and path (its segments) mapped, shape kept
    assert token.split(".")[2] == "c2lnbmF0dXJl"
    assert names.replaced[Kind.IDENTITY] == 1


def test_a_body_of_unknown_type_is_removed() -> None:
    body = "Signal=5\r\nDuration=160\r\n"
    info = INVITE.split("Content-Type")[0].replace("INVITE sip", "INFO sip").replace(
        "314159 INVITE", "314160 INFO") + (
        f"Content-Type: application/dtmf-relay\r\nContent-Length: {len(body)}\r\n\r\n{body}")
    redacted = _redacted(info)
    assert redacted.endswith("Content-Length: 0\r\n\r\n") and "Signal" not in redacted


def test_multipart_bodies_are_redacted_part_by_part() -> None:
    parts = (f"--b1\r\nContent-Type: application/sdp\r\n\r\n{SDP}\r\n"
             "--b1\r\nContent-Type: application/isup\r\n\r\n\x01\x02secret\r\n--b1--\r\n")
    message = INVITE.split("Content-Type")[0] + (
        f"Content-Type: multipart/mixed;boundary=b1\r\nContent-Length: {len(parts)}\r\n\r\n"
        + parts)
    redacted = _redacted(message)
    assert "192.168.1.10" not in redacted and "secret" not in redacted
    # the ISUP part is removed with its headers: an empty part typed ISUP is broken ISUP
    assert "application/isup" not in redacted
    assert redacted.count("--b1") == 2 and redacted.endswith("\r\n--b1--\r\n")
    head, body = redacted.split("\r\n\r\n", 1)
    assert int(_field(head + "\r\n", "Content-Length")[0]) == len(body)


def test_what_is_not_sip_is_refused() -> None:
    with pytest.raises(Unredactable):
        redact_message(b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", Pseudonyms(b"k"))
