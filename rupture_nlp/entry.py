"""The ``rupture`` command's entry point.

Kept apart from :mod:`rupture_nlp.cli` so that importing the commands (in a notebook, in tests,
from another tool) leaves the process as it was: only the command sets process-wide defaults.
"""

from __future__ import annotations

import os


def configure() -> None:
    """Process defaults of the command, set before anything loads pyarrow (it reads them once).

    Arrow's own allocator keeps the memory it frees for reuse, the system one gives it back,
    which lowers a long run's peak memory (README "Performance"). A user's own setting wins.
    """
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")


def main(args: list[str] | None = None) -> None:
    """Run the ``rupture`` command after :func:`configure`.

    ``cli`` is imported here, not at the top of the module, because importing it loads pandas
    and with it pyarrow, which would then ignore the allocator setting.
    """
    configure()
    from .cli import cli

    cli(args, prog_name="rupture")
