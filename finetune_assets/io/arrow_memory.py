"""Which allocator Arrow uses in a step process, set by an explicit call when the step's resources start
(``configure``), never as a side effect of an import."""

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
