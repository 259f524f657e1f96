"""Which allocator Arrow uses in a step process, set by an explicit call when the step's resources start
(``configure``), never as a side effect of an import."""

import ctypes

import pyarrow as pa

# Returning freed memory after a second keeps a step's resident memory flat from a small week to a
# large one; returning it at once cost 4 s at a million rows for 50 MB less.
DECAY_MS = 1000


def configure() -> str:
    """Arrow's default mimalloc pool keeps what each reader thread freed, and glibc's malloc keeps large
    freed buffers in its heaps; jemalloc returns what stayed unused for ``DECAY_MS`` (at a million rows,
    the run's peak was 20-50 MB lower than with glibc). Returns the pool's name."""
    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:  # a pyarrow build without jemalloc
        pool = pa.system_memory_pool()
    else:
        pa.jemalloc_set_decay_ms(DECAY_MS)
    pa.set_memory_pool(pool)
    return pool.backend_name


def _glibc():
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to hand back this way
        return None


def hand_back() -> None:
    """Returns the free pages inside glibc's heaps to the system: a long loop of arrays of many sizes
    (the corpus plan, a week at a time) otherwise keeps its resident memory at its high-water mark."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
