"""SIP over TLS and WSS, end to end on samples/tls (recorded by samples/record_tls.py).

The expected messages are what the recorder sent: samples/tls/truth.json, written by the
script that made the TLS sessions, names each SIP message with the frame that completed its
last TLS record; tshark's own SIP dissection is the second witness.
"""

from __future__ import annotations

import gzip
import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from sipdiag.analysis import MessageReader, analyze, map_parts
from sipdiag.analysis.decryption import decrypt
from sipdiag.cli import Environment, ExitStatus, main
from sipdiag.network.tls import HandshakeReader, TlsStatus
from sipdiag.report.document import schema
from sipdiag.sip.message import SipMessage
from tests.conftest import SAMPLES

TLS = SAMPLES / "tls"
TRUTH = json.loads((TLS / "truth.json").read_text())
KEYED = ["tls12-calls.pcap", "tls13-call.pcap", "wss-call.pcap", "tls13-call-secrets.pcapng"]


def keylog_of(name: str) -> Path | None:
    keylog = TRUTH[name]["keylog"]
    return TLS / keylog if keylog else None


def sent(name: str) -> list[dict[str, object]]:
    """The messages the recorder sent in this file, in frame order."""
    found = [m for c in TRUTH[name]["connections"] for m in c["messages"]]
    return sorted(found, key=lambda m: m["frame"])  # stable: the order sent within a frame


def seen(message: SipMessage) -> dict[str, object]:
    """A message read by sipdiag, in the terms of truth.json."""
    return {"first_line": message.raw.split(b"\r\n", 1)[0].decode(), "call_id": message.call_id,
            "cseq": f"{message.cseq} {message.cseq_method}", "transport": message.transport,
            "src": str(message.src), "dst": str(message.dst), "frame": message.frame,
            "frames": list(message.frames), "ts_ns": message.ts_ns}


def read(capture: str | Path | list[str | Path], keylog: Path | None) -> MessageReader:
    return MessageReader(capture, decryption=decrypt(capture, keylog))


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, Environment(stdout=out, stderr=err, stdin=io.BytesIO(), environ={}))
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("name", KEYED)
def test_decrypted_messages_are_those_the_recorder_sent(name: str) -> None:
    reader = read(TLS / name, keylog_of(name))
    assert [seen(m) for m in reader] == sent(name)
    assert reader.summary.problems.counts == {}


@pytest.mark.parametrize("name", ["tls12-calls.pcap", "tls13-call.pcap", "wss-call.pcap"])
def test_tshark_dissects_the_same_messages(name: str) -> None:
    fields = subprocess.run(
        ["tshark", "-n", "-r", str(TLS / name), "-o", f"tls.keylog_file:{keylog_of(name)}",
         "-Y", "sip", "-T", "fields", "-e", "frame.number", "-e", "sip.Method",
         "-e", "sip.Status-Code", "-e", "sip.Call-ID"],
        capture_output=True, text=True, check=True).stdout
    theirs = []
    for line in fields.splitlines():
        frame, methods, statuses, call_ids = line.split("\t")
        kinds = [k for k in methods.split(",") + statuses.split(",") if k]
        # several messages in one frame: tshark lists methods, then status codes
        theirs += [(int(frame), kind, call_id)
                   for kind, call_id in zip(sorted(kinds), call_ids.split(","), strict=True)]
    ours = [(m.frame, m.method or str(m.status), m.call_id) for m in read(TLS / name,
                                                                         keylog_of(name))]
    assert sorted(ours) == sorted(theirs)


def test_the_calls_end_as_the_scenario_made_them() -> None:
    for name in KEYED:
        keylog = keylog_of(name)
        argv = [str(TLS / name), "--format", "json"] + (["--tls-keylog", str(keylog)]
                                                        if keylog else [])
        code, out, err = run(argv)
        assert err == "" and code in (ExitStatus.OK, ExitStatus.FINDINGS)
        calls = json.loads(out)["calls"]
        stem = name.split(".")[0].removesuffix("-secrets")
        assert {c["call_id"]: c["outcome"] for c in calls} == {
            f"{stem}-full@sip.example.test": "completed",
            f"{stem}-busy@sip.example.test": "busy"}


def test_several_processes_read_the_plaintext_too() -> None:
    name = "tls12-calls.pcap"
    decryption = decrypt(TLS / name, keylog_of(name))
    one = analyze(TLS / name, decryption=decryption, jobs=1)
    two = analyze(TLS / name, decryption=decryption, jobs=2)
    assert [c.call_id for c in two.calls] == [c.call_id for c in one.calls]
    assert [c.outcome for c in two.calls] == ["completed", "busy"]
    parts, summary = map_parts(TLS / name, 2, lambda r: [m.frame for m in r], decryption)
    assert len(parts) == 3  # two regions, and the TCP frames they set aside
    assert sorted(f for part in parts for f in part) == [m["frame"] for m in sent(name)]
    assert [s.outcome for s in summary.tls_sessions] == [TlsStatus.DECRYPTED] * 2


