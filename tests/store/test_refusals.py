"""What ``sipdiag report`` and ``--out`` refuse, each with one line and exit 2: a record that
would run code when unpickled (nothing is run), a dataset of another schema, a folder that is
no dataset, damaged files, a finding of a rule this sipdiag does not know."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sipdiag.capture.writer import PcapngWriter
from sipdiag.cli import ExitStatus, main
from sipdiag.store.records import RecordReader
from sipdiag.store.schema import StoreError
from tests.conftest import SAMPLES
from tests.store.helpers import sipdiag

CAPTURE = SAMPLES / "calls" / "busy.pcap"


@pytest.fixture
def results(tmp_path: Path) -> Path:
    code, _, err = sipdiag(str(CAPTURE), "--out", str(tmp_path / "r"))
    assert code == ExitStatus.OK and err == ""
    return tmp_path / "r"


def _one_file(results: Path, table: str) -> Path:
    [path] = (results / table).rglob("*.parquet")
    return path


def _rewritten(path: Path, column: str, value: object,
               metadata: dict[bytes, bytes] | None = None) -> None:
    """The file with ``column`` of its first row set to ``value`` (and its metadata changed)."""
    table = pq.read_table(path)
    values = table.column(column).to_pylist()
    values[0] = value
    table = table.set_column(table.schema.get_field_index(column), column,
                             pa.array(values, table.schema.field(column).type))
    if metadata is not None:
        table = table.replace_schema_metadata({**table.schema.metadata, **metadata})
    pq.write_table(table, path)


def _refused(results: Path, *argv: str) -> str:
    """The one line of standard error of a report refused with exit 2."""
    code, out, err = sipdiag("report", str(results), *argv)
    assert (code, out) == (ExitStatus.ERROR, "")
    assert err.startswith("sipdiag: error: ") and err.count("\n") == 1 and "Traceback" not in err
    return err


class _Planted:
    """A pickle that, unpickled without restriction, runs a shell command."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.system, (f"touch {self.marker}",)


def test_a_record_that_would_run_code_is_refused_and_nothing_runs(results: Path,
                                                                  tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    calls = _one_file(results, "calls")
    _rewritten(calls, "record", pickle.dumps(_Planted(marker)))
    err = _refused(results)
    assert str(calls) in err and f"{os.system.__module__}.system" in err
    assert not marker.exists()
    with pytest.raises(StoreError):  # the same refusal where only an unpickler is asked
        RecordReader({}).loads(pickle.dumps(_Planted(marker)), object, "planted")
    assert not marker.exists()
    pickle.loads(pickle.dumps(_Planted(marker)))  # and unrestricted, the payload does run
    assert marker.exists()


@pytest.mark.parametrize("payload", [
    pickle.dumps(print), pickle.dumps(pytest.fail), pickle.dumps({"a": bytearray(b"x")}),
    pickle.dumps(main), pickle.dumps(PcapngWriter),  # sipdiag's, but no record
], ids=["print", "pytest.fail", "bytearray", "sipdiag.cli.main", "PcapngWriter"])
def test_only_sipdiag_records_are_unpickled(payload: bytes) -> None:
    with pytest.raises(StoreError, match=r"^where: refused a stored record that names "):
        RecordReader({}).loads(payload, object, "where")


def test_a_dataset_of_another_schema_is_named_and_refused(results: Path) -> None:
    runs = _one_file(results, "runs")
    table = pq.read_table(runs)
    pq.write_table(table.replace_schema_metadata({b"sipdiag.schema": b"2",
                                                  b"sipdiag.version": b"9.1.0"}), runs)
    expected = (f"sipdiag: error: {results}: written by sipdiag 9.1.0 (schema 2); this "
                "sipdiag reads schema 1\n")
    assert _refused(results) == expected
    code, out, err = sipdiag(str(CAPTURE), "--out", str(results))  # before the analysis
    assert (code, out, err) == (ExitStatus.ERROR, "", expected)


def test_what_is_no_dataset_is_told_in_one_line(tmp_path: Path, results: Path) -> None:
    assert "no such results folder" in _refused(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    assert "not a results dataset" in _refused(tmp_path / "empty")
    _one_file(results, "runs").write_bytes(b"PAR1 cut short")
    assert "not a readable Parquet file" in _refused(results)
    code, out, err = sipdiag(str(CAPTURE), "--out", str(CAPTURE))
    assert (code, out, err) == (ExitStatus.ERROR, "",
                                f"sipdiag: error: {CAPTURE}: is a file, not a results folder\n")


def test_a_damaged_record_is_told_with_its_file(results: Path) -> None:
    calls = _one_file(results, "calls")
    _rewritten(calls, "record", pickle.dumps(CAPTURE.name)[:-3])
    assert str(calls) in _refused(results)


def test_a_finding_of_an_unknown_rule_needs_its_folder(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    rule = (SAMPLES.parent / "rules" / "calls" / "C105-callee-outcome.yaml").read_text()
    (mine / "X7-busy-again.yaml").write_text(rule.replace("id: C105", "id: X7").replace(
        "name: callee-outcome", "name: busy-again"))
    code, _, err = sipdiag(str(CAPTURE), "--rules", str(mine), "--out", str(tmp_path / "r"))
    assert code == ExitStatus.OK and err == ""
    assert "a finding of rule X7, which the rules of this sipdiag do not define" in _refused(
        tmp_path / "r")
    code, out, err = sipdiag("report", str(tmp_path / "r"), "--rules", str(mine))
    assert code == ExitStatus.OK and "X7" in out and err == ""
