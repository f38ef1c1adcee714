"""Reading YAML data files safely, remembering the line of every key, for exact error messages.

Rule and catalog files are data: they are read with PyYAML's ``SafeLoader`` (plain strings,
numbers, lists and maps; no Python objects, no code), and each map and list remembers the line
each of its entries starts on. ``Fields`` then takes a map's keys one by one, checks their
types, refuses keys it does not know, and says what is wrong where: ``D101-x.yaml:12: severity
must be one of info, warning, error (found 'fatal')``.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import yaml

T = TypeVar("T")


class DataError(Exception):
    """A data file that cannot be used; the message is ``file:line: what is wrong``."""


class LineDict(dict[str, Any]):
    """A map from a YAML file, with the line (from 1) of each key."""

    line = 0
    lines: dict[str, int]


class LineList(list[Any]):
    """A list from a YAML file, with the line of each item."""

    line = 0
    lines: list[int]


@cache
def _safe_loader() -> type[yaml.SafeLoader]:
    """The safe loader (libyaml's when PyYAML has it: four times faster), keeping lines; made
    on first use, so that a run whose rules come from the cache does not load PyYAML."""
    import yaml

    class Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
        pass

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _map)
    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _list)
    return Loader


def _map(loader: yaml.SafeLoader, node: yaml.MappingNode) -> LineDict:
    found = LineDict()
    found.line = node.start_mark.line + 1
    found.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            raise DataError(f"{node.start_mark.name}:{key_node.start_mark.line + 1}: "
                            f"keys must be text, found {key!r}")
        if key in found:
            raise DataError(f"{node.start_mark.name}:{key_node.start_mark.line + 1}: "
                            f"'{key}' is given twice")
        found[key] = loader.construct_object(value_node, deep=True)
        found.lines[key] = key_node.start_mark.line + 1
    return found


def _list(loader: yaml.SafeLoader, node: yaml.SequenceNode) -> LineList:
    found = LineList(loader.construct_object(item, deep=True) for item in node.value)
    found.line = node.start_mark.line + 1
    found.lines = [item.start_mark.line + 1 for item in node.value]
    return found


def load(path: Path) -> Any:
    """The contents of a YAML file, maps and lists with their lines; DataError if unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot be read: {exc}") from exc
    import yaml

    stream = io.StringIO(text)
    stream.name = str(path)  # the loader names its marks after it ('key' given twice)
    try:
        return yaml.load(stream, Loader=_safe_loader())  # a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark else 0
        raise DataError(f"{path}:{line}: not valid YAML: {exc.problem}") from exc
    except yaml.YAMLError as exc:
        raise DataError(f"{path}: not valid YAML: {exc}") from exc


def item_line(items: list[Any], index: int, default: int = 0) -> int:
    """The line of a list's item, if the list came from a file."""
    lines = getattr(items, "lines", None)
    return lines[index] if lines and index < len(lines) else default


class Fields:
    """Takes the keys of one map in turn, checking each; ``done()`` refuses any left over."""

    def __init__(self, data: object, path: Path, what: str, line: int = 0) -> None:
        self.path = path
        if not isinstance(data, dict):
            raise DataError(f"{path}:{getattr(data, 'line', line)}: {what} must be a map of keys")
        self.data = data
        self._taken: set[str] = set()

    def line(self, key: str | None = None) -> int:
        start: int = getattr(self.data, "line", 0)
        return getattr(self.data, "lines", {}).get(key, start) if key is not None else start

    def error(self, key: str | None, message: str) -> DataError:
        return DataError(f"{self.path}:{self.line(key)}: {message}")

    def has(self, key: str) -> bool:
        return key in self.data

    def take(self, key: str, kind: type[T], *, required: bool = True) -> T | None:
        self._taken.add(key)
        if key not in self.data:
            if required:
                raise self.error(None, f"'{key}' is missing")
            return None
        value = self.data[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.error(key, f"'{key}' must be {_kind_name(kind)} (found {value!r})")
        return value

    def need(self, key: str, kind: type[T]) -> T:
        value = self.take(key, kind)
        assert value is not None
        return value

    def choice(self, key: str, allowed: tuple[str, ...], default: str | None = None) -> str:
        value = self.take(key, str, required=default is None)
        if value is None:
            assert default is not None
            return default
        if value not in allowed:
            raise self.error(key, f"'{key}' must be one of {', '.join(allowed)} (found {value!r})")
        return value

    def convert(
        self, key: str, parse: Callable[[object], T], *, required: bool = False
    ) -> T | None:
        """Take a key and turn it into a value with ``parse``, which raises ValueError."""
        self._taken.add(key)
        if key not in self.data:
            if required:
                raise self.error(None, f"'{key}' is missing")
            return None
        try:
            return parse(self.data[key])
        except ValueError as exc:
            raise self.error(key, f"'{key}': {exc}") from exc

    def done(self) -> None:
        unknown = [key for key in self.data if key not in self._taken]
        if unknown:
            key = unknown[0]
            raise self.error(key, f"unknown key '{key}'")

    def items(self) -> Iterator[tuple[str, object]]:
        yield from self.data.items()


def _kind_name(kind: type) -> str:
    return {str: "text", int: "a whole number", float: "a number", bool: "true or false",
            list: "a list", dict: "a map"}.get(kind, kind.__name__)
