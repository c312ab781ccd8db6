"""How many threads the matrix products (BLAS) of a run use.

OpenBLAS threads spin while they wait for work. On an idle 2-core machine a second BLAS
thread makes a training step faster (1.35x at the small preset); beside one busy program it
makes it slower (1.2x to 1.7x), because the spinning thread fights that program for a core
(docs/threads.md, from benchmarks/threads.py). No fixed count is fastest in both, so when a
run starts lpn-mini looks at how busy the machine is and chooses, with threadpoolctl, in
this order:

  1. ``--threads N`` on the command line, or the environment variable LPN_MINI_THREADS=N;
  2. else, where the user set OPENBLAS_NUM_THREADS, OMP_NUM_THREADS or MKL_NUM_THREADS
     (as ``reproduce --jobs N`` does for its workers: one thread each), lpn-mini leaves
     BLAS alone and that setting holds;
  3. else ``threads_for_load``: one thread per core where the other programs keep less
     than half a core busy, else 1.

The count is a property of the machine, not of the run: it is in no config, checkpoint or
record, and the numbers a run trains to can differ in the last bits with another count.
"""
import contextlib
import os
import time

ENV = "LPN_MINI_THREADS"
USER_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
IDLE = 0.5     # cores the other programs may keep busy for the machine to count as idle
WINDOW = 0.25  # seconds between the two reads of the kernel's counters
REUSE = 10.0   # seconds a measurement is reused (the line a command prints, then train())
_last = None   # (time.monotonic() of the measurement, busy cores)


def read_proc_stat():
    """Linux's counters of CPU time since boot, in clock ticks: ``(ticks the other
    programs kept a core busy, ticks of all cores, number of cores)``. This process's own
    ticks are left out, so its BLAS threads, still spinning after a product, are not
    counted as another program."""
    with open("/proc/stat") as f:
        lines = f.read().splitlines()
    # The "cpu" line sums all cores: user nice system idle iowait irq softirq steal.
    ticks = [int(v) for v in lines[0].split()[1:9]]
    cores = sum(1 for line in lines if line.startswith("cpu") and line[3:4].isdigit())
    with open("/proc/self/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    own = int(fields[11]) + int(fields[12])  # utime + stime: fields 14 and 15 of proc(5)
    return sum(ticks) - ticks[3] - ticks[4] - own, sum(ticks), cores


def busy_cores(read=None, window=None):
    """How many cores the other programs keep busy now, or None where it cannot be told.

    Linux: two reads of ``read`` (default ``read_proc_stat``) ``window`` seconds apart; the
    busy fraction of the ticks between them times the number of cores. Elsewhere the
    1-minute load average (which lags and counts this process too)."""
    read = read or read_proc_stat
    try:
        busy0, total0, cores = read()
        time.sleep(WINDOW if window is None else window)
        busy1, total1, _ = read()
        if total1 > total0 and cores >= 1:
            return max(0.0, cores * (busy1 - busy0) / (total1 - total0))
    except (OSError, ValueError, IndexError):
        pass
    try:
        return float(os.getloadavg()[0])
    except (AttributeError, OSError):  # Windows has no load average
        return None


def usable_cores():
    """The cores this process may run on (fewer than the machine's under ``taskset``)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def threads_for_load(busy, cores):
    """The rule: ``(threads, why)`` for ``busy`` cores kept busy by other programs (None:
    unknown) and ``cores`` usable ones. All cores where less than half a core is busy, else
    1: half a core is the midpoint between the idle machine, where 2 threads are 1.35x faster
    than 1, and one busy program, where they are 1.2x to 1.7x slower (docs/threads.md)."""
    if cores <= 1:
        return 1, "1 core"
    if busy is None:
        return 1, "the machine's load is unknown"
    if busy < IDLE:
        return cores, f"the machine is idle, {busy:.1f} of {cores} cores busy"
    return 1, f"other programs keep {busy:.1f} of {cores} cores busy"


def default_threads():
    """``(threads, why)`` where nothing else is asked for: ``threads_for_load`` of the
    machine's load now (a measurement younger than REUSE seconds is reused, so that the line
    a command prints and the run it starts agree)."""
    global _last
    now = time.monotonic()
    if _last is None or now - _last[0] > REUSE:
        _last = (now, busy_cores())
    return threads_for_load(_last[1], usable_cores())


def parse_threads(text, where=ENV):
    """``text`` (from ``--threads`` or LPN_MINI_THREADS) as a thread count >= 1."""
    try:
        threads = int(text)
    except (TypeError, ValueError):
        threads = 0
    if threads < 1:
        raise ValueError(f"{where} must be a number of BLAS threads, 1 or more, got {text!r}; "
                         f"e.g. {where}{' ' if where.startswith('-') else '='}1.")
    return threads


def choose(config):
    """``(threads, why)`` for a run of ``config``; threads is None where lpn-mini leaves BLAS
    alone (the user set OPENBLAS_NUM_THREADS or a sibling, or the arrays live on a GPU), and
    then ``why`` is the whole phrase."""
    if os.environ.get(ENV):
        return parse_threads(os.environ[ENV]), f"as asked by --threads or {ENV}"
    if config.device == "gpu":
        return None, "BLAS threads left alone: the arrays live on the GPU"
    for name in USER_VARIABLES:
        if os.environ.get(name):
            return None, f"BLAS threads as {name}={os.environ[name]} sets them"
    return default_threads()


def chosen_threads(config):
    """The BLAS thread count for a run of ``config``, or None to leave BLAS alone."""
    return choose(config)[0]


def describe(config):
    """``choose``'s answer in words, for the line a command prints:
    "2 BLAS threads: the machine is idle, 0.1 of 2 cores busy"."""
    threads, why = choose(config)
    if threads is None:
        return why
    return f"{threads} BLAS thread{'s' * (threads != 1)}: {why}"


@contextlib.contextmanager
def blas_threads(threads):
    """Run the ``with`` block with ``threads`` BLAS threads (None: as they are)."""
    if threads is None:
        yield
        return
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=threads, user_api="blas"):
        yield
