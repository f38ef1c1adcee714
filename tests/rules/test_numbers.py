"""Dialled numbers classed as toll fraud looks for them (``rules.checks.numbers``): premium,
international, or neither, with and without a home country.

The expected classes come from the numbering plans: ``00`` is the international prefix of
most countries and ``011`` that of the North American plan (ITU-T E.164, national dialling
plans), where ``0114`` is a national number in the UK (Sheffield); a number written ``+CC...``
is in E.164 form (RFC 3966 5.1.4); a national number is a ``0`` trunk prefix and the
national significant number, or in the North American plan ten digits or ``1`` and ten;
``-``, ``.``, ``(`` and ``)`` are visual separators that carry no meaning (RFC 3966 5.1.1).
"""

from __future__ import annotations

import pytest

from sipdiag.rules.checks.numbers import (
    NumberKind,
    home_country_code,
    number_kind,
    premium_prefixes,
)

INTERNATIONAL, PREMIUM = NumberKind.INTERNATIONAL, NumberKind.PREMIUM
PREMIUM_RANGES = ("+1900", "+979", "+8816", "+882")
"""North American 900 services, the international premium rate service, an Iridium and
the international networks' code (E.164 prefixes)."""
UK_PREMIUM = ("+449",)
"""UK premium rate: 09 numbers, +44 9 in E.164."""


@pytest.mark.parametrize(("number", "home", "kind"), [
    # 00: international from most countries, whatever the home country is
    ("00442079460000", "", INTERNATIONAL),
    ("00442079460000", "1", INTERNATIONAL),
    ("00442079460000", "44", INTERNATIONAL),
    ("0019005550100", "", PREMIUM),  # 00 then +1 900
    ("00979123456789", "44", PREMIUM),
    # 011: the North American plan's international prefix; unknown home: counted as such
    ("011972599123456", "", INTERNATIONAL),
    ("011972599123456", "1", INTERNATIONAL),
    ("01119005550100", "1", PREMIUM),
    ("01144207946000", "44", None),  # in the UK 0114 is Sheffield: national
    ("01198765432", "33", None),  # a French national number (0 1 98 76 54 32)
    # +CC: international only when a home country is given and CC is another
    ("+12025550100", "", None),
    ("+12025550100", "1", None),
    ("+12025550100", "44", INTERNATIONAL),
    ("+442079460000", "44", None),
    ("+442079460000", "1", INTERNATIONAL),
    ("+33198765432", "353", INTERNATIONAL),
    ("+353123456789", "353", None),
    # premium prefixes, in E.164 form, whatever the home country
    ("+19005550100", "", PREMIUM),
    ("+19005550100", "1", PREMIUM),
    ("+19005550100", "44", PREMIUM),
    ("+8816312345678", "", PREMIUM),
    ("+88216012345", "1", PREMIUM),
    ("+19015550100", "", None),  # 901: Memphis, not 900
    ("+88312345678", "", None),
    # North American national numbers, with home 1: ten digits, or 1 and ten
    ("9005550100", "1", PREMIUM),
    ("19005550100", "1", PREMIUM),
    ("2025550100", "1", None),
    ("12025550100", "1", None),
    ("9005550100", "", None),  # no home country: not to be placed
    ("9005550100", "44", None),
    ("900555010", "1", None),  # nine digits
    # visual separators (RFC 3966 5.1.1)
    ("+1-900-555-0100", "", PREMIUM),
    ("+1.900.555.0100", "", PREMIUM),
    ("+1(900)555-0100", "", PREMIUM),
    ("1-(900)-555.0100", "1", PREMIUM),
    ("(202) 555-0100", "1", None),
    ("00-44-20-7946-0000", "", INTERNATIONAL),
    ("+1-202-555-0100", "44", INTERNATIONAL),
    ("+19005550100;phone-context=+1", "", PREMIUM),  # a parameter after the number
    # not numbers at all
    ("alice", "", None),
    ("alice", "44", None),
    ("", "44", None),
    ("+", "", None),
    ("00", "", None),
    ("*97", "1", None),
    ("1001a", "", None),
    ("0x1900", "", None),
    ("+1900abc", "", None),
])
def test_the_kind_of_a_number(number: str, home: str, kind: NumberKind | None) -> None:
    assert number_kind(number, home, PREMIUM_RANGES) is kind


@pytest.mark.parametrize(("number", "home", "kind"), [
    # a national number (0 trunk prefix) put in E.164 form with the home code +44
    ("09098790000", "44", PREMIUM),
    ("0909-879-0000", "44", PREMIUM),
    ("+449098790000", "", PREMIUM),
    ("00449098790000", "1", PREMIUM),
    ("02079460000", "44", None),
    ("09098790000", "", None),  # no home country: cannot be placed
    ("09098790000", "1", None),  # not a North American number
    ("9098790000", "44", None),  # no trunk prefix
])
def test_a_national_number_matches_premium_prefixes_in_e164_form(
    number: str, home: str, kind: NumberKind | None,
) -> None:
    assert number_kind(number, home, UK_PREMIUM) is kind


@pytest.mark.parametrize(("given", "code"), [
    ("44", "44"), ("+44", "44"), ("1", "1"), (1, "1"), (353, "353"), ("", ""),
])
def test_a_home_country_code_is_one_to_three_digits(given: object, code: str) -> None:
    assert home_country_code(given) == code


@pytest.mark.parametrize("given", ["abc", "1234", "4 4", "44a", "-44", True, None, 4.4,
                                   ["44"]])
def test_anything_else_is_refused_as_a_home_country_code(given: object) -> None:
    with pytest.raises(ValueError, match="is not a country code"):
        home_country_code(given)


@pytest.mark.parametrize("given", ["²", "٤٤"])
def test_only_ascii_digits_make_a_home_country_code(given: str) -> None:
    with pytest.raises(ValueError, match="is not a country code"):
        home_country_code(given)


def test_premium_prefixes_are_e164() -> None:
    assert premium_prefixes(["+1900", "+979"]) == ("+1900", "+979")
    for wrong in (["1900"], "+1900", ["+19 00"], ["+"], [1900], ["+1234567890123456"]):
        with pytest.raises(ValueError, match=r"E\.164 prefixes"):
            premium_prefixes(wrong)