def test_several_files_are_decrypted_as_they_are_merged(tmp_path: Path) -> None:
    name = "tls13-call.pcap"
    first, second = tmp_path / "a.pcap", tmp_path / "b.pcap"
    subprocess.run(["editcap", "-r", str(TLS / name), str(first), "1-9"], check=True)
    subprocess.run(["editcap", "-r", str(TLS / name), str(second), "10-100"], check=True)
    reader = read([second, first], keylog_of(name))
    assert [seen(m) for m in reader] == sent(name)


def test_without_keys_the_sessions_are_told_and_nothing_is_read() -> None:
    for name in ["tls12-calls.pcap", "tls13-call.pcap"]:
        reader = read(TLS / name, None)
        assert list(reader) == []
        sessions = reader.summary.tls_sessions
        assert [(str(s.client), str(s.server), s.sni, s.version, s.outcome) for s in sessions] == [
            (c["client"], c["server"], c["sni"], c["version"], TlsStatus.NO_KEYS)
            for c in TRUTH[name]["connections"]]
        # each direction of each connection, as it began
        assert reader.summary.problems.counts == {"tls_encrypted": 2 * len(sessions)}


def test_the_json_document_lists_the_sessions() -> None:
    code, out, _ = run([str(TLS / "tls12-calls.pcap"), "--format", "json"])
    assert code == ExitStatus.OK
    document = json.loads(out)
    Draft202012Validator(schema()).validate(document)
    assert [(s["client"], s["sni"], s["version"], s["decryption"], s["sip_messages"])
            for s in document["capture"]["tls_sessions"]] == [
        ("127.0.0.1:50612", "sip.example.test", "TLS 1.2", "no_keys", 0),
        ("127.0.0.1:50614", "sip.example.test", "TLS 1.2", "no_keys", 0)]
    code, out, _ = run([str(TLS / "wss-call.pcap"), "--tls-keylog",
                        str(TLS / "wss-call.keylog"), "--format", "json"])
    sessions = json.loads(out)["capture"]["tls_sessions"]
    assert [(s["server"], s["transport"], s["decryption"], s["sip_messages"])
            for s in sessions] == [("127.0.0.1:8443", "WSS", "decrypted", 11)]


def test_the_summary_names_the_sessions_in_every_format() -> None:
    for form in ("terminal", "markdown", "html"):
        code, out, _ = run([str(TLS / "tls13-call.pcap"), "--format", form])
        assert code == ExitStatus.OK
        assert "sip.example.test" in out and "TLS 1.3" in out, form
        assert TlsStatus.NO_KEYS.value in out, form


def test_a_partial_key_log_names_the_session_it_left_closed(tmp_path: Path) -> None:
    lines = (TLS / "tls12-calls.keylog").read_text().splitlines()
    partial = tmp_path / "partial.keylog"
    partial.write_text("\n".join(line for line in lines if line.startswith("CLIENT_RANDOM"))
                       .split("\n")[0] + "\n")
    reader = read(TLS / "tls12-calls.pcap", partial)
    full, busy = TRUTH["tls12-calls.pcap"]["connections"]
    assert [seen(m) for m in reader] == full["messages"]
    assert [s.outcome for s in reader.summary.tls_sessions] == [TlsStatus.DECRYPTED,
                                                                TlsStatus.NO_KEY]
    [problem] = reader.summary.problems.examples["tls_not_decrypted"]
    assert problem.frame == 11  # the second connection's ClientHello
    assert busy["client"] in problem.detail and TlsStatus.NO_KEY.value in problem.detail


def test_another_capture_s_key_log_opens_nothing() -> None:
    reader = read(TLS / "tls12-calls.pcap", TLS / "tls13-call.keylog")
    assert list(reader) == []
    assert reader.summary.problems.counts == {"tls_not_decrypted": 2}
    assert {s.outcome for s in reader.summary.tls_sessions} == {TlsStatus.NO_KEY}


def test_a_session_without_its_handshake_is_told_so(tmp_path: Path) -> None:
    cut = tmp_path / "cut.pcap"  # from the first record of SIP on: no hellos
    subprocess.run(["editcap", "-r", str(TLS / "tls13-call.pcap"), str(cut), "8-100"],
                   check=True)
    reader = read(cut, keylog_of("tls13-call.pcap"))
    assert list(reader) == []
    [session] = reader.summary.tls_sessions
    assert session.outcome is TlsStatus.NO_HANDSHAKE and session.sni is None


