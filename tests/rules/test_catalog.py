"""The catalog: complete against an independent list (Wireshark's), well-formed, and compared
sensibly."""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path

import pytest

from sipdiag.dialogs.transactions import TIMER_B_NS, UNANSWERED_COPIES
from sipdiag.rules import builtin_folder
from sipdiag.rules.catalog import Catalog, load_catalog
from sipdiag.rules.yamlfile import DataError

# Where the IANA registry has changed a reason phrase since Wireshark 4.0 wrote its table.
RENAMED = {
    199: "Early Dialog Terminated",  # RFC 6228; Wireshark: "Informational - Others"
    422: "Session Interval Too Small",  # RFC 4028's phrase; Wireshark: "Session Timer Too Small"
    436: "Bad Identity Info",  # RFC 8224 renamed "Bad Identity-Info"
    437: "Unsupported Credential",  # RFC 8224 renamed "Unsupported Certificate"
}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(builtin_folder() / "catalog")


@cache
def wireshark_values(field: str) -> dict[int, str]:
    """A value table of Wireshark's dissectors (``tshark -G values``)."""
    out = subprocess.run(["tshark", "-G", "values"], capture_output=True, text=True, check=True)
    table = {}
    for line in out.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) >= 4 and parts[0] == "V" and parts[1] == field:
            table[int(parts[2])] = parts[3]
    return table


def test_every_response_code_wireshark_knows_is_explained(catalog: Catalog) -> None:
    known = {code: name for code, name in wireshark_values("sip.reason_cause_sip").items()
             if code % 100 != 99 and code < 700}  # x99 "Others" are Wireshark's catch-alls
    assert len(known) > 60
    assert set(known) <= set(catalog.responses)
    for code, name in known.items():
        expected = RENAMED.get(code, name)
        assert catalog.responses[code].reason.lower() == expected.lower(), code


def test_response_codes_cover_each_class_and_only_valid_codes(catalog: Catalog) -> None:
    assert {code // 100 for code in catalog.responses} == {1, 2, 3, 4, 5, 6}
    for code in (100, 200, 300, 400, 500, 600):  # the x00 codes unknown codes fall back to
        assert code in catalog.responses


def test_every_named_q850_cause_wireshark_knows_is_explained(catalog: Catalog) -> None:
    named = {cause for cause, name in wireshark_values("sip.reason_cause_q850").items()
             if 1 <= cause <= 127 and "nassigned" not in name and "not yet received" not in name}
    missing = named - set(catalog.q850)
    # 33 and 56 are in Wireshark's table but are not ITU-T Q.850 cause values
    assert missing <= {33, 56}, missing
    assert {16, 17, 18, 19, 21, 27, 31, 34, 38, 41, 47, 127} <= set(catalog.q850)


def test_warning_codes_of_rfc_3261_are_all_there(catalog: Catalog) -> None:
    assert set(range(300, 308)) | {330, 331, 370, 399} <= set(catalog.warnings)


def test_every_entry_has_its_three_texts_in_english(catalog: Catalog) -> None:
    entries = [*catalog.responses.values(), *catalog.q850.values(), *catalog.warnings.values()]
    for entry in entries:
        for text in (entry.text.meaning, entry.text.seen_when, entry.text.fix):
            assert len(text.get().split()) >= 4, entry


def test_comparison_says_how_the_codes_differ(catalog: Catalog) -> None:
    def sentences(a: int, b: int) -> list[str]:
        found = catalog.compare(catalog.responses[a], catalog.responses[b])
        return [text.render(values) for text, values in found.differences]

    moved = sentences(302, 481)
    assert moved[0] == "302 is a redirection (3xx) response, 481 is a client error (4xx) response."
    assert any("After 302 the sender should send the request to the address" in s for s in moved)
    assert "Both 480 and 486 are client error (4xx) responses." in sentences(480, 486)
    assert any("486 means the callee was reached" in s for s in sentences(480, 486))
    provisional = sentences(100, 200)
    assert "200 is a final response" in provisional[1]  # the final one is named first
    assert "Neither 100 nor 200 reports a problem." in provisional


def test_a_pair_naming_an_unknown_code_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "catalog"
    folder.mkdir()
    for path in (builtin_folder() / "catalog").iterdir():
        (folder / path.name).write_text(path.read_text())
    compare = folder / "compare.yaml"
    compare.write_text(compare.read_text().replace("codes: [401, 407]", "codes: [401, 499]"))
    with pytest.raises(DataError, match=r"compare.yaml:\d+: 499 is not in responses.yaml"):
        load_catalog(folder)


def test_the_timeout_outcome_says_when_sipdiag_gives_up(catalog: Catalog) -> None:
    """Timer B/F is 64*T1 (RFC 3261 17.1.1.2, 17.1.2.2): 32 s with T1 = 500 ms; a shorter
    capture counts a request sent UNANSWERED_COPIES times with no response as timed out. The
    text the user reads names both, in every language."""
    timeout = catalog.outcomes["timeout"]
    for language in ("en", "ko", "ja"):
        text = timeout.get(language)
        assert f"{TIMER_B_NS // 10**9}" in text and str(UNANSWERED_COPIES) in text, language
