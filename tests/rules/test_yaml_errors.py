"""Reading data files (sipdiag/rules/yamlfile.py): what a map or list of a YAML file remembers
of its lines, and the exact ``file:line: what is wrong`` of every mistake a data file can hold,
as the module's docstring promises (``D101-x.yaml:12: severity must be one of ...``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sipdiag.rules import yamlfile
from sipdiag.rules.yamlfile import DataError, Fields, LineDict, LineList, item_line, load

DATA = """\
# a comment on line 1
name: alpha
size: 3
ratio: 2
flag: true
items:
  - first
  - second

  - third
nested:
  inner: x
word: beta
"""
"""A map whose keys start on lines 2, 3, 4, 5, 6, 11 and 13; the items of ``items`` on 7, 8
and 10."""


def write(tmp_path: Path, text: str | bytes, name: str = "data.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def load_error(path: Path) -> str:
    with pytest.raises(DataError) as caught:
        load(path)
    return str(caught.value)


@pytest.fixture
def data_path(tmp_path: Path) -> Path:
    return write(tmp_path, DATA)


def test_maps_and_lists_remember_the_line_of_each_entry(data_path: Path) -> None:
    """Lines count from 1: a map's own line is that of its first key, each key its own line;
    a list's items each their line (a blank line in between counts)."""
    data = load(data_path)
    assert isinstance(data, LineDict)
    assert data.line == 2
    assert data.lines == {"name": 2, "size": 3, "ratio": 4, "flag": 5, "items": 6, "nested": 11,
                          "word": 13}
    assert data == {"name": "alpha", "size": 3, "ratio": 2, "flag": True,
                    "items": ["first", "second", "third"], "nested": {"inner": "x"},
                    "word": "beta"}
    items = data["items"]
    assert isinstance(items, LineList)
    assert items.line == 7 and items.lines == [7, 8, 10]
    assert isinstance(data["nested"], LineDict) and data["nested"].lines == {"inner": 12}


