"""One run of ``lpn-mini reproduce``, in a worker: train, evaluate, and remember what ran
where (the record: config, evaluations, loss curve, versions, machine, commit).

A run is never done twice: one whose ``summary.json`` in its checkpoint folder, or whose
record in ``results/<experiment>/runs/``, has the same config and evaluations is reused.
"""
import dataclasses
import datetime
import json
import os
import platform
import subprocess
import time

import numpy as onp

from .. import __version__
from ..config import Config, config_from_dict, renamed, with_overrides
from ..device.backend import get_module, to_device
from ..evaluation import evaluate
from .plan import slug

def _same_job(done, job):
    """Whether a finished run ``done`` is ``job``: the same config and evaluations. A key the
    record lacks (one added to Config after the run) counts as its default, so a run never
    has to be repeated because the code grew an option it did not use."""
    config = {**dataclasses.asdict(Config()), **renamed(done.get("config", {}))}
    return json.loads(json.dumps(config)) == json.loads(json.dumps(job.config)) and \
        done.get("evaluations") == job.evaluations


def finished_run(job):
    """The summary of ``job`` if this exact job (same config, same evaluations) finished
    before in ``job.run_dir``, marked ``reused``; otherwise None."""
    summary_path = os.path.join(job.run_dir, "summary.json")
    if os.path.exists(summary_path):
        with open(summary_path) as f:
            done = json.load(f)
        if _same_job(done, job):
            done["reused"] = True
            return done
    return None


def record_path(out_dir, job):
    """Where the record of one finished run goes: ``<out_dir>/runs/<row>-seed<k>.json``."""
    return os.path.join(out_dir, "runs", f"{slug(job.label)}-seed{job.seed}.json")


def committed_run(job, out_dir, needs_checkpoint=False):
    """The record of ``job`` in ``out_dir/runs/`` (committed earlier, perhaps on
    another machine) if it is this exact job, marked ``reused``; otherwise None. With
    ``needs_checkpoint`` (a run whose weights the figures need) only if its checkpoint is
    here too."""
    path = record_path(out_dir, job)
    if not os.path.exists(path):
        return None
    try:
        with open(path) as f:
            done = json.load(f)
    except (OSError, ValueError) as e:
        raise ValueError(f"{path} is not a readable run record ({e}); delete it to run that "
                         "run again.") from None
    if not _same_job(done, job):
        return None
    if needs_checkpoint and not os.path.exists(os.path.join(job.run_dir, "checkpoint.npz")):
        return None
    done.update(reused=True, run_dir=job.run_dir)
    return done


def more_seeds_recorded(job_list, out_dir):
    """``[(job, record)]`` for the runs of ``job_list``'s rows recorded in ``out_dir/runs/``
    with a seed beyond those planned (seeds N, N + 1, ... of a row that has them), in seed
    order. A record whose config is not the row's (another preset, say) is not taken."""
    found = []
    for label in dict.fromkeys(j.label for j in job_list):
        row = [j for j in job_list if j.label == label]
        job, config = row[0], config_from_dict(row[0].config)
        seed = max(j.seed for j in row) + 1
        while True:
            extra = dataclasses.replace(
                job, seed=seed, config=dataclasses.asdict(dataclasses.replace(config, seed=seed)),
                run_dir=os.path.join(os.path.dirname(job.run_dir), f"{slug(label)}-seed{seed}"))
            record = committed_run(extra, out_dir)   # None: not recorded, or another config
            if record is None:
                break
            found.append((extra, record))
            seed += 1
    return found


def write_record(out_dir, job, summary):
    """Write one finished run's record (atomically: a record is whole or absent)."""
    os.makedirs(os.path.join(out_dir, "runs"), exist_ok=True)
    write_json(record_path(out_dir, job), {k: v for k, v in summary.items() if k != "reused"})


