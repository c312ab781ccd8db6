"""`lpn-mini reproduce --scheduler`: the runs on a real Dask cluster on this machine (loopback
only), once a `distributed.LocalCluster` and once `dask scheduler` + `dask worker` started as
separate processes with the commands of docs/cluster.md. The table is the one a local run gives; a
worker killed mid-run costs that run only; a second invocation reuses every finished run
without asking the cluster; Ctrl-C cancels the cluster's runs. Skipped without Dask."""
import _thread
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from lpn_mini.experiments import cluster as cluster_module
from lpn_mini.checkpoint import load_checkpoint
from lpn_mini.cli import main
from lpn_mini.experiments import runs as runs_module
from lpn_mini.experiments.reproduce import BLAS_THREADS

from helpers import one_blas_thread_reproduction

try:
    import distributed
except ImportError:
    distributed = None
needs_dask = pytest.mark.skipif(distributed is None,
                                reason="needs Dask: pip install -e '.[cluster]'")

ONE_BLAS_THREAD = {k: "1" for k in BLAS_THREADS}
RUN_FILES = {"summary.json", "checkpoint.npz", "metrics.jsonl", "config.json"}


def _reproduce(tmp_path, *args):
    out, runs = tmp_path / "out", tmp_path / "runs"
    code = main(["reproduce", "ood", "--quick", "--out", str(out), "--runs-dir", str(runs),
                 *args])
    record = json.loads((out / "results.json").read_text()) if code == 0 else None
    return code, record


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The local run's table, made with one BLAS thread as the workers use (the same path)."""
    return one_blas_thread_reproduction(tmp_path_factory.mktemp("local"))["table"]


@pytest.fixture(scope="module")
def local_cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None,
                                  env=ONE_BLAS_THREAD) as cluster, \
            distributed.Client(cluster, set_as_default=False) as client:
        yield cluster, client


# --- clear errors, with or without Dask ---

