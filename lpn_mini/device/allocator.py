"""Keep freed memory inside the process between training steps (glibc only).

NumPy allocates a fresh array for every intermediate result, autograd keeps them all
alive until the backward pass has used them, and then they are freed together. By default
glibc's ``malloc`` hands large freed blocks straight back to the operating system (blocks
over its mmap threshold are unmapped; the top of the heap is trimmed), so the next step asks
for the same memory again and the kernel page-faults it in, zero-filled, one 4 KiB page at
a time. On a virtual machine that costs more than some of the arithmetic: for one training
step at the paper's Pattern config it was about a third of the time
(``python benchmarks/speed.py``, see the README). Two ``mallopt`` settings stop it: never
serve allocations with ``mmap``, never trim the heap. The price is that the process keeps
its peak memory for reuse instead of returning it.
"""
import ctypes
import ctypes.util

M_TRIM_THRESHOLD = -1   # from glibc's <malloc.h>
M_MMAP_MAX = -4

_applied = None


def keep_freed_memory():
    """Tune glibc's malloc as above, once per process. Returns True if it applied (glibc),
    False where there is no ``mallopt`` (macOS, Windows, musl): then nothing changes."""
    global _applied
    if _applied is None:
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            mallopt = libc.mallopt
        except (OSError, AttributeError, TypeError):
            _applied = False
        else:
            _applied = bool(mallopt(M_MMAP_MAX, 0)) and bool(mallopt(M_TRIM_THRESHOLD, 2 ** 31 - 1))
    return _applied
