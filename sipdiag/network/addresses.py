"""IP addresses as text: the one form the layers compare them in, and what kind they are."""

from __future__ import annotations

import ipaddress
from functools import cache

_PRIVATE = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",  # RFC 1918
    "100.64.0.0/10",  # RFC 6598, carrier-grade NAT
    "169.254.0.0/16", "fe80::/10",  # link-local
    "fc00::/7",  # RFC 4193, unique local
))


@cache
def normal_ip(text: str) -> str | None:
    """An address as the network layer writes it (IPv6 compressed, no brackets); None for a
    host name or the unspecified address (0.0.0.0, ::)."""
    try:
        address = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None
    return None if address.is_unspecified else str(address)


@cache
def address_kind(text: str) -> str:
    """``private``, ``public`` or ``other`` (loopback, unspecified, multicast, not an IP
    address)."""
    try:
        address = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return "other"
    if address.is_loopback or address.is_unspecified or address.is_multicast:
        return "other"
    return "private" if any(address in net for net in _PRIVATE) else "public"