def test_without_dask_scheduler_is_one_clear_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` fails
    code, _ = _reproduce(tmp_path, "--scheduler", "tcp://127.0.0.1:8786")
    err = capsys.readouterr().err.strip()
    assert code == 2 and err == ("lpn-mini reproduce: error: --scheduler needs Dask: "
                                 "pip install -e '.[cluster]'")


def test_jobs_and_scheduler_do_not_combine(tmp_path, capsys):
    code, _ = _reproduce(tmp_path, "--jobs", "2", "--scheduler", "tcp://127.0.0.1:8786")
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "--jobs and --scheduler do not combine" in err


@needs_dask
def test_an_unreachable_scheduler_is_one_clear_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cluster_module, "CONNECT_TIMEOUT", 1)
    address = f"tcp://127.0.0.1:{_free_port()}"            # nothing listens there
    t0 = time.perf_counter()
    code, _ = _reproduce(tmp_path, "--scheduler", address)
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err, err
    assert f"cannot reach the Dask scheduler at {address} within 1 s" in err
    assert time.perf_counter() - t0 < 15                    # the connect timeout holds


# --- a LocalCluster: same table, a lost worker, reuse, GPU routing, Ctrl-C ---

def _kill_a_busy_worker(client, killed):
    """Once a run is on a worker, SIGKILL that worker's process (its nanny starts another)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        busy = [w for w, keys in client.processing().items()
                if any(str(k).startswith("run_remote") for k in keys)]
        if busy:
            pid = client.run(os.getpid, workers=busy[:1])[busy[0]]
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
            return
        time.sleep(0.02)


@needs_dask
def test_local_cluster_gives_the_local_table_despite_a_lost_worker_then_reuses(
        tmp_path, reference, local_cluster):
    cluster, client = local_cluster
    killed = []
    killer = threading.Thread(target=_kill_a_busy_worker, args=(client, killed))
    killer.start()
    code, record = _reproduce(tmp_path, "--scheduler", cluster.scheduler_address)
    killer.join()
    assert code == 0 and len(killed) == 1, "no worker was killed during a run"
    assert record["scheduler"] == cluster.scheduler_address
    assert all(not r["reused"] for r in record["runs"])
    assert record["table"] == reference                     # bit for bit: the same path
    # The client wrote the files a local run leaves, with the local run directory in them.
    for r in record["runs"]:
        assert RUN_FILES <= set(os.listdir(r["run_dir"]))
        assert r["run_dir"].startswith(str(tmp_path / "runs"))
        summary = json.loads(open(os.path.join(r["run_dir"], "summary.json")).read())
        assert summary["run_dir"] == r["run_dir"]
        assert r["worker"]["host"] == socket.gethostname()    # which machine trained it
        assert load_checkpoint(os.path.join(r["run_dir"], "checkpoint.npz"))[3] == 150

    # The same command again: every run is reused and nothing goes to the cluster (its
    # address is now one where nothing listens, so asking it would fail).
    code, again = _reproduce(tmp_path, "--scheduler", f"tcp://127.0.0.1:{_free_port()}")
    assert code == 0 and all(r["reused"] for r in again["runs"])
    assert again["table"] == reference
    # And a local invocation reuses the cluster's runs too: they are ordinary run folders.
    code, local = _reproduce(tmp_path)
    assert code == 0 and all(r["reused"] for r in local["runs"])
    # With one run's summary and its record in results gone, only that run goes to the
    # cluster again.
    os.remove(os.path.join(record["runs"][0]["run_dir"], "summary.json"))
    os.remove(tmp_path / "out" / "runs" / "grad-0-seed0.json")
    code, third = _reproduce(tmp_path, "--scheduler", cluster.scheduler_address)
    assert code == 0 and [r["reused"] for r in third["runs"]] == [False, True]
    assert third["table"] == reference


@needs_dask
def test_a_run_that_keeps_killing_workers_is_one_clear_line(tmp_path, local_cluster, capsys,
                                                           monkeypatch):
    cluster, client = local_cluster
    client.wait_for_workers(2, timeout=30)                  # the killed one is back
    monkeypatch.setattr(cluster.scheduler, "allowed_failures", 0)  # give up at the first loss
    killer = threading.Thread(target=_kill_a_busy_worker, args=(client, []))
    killer.start()
    code, _ = _reproduce(tmp_path, "--scheduler", cluster.scheduler_address)
    killer.join()
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 2 and err.startswith("lpn-mini reproduce: error: the run "), err
    assert "every worker that ran it died" in err


@needs_dask
def test_gpu_runs_need_a_worker_that_declares_a_gpu(tmp_path, local_cluster, capsys):
    cluster, client = local_cluster                          # its workers declare no GPU
    client.wait_for_workers(2, timeout=30)                  # the killed one is back
    code, _ = _reproduce(tmp_path, "--device", "gpu", "--scheduler", cluster.scheduler_address)
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err, err
    assert "none of the 2 worker(s)" in err and "--resources GPU=1" in err


@needs_dask
def test_ctrl_c_cancels_the_clusters_runs(tmp_path, local_cluster, capsys, monkeypatch):
    cluster, client = local_cluster
    client.wait_for_workers(2, timeout=30)                  # the killed one is back
    cancelled, cancel = [], distributed.Client.cancel

    def spy(self, futures, *args, **kwargs):
        cancelled.extend(futures)
        return cancel(self, futures, *args, **kwargs)
    monkeypatch.setattr(distributed.Client, "cancel", spy)

    def interrupt_once_a_run_started():
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(client.processing().values()):
            time.sleep(0.02)
        _thread.interrupt_main()                             # what Ctrl-C does
    threading.Thread(target=interrupt_once_a_run_started).start()
    code, _ = _reproduce(tmp_path, "--scheduler", cluster.scheduler_address)
    err = capsys.readouterr().err.strip()
    assert code == 130 and err.splitlines()[-1].startswith("interrupted; the cluster's "
                                                           "unfinished runs are cancelled")
    runs_on_scheduler = lambda: [k for k in client.run_on_scheduler(  # noqa: E731
        lambda dask_scheduler: [str(k) for k in dask_scheduler.tasks]) if "run_remote" in k]
    deadline = time.monotonic() + 10                         # cancelled: the scheduler
    while runs_on_scheduler() and time.monotonic() < deadline:  # forgets them
        time.sleep(0.05)
    assert runs_on_scheduler() == []
    assert len(cancelled) == 2, "the client did not cancel its submitted runs"
    assert not list((tmp_path / "runs").glob("*/summary.json"))


# --- `dask scheduler` and `dask worker` as separate processes: docs/cluster.md's commands ---

@needs_dask
def test_dask_scheduler_and_worker_processes(tmp_path, reference, capsys):
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, **ONE_BLAS_THREAD}
    dask = [sys.executable, "-m", "dask"]
    logs = open(tmp_path / "dask.log", "w")
    processes = [subprocess.Popen(dask + ["scheduler", "--host", "127.0.0.1", "--port",
                                          str(port)], env=env, stdout=logs, stderr=logs)]
    try:
        for gpu in ([], ["--resources", "GPU=1"]):          # a CPU worker and a GPU worker
            processes.append(subprocess.Popen(dask + ["worker", address, "--nthreads", "1", *gpu],
                                              env=env, stdout=logs, stderr=logs))
        deadline = time.monotonic() + 30
        while True:  # the scheduler takes a moment to listen
            try:
                client = distributed.Client(address, timeout=2, set_as_default=False)
                break
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / "dask.log").read_text()
        with client:
            client.wait_for_workers(2, timeout=30)
            workers = client.scheduler_info()["workers"]
            assert sorted(w["resources"].get("GPU", 0) for w in workers.values()) == [0, 1]
            assert all(w["nthreads"] == 1 for w in workers.values())
            (gpu_worker,) = [a for a, w in workers.items() if w["resources"]]
            code, record = _reproduce(tmp_path / "cpu", "--scheduler", address)
            assert code == 0 and record["table"] == reference
            # --device gpu runs go to the worker that declares the GPU, and only there. This
            # machine has no usable GPU: the worker's one-line error comes back after Dask's
            # retries (every try on the GPU worker).
            seen = lambda: client.run(lambda dask_worker: {  # noqa: E731 (runs each worker saw)
                str(entry[0]) for entry in dask_worker.state.log
                if str(entry[0]).startswith("run_remote")})
            before = seen()
            capsys.readouterr()
            code, _ = _reproduce(tmp_path / "gpu", "--device", "gpu", "--scheduler", address)
            if runs_module.gpu() is None:
                err = capsys.readouterr().err.strip().splitlines()[-1]  # below the bar
                assert code == 2 and err.startswith("lpn-mini reproduce: error: "), err
                assert "the GPU needs CuPy" in err or "no GPU is usable" in err, err
            else:
                assert code == 0
            where = {w for w, keys in seen().items() if keys - before[w]}
            assert where == {gpu_worker}, "a --device gpu run went to the CPU worker"
    finally:
        for p in reversed(processes):
            p.kill()
            p.wait()
        logs.close()
