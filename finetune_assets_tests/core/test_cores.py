"""Work spread over the cores: results come back in the items' order, and a failure reaches the caller."""

import threading

import pytest

from finetune_assets.core import cores
from finetune_assets.core.cores import each


def test_results_keep_the_order_of_the_items_whichever_thread_ran_them(monkeypatch):
    monkeypatch.setattr(cores, "WORKERS", 2)
    threads = set()

    def slow_square(n: int) -> int:
        threads.add(threading.current_thread().name)
        threading.Event().wait(0.02 if n % 2 else 0)
        return n * n

    assert each(slow_square, range(8)) == [n * n for n in range(8)]
    assert threads and all(name.startswith("cores") for name in threads)


def test_a_failure_is_raised_once_no_item_runs_and_items_not_started_are_dropped(monkeypatch):
    # A caller cleans up after a failure (removes what the items wrote): no item may still be running.
    monkeypatch.setattr(cores, "WORKERS", 2)
    started, finished = [], []

    def item(n: int) -> int:
        started.append(n)
        if n == 1:
            raise ValueError("item 1")
        threading.Event().wait(0.2 if n == 0 else 0.05)
        finished.append(n)
        return n

    with pytest.raises(ValueError, match="item 1"):
        each(item, range(40))
    assert 0 in finished  # the slow item before the failure had finished when the failure was raised
    assert sorted(finished) == sorted(set(started) - {1})
    assert len(started) < 40


def test_called_from_one_of_its_threads_it_runs_in_line(monkeypatch):
    monkeypatch.setattr(cores, "WORKERS", 2)

    def outer(n: int) -> list[str]:
        return each(lambda _: threading.current_thread().name, range(3))

    for names in each(outer, range(4)):
        assert len(set(names)) == 1 and names[0].startswith("cores")
