"""Header values read field by field: Reason, Warning, parameters, URIs, name-addr, Via, lists.

Every expected value is read off the text the test writes, by the grammar of RFC 3261
section 25 (and RFC 3326 for Reason, RFC 5626 for +sip.instance).
"""

from __future__ import annotations

import pytest

from sipdiag.sip.headers import (
    NameAddr,
    Reason,
    SipWarning,
    parse_headers,
    parse_name_addr,
    parse_params,
    parse_reason,
    parse_uri,
    parse_via,
    parse_warning,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # RFC 3326 section 2: protocol, then cause and text parameters.
        ('Q.850;cause=41;text="Temporary failure"', Reason("Q.850", 41, "Temporary failure")),
        ('SIP ;cause=200 ;text="Call completed elsewhere"',
         Reason("SIP", 200, "Call completed elsewhere")),
        ("q.850;cause=16", Reason("Q.850", 16, "")),  # protocol upper-cased, no text
        ('Q.850;text="a;b=c";cause=17', Reason("Q.850", 17, "a;b=c")),  # ; and = quoted
        ("Q.850;CAUSE=31", Reason("Q.850", 31, "")),  # parameter names are case-insensitive
        ("Q.850;cause=123456", Reason("Q.850", 123456, "")),  # cause = 1*DIGIT
    ],
)
def test_reason_values(value: str, expected: Reason) -> None:
    assert parse_reason(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        'SIP;text="no cause"',  # no cause parameter at all
        "Q.850",  # no parameters
        "Q.850;cause=abc",  # not a number
        "Q.850;cause=",
        "Q.850;cause=1234567",  # longer than any protocol's cause: not read as one
        ";cause=16",  # no protocol
    ],
)
def test_reason_without_a_numeric_cause(value: str) -> None:
    assert parse_reason(value) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # RFC 3261 20.43: warn-code SP warn-agent SP warn-text (a quoted string).
        ('305 192.0.2.7 "Incompatible media format"',
         SipWarning(305, "192.0.2.7", "Incompatible media format")),
        ('399 proxy.example.com:5060 "say \\"hi\\""',
         SipWarning(399, "proxy.example.com:5060", 'say \\"hi\\"')),
        ("370 gw.example.com", SipWarning(370, "gw.example.com", "")),  # text missing
    ],
)
def test_warning_values(value: str, expected: SipWarning) -> None:
    assert parse_warning(value) == expected


@pytest.mark.parametrize("value", ["30 host \"short code\"", "abc host", ""])
def test_warning_without_a_code(value: str) -> None:
    assert parse_warning(value) is None


def test_params_names_values_flags_and_quotes() -> None:
    assert parse_params(';lr;Maddr=239.255.255.1;ttl=15;branch=z9hG4bK74bX;x="a=b;c"') == {
        "lr": "",
        "maddr": "239.255.255.1",
        "ttl": "15",
        "branch": "z9hG4bK74bX",  # a value ending in X keeps it
        "x": "a=b;c",  # quoted: neither the = nor the ; split it
    }


def test_params_first_of_a_repeated_name_counts() -> None:
    assert parse_params(";tag=1;TAG=2") == {"tag": "1"}


@pytest.mark.parametrize(
    ("text", "scheme", "user", "host", "port", "params"),
    [
        ("sip:example.com", "sip", "", "example.com", None, {}),  # no user, no parameters
        ("SIP:alice@atlanta.example.com:50600;transport=TCP", "sip", "alice",
         "atlanta.example.com", 50600, {"transport": "TCP"}),
        ("sip:[2001:db8::9]:5070", "sip", "", "[2001:db8::9]", 5070, {}),
        ("tel:+15551234567;phone-context=example.com", "tel", "", "+15551234567", None,
         {"phone-context": "example.com"}),
        # Six digits cannot be a UDP or TCP port (at most 65535): no port.
        ("sip:bob@b.example.com:506000", "sip", "bob", "b.example.com", None, {}),
    ],
)
def test_uri_forms(
    text: str, scheme: str, user: str, host: str, port: int | None, params: dict[str, str]
) -> None:
    uri = parse_uri(text)
    assert uri is not None
    assert (uri.scheme, uri.user, uri.host, uri.port, uri.params) == (
        scheme, user, host, port, params
    )
    assert uri.hostport == (host if port is None else f"{host}:{port}")


def test_not_a_uri() -> None:
    assert parse_uri("<sip:a@b>") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # RFC 5626 5.2: the instance ID is a quoted <urn:...>; the > inside quotes is not the
        # end of the URI.
        ('<sip:callee@192.0.2.1>;+sip.instance="<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>"'
         ";reg-id=1",
         NameAddr("", "sip:callee@192.0.2.1",
                  {"+sip.instance": "<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>",
                   "reg-id": "1"})),
        ('"Xavier" <sip:x@x.example>;tag=Xy', NameAddr("Xavier", "sip:x@x.example", {"tag": "Xy"})),
        ("Bob <sip:bob@biloxi.example.com>;tag=a6c85cf;expires=60",
         NameAddr("Bob", "sip:bob@biloxi.example.com", {"tag": "a6c85cf", "expires": "60"})),
        ("<sip:carol@chicago.example.com", NameAddr("", "sip:carol@chicago.example.com", {})),
        # addr-spec without brackets, a quoted header parameter: no display name.
        ('sip:alice@atlanta.example.com;tag=88;x="q"',
         NameAddr("", "sip:alice@atlanta.example.com", {"tag": "88", "x": "q"})),
    ],
)
def test_name_addr_forms(value: str, expected: NameAddr) -> None:
    assert parse_name_addr(value) == expected


