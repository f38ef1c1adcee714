"""The pytest plugin of sipdiag (entry point ``pytest11``): the ``sipdiag`` fixture.

Installed with the package, loaded by pytest on its own (``-p no:sipdiag`` turns it off)::

    def test_busy_call(sipdiag):
        result = sipdiag.analyze("captures/busy.pcap")     # relative to this test file
        assert result.call(1).outcome == "busy"
        result.assert_no_findings(above="info")
        result.assert_expectations("captures/busy.yaml")

The fixture is a ``sipdiag.testing.Sipdiag`` for the folder of the test file; see that module
for what it offers. sipdiag itself is imported only when a test asks for the fixture, so the
plugin costs nothing to test suites that do not use it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from sipdiag.testing import Sipdiag


@pytest.fixture
def sipdiag(request: pytest.FixtureRequest) -> Sipdiag:
    """Read captures and check them: ``sipdiag.analyze(path)`` -> calls, findings, asserts."""
    from sipdiag.testing import Sipdiag

    return Sipdiag(request.path.parent)
