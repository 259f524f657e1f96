"""Signing the weeks a corpus plan needs on both cores, earliest first."""

import multiprocessing
import threading
from concurrent.futures import Future, ProcessPoolExecutor

from ..core.corpus_card import CorpusInput
from . import arrow_memory
from .store import Store
from .week_signatures import has_signatures, store_signatures


class Signer:
    """Signs the weeks a plan needs that no earlier build kept, earliest first, on both cores: a worker
    process takes the earliest week not yet taken whenever it is free, and this process, asked for a
    week the worker is still signing, signs the next one itself meanwhile, so neither waits for the
    other at the end. One worker, not two: rensa hands signatures to Python as lists, which holds the
    GIL (so threads would not help), and a third process would add its memory to the tree's. The plan
    starts once every week is signed: planning beside the worker would add the worker's memory (about
    300 MB) to the plan's peak."""

    def __init__(
        self,
        exports: Store,
        paths: list[str],
        staging: Store,
        inputs: list[CorpusInput],
        banding,
        sign=store_signatures,
    ):
        """``sign``: what signs a week and keeps its signatures, a module-level function (pickled to the worker)."""
        self._sign = sign
        self._jobs = {
            week: (exports, path, staging, item, banding)
            for week, (path, item) in enumerate(zip(paths, inputs, strict=True))
            if not has_signatures(staging, item, banding)
        }
        self.signed_now = [inputs[week].week for week in self._jobs]
        self._untaken = sorted(self._jobs)
        self._sent: dict[int, Future] = {}
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._feeder: threading.Thread | None = None

    def __enter__(self) -> "Signer":
        if len(self._jobs) >= 2:
            spawn = multiprocessing.get_context("spawn")  # a fresh interpreter: no copy of this process
            # The worker's Arrow allocator returns what a week freed, as a step's does.
            self._pool = ProcessPoolExecutor(1, mp_context=spawn, initializer=arrow_memory.configure)
            self._feeder = threading.Thread(target=self._feed, name="signing-feeder", daemon=True)
            self._feeder.start()
        return self

    def __exit__(self, *exc) -> None:
        with self._lock:
            self._untaken.clear()  # the feeder sends no more
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._feeder.join()

    def _take(self) -> int | None:
        return self._untaken.pop(0) if self._untaken else None

    def _feed(self) -> None:
        """Keeps the worker signing the earliest week not taken, one at a time (a week queued there
        could not be taken back by this process)."""
        while True:
            with self._lock:
                week = self._take()
                if week is None:
                    return
                sent = self._sent[week] = self._pool.submit(self._sign, *self._jobs[week])
            try:
                sent.result()
            except BaseException:  # raised to whoever waits for this week (``ready``)
                return

    def ready(self, week: int) -> None:
        """Returns once the week (by its place) is signed and kept."""
        while True:
            with self._lock:
                sent = self._sent.get(week)
                if sent is None:
                    here = week if week in self._untaken else None  # None: signed here, or by an earlier build
                    if here is not None:
                        self._untaken.remove(week)
                else:
                    here = None if sent.done() else self._take()
            if here is None:
                if sent is not None:
                    sent.result()
                return
            self._sign(*self._jobs[here])
            if here == week:
                return

    def all(self) -> None:
        for week in range(max(self._jobs, default=-1) + 1):
            self.ready(week)


def sign(exports: Store, paths: list[str], staging: Store, inputs: list[CorpusInput], banding) -> list[str]:
    """Signs the weeks no earlier build kept; the weeks signed now."""
    with Signer(exports, paths, staging, inputs, banding) as signer:
        signer.all()
    return signer.signed_now
