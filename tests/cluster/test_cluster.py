"""The analysis on a Dask cluster (``sipdiag.analysis.cluster``, ``--dask``) gives exactly what
one process gives on the same captures merged in time order: every sample and public capture
cut into rotated files, on clusters of one and of two workers; with a worker killed in the
middle of its task; with a file among them that is not a capture."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from distributed import Client, LocalCluster

from sipdiag.analysis import Analysis, analyze
from sipdiag.analysis.cluster import analyze_on
from sipdiag.capture import CaptureError
from sipdiag.cli import Environment, ExitStatus, main
from sipdiag.dialogs.select import Ladders
from sipdiag.report.document import write_json
from sipdiag.rules import load_engine
from tests.conftest import SAMPLES, public_captures, sample_captures
from tests.packets import pcap, sip_request, sip_response, udp4_frame

ENGINE = load_engine()
CAPTURES = [*sample_captures(), *(c.path for c in public_captures())]


def local_cluster(workers: int, *, processes: bool = True) -> LocalCluster:
    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=processes,
                        dashboard_address=":0", silence_logs=logging.ERROR)


@pytest.fixture(scope="module")
def two_workers() -> Iterator[Client]:
    with local_cluster(2) as cluster, Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def one_worker() -> Iterator[Client]:
    with local_cluster(1) as cluster, Client(cluster) as client:
        yield client


def json_text(analysis: Analysis) -> str:
    out = io.StringIO()
    write_json(analysis, out)
    return out.getvalue()


def rotated(capture: Path, folder: Path, parts: int = 3) -> list[str]:
    """The capture cut into about ``parts`` files of consecutive frames, as ``editcap -c``
    rotates; a capture editcap cannot read or write again (one with blocks it does not know)
    stays whole."""
    frames = _frame_count(capture)
    if frames is None or frames < 2:
        return [str(capture)]
    kind = "pcapng" if ".pcapng" in capture.suffixes else "pcap"  # several link types, secrets
    done = subprocess.run(["editcap", "-F", kind, "-c", str(-(-frames // parts)), str(capture),
                           str(folder / f"part.{kind}")], capture_output=True, timeout=60)
    if done.returncode != 0:
        return [str(capture)]
    return sorted(str(p) for p in folder.glob(f"part*.{kind}"))


def _frame_count(capture: Path) -> int | None:
    done = subprocess.run(["capinfos", "-c", "-M", "-T", "-r", str(capture)],
                          capture_output=True, text=True, timeout=60)
    fields = done.stdout.split()
    return int(fields[-1]) if done.returncode == 0 and fields and fields[-1].isdigit() else None


def single_and_cluster(client: Client, files: list[str]) -> tuple[str | None, str | None]:
    """The JSON of one process and of the cluster (None for each that found no capture)."""
    try:
        one = json_text(analyze(files, engine=ENGINE, ladders=Ladders.ALL, jobs=1))
    except CaptureError:
        one = None
    try:
        run = analyze_on(client, files, engine=ENGINE, ladders=Ladders.ALL)
        on_cluster = json_text(run.analysis)
    except CaptureError:
        on_cluster = None
    return one, on_cluster


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_two_workers_give_what_one_process_gives_on_rotated_files(
        capture: Path, two_workers: Client, tmp_path: Path) -> None:
    one, on_cluster = single_and_cluster(two_workers, rotated(capture, tmp_path))
    assert on_cluster == one


# one worker is the plain case: a sample of each kind is enough
ONE_WORKER = [SAMPLES / "calls" / "tcp-call.pcap", SAMPLES / "media" / "port-reuse.pcap",
              SAMPLES / "security" / "busy-registrar.pcap", SAMPLES / "calls" / "bye-481.pcap"]


@pytest.mark.parametrize("capture", ONE_WORKER, ids=lambda p: p.name)
def test_one_worker_gives_what_one_process_gives(capture: Path, one_worker: Client,
                                                 tmp_path: Path) -> None:
    one, on_cluster = single_and_cluster(one_worker, rotated(capture, tmp_path, parts=4))
    assert one is not None and on_cluster == one


def test_files_cut_by_time_are_one_capture(two_workers: Client, tmp_path: Path) -> None:
    # editcap -i: a new file every second of capture time, as a rotation by time makes them
    capture = SAMPLES / "media" / "dead-air.pcap"
    subprocess.run(["editcap", "-F", "pcap", "-i", "1", str(capture), str(tmp_path / "s.pcap")],
                   check=True, capture_output=True, timeout=60)
    files = sorted(str(p) for p in tmp_path.glob("s*.pcap"))
    assert len(files) > 3
    one, on_cluster = single_and_cluster(two_workers, files)
    assert one is not None and on_cluster == one


def test_a_file_that_is_not_a_capture_is_named_and_the_others_analysed(
        two_workers: Client, tmp_path: Path) -> None:
    files = rotated(SAMPLES / "calls" / "bye-481.pcap", tmp_path)
    corrupt = tmp_path / "part_corrupt.pcap"
    corrupt.write_bytes(b"\xde\xad\xbe\xef" * 1024)  # no format starts so
    run = analyze_on(two_workers, [*files, str(corrupt)], engine=ENGINE, ladders=Ladders.ALL)
    assert [why.split(":")[0] for why in run.unreadable] == [str(corrupt)]
    assert "not a packet capture" in run.unreadable[0]
    assert run.captures == tuple(files)
    assert json_text(run.analysis) == json_text(analyze(files, engine=ENGINE,
                                                        ladders=Ladders.ALL))


def test_no_readable_capture_is_an_error(two_workers: Client, tmp_path: Path) -> None:
    text = tmp_path / "notes.pcap"
    text.write_text("not a capture\n")
    with pytest.raises(CaptureError, match=r"no capture could be read: .*notes\.pcap: this is "
                                           r"text"):
        analyze_on(two_workers, [str(text)], engine=ENGINE)


def many_calls(path: Path, calls: int) -> Path:
    """A capture of ``calls`` answered calls, a tenth of a second apart; the INVITE of each
    odd one names the call before it in X-CID (the other leg, as a B2BUA tells it)."""
    frames = []
    steps = [(sip_request, ("INVITE",), 0.0), (sip_response, (180, "Ringing"), 0.1),
             (sip_response, (200, "OK"), 0.5), (sip_request, ("ACK",), 0.6),
             (sip_request, ("BYE",), 5.0), (sip_response, (200, "OK"), 5.1)]
    for index in range(calls):
        call_id = f"call-{index}@example.com"
        for make, args, at in steps:
            cseq_method = {"ACK": "ACK", "BYE": "BYE"}.get(str(args[0]), "INVITE")
            if make is sip_request:
                leg = [f"X-CID: call-{index - 1}@example.com"] if index % 2 else []
                payload = make(args[0], call_id=call_id, cseq=2 if args[0] == "BYE" else 1,
                               extra=leg)
                src, dst = "192.0.2.10", "198.51.100.20"
            else:
                payload = make(*args, call_id=call_id, cseq=1, method=cseq_method)
                src, dst = "198.51.100.20", "192.0.2.10"
            ts = 1_700_000_000_000_000_000 + round((index * 0.1 + at) * 1e9)
            frames.append((ts, udp4_frame(src, dst, payload)))
    frames.sort(key=lambda frame: frame[0])
    path.write_bytes(pcap(frames))
    return path


def test_calls_linked_across_shares_stay_linked(two_workers: Client, tmp_path: Path) -> None:
    files = rotated(many_calls(tmp_path / "legs.pcap", 40), tmp_path)
    one, on_cluster = single_and_cluster(two_workers, files)
    # every odd call names the even one before it, whichever share each fell to
    assert one is not None
    assert [link["reason"].split(" in ")[0] for link in json.loads(one)["links"]] == ["X-CID"] * 20
    assert on_cluster == one


def test_a_worker_killed_in_the_middle_of_its_task_changes_nothing(tmp_path: Path) -> None:
    capture = many_calls(tmp_path / "many.pcap", 4000)
    files = rotated(capture, tmp_path, parts=5)
    expected = json_text(analyze(files, engine=ENGINE, ladders=Ladders.ALL))
    with local_cluster(2) as cluster, Client(cluster) as client:
        pids = client.run(os.getpid)
        result: dict[str, object] = {}

        def analyse() -> None:
            try:
                result["run"] = analyze_on(client, files, engine=ENGINE, ladders=Ladders.ALL)
            except Exception as exc:  # raised again below, in the test's thread
                result["error"] = exc

        worker = threading.Thread(target=analyse)
        worker.start()
        victim = _worker_running_a_share(client)
        os.kill(pids[victim], signal.SIGKILL)
        worker.join(timeout=120)
        assert not worker.is_alive()
        if "error" in result:
            raise result["error"]  # type: ignore[misc]
        after = client.run(os.getpid)
    assert after.get(victim) != pids[victim]  # the worker that ran the share was killed
    assert json_text(result["run"].analysis) == expected  # type: ignore[attr-defined]


def _worker_running_a_share(client: Client) -> str:
    """The address of a worker running an analysis task, as soon as one is."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for address, keys in client.processing().items():
            if any("replay_packed" in str(key) for key in keys):
                return str(address)
        time.sleep(0.005)
    raise AssertionError("no analysis task started within a minute")


