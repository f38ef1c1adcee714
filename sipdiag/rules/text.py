"""Texts in several languages, with placeholders.

A text is a map from language tag to text; English (``en``) is always there and is what any
missing language falls back to. Placeholders are ``{name}`` or ``{step.field}``; they are
filled by plain substitution from a map of strings (never by ``str.format``, which would let a
data file reach into Python objects). ``{{`` and ``}}`` stand for literal braces.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from sipdiag.rules.yamlfile import DataError, Fields

BASE_LANGUAGE = "en"
LANGUAGES = ("en", "ko", "ja")
"""The languages sipdiag's own texts are written in; a user's rule may add others."""
LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)\}")


@dataclass(frozen=True, slots=True)
class Text:
    by_language: Mapping[str, str]
    where: str = ""
    """``file:line key``: where the text was read, to list what lacks a translation."""

    def get(self, language: str = BASE_LANGUAGE) -> str:
        return self.by_language.get(language) or self.by_language[BASE_LANGUAGE]

    def has(self, language: str) -> bool:
        return language in self.by_language

    def render(self, values: Mapping[str, str], language: str = BASE_LANGUAGE) -> str:
        """The text in that language with its placeholders filled (unknown ones stay as written)."""

        def fill(match: re.Match[str]) -> str:
            token = match[0]
            if token in ("{{", "}}"):
                return token[0]
            return values.get(match[1], token)

        return _PLACEHOLDER.sub(fill, self.get(language))

    def placeholders(self, language: str = BASE_LANGUAGE) -> set[str]:
        return placeholders_of(self.get(language))


def placeholders_of(text: str) -> set[str]:
    return {match[1] for match in _PLACEHOLDER.finditer(text) if match[1]}


def parse_text(fields: Fields, key: str, *, required: bool = True) -> Text | None:
    """A text field: a map of language tag to text, with ``en``, the same placeholders in all."""
    value = fields.take(key, dict, required=required)
    if value is None:
        return None
    languages = Fields(value, fields.path, f"'{key}'", fields.line(key))
    texts: dict[str, str] = {}
    for language, _ in list(languages.items()):
        if not LANGUAGE_TAG.match(language):
            raise languages.error(language, f"'{language}' in '{key}' is not a language tag")
        text = languages.need(language, str).strip("\n")  # quoted spaces are meant: ", "
        if not text.strip():
            raise languages.error(language, f"the {language} text of '{key}' is empty")
        texts[language] = text
    languages.done()
    if BASE_LANGUAGE not in texts:
        raise fields.error(key, f"'{key}' has no English (en) text")
    expected = placeholders_of(texts[BASE_LANGUAGE])
    for language, text in texts.items():
        if placeholders_of(text) != expected:
            raise languages.error(
                language, f"the {language} text of '{key}' has placeholders "
                f"{sorted(placeholders_of(text))}, English has {sorted(expected)}"
            )
    return Text(texts, f"{fields.path}:{fields.line(key)} {key}")


def need_text(fields: Fields, key: str) -> Text:
    text = parse_text(fields, key)
    if text is None:
        raise DataError(f"{fields.path}: '{key}' is missing")
    return text