def test_bad_inputs_are_one_line_and_exit_2(tmp_path: Path) -> None:
    capture = str(TLS / "tls13-call.pcap")
    not_keylog = tmp_path / "notes.txt"
    not_keylog.write_text("this is not a key log\n")
    for argv, said in [
        ([capture, "--tls-keylog", str(tmp_path)], "is a folder, not a file"),
        ([capture, "--tls-keylog", str(tmp_path / "absent.log")], "no such file"),
        ([capture, "--tls-keylog", str(not_keylog)], "not a TLS key log"),
        (["-", "--tls-keylog", str(TLS / "tls13-call.keylog")], "standard input"),
        (["messages", capture, "--tls-keylog", str(not_keylog)], "not a TLS key log"),
    ]:
        code, out, err = run(argv)
        assert code == ExitStatus.ERROR and out == "", argv
        # the last line says it (argparse shows its usage above its own errors)
        assert said in err.splitlines()[-1] and "Traceback" not in err, err
        if argv[-1].startswith(str(tmp_path)) and not argv[-1].endswith(".txt"):
            continue  # argparse's usage comes first: the last line says it
        assert err.count("\n") == 1


def test_without_tshark_the_error_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no tshark
    assert shutil.which("tshark") is None
    code, _, err = run([str(TLS / "tls13-call.pcap"), "--tls-keylog",
                        str(TLS / "tls13-call.keylog")])
    assert code == ExitStatus.ERROR
    assert err.count("\n") == 1 and "apt install tshark" in err


def test_a_hello_is_read_whatever_the_cuts() -> None:
    """The ClientHello of the TLS 1.3 sample, fed a byte at a time and whole."""
    payloads = subprocess.run(
        ["tshark", "-r", str(TLS / "tls13-call.pcap"), "-Y", "frame.number == 4",
         "-T", "fields", "-e", "tcp.payload"], capture_output=True, text=True,
        check=True).stdout.strip()
    hello = bytes.fromhex(payloads)
    whole = HandshakeReader().feed(hello)
    reader = HandshakeReader()
    trickled = [h for i in range(len(hello)) for h in reader.feed(hello[i:i + 1])]
    assert trickled == whole and whole[0].sni == "sip.example.test"
    assert not reader.done  # the client's next record may still be in the clear


def test_the_schema_names_every_status() -> None:
    session = schema()["properties"]["capture"]["properties"]["tls_sessions"]["items"]
    assert session["properties"]["decryption"]["enum"] == [s.name.lower() for s in TlsStatus]


def test_tls_on_another_port_is_left_alone_without_keys() -> None:
    """WSS on 8443: not a SIP port, so without keys nothing is said of it."""
    reader = read(TLS / "wss-call.pcap", None)
    assert list(reader) == [] and reader.summary.tls_sessions == []
    assert reader.summary.problems.counts == {}


def test_a_key_that_does_not_open_the_session_is_told_apart(tmp_path: Path) -> None:
    """The client random is in the key log, but its secret is wrong: Wireshark cannot decrypt."""
    wrong = tmp_path / "wrong.keylog"
    wrong.write_text("".join(
        f"{label} {random} {'00' * (len(secret) // 2)}\n"
        for label, random, secret in (line.split() for line in
                                      (TLS / "tls12-calls.keylog").read_text().splitlines()
                                      if not line.startswith("#"))))
    reader = read(TLS / "tls12-calls.pcap", wrong)
    assert list(reader) == []
    assert {s.outcome for s in reader.summary.tls_sessions} == {TlsStatus.NOT_DECRYPTED}


def test_a_capture_cut_short_is_decrypted_up_to_the_cut(tmp_path: Path) -> None:
    whole = (TLS / "tls12-calls.pcap").read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(whole[:6000])  # in the middle of a frame of the second call
    reader = read(cut, keylog_of("tls12-calls.pcap"))
    messages = [seen(m) for m in reader]
    assert messages and messages == sent("tls12-calls.pcap")[:len(messages)]
    assert "capture_truncated" in reader.summary.problems.counts


def test_a_file_that_is_not_a_capture_is_said_so_before_tshark_runs(tmp_path: Path) -> None:
    notes = tmp_path / "notes.pcap"
    notes.write_text("not a capture\n")
    code, _, err = run([str(notes), "--tls-keylog", str(TLS / "tls13-call.keylog")])
    assert code == ExitStatus.ERROR and "not a packet capture" in err and err.count("\n") == 1


def test_secrets_in_a_compressed_pcapng_are_found(tmp_path: Path) -> None:
    packed = tmp_path / "secrets.pcapng.gz"
    packed.write_bytes(gzip.compress((TLS / "tls13-call-secrets.pcapng").read_bytes()))
    assert [seen(m) for m in read(packed, None)] == sent("tls13-call-secrets.pcapng")