def test_a_share_task_collects_garbage_as_the_client_does(two_workers: Client) -> None:
    from sipdiag.cli import GC_THRESHOLDS

    seen = two_workers.submit(_thresholds_in_a_share, GC_THRESHOLDS, pure=False).result()
    assert seen == (GC_THRESHOLDS, True)


def _thresholds_in_a_share(collector: tuple[int, int, int]) -> tuple[tuple[int, ...], bool]:
    """The thresholds ``replay_packed`` runs a share with, on a worker; and whether the
    worker's own were given back after it."""
    import gc

    from sipdiag.analysis import cluster
    from sipdiag.analysis.reading import CaptureSummary

    own = gc.get_threshold()
    during: list[tuple[int, ...]] = []
    real = cluster.replay_share
    cluster.replay_share = lambda *args: during.append(gc.get_threshold()) or real(*args)
    try:
        nothing_read = cluster.Plan(CaptureSummary("empty"), (), media=False)
        cluster.replay_packed(cluster.Share(), cluster.Job(ENGINE, None, Ladders.NONE),
                              nothing_read, [], None, collector)
    finally:
        cluster.replay_share = real
    return during[0], gc.get_threshold() == own


def run_cli(argv: list[str], environ: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, Environment(stdout=out, stderr=err, stdin=io.BytesIO(),
                                  environ=environ or {"SIPDIAG_CACHE": "off"}))
    return code, out.getvalue(), err.getvalue()