def run_job(job):
    """Train and evaluate one run; reuse ``summary.json`` if this exact job finished before."""
    from ..training import train
    config = config_from_dict(job.config)
    summary_path = os.path.join(job.run_dir, "summary.json")
    done = finished_run(job)
    if done is not None:
        return done
    # A checkpoint from a different config (an earlier plan) is stale: start that run afresh.
    saved_path = os.path.join(job.run_dir, "config.json")
    resume = True
    if os.path.exists(saved_path):
        with open(saved_path) as f:
            resume = renamed(json.load(f)) == json.loads(json.dumps(job.config))
    t0 = time.perf_counter()
    params = train(config, job.run_dir, resume=resume, progress=job.progress)
    train_seconds = time.perf_counter() - t0
    with open(os.path.join(job.run_dir, "metrics.jsonl")) as f:
        metrics = [json.loads(line) for line in f if line.strip()]
    t1 = time.perf_counter()
    results = {}
    device_params = to_device(params, get_module(config.device))  # evaluate where it trained
    for name, eval_overrides in job.evaluations.items():
        results[name], _ = evaluate(device_params, with_overrides(config, eval_overrides))
    extra = {}
    if job.experiment == "arc":
        extra = _arc_evaluation(params, config)
    versions, machine = environment()  # of the worker: on a cluster, the machine it ran on
    summary = dict(label=job.label, seed=job.seed, run_dir=job.run_dir, config=job.config,
                   evaluations=job.evaluations, train_seconds=round(train_seconds, 1),
                   eval_seconds=round(time.perf_counter() - t1, 1),
                   loss_curve=[(m["step"], m["loss"]) for m in metrics], results=results,
                   versions=versions, machine=machine,
                   finished=datetime.datetime.now(datetime.timezone.utc).isoformat(
                       timespec="seconds"), **extra)
    tmp = summary_path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(summary, f)
    os.replace(tmp, summary_path)
    summary["reused"] = False
    return summary


def _arc_evaluation(params, config):
    from ..arc import copy_baseline, evaluate_arc
    rows, _, groups = evaluate_arc(params, config, steps=config.eval_grad_steps, seed=config.seed)
    return dict(problems=rows, copy_baseline=copy_baseline(groups))


def write_json(path, data):
    """Write ``data`` as JSON to ``path`` atomically: the file is whole or absent."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1)
    os.replace(tmp, path)


# The machine a run ran on, and the code it ran.

def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpu():
    try:
        import cupy
        count = cupy.cuda.runtime.getDeviceCount()
        return cupy.cuda.runtime.getDeviceProperties(0)["name"].decode() if count else None
    except Exception:  # no CuPy, no driver, no device: no GPU to report
        return None


def git_commit():
    """The commit of this copy of lpn_mini, "+changes" if its library files (the grader
    aside: it never touches a run) differ from it; None outside a git checkout."""
    here = os.path.dirname(os.path.dirname(__file__))  # lpn_mini/
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=5, cwd=here)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                                ".", ":(exclude)course"], capture_output=True, text=True,
                               timeout=5, cwd=here)
        return (out.stdout.strip() + ("+changes" if dirty.stdout.strip() else "")) or None
    except (OSError, subprocess.SubprocessError):
        return None


# Read once, when the code is imported: a run records the commit of the code it ran, even
# if the checkout moves on while it trains (a worker process imports it when it starts).
CODE_COMMIT = git_commit()


def environment():
    from importlib.metadata import PackageNotFoundError, version

    import matplotlib
    try:
        autograd_version = version("autograd")
    except PackageNotFoundError:
        autograd_version = "unknown"
    versions = {"python": platform.python_version(), "numpy": onp.__version__,
                "autograd": autograd_version,
                "matplotlib": matplotlib.__version__, "lpn_mini": __version__,
                "git_commit": CODE_COMMIT}
    machine = {"cpu": cpu_model(), "cores": os.cpu_count(), "gpu": gpu(),
               "platform": platform.platform()}
    return versions, machine
