"""Link-layer types, as numbered by tcpdump.org's LINKTYPE_ registry.

Every reader translates its own notion of a link type (pcap header, pcapng IDB, ERF record type,
NetMon media type) into these numbers, so the network layer has one vocabulary.
"""

UNKNOWN = -1  # a format's own link type with no LINKTYPE_ equivalent
NULL = 0  # BSD loopback: 4-byte address family in host byte order
ETHERNET = 1
RAW_BSDOS = 12  # raw IP, as BSD/OS and some old tools wrote it
RAW_OPENBSD = 14
LOOP = 108  # OpenBSD loopback: address family in network byte order
RAW = 101  # raw IPv4 or IPv6, told apart by the version nibble
LINUX_SLL = 113
IPV4 = 228
IPV6 = 229
LINUX_SLL2 = 276

NAMES = {
    NULL: "BSD loopback",
    ETHERNET: "Ethernet",
    RAW_BSDOS: "raw IP",
    RAW_OPENBSD: "raw IP",
    LOOP: "OpenBSD loopback",
    RAW: "raw IP",
    LINUX_SLL: "Linux cooked capture v1",
    IPV4: "raw IPv4",
    IPV6: "raw IPv6",
    LINUX_SLL2: "Linux cooked capture v2",
}


def name(linktype: int) -> str:
    return NAMES.get(linktype, f"link type {linktype}")
