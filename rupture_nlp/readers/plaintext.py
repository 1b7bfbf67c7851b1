"""Plain-text transcripts: ``Therapist: ...`` lines, and the text exports of meeting tools.

One reader takes the layouts people have:

- ``Therapist: ...`` / ``C: ...`` with optional ``[00:01:02]`` stamps before or after the name;
- WhisperX's ``[SPEAKER_00]: ...``;
- Rev's ``Therapist (00:00:04): ...``;
- Otter.ai's and Rev's name-and-time line (``Speaker 1  0:03``) with the text on the lines below.

Unprefixed lines continue the turn before them. The session id is the file name.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import Problem
from .speakers import NAME, looks_like_name, role_of
from .textfile import parse_time, physical_lines

__all__ = ["read_plain_text"]

TIME = r"(?:\d{1,2}:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?"
_INLINE = re.compile(
    rf"^\s*(?:\[(?P<ts>{TIME})\]\s*)?(?:\[(?P<bracketed>[^\]]{{1,100}})\]|(?P<name>{NAME}))\s*"
    rf"(?:[\[(](?P<ts2>{TIME})[\])]\s*)?:\s*(?P<text>.*)$"
)
# Otter: "Speaker 1  0:03"; Rev: "Therapist (00:00:04)"; the text follows on the lines below
_HEADING = re.compile(rf"^\s*(?P<name>{NAME})(?:\s*\((?P<ts>{TIME})\)|\s+(?P<ts2>{TIME}))\s*:?\s*$")
_CLOCK_CUT = re.compile(r"\d\d(?:[.,]\d+)?$")
_FOOTER = re.compile(r"^\s*Transcribed by https?://otter\.ai\s*$", re.I)
COLUMNS = ["session_id", "turn", "speaker", "speaker_name", "text", "start"]


def _speaker_line(line: str, after_blank: bool, speaker_map: dict[str, str]):
    """``(name, role, time, text)`` when the line starts a turn, else None."""
    for pattern, needs_blank in ((_HEADING, True), (_INLINE, False)):
        m = pattern.match(line)
        if not m or (needs_blank and not after_blank):
            continue
        groups = m.groupdict()
        if pattern is _INLINE and (m["name"] or "")[-1:].isdigit() and _CLOCK_CUT.match(m["text"]):
            continue  # "Speaker 1  0:03" is a heading with a time, not "Speaker 1  0" saying "03"
        name = (groups.get("bracketed") or groups["name"]).strip()
        role = role_of(name, speaker_map)
        if role is not None or looks_like_name(name):
            ts = groups["ts"] or groups["ts2"]
            return name, role, ts, (groups.get("text") or "").strip()
    return None


def read_plain_text(path: Path, text: str, speaker_map: dict[str, str]):
    """Parse a text transcript into ``(frame, lines, problems)``; see the module docstring."""
    rows: list[dict] = []
    lines: list[int] = []
    orphans: list[int] = []
    after_blank = True
    for number, line in enumerate(physical_lines(text), 1):
        if not line.strip() or _FOOTER.match(line):
            after_blank = True
            continue
        turn = _speaker_line(line, after_blank, speaker_map)
        after_blank = False
        if turn is not None:
            name, role, ts, said = turn
            rows.append(
                {
                    "session_id": path.stem,
                    "turn": len(rows) + 1,
                    "speaker": role or name,
                    "speaker_name": name,
                    "text": said,
                    "start": parse_time(ts) if ts else np.nan,
                }
            )
            lines.append(number)
        elif rows:
            rows[-1]["text"] = (rows[-1]["text"] + " " + line.strip()).strip()
        else:
            orphans.append(number)
    problems = []
    if orphans:
        more = len(orphans) - 1
        problems.append(
            Problem(
                str(path),
                orphans[0],
                "text before the first speaker line (expected 'Therapist: ...')"
                + (f" and {more} more line{'s' if more > 1 else ''} like it" if more else ""),
            )
        )
    df = pd.DataFrame(rows, columns=COLUMNS)
    df["end"] = df["start"].shift(-1)  # a text transcript has start times; a turn ends at the next
    return df, np.asarray(lines, dtype=np.int64), problems
