from __future__ import annotations

import os

import pytest

from rupture_nlp.workers import in_workers


def _square_and_pid(x):
    return x * x, os.getpid()


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_results_come_back_in_task_order(n_jobs):
    out = list(in_workers(_square_and_pid, ((x,) for x in range(9)), n_jobs))
    assert [r for r, _ in out] == [x * x for x in range(9)]
    pids = {pid for _, pid in out}
    assert (pids == {os.getpid()}) == (n_jobs == 1)


def recorded(n: int, taken: list):
    """Tasks ``(x,)`` for x < n, noting each one as it is taken."""
    for x in range(n):
        taken.append(x)
        yield (x,)


def test_at_most_twice_the_workers_are_taken_from_the_tasks_ahead():
    taken = []
    results = in_workers(_square_and_pid, recorded(10, taken), 2)
    assert taken == [0, 1, 2, 3]  # submitted before the first result is asked for
    next(results)
    assert taken == [0, 1, 2, 3]  # none more while the caller holds a result
    next(results)
    assert taken == [0, 1, 2, 3, 4]
    assert [r for r, _ in results] == [x * x for x in range(2, 10)]


def test_inline_work_is_lazy():
    taken = []
    results = in_workers(_square_and_pid, recorded(3, taken), 1)
    assert taken == []
    next(results)
    assert taken == [0]
