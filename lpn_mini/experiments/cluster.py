"""``lpn-mini reproduce --scheduler tcp://HOST:8786``: the runs on a Dask cluster.

The runs of an experiment are independent (``plan.plan``), so a Dask ``distributed``
client can stand in for the local process pool: each ``Job`` is one task. Nothing else
changes: the client gathers the same summaries that ``run_job`` returns, in the same order,
and ``reproduce`` builds the same tables and figures from them.

No shared file system is assumed. A worker trains and evaluates the run in a temporary
directory of its own and sends back the summary with the run's files as bytes (the final
``checkpoint.npz``, ``metrics.jsonl``, ``config.json``); the client writes them into the
local run directory, ``summary.json`` last, so the next invocation finds a finished run
there and reuses it without asking the cluster. A lost worker costs the run it was doing
(the scheduler runs it again elsewhere); ``--device gpu`` runs need a worker that declares
a GPU (``dask worker ADDRESS --resources GPU=1``) and take one GPU each.
"""
import dataclasses
import itertools
import os
import socket
import tempfile

from .runs import cpu_model, finished_run, gpu, run_job, write_json

CONNECT_TIMEOUT = 10            # seconds to reach the scheduler before giving up
RUN_FILES = ("checkpoint.npz", "metrics.jsonl", "config.json")  # written before summary.json
GPU = {"GPU": 1}                # the worker resource a --device gpu run holds


def run_remote(job):
    """On a worker: run ``job`` in a temporary directory; return its summary and files.

    Returns ``(summary, files)``: what ``run_job`` returns plus the worker's machine, and
    ``{name: bytes}`` for ``RUN_FILES``. Nothing is written outside the temporary directory."""
    with tempfile.TemporaryDirectory(prefix="lpn-mini-") as tmp:
        summary = run_job(dataclasses.replace(job, run_dir=tmp, progress=False))
        summary["worker"] = {"host": socket.gethostname(), "cpu": cpu_model(),
                             "cores": os.cpu_count(), "gpu": gpu()}
        files = {}
        for name in RUN_FILES:
            with open(os.path.join(tmp, name), "rb") as f:
                files[name] = f.read()
    return summary, files


def write_run(job, summary, files):
    """On the client: leave in ``job.run_dir`` what a local run would (summary.json last)."""
    os.makedirs(job.run_dir, exist_ok=True)
    for name, data in files.items():
        tmp = os.path.join(job.run_dir, name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, os.path.join(job.run_dir, name))
    summary = {k: v for k, v in summary.items() if k != "reused"}
    summary["run_dir"] = job.run_dir        # the worker's temporary directory is gone
    write_json(os.path.join(job.run_dir, "summary.json"), summary)
    return {**summary, "reused": False}


def connect(address):
    """A ``distributed.Client`` for the scheduler at ``address``, or one clear ValueError."""
    try:
        from distributed import Client
    except ImportError:
        raise ValueError("--scheduler needs Dask: pip install -e '.[cluster]'") from None
    try:
        return Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError) as e:  # refused, unknown host, nothing answering in time
        raise ValueError(f"cannot reach the Dask scheduler at {address} within "
                         f"{CONNECT_TIMEOUT} s ({type(e).__name__}); start one with `dask "
                         f"scheduler` and pass its tcp://HOST:PORT address.") from None


def run_on_cluster(address, jobs):
    """Send ``jobs`` (a list of ``(i, Job)``, most costly first) to the Dask cluster whose
    scheduler is at ``address``, except those that finished before in their local run
    directory; return an iterator of ``(i, summary)`` as they finish, the reused ones first.

    Connecting and submitting happen here, so that their errors come before any progress
    bar; Ctrl-C while waiting cancels every run the cluster has not returned yet."""
    reused, todo = [], []
    for i, job in jobs:
        done = finished_run(job)
        if done is None:
            todo.append((i, job))
        else:
            reused.append((i, done))
    if not todo:
        return iter(reused)
    client = connect(address)
    try:
        if any(job.config["device"] == "gpu" for _, job in todo):
            _check_gpu_workers(client, address)
        futures = {client.submit(run_remote, job, retries=2, pure=False,
                                 priority=len(todo) - rank,     # the longest runs first
                                 resources=GPU if job.config["device"] == "gpu" else None):
                   (i, job) for rank, (i, job) in enumerate(todo)}
    except BaseException:
        client.close()
        raise
    return itertools.chain(reused, _gather(client, futures))


def _gather(client, futures):
    """Write each run the cluster returns into its local run directory, as it comes."""
    from distributed import KilledWorker, as_completed
    try:
        for future in as_completed(futures, loop=client.loop):
            i, job = futures[future]
            try:
                summary, files = future.result()
            except KilledWorker:  # the scheduler gave up after several lost workers
                raise ValueError(f"the run {job.label}, seed {job.seed}: every worker that ran "
                                 f"it died (out of memory?); see the workers' logs, then run "
                                 f"the same command again to retry it.") from None
            yield i, write_run(job, summary, files)
    except KeyboardInterrupt:
        client.cancel(list(futures))
        raise
    finally:
        client.close()


def _check_gpu_workers(client, address):
    workers = client.scheduler_info().get("workers", {})
    if not any(w.get("resources", {}).get("GPU", 0) >= 1 for w in workers.values()):
        raise ValueError(f"--device gpu runs go to workers that declare a GPU, and none of the "
                         f"{len(workers)} worker(s) at {address} does; start one per GPU with "
                         f"`dask worker {address} --nthreads 1 --resources GPU=1`.")