@pytest.mark.parametrize(
    ("value", "protocol", "transport", "sent_by", "params"),
    [
        ("SIP/2.0/UDP pc33.atlanta.example.com", "SIP/2.0", "UDP", "pc33.atlanta.example.com",
         {}),
        ("sip/2.0/tcp 192.0.2.4:5070;branch=z9hG4bK1", "SIP/2.0", "TCP", "192.0.2.4:5070",
         {"branch": "z9hG4bK1"}),
        ("SIP / 2.0 / TLS h.example.com ; branch=z9hG4bK2", "SIP/2.0", "TLS", "h.example.com",
         {"branch": "z9hG4bK2"}),
    ],
)
def test_via_forms(
    value: str, protocol: str, transport: str, sent_by: str, params: dict[str, str]
) -> None:
    via = parse_via(value)
    assert via is not None
    assert (via.protocol, via.transport, via.sent_by, via.params) == (
        protocol, transport, sent_by, params
    )


def test_not_a_via() -> None:
    assert parse_via("pc33.atlanta.example.com") is None


HEADER_BLOCK = (
    b"\r\nVia: SIP/2.0/UDP a.example.com;branch=z9hG4bK1\r\n"
    b"v: SIP/2.0/TCP b.example.com;branch=z9hG4bK2, SIP/2.0/UDP c.example.com\r\n"
    b'Contact: "Bob, Jr." <sip:bob@192.0.2.4>;q=0.7, <sip:bob@192.0.2.5;x=1,2>\r\n'
    b"Subject: Lunch,\r\n  tomorrow\r\n"
    b"Date: Sat, 13 Nov 2010 23:29:00 GMT\r\n"
    b"Supported: 100rel,timer\r\nk: path\r\n"
)


def test_headers_get_get_all_and_values() -> None:
    headers = parse_headers(HEADER_BLOCK)
    assert headers.get("V") == "SIP/2.0/UDP a.example.com;branch=z9hG4bK1"
    assert headers.get("route") is None
    # One entry per line, compact and long forms together (RFC 3261 7.3.3), in wire order.
    assert headers.get_all("via") == [
        "SIP/2.0/UDP a.example.com;branch=z9hG4bK1",
        "SIP/2.0/TCP b.example.com;branch=z9hG4bK2, SIP/2.0/UDP c.example.com",
    ]
    assert headers.get_all("Record-Route") == []
    # Several values on one line and on several lines are one list (7.3.1).
    assert headers.values("v") == [
        "SIP/2.0/UDP a.example.com;branch=z9hG4bK1",
        "SIP/2.0/TCP b.example.com;branch=z9hG4bK2",
        "SIP/2.0/UDP c.example.com",
    ]
    assert headers.values("supported") == ["100rel", "timer", "path"]
    assert headers.values("m") == [
        '"Bob, Jr." <sip:bob@192.0.2.4>;q=0.7',
        "<sip:bob@192.0.2.5;x=1,2>",
    ]
    # Subject and Date are single values whose commas do not separate anything.
    assert headers.values("s") == ["Lunch, tomorrow"]
    assert headers.values("date") == ["Sat, 13 Nov 2010 23:29:00 GMT"]
    assert headers.values("allow") == []
    assert len(headers) == 7


@pytest.mark.parametrize(
    ("value", "items"),
    [
        # RFC 3261 20: a URI with a comma must be in angle brackets, and is one value.
        ("<sip:1,2@example.com>, <sip:c@example.com>", ["<sip:1,2@example.com>",
                                                         "<sip:c@example.com>"]),
        ("<sip:p1.example.com;lr>,<sip:p2.example.com;lr>", ["<sip:p1.example.com;lr>",
                                                             "<sip:p2.example.com;lr>"]),
        # Warning (20.43) is a list of values with quoted texts; a comma and an escaped quote
        # inside the quotes do not end a value.
        ('301 a.example.com "x, y", 399 b.example.com "z"',
         ['301 a.example.com "x, y"', '399 b.example.com "z"']),
        ('399 h.example.com "say \\"hi, there\\"", 399 k.example.com "z"',
         ['399 h.example.com "say \\"hi, there\\""', '399 k.example.com "z"']),
        ("100rel, ,timer,", ["100rel", "timer"]),  # empty items dropped
    ],
)
def test_list_values_split_at_the_right_commas(value: str, items: list[str]) -> None:
    headers = parse_headers(b"\r\nX-List: " + value.encode())
    assert headers.values("x-list") == items


@pytest.mark.parametrize(
    "line",
    [
        b": no name",
        b"garbage",  # no colon, no space
        b"X Bad Name: 1",  # a field name is a token: no spaces (RFC 3261 25.1)
    ],
)
def test_lines_that_are_not_fields_are_defects(line: bytes) -> None:
    headers = parse_headers(b"\r\nMax-Forwards: 70\r\n" + line + b"\r\n")
    assert headers.defects == (line.decode(),)
    assert [name for _, name, _ in headers.fields] == ["max-forwards"]
