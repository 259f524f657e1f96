"""Two cores, one step: let the part that releases the GIL (parsing, writing, hashing) run on a
second thread while Python works on the previous or next piece. Bounded, so memory stays flat."""

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


def prefetched(produce: Callable[[], Iterator[T]], depth: int = 1) -> Iterator[T]:
    """The items of ``produce()``, made on a worker thread at most ``depth`` ahead of the consumer."""
    items: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def work() -> None:
        try:
            for item in produce():
                while not stop.is_set():
                    try:
                        items.put((item, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            items.put((_DONE, None))
        except BaseException as error:  # handed to the consumer, raised there
            items.put((_DONE, error))

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    try:
        while True:
            item, error = items.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        worker.join()


class WriteBehind:
    """Runs calls in order on one worker thread, at most ``depth`` behind the caller.

    Leaving the block waits for every call (and raises the first failure); on an error it cancels
    what has not started, so nothing writes into a file that is being discarded.
    """

    def __init__(self, depth: int = 2):
        self._depth = depth
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="write-behind")
        self._pending: deque[Future] = deque()

    def submit(self, call: Callable, *args) -> None:
        self._pending.append(self._pool.submit(call, *args))
        while len(self._pending) > self._depth:
            self._pending.popleft().result()

    def __enter__(self) -> "WriteBehind":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                while self._pending:
                    self._pending.popleft().result()
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)