def test_the_command_line_on_a_running_scheduler_prints_the_same(
        two_workers: Client, tmp_path: Path) -> None:
    files = rotated(SAMPLES / "rules" / "server-errors.pcap", tmp_path)
    corrupt = tmp_path / "zz.pcap"
    corrupt.write_bytes(b"\x00" * 64)
    address = two_workers.scheduler.address
    alone = run_cli([*files, "--format", "json"])
    on_cluster = run_cli([*files, str(corrupt), "--format", "json", "--dask", address])
    assert on_cluster[1] == alone[1] and on_cluster[0] == alone[0] == ExitStatus.FINDINGS
    assert on_cluster[2].startswith(f"sipdiag: skipped {corrupt}: not a packet capture")
    from_environment = run_cli([*files, "--no-color"],
                               {"SIPDIAG_DASK": address, "SIPDIAG_CACHE": "off"})
    assert from_environment[1] == run_cli([*files, "--no-color"])[1]


def test_sip_over_tls_across_rotated_files_is_decrypted_on_the_cluster(
        two_workers: Client, tmp_path: Path) -> None:
    # the TLS streams run from one file into the next: the task of the set-aside frames reads
    # them whole, with what Wireshark decrypted of them
    files = rotated(SAMPLES / "tls" / "tls12-calls.pcap", tmp_path, parts=4)
    keys = ["--tls-keylog", str(SAMPLES / "tls" / "tls12-calls.keylog"), "--format", "json"]
    alone = run_cli([*files, *keys])
    on_cluster = run_cli([*files, *keys, "--dask", two_workers.scheduler.address])
    assert on_cluster == alone
    document = json.loads(alone[1])
    assert len(files) == 4
    # decrypted, the capture holds a call hung up with BYE and one refused with 486
    assert [(call["call_id"].split("@")[0], call["outcome"]) for call in document["calls"]] == [
        ("tls12-calls-full", "completed"), ("tls12-calls-busy", "busy")]


