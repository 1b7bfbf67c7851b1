"""The ``NAME=VALUE`` lists users type: ``--speaker-map`` and ``--columns``.

Names as people and tools write them may contain commas (``Dr. Maya Patel, PhD``), values never
do, so a piece without ``=`` belongs to the next piece: ``Dr. Maya Patel, PhD=therapist,Sam=client``
is two entries. Entries are separated by commas or semicolons.
"""

from __future__ import annotations

import re

from ..errors import TranscriptError

__all__ = ["split_pairs"]


def split_pairs(spec: str, what: str, form: str, example: str) -> list[tuple[str, str]]:
    """Split ``"A=x, B, Jr.=y; C=z"`` into ``[("A", "x"), ("B, Jr.", "y"), ("C", "z")]``.

    >>> split_pairs("Dr. Maya Patel, PhD=therapist;Sam=client", "map", "NAME=ROLE", "")
    [('Dr. Maya Patel, PhD', 'therapist'), ('Sam', 'client')]
    """
    pairs: list[tuple[str, str]] = []
    pieces = re.split(r"([,;])", spec)
    held = ""
    for k in range(0, len(pieces), 2):
        piece = pieces[k]
        if "=" not in piece:
            held += piece + (pieces[k + 1] if k + 1 < len(pieces) else "")
            continue
        entry = (held + piece).strip()
        held = ""
        name, _, value = entry.partition("=")
        if not name.strip() or not value.strip() or "=" in value:
            raise TranscriptError(f"{what} entry {entry!r} is not {form} (example: {example!r})")
        pairs.append((name.strip(), value.strip()))
    if held.strip(" ,;"):
        raise TranscriptError(
            f"{what} entry {held.strip(' ,;')!r} is not {form} (example: {example!r})"
        )
    return pairs
