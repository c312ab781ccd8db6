"""How many threads the matrix products (BLAS) of a run use.

OpenBLAS threads spin while they wait for work. On a 2-core laptop that is also running a
browser, a second BLAS thread fights the other programs for a core and a training step
gets slower, not faster (1.2x to 4.7x at the small and paper presets on a busy 2-core
machine: docs/threads.md, from benchmarks/threads.py). So lpn-mini sets the count itself,
with threadpoolctl, in this order:

  1. ``--threads N`` on the command line, or the environment variable LPN_MINI_THREADS=N;
  2. else, where the user set OPENBLAS_NUM_THREADS, OMP_NUM_THREADS or MKL_NUM_THREADS,
     lpn-mini leaves BLAS alone and that setting holds;
  3. else ``default_threads(config)``.

The count is a property of the machine, not of the run: it is in no config, checkpoint or
record, and the numbers a run trains to can differ in the last bits with another count.
"""
import contextlib
import os

ENV = "LPN_MINI_THREADS"
USER_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def default_threads(config):
    """The BLAS thread count of a run of ``config`` when nothing else is asked for."""
    return 1


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


def chosen_threads(config):
    """The BLAS thread count for a run of ``config``, or None where lpn-mini leaves BLAS
    alone (the user set OPENBLAS_NUM_THREADS or a sibling, or the arrays live on a GPU)."""
    if os.environ.get(ENV):
        return parse_threads(os.environ[ENV])
    if config.device == "gpu" or any(os.environ.get(v) for v in USER_VARIABLES):
        return None
    return default_threads(config)


def describe(threads):
    """``chosen_threads``'s answer in words, for the line a command prints."""
    if threads is None:
        return "BLAS threads as the environment sets them"
    return f"{threads} BLAS thread{'s' * (threads != 1)}"


@contextlib.contextmanager
def blas_threads(threads):
    """Run the ``with`` block with ``threads`` BLAS threads (None: as they are)."""
    if threads is None:
        yield
        return
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=threads, user_api="blas"):
        yield