def test_a_local_cluster_started_by_the_command(tmp_path: Path) -> None:
    files = rotated(SAMPLES / "calls" / "busy.pcap", tmp_path)
    assert run_cli([*files, "--format", "json", "--dask", "local:1"])[1] == \
        run_cli([*files, "--format", "json"])[1]


def test_captures_at_urls_and_a_wildcard_expanded_by_the_scheduler(tmp_path: Path) -> None:
    import fsspec

    files = rotated(SAMPLES / "calls" / "tcp-call.pcap", tmp_path)
    memory = fsspec.filesystem("memory")
    for file in files:
        memory.pipe(f"/day/{Path(file).name}", Path(file).read_bytes())
    urls = [f"memory:///day/{Path(file).name}" for file in files]
    alone = json_text(analyze(urls, engine=ENGINE, ladders=Ladders.ALL))
    # the memory filesystem is the process's own: a cluster of threads in this process sees it
    with local_cluster(2, processes=False) as cluster, Client(cluster) as client:
        run = analyze_on(client, ["memory:///day/part*.pcap"], engine=ENGINE,
                         ladders=Ladders.ALL)
    assert run.captures == tuple(urls)
    assert json_text(run.analysis) == alone
    whole = json_text(analyze(files, engine=ENGINE, ladders=Ladders.ALL))
    assert alone.replace("memory:///day/", str(tmp_path) + "/") == whole
    memory.rm("/day", recursive=True)


@pytest.mark.parametrize(("url", "error"), [
    ("nosuch://x/a.pcap", "nosuch://x/a.pcap: Protocol not known: nosuch"),
    ("memory://missing.pcap", "memory://missing.pcap: No such file or directory"),
    ("memory://nowhere/*.pcap", "memory://nowhere/*.pcap: No such file or directory"),
    ("file:///nonexistent/a.pcap", "file:///nonexistent/a.pcap: No such file or directory"),
])
def test_a_url_that_cannot_be_read_is_one_line(url: str, error: str) -> None:
    code, _, err = run_cli([url])
    assert (code, err) == (ExitStatus.ERROR, f"sipdiag: error: {error}\n")


def test_a_url_of_garbage_is_not_a_capture() -> None:
    import fsspec

    fsspec.filesystem("memory").pipe("/garbage.pcap", b"\xde\xad\xbe\xef" * 64)
    code, _, err = run_cli(["memory:///garbage.pcap"])
    assert code == ExitStatus.ERROR and "memory:///garbage.pcap: not a packet capture" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(("argv", "error"), [
    (["--dask", "local:0"], "give local, or local:N with N workers"),
    (["--dask", "local", "-"], "not standard input"),
])
def test_cluster_usage_errors_are_one_line(argv: list[str], error: str) -> None:
    capture = str(SAMPLES / "calls" / "busy.pcap")
    code, _, err = run_cli([*(a for a in argv if a != "-"),
                            "-" if "-" in argv else capture])
    assert code == ExitStatus.ERROR and error in err and err.count("\n") == 1


def test_no_scheduler_at_the_address_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sipdiag.cli.cluster.CONNECT_SECONDS", 1)
    code, _, err = run_cli([str(SAMPLES / "calls" / "busy.pcap"), "--dask",
                            "tcp://127.0.0.1:9"])
    assert code == ExitStatus.ERROR and "no Dask scheduler answered" in err
    assert err.count("\n") == 1


def test_without_dask_the_command_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "distributed", None)
    code, _, err = run_cli([str(SAMPLES / "calls" / "busy.pcap"), "--dask", "local"])
    assert code == ExitStatus.ERROR
    assert err == "sipdiag: error: --dask needs Dask: pip install 'sipdiag[dask]'\n"
