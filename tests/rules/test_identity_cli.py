"""``sipdiag CAPTURE --stir-certs DIR``: the certificates read from the folder's PEM files and
used to verify each PASSporT's signature; refused in one line, exit 2, when the folder, a file
or the optional cryptography package is not what it takes. The x5u is never fetched."""

from __future__ import annotations

import json
import shutil
import socket
import sys
from pathlib import Path

import pytest

from sipdiag.cli import ExitStatus
from tests.conftest import SAMPLES
from tests.test_cli import run

VALID = str(SAMPLES / "rules" / "identity-valid-a.pcap")
ALTERED = str(SAMPLES / "rules" / "identity-signature-altered.pcap")
CERTIFICATES = SAMPLES / "identity"


def rules_of(out: str) -> list[str]:
    return [finding["rule"] for finding in json.loads(out)["findings"]]


def test_the_signature_is_verified_with_the_certificates_given() -> None:
    code, out, err = run([VALID, "--stir-certs", str(CERTIFICATES), "--format", "json"])
    assert (code, err) == (ExitStatus.OK, "")
    assert rules_of(out) == ["I115"]


def test_without_the_option_no_signature_is_judged() -> None:
    code, out, _ = run([VALID, "--format", "json"])
    assert code == ExitStatus.OK and rules_of(out) == []


def test_an_altered_passport_does_not_verify() -> None:
    code, out, _ = run([ALTERED, "--stir-certs", str(CERTIFICATES), "--format", "json",
                        "--fail-on", "never"])
    assert code == ExitStatus.OK
    assert sorted(rules_of(out)) == ["I113", "I114"]


def test_several_processes_give_the_same_findings() -> None:
    # the engine with its certificates is inherited by every process of -j
    one = run([ALTERED, "--stir-certs", str(CERTIFICATES), "--format", "json", "-j", "1"])
    two = run([ALTERED, "--stir-certs", str(CERTIFICATES), "--format", "json", "-j", "2"])
    assert one == two


def test_the_x5u_is_never_fetched(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("sipdiag opened a network connection")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    code, out, _ = run([VALID, "--stir-certs", str(CERTIFICATES), "--format", "json"])
    assert code == ExitStatus.OK and rules_of(out) == ["I115"]


def test_only_pem_files_are_read(tmp_path: Path) -> None:
    shutil.copy(CERTIFICATES / "sipdiag-test-signer.pem", tmp_path / "signer.crt")
    (tmp_path / "signer.key").write_text("not read: a private key beside its certificate")
    (tmp_path / "README").write_text("not read either")
    code, out, err = run([VALID, "--stir-certs", str(tmp_path), "--format", "json"])
    assert (code, err) == (ExitStatus.OK, "")
    assert rules_of(out) == ["I115"]


def one_line_error(argv: list[str]) -> str:
    code, out, err = run(argv)
    assert code == ExitStatus.ERROR and out == ""
    assert err.count("\n") == 1 and err.startswith("sipdiag: error: ")
    return err


def test_a_file_that_is_no_certificate_is_refused(tmp_path: Path) -> None:
    (tmp_path / "broken.pem").write_text("-----BEGIN CERTIFICATE-----\nnope\n")
    err = one_line_error([VALID, "--stir-certs", str(tmp_path)])
    assert "broken.pem: not a PEM certificate" in err


def test_a_folder_without_certificates_is_refused(tmp_path: Path) -> None:
    err = one_line_error([VALID, "--stir-certs", str(tmp_path)])
    assert "no P-256 certificate" in err


def test_a_folder_that_is_not_there_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = run([VALID, "--stir-certs", str(tmp_path / "missing")])
    assert code == ExitStatus.ERROR and "is not a folder" in err


def test_without_cryptography_the_option_says_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "cryptography", None)  # import cryptography fails
    monkeypatch.delitem(sys.modules, "sipdiag.sip.identity_signature", raising=False)
    err = one_line_error([VALID, "--stir-certs", str(CERTIFICATES)])
    assert err == ("sipdiag: error: --stir-certs needs the cryptography package: "
                   "pip install 'sipdiag[stir]'\n")


def test_without_cryptography_everything_else_works(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cryptography", None)
    monkeypatch.delitem(sys.modules, "sipdiag.sip.identity_signature", raising=False)
    code, out, _ = run([ALTERED, "--format", "json", "--fail-on", "never"])
    assert code == ExitStatus.OK and rules_of(out) == ["I113"]
