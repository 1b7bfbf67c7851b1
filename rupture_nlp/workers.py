"""Work fanned out to worker processes, results back in order, a bounded number in flight.

One helper for the three places that use several cores: tagging chunks (``rupture tag
--jobs``), training first stages (``rupture train --jobs``) and cross-validation folds
(``make evaluate``). They share loky's reusable executor (what joblib runs on), so workers
started by one are reused by the next, and joblib's own ``Parallel`` is not mixed in: it
refuses an executor it did not make.
"""

from __future__ import annotations

import collections
import itertools
from collections.abc import Callable, Iterable, Iterator

__all__ = ["in_workers"]


def in_workers(fn: Callable, tasks: Iterable[tuple], n_jobs: int) -> Iterator:
    """``fn(*task)`` for each task, in order.

    With ``n_jobs`` > 1 the calls run in that many worker processes; the first ``2 * n_jobs``
    are submitted before this returns (so the caller can work while they run), and one more
    each time the caller comes back for the next result, so at most that many tasks are taken
    from ``tasks`` ahead of the caller, whatever the workers' speed. A caller that stops early
    (or a task that fails) cancels the tasks not yet started; those already running finish in
    the background.
    With ``n_jobs`` <= 1 the calls run here, one as each result is taken.
    """
    tasks = iter(tasks)
    if n_jobs <= 1:
        return (fn(*task) for task in tasks)
    from joblib.externals.loky import get_reusable_executor

    executor = get_reusable_executor(max_workers=n_jobs)
    pending = collections.deque(
        executor.submit(fn, *t) for t in itertools.islice(tasks, 2 * n_jobs)
    )

    def results():
        try:
            while pending:
                yield pending.popleft().result()
                for task in itertools.islice(tasks, 1):
                    pending.append(executor.submit(fn, *task))
        finally:  # the caller stopped early or a task failed: drop what has not started
            for future in pending:
                future.cancel()

    return results()
