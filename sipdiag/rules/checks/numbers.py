"""Dialled numbers: international or premium, as toll fraud looks for them.

A number is read from the user part of a Request-URI or a tel: URI, visual separators taken out
(RFC 3966 5.1.1: ``-``, ``.``, ``(``, ``)``). Dialled with ``00`` (the international prefix of
most countries) it is international whatever the home country, and with ``011`` (that of the
North American plan) unless the home country is given and outside that plan. In E.164 form
(``+CC...``) it is international when its country code is not the home one (``--home-cc``;
unknown without it). A national number (a ``0`` trunk prefix, or in the North American plan
ten digits or ``1`` and ten) is put in E.164 form with the home code, so that the premium
prefixes, written in E.164 (``+1900``, ``+979``), match it too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import Enum

_SEPARATORS = re.compile(r"[-.()\s]")
_DIGITS = re.compile(r"\+?\d{3,}")
HOME_CC = "home_cc"
"""The param of the checks that class numbers, which ``--home-cc`` fills."""
NANP = "1"
"""The country code of the North American Numbering Plan."""


class NumberKind(Enum):
    INTERNATIONAL = "international"
    PREMIUM = "premium"


def number_kind(user: str, home_cc: str, premium: Sequence[str]) -> NumberKind | None:
    """Premium (one of ``premium``'s E.164 prefixes), international, or neither (None: also a
    user that is not a number)."""
    number = _SEPARATORS.sub("", user.split(";", 1)[0])
    if not _DIGITS.fullmatch(number):
        return None
    international = number.startswith(_exits(home_cc)) or (
        bool(home_cc) and number.startswith("+") and not number.startswith("+" + home_cc))
    e164 = _e164(number, home_cc)
    if e164 is not None and e164.startswith(tuple(premium)):
        return NumberKind.PREMIUM
    return NumberKind.INTERNATIONAL if international else None


def _exits(home_cc: str) -> tuple[str, ...]:
    """The international prefixes: ``00``, and ``011`` unless the home country is outside the
    North American plan (in the UK, 0114 is Sheffield's area code)."""
    return ("00", "011") if home_cc in ("", NANP) else ("00",)


def _e164(number: str, home_cc: str) -> str | None:
    if number.startswith("+"):
        return number
    for prefix in _exits(home_cc):
        if number.startswith(prefix):
            return "+" + number[len(prefix):]
    if home_cc == NANP:
        if len(number) == 10:
            return "+1" + number
        if len(number) == 11 and number.startswith("1"):
            return "+" + number
    elif home_cc and number.startswith("0"):
        return "+" + home_cc + number[1:]
    return None


def home_country_code(value: object) -> str:
    """``home_cc``: a country code of one to three digits, or '' (none)."""
    text = str(value).lstrip("+") if isinstance(value, (str, int)) and not isinstance(
        value, bool) else None
    if text is None or not (text == "" or (text.isascii() and text.isdigit() and len(text) <= 3)):
        raise ValueError(f"{value!r} is not a country code (1 to 3 digits, such as 44 or 1)")
    return text


def premium_prefixes(value: object) -> tuple[str, ...]:
    """``premium``: E.164 prefixes, each ``+`` and digits."""
    if not isinstance(value, list) or not all(
            isinstance(item, str) and re.fullmatch(r"\+\d{1,15}", item) for item in value):
        raise ValueError("give a list of E.164 prefixes such as ['+1900', '+979']")
    return tuple(value)
