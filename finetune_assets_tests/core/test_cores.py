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
    assert threads and all(name.startswith("plan-cores") for name in threads)


def test_a_failure_in_one_item_is_raised_to_the_caller(monkeypatch):
    monkeypatch.setattr(cores, "WORKERS", 2)

    def fails_on_three(n: int) -> int:
        if n == 3:
            raise ValueError("item 3")
        return n

    with pytest.raises(ValueError, match="item 3"):
        each(fails_on_three, range(6))