def test_a_flow_list_on_one_line(tmp_path: Path) -> None:
    """``[a, b]`` is a list too: all its items on the line it is written on."""
    data = load(write(tmp_path, "\n\ncodes: [401, 407]\n"))
    assert data["codes"] == [401, 407]
    assert data["codes"].line == 3 and data["codes"].lines == [3, 3]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: 1\nb: 2\na: 3\n", ":3: 'a' is given twice"),
        ("a: 1\n\n7: seven\n", ":3: keys must be text, found 7"),
        ("a: 1\nnull: 2\n", ":2: keys must be text, found None"),
        ("a: 1\nb: [1, 2\n", ":3: not valid YAML: "),
        ("a: 1\nb: !!python/object/apply:os.system [echo]\n",
         ":2: not valid YAML: could not determine a constructor for the tag"),
    ],
)
def test_mistakes_in_the_yaml_itself(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    message = load_error(path)
    assert message.startswith(f"{path}:"), message
    assert message.startswith(f"{path}{expected}"), message


def test_a_control_character_is_not_yaml(tmp_path: Path) -> None:
    """YAML allows no control characters (YAML 1.1 section 5.1); the reader finds them before
    any line is parsed, so the message has no line."""
    path = write(tmp_path, "a: 1\nb: \"x\ay\"\n")
    message = load_error(path)
    assert message.startswith(f"{path}: not valid YAML: unacceptable character #x0007"), message


def test_a_file_that_is_not_there_cannot_be_read(tmp_path: Path) -> None:
    path = tmp_path / "missing.yaml"
    assert load_error(path).startswith(f"{path}: cannot be read: ")


def test_a_file_that_is_not_utf8_cannot_be_read(tmp_path: Path) -> None:
    path = write(tmp_path, b"name: caf\xe9\n")
    message = load_error(path)
    assert message.startswith(f"{path}: cannot be read: ") and "utf-8" in message


READ_IN_A_CHILD = """\
import importlib.util, json, sys
from pathlib import Path
spec = importlib.util.spec_from_file_location("sipdiag.rules.yamlfile", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(json.dumps(module.load(Path(sys.argv[2]))))
"""
"""Prints what ``load`` reads of a file, as JSON; the module alone is loaded (not the whole
package), so the child starts in a fraction of a second."""


def test_a_file_is_read_as_utf8_whatever_the_locale(tmp_path: Path) -> None:
    """A YAML stream is Unicode, in UTF-8 unless a byte order mark says otherwise (YAML 1.2
    section 5.2): the locale's encoding has no say (here ASCII: the C locale with neither PEP
    538 coercion nor PEP 540 UTF-8 mode)."""
    path = write(tmp_path, "name: caf\u00e9 \ucf54\ub4dc\n")
    env = {**os.environ, "LC_ALL": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"}
    child = subprocess.run(
        [sys.executable, "-c", READ_IN_A_CHILD, yamlfile.__file__, str(path)],
        env=env, capture_output=True, text=True, check=False,
    )
    assert child.returncode == 0, child.stderr
    assert json.loads(child.stdout) == {"name": "caf\u00e9 \ucf54\ub4dc"}


def test_an_empty_file_is_nothing(tmp_path: Path) -> None:
    assert load(write(tmp_path, "# only a comment\n")) is None


@pytest.mark.parametrize(
    ("items", "index", "default", "expected"),
    [
        ("from file", 0, 99, 7),
        ("from file", 2, 99, 10),
        ("from file", 3, 99, 99),  # past the end: the default
        ("plain", 0, 5, 5),  # a list built in Python has no lines
        ("plain", 0, 0, 0),
    ],
)
def test_item_line(data_path: Path, items: str, index: int, default: int, expected: int) -> None:
    found = load(data_path)["items"] if items == "from file" else ["first", "second"]
    assert item_line(found, index, default) == expected


def test_item_line_default_is_0() -> None:
    assert item_line(["x"], 0) == 0


def fields_of(path: Path) -> Fields:
    return Fields(load(path), path, "the file")


@pytest.mark.parametrize(
    ("data", "line", "expected"),
    [
        ("plain", 4, ":4: the thing must be a map of keys"),  # a Python value: the given line
        ("plain", 0, ":0: the thing must be a map of keys"),
        ("list", 4, ":7: the thing must be a map of keys"),  # a list of the file: its own line
    ],
)
def test_only_a_map_has_fields(data_path: Path, data: str, line: int, expected: str) -> None:
    value = load(data_path)["items"] if data == "list" else "text"
    with pytest.raises(DataError) as caught:
        Fields(value, data_path, "the thing", line)
    assert str(caught.value) == f"{data_path}{expected}"


def test_fields_without_a_line_say_line_0(data_path: Path) -> None:
    with pytest.raises(DataError) as caught:
        Fields(3, data_path, "x")
    assert str(caught.value) == f"{data_path}:0: x must be a map of keys"


def test_the_line_of_a_key_or_of_the_map(data_path: Path) -> None:
    fields = fields_of(data_path)
    assert fields.line("size") == 3 and fields.line("items") == 6
    assert fields.line() == 2 and fields.line(None) == 2
    assert fields.line("absent") == 2  # a key not given: where the map starts
    plain = Fields({"a": 1}, data_path, "x")
    assert plain.line("a") == 0 and plain.line() == 0


@pytest.mark.parametrize(
    ("key", "kind", "expected"),
    [
        ("name", str, "alpha"),
        ("size", int, 3),
        ("flag", bool, True),
        ("items", list, ["first", "second", "third"]),
        ("nested", dict, {"inner": "x"}),
        ("size", object, 3),
    ],
)
def test_take_gives_a_value_of_its_kind(data_path: Path, key: str, kind: type,
                                        expected: object) -> None:
    value = fields_of(data_path).take(key, kind)
    assert value == expected and isinstance(value, kind)


def test_a_whole_number_is_a_number(data_path: Path) -> None:
    """A float field takes ``2`` as 2.0 (YAML reads it as an int)."""
    value = fields_of(data_path).take("ratio", float)
    assert value == 2.0 and isinstance(value, float)


@pytest.mark.parametrize(
    ("key", "kind", "line", "found"),
    [
        ("size", str, 3, "3"),
        ("name", int, 2, "'alpha'"),
        ("flag", int, 5, "True"),  # true is not the whole number 1
        ("flag", float, 5, "True"),
        ("name", float, 2, "'alpha'"),
        ("size", bool, 3, "3"),
        ("name", list, 2, "'alpha'"),
        ("items", dict, 6, "['first', 'second', 'third']"),
        ("name", Path, 2, "'alpha'"),
    ],
)
def test_a_value_of_the_wrong_kind_names_the_kind_wanted(
    data_path: Path, key: str, kind: type, line: int, found: str
) -> None:
    names = {str: "text", int: "a whole number", float: "a number", bool: "true or false",
             list: "a list", dict: "a map", Path: "Path"}
    with pytest.raises(DataError) as caught:
        fields_of(data_path).take(key, kind)
    assert str(caught.value) == f"{data_path}:{line}: '{key}' must be {names[kind]} (found {found})"


def test_a_missing_key(data_path: Path) -> None:
    fields = fields_of(data_path)
    assert fields.take("colour", str, required=False) is None
    assert not fields.has("colour") and fields.has("name")
    with pytest.raises(DataError) as caught:
        fields.take("colour", str)
    assert str(caught.value) == f"{data_path}:2: 'colour' is missing"
    with pytest.raises(DataError) as caught:
        fields.need("colour", str)
    assert str(caught.value) == f"{data_path}:2: 'colour' is missing"
    assert fields.need("name", str) == "alpha"


@pytest.mark.parametrize(
    ("key", "default", "expected"),
    [
        ("word", None, "beta"),
        ("word", "alpha", "beta"),
        ("colour", "alpha", "alpha"),  # not given: the default
    ],
)
def test_choice(data_path: Path, key: str, default: str | None, expected: str) -> None:
    assert fields_of(data_path).choice(key, ("alpha", "beta"), default) == expected


def test_choice_refuses_other_words_and_a_missing_required_one(data_path: Path) -> None:
    with pytest.raises(DataError) as caught:
        fields_of(data_path).choice("word", ("info", "warning", "error"))
    assert str(caught.value) == (
        f"{data_path}:13: 'word' must be one of info, warning, error (found 'beta')"
    )
    with pytest.raises(DataError) as caught:
        fields_of(data_path).choice("colour", ("red",))
    assert str(caught.value) == f"{data_path}:2: 'colour' is missing"


def twice(value: object) -> int:
    if not isinstance(value, int):
        raise ValueError(f"{value!r} is not a number to double")
    return 2 * value


def test_convert(data_path: Path) -> None:
    fields = fields_of(data_path)
    assert fields.convert("size", twice) == 6
    assert fields.convert("colour", twice) is None
    with pytest.raises(DataError) as caught:
        fields.convert("colour", twice, required=True)
    assert str(caught.value) == f"{data_path}:2: 'colour' is missing"
    with pytest.raises(DataError) as caught:
        fields.convert("word", twice)
    assert str(caught.value) == f"{data_path}:13: 'word': 'beta' is not a number to double"


@pytest.mark.parametrize(
    ("taken", "unknown", "line"),
    [
        ((), "name", 2),
        (("name", "size", "ratio"), "flag", 5),
        (("name", "size", "ratio", "flag", "items"), "nested", 11),
    ],
)
def test_done_refuses_the_first_key_not_taken(
    data_path: Path, taken: tuple[str, ...], unknown: str, line: int
) -> None:
    fields = fields_of(data_path)
    for key in taken:
        fields.take(key, object)
    with pytest.raises(DataError) as caught:
        fields.done()
    assert str(caught.value) == f"{data_path}:{line}: unknown key '{unknown}'"


def test_done_after_every_key_taken_or_looked_for(data_path: Path) -> None:
    """Keys taken by take, need, choice or convert all count, even when absent."""
    fields = fields_of(data_path)
    fields.take("name", str)
    fields.need("size", int)
    fields.convert("ratio", twice)
    fields.take("flag", bool)
    fields.take("items", list)
    fields.take("nested", dict)
    fields.choice("word", ("beta",))
    fields.take("colour", str, required=False)
    fields.done()
    assert dict(fields.items()) == load(data_path)


def test_an_empty_key_is_reported_on_its_own_line(tmp_path: Path) -> None:
    """``"": x`` is a key like any other: a mistake in it is on its line, not the map's."""
    path = write(tmp_path, "a: 1\n\n'': x\n")
    fields = Fields(load(path), path, "the file")
    fields.take("a", int)
    assert fields.line("") == 3
    with pytest.raises(DataError) as caught:
        fields.done()
    assert str(caught.value) == f"{path}:3: unknown key ''"


def test_error_without_a_key_is_at_the_map(data_path: Path) -> None:
    fields = fields_of(data_path)
    assert str(fields.error(None, "bad")) == f"{data_path}:2: bad"
    assert str(fields.error("items", "bad")) == f"{data_path}:6: bad"
