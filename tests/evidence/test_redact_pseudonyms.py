"""Pseudonyms keep what the analysis reads from an identifier's shape, and nothing else."""

from __future__ import annotations

import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from sipdiag.evidence.redact.pseudonyms import Kind, Pseudonyms
from sipdiag.network.addresses import address_kind

KEY = b"k1"


def test_the_same_key_gives_the_same_pseudonyms_and_another_key_others() -> None:
    def made(names: Pseudonyms) -> list[str]:
        return [names.identity("alice"), names.host("pbx.example.com"),
                names.ip_text("203.0.113.7"), names.display_name("Alice Smith")]

    one, again, other = (made(Pseudonyms(key)) for key in (KEY, KEY, b"k2"))
    assert one == again
    assert all(a != b for a, b in zip(one, other, strict=True))


def test_a_number_keeps_its_length_its_digits_and_its_punctuation() -> None:
    names = Pseudonyms(KEY)
    pseudo = names.identity("+1 (555) 123-4567")
    assert pseudo != "+1 (555) 123-4567"
    assert [c.isdigit() for c in pseudo] == [c.isdigit() for c in "+1 (555) 123-4567"]
    assert [c for c in pseudo if not c.isdigit()] == list("+ () -")
    # written with or without its punctuation, a number maps alike (RFC 3966 visual separators)
    assert names.identity("+15551234567") == "+" + "".join(c for c in pseudo if c.isdigit())


def test_a_name_stays_alphanumeric() -> None:
    pseudo = Pseudonyms(KEY).identity("alice.smith2")
    assert len(pseudo) == 12 and pseudo[5] == "." and pseudo[-1].isdigit()
    assert pseudo.replace(".", "").isalnum() and pseudo != "alice.smith2"


def test_short_numbers_that_collide_are_told_apart() -> None:
    """Every 2-digit number gets its own pseudonym: 100 numbers, 100 pseudonyms."""
    names = Pseudonyms(KEY)
    assert len({names.identity(f"{n:02d}") for n in range(100)}) == 100


def test_a_host_name_keeps_its_labels_and_shares_its_domain() -> None:
    names = Pseudonyms(KEY)
    pbx, proxy = names.host("pbx.example.com"), names.host("proxy.example.com")
    assert pbx.count(".") == 2 and pbx.endswith(".invalid")  # RFC 6761 6.4
    assert pbx.split(".")[1:] == proxy.split(".")[1:] and pbx != proxy
    assert names.host("PBX.Example.COM") == pbx  # host names are case-insensitive
    assert "example" not in pbx


@given(st.integers(0, 2**32 - 1))
def test_an_ipv4_address_keeps_its_kind(number: int) -> None:
    """Invariant: a private, public, loopback or multicast address stays one (the NAT
    findings read the kind), and an IPv4 address stays IPv4."""
    address = ipaddress.IPv4Address(number)
    pseudo = ipaddress.ip_address(Pseudonyms(KEY).ip(address.packed))
    assert pseudo.version == 4
    assert address_kind(str(pseudo)) == address_kind(str(address))
    assert pseudo.is_multicast == address.is_multicast and pseudo.is_loopback == address.is_loopback


def test_an_ipv6_address_keeps_its_kind_and_a_mapped_ipv4_its_mapping() -> None:
    names = Pseudonyms(KEY)
    for text in ("2001:db8::1", "fe80::1", "fd00::5", "ff02::1"):
        pseudo = names.ip_text(text)
        assert ipaddress.ip_address(pseudo).version == 6 and pseudo != text
        assert address_kind(pseudo) == address_kind(text)
    mapped = ipaddress.IPv6Address(names.ip_text("::ffff:198.51.100.9"))
    assert mapped.ipv4_mapped == ipaddress.IPv4Address(names.ip_text("198.51.100.9"))


def test_addresses_that_name_no_one_stay() -> None:
    names = Pseudonyms(KEY)
    assert [names.ip_text(a) for a in ("0.0.0.0", "255.255.255.255", "::", "::1")] == [
        "0.0.0.0", "255.255.255.255", "::", "::1"]
    assert names.replaced[Kind.IP_ADDRESS] == 0


def test_a_mac_address_keeps_its_group_and_local_bits() -> None:
    names = Pseudonyms(KEY)
    for first in (0x00, 0x01, 0x02, 0x03):
        mac = bytes([first, 0x11, 0x22, 0x33, 0x44, 0x55])
        pseudo = names.mac(mac)
        assert pseudo != mac and pseudo[0] & 3 == first


def test_counts_are_per_kind_with_distinct_identifiers() -> None:
    names = Pseudonyms(KEY)
    for user in ("alice", "bob", "alice"):
        names.identity(user)
    names.ip_text("192.0.2.1")
    assert names.replaced[Kind.USER] == 3 and names.distinct(Kind.USER) == 2
    assert names.replaced[Kind.IP_ADDRESS] == 1


def test_no_number_is_its_own_pseudonym() -> None:
    """A pseudonym equal to its original would leave that number in the file: among the 1,000
    three-digit extensions, a keyed hash that keeps the length gives about one back unchanged
    unless the mapping refuses it."""
    names = Pseudonyms(b"redaction tests")
    assert [n for n in (f"{n:03d}" for n in range(1000)) if names.identity(n) == n] == []
