"""Progress for long commands: a tqdm bar on a terminal, one summary line otherwise.

Library functions that take a while (:func:`~rupture_nlp.tagging.tag_files`,
:func:`~rupture_nlp.scanning.scan`, :func:`~rupture_nlp.training.train_and_save`) accept any
tqdm-like bar: they set its ``total`` when they know it and call ``update``. A bar from
:func:`progress_bar` draws on a terminal (with the rate and the time left) and stays silent when
stderr goes to a file or a pipe, where a log wants one line at the end (:func:`summary_line`).
"""

from __future__ import annotations

import sys
import time

__all__ = ["note", "progress_bar", "summary_line"]


def progress_bar(desc: str, unit: str, total: int | None = None, file=None, enabled=None):
    """A tqdm bar on ``file`` (stderr), drawn only when it is a terminal (or ``enabled``).

    >>> import io
    >>> out = io.StringIO()
    >>> with progress_bar("tagging", "turns", file=out, enabled=True) as bar:
    ...     bar.total = 4
    ...     bar.update(4)
    >>> "tagging: 100%" in out.getvalue() and "4/4" in out.getvalue()
    True
    """
    from tqdm import tqdm

    file = sys.stderr if file is None else file
    if enabled is None:
        enabled = hasattr(file, "isatty") and file.isatty()
    return tqdm(
        total=total,
        desc=desc,
        unit=f" {unit}",
        file=file,
        disable=not enabled,
        dynamic_ncols=True,
        mininterval=0.5,
    )


def summary_line(what: str, started: float) -> str:
    """``what`` and the seconds since ``started`` (a :func:`time.perf_counter` value).

    >>> summary_line("tagged 10 turns", time.perf_counter())
    'tagged 10 turns in 0.0 s'
    """
    return f"{what} in {time.perf_counter() - started:.1f} s"


def note(message: str) -> None:
    """Write a line to stderr above any bar being drawn, instead of through it."""
    from tqdm import tqdm

    tqdm.write(message, file=sys.stderr)
