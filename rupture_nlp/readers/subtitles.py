"""WebVTT and SRT from recorders and recognisers, and the rule that joins timed pieces into turns.

Recognisers cut one speaker's turn into many cues (or segments); a turn is what one speaker says
until another speaks, so consecutive pieces of one speaker become one turn spanning their times.
The speaker of a cue is its ``<v Name>`` voice, a ``Name:`` prefix or WhisperX's
``[SPEAKER_00]:``. A file that names the speaker of every cue and has one cue without a name is
reported, never joined to the turn before (that would put one person's words in another's
mouth); a file that names speakers only when they change continues the turn.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import Problem
from .speakers import NAME, looks_like_name, role_of
from .textfile import parse_time, physical_lines

__all__ = ["join_turns", "read_srt", "read_vtt"]

_PREFIX = re.compile(
    rf"^\s*(?:\[(?P<b>[^\]]{{1,100}})\]\s*:?|(?P<n>{NAME})\s*:)\s*(?P<t>.*)$", re.S
)
COLUMNS = ["session_id", "turn", "speaker", "speaker_name", "text", "start", "end"]

#: A timed piece of speech: speaker name (None when the file gives none), text, start, end, line.
Piece = tuple[str | None, str, float, float, int | None]


def _cue_speaker(text: str, voice: str | None, speaker_map) -> tuple[str | None, str]:
    if voice:
        return voice.strip(), text
    m = _PREFIX.match(text)
    if m:
        name = (m.group("b") or m.group("n")).strip()
        if role_of(name, speaker_map) is not None or looks_like_name(name):
            return name, m.group("t")
    return None, text


def join_turns(path: Path, pieces: list[Piece], speaker_map: dict[str, str], what: str = "cue"):
    """Check each piece's times, then join one speaker's consecutive pieces into a turn.

    Returns ``(frame, lines, problems)``; ``lines`` holds each turn's first piece's line. Times
    are checked here, per piece, because a piece joined to the turn before would otherwise
    vanish unseen and turn starts hide the pieces' order.
    """
    problems: list[Problem] = []
    named = [p[0] for p in pieces if p[0] is not None]
    every_piece_named = any(
        a[0] is not None and a[0] == b[0] for a, b in zip(pieces, pieces[1:], strict=False)
    )
    if pieces and not named:
        problems.append(
            Problem(
                str(path),
                pieces[0][4],
                f"no {what} names its speaker; label them with '<v Name>' or a 'Name:' "
                "prefix (a recogniser writes them when it diarises)",
            )
        )
    rows: list[dict] = []
    lines: list[int | None] = []
    prev_start = -1.0
    for name, body, start, end, line in pieces:
        if end < start:
            problems.append(
                Problem(
                    str(path), line, f"{what} ends ({end:.3f}s) before it starts ({start:.3f}s)"
                )
            )
        if start < prev_start:
            problems.append(
                Problem(
                    str(path),
                    line,
                    f"{what} starts at {start:.3f}s, before the previous "
                    f"{what} ({prev_start:.3f}s): {what} times out of order",
                )
            )
        prev_start = max(prev_start, start)
        if name is None:
            if not named:
                continue
            if every_piece_named or not rows:
                problems.append(
                    Problem(
                        str(path),
                        line,
                        f"{what} has no speaker while other {what}s name theirs; start it with "
                        "'<v Name>' or 'Name: ' (it is not joined to the turn before)",
                    )
                )
                continue
            name = rows[-1]["speaker_name"]
        if rows and rows[-1]["speaker_name"] == name:
            rows[-1]["text"] = (rows[-1]["text"] + " " + body).strip()
            rows[-1]["end"] = max(rows[-1]["end"], end)
            continue
        role = role_of(name, speaker_map)
        rows.append(
            {
                "session_id": path.stem,
                "turn": len(rows) + 1,
                "speaker": role or name,
                "speaker_name": name,
                "text": body.strip(),
                "start": start,
                "end": end,
            }
        )
        lines.append(line)
    return pd.DataFrame(rows, columns=COLUMNS), np.asarray(lines, dtype=object), problems


def _timing_lines(text: str) -> list[int]:
    return [i for i, line in enumerate(physical_lines(text), 1) if "-->" in line]


def _read_cues(path: Path, text: str, speaker_map: dict[str, str], parse):
    try:
        cues = parse(text)
    except Exception as exc:  # both libraries raise their own error types for malformed files
        kind = path.suffix[1:].upper()
        return (
            None,
            None,
            [Problem(str(path), None, f"not a valid {kind} file ({type(exc).__name__}: {exc})")],
        )
    timing = _timing_lines(text)
    pieces = []
    for k, (voice, body, start, end) in enumerate(cues):
        name, body = _cue_speaker(" ".join(body.split()), voice, speaker_map)
        pieces.append((name, body, start, end, timing[k] if k < len(timing) else None))
    return join_turns(path, pieces, speaker_map)


def _vtt_cues(text: str):
    import webvtt

    return [
        (c.voice, c.text, parse_time(c.start), parse_time(c.end))
        for c in webvtt.from_buffer(io.StringIO(text))
    ]


def _srt_cues(text: str):
    import srt

    return [
        (None, s.content, s.start.total_seconds(), s.end.total_seconds()) for s in srt.parse(text)
    ]


def read_vtt(path: Path, text: str, speaker_map: dict[str, str]):
    """Parse WebVTT with webvtt-py; ``(frame, lines, problems)``."""
    return _read_cues(path, text, speaker_map, _vtt_cues)


def read_srt(path: Path, text: str, speaker_map: dict[str, str]):
    """Parse SRT with the srt library; ``(frame, lines, problems)``."""
    return _read_cues(path, text, speaker_map, _srt_cues)
