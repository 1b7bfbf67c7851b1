"""Typed errors whose messages tell the user what to fix.

Library code raises these; the CLI turns them into ``Error: ...`` and exit 1.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ModelError", "Problem", "TranscriptError"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, located as precisely as the format allows."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        if not self.path:
            return self.message
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.message}"


class TranscriptError(ValueError):
    """A transcript or corpus file cannot be used; ``problems`` lists every reason found."""

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem("", None, problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = list(problems)
        first = str(self.problems[0]) if self.problems else "invalid transcript"
        more = len(self.problems) - 1
        suffix = (
            f" (and {more} more problem{'s' if more > 1 else ''}; run 'rupture validate')"
            if more
            else ""
        )
        super().__init__(first + suffix)

    def __reduce__(self):
        # with its problems, not only its message, when it comes back from another process
        return type(self), (self.problems,)


class ModelError(ValueError):
    """A model file is missing, tampered with, or was made by incompatible versions."""
