"""Results kept as a Parquet dataset (``--out RESULTS``) and read back (``sipdiag report``).

``schema`` names the tables and their columns (the ``calls`` columns are a contract with
``sipdiag stats`` and DuckDB queries); ``dataset`` writes a run and finds a dataset's files
(``calls_table``: the calls of a time window, reading only its hours); ``records`` turns
results into bytes and back, refusing anything that is not a sipdiag record; ``load`` makes an
``Analysis`` of stored results for the reports. Needs pyarrow and fsspec (the ``dask`` extra).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sipdiag.capture import CaptureError

if TYPE_CHECKING:
    from sipdiag.store.dataset import Results

NEEDS = "pyarrow and fsspec: pip install 'sipdiag[dask]'"


def results_for_out(url: str) -> Results:
    """The dataset ``--out`` writes to, checked before the analysis: pyarrow is there and the
    folder is new, empty or a dataset of this schema (else ``CaptureError``: exit 2)."""
    try:
        from sipdiag.store.dataset import Results
    except ImportError:
        raise CaptureError(f"--out needs {NEEDS}") from None
    results = Results(url)
    results.check_appendable()
    return results


__all__ = ["NEEDS", "results_for_out"]
