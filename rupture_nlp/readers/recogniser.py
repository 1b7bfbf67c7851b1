"""Recogniser JSON: WhisperX's output with pyannote's speakers.

``{"segments": [{"start": 0.5, "end": 2.1, "text": "...", "speaker": "SPEAKER_00",
"words": [{"word": "...", "start": ..., "end": ..., "speaker": ...}]}]}``. A segment's speaker is
its own ``speaker`` or, where WhisperX could not give the segment one, its words' speakers (a
segment then splits where the words change speaker). Consecutive segments of one speaker become
one turn, as cues do in subtitles. A segment with no speaker at all is reported.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..errors import Problem
from .subtitles import join_turns

__all__ = ["looks_like_recogniser_json", "read_recogniser_json"]

_SEGMENTS = re.compile(r'"segments"\s*:\s*\[')


def looks_like_recogniser_json(path: Path) -> bool:
    """Whether a ``.json`` in a folder is a transcript (model metadata and splits are not)."""
    try:
        with open(path, "rb") as f:
            head = f.read(64 * 1024).decode("utf-8", errors="ignore")
    except OSError:
        return True  # reading it reports the problem
    return bool(_SEGMENTS.search(head))


def _segment_lines(text: str, segments: list) -> list[int | None]:
    """The line each segment starts on, found by decoding the list one object at a time."""
    m = _SEGMENTS.search(text)
    decoder = json.JSONDecoder()
    out: list[int | None] = []
    i, line, counted = (m.end() if m else len(text)), 1, 0
    for seg in segments:
        while i < len(text) and text[i] in " \t\r\n,":
            i += 1
        try:
            obj, end = decoder.raw_decode(text, i)
        except ValueError:
            obj, end = None, i
        if obj != seg:
            return [None] * len(segments)
        line += text.count("\n", counted, i)
        counted = i
        out.append(line)
        i = end
    return out


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _word_runs(words, start: float, end: float):
    """Split a segment at its words' speaker changes: ``[(speaker, text, start, end)]``."""
    runs: list[list] = []
    for w in words if isinstance(words, list) else []:
        if not isinstance(w, dict) or not str(w.get("word", "")).strip():
            continue
        speaker = w.get("speaker") or None
        w_start, w_end = _number(w.get("start")), _number(w.get("end"))
        if runs and (speaker is None or runs[-1][0] in (None, speaker)):
            run = runs[-1]
            run[0] = run[0] or speaker
            run[1].append(str(w["word"]).strip())
            run[3] = w_end if w_end is not None else run[3]
        else:
            runs.append([speaker, [str(w["word"]).strip()], w_start, w_end])
    out = []
    for k, (speaker, texts, r_start, r_end) in enumerate(runs):
        r_start = start if k == 0 or r_start is None else r_start
        r_end = end if k == len(runs) - 1 or r_end is None else r_end
        out.append((speaker, " ".join(texts), r_start, r_end))
    return out


def read_recogniser_json(path: Path, text: str, speaker_map: dict[str, str]):
    """Parse WhisperX / pyannote JSON into ``(frame, lines, problems)``."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, None, [Problem(str(path), exc.lineno, f"not valid JSON ({exc.msg})")]
    segments = data.get("segments") if isinstance(data, dict) else None
    if not isinstance(segments, list):
        return (
            None,
            None,
            [
                Problem(
                    str(path),
                    None,
                    'not recogniser output: expected {"segments": [...]} as WhisperX writes it '
                    "(a table of turns, one JSON object a line, is .jsonl)",
                )
            ],
        )
    problems: list[Problem] = []
    pieces = []
    for k, (seg, line) in enumerate(zip(segments, _segment_lines(text, segments), strict=True), 1):
        start = _number(seg.get("start")) if isinstance(seg, dict) else None
        end = _number(seg.get("end")) if isinstance(seg, dict) else None
        if start is None or end is None:
            problems.append(
                Problem(str(path), line, f"segment {k} has no start and end times in seconds")
            )
            continue
        body = " ".join(str(seg.get("text", "")).split())
        speaker = seg.get("speaker")
        if speaker:
            pieces.append((str(speaker), body, start, end, line))
            continue
        runs = _word_runs(seg.get("words"), start, end)
        if not runs or any(r[0] is None for r in runs):
            problems.append(
                Problem(
                    str(path),
                    line,
                    f"segment {k} has no speaker, nor have its words; diarise the recording "
                    "(WhisperX with --diarize) or name the speaker in the file",
                )
            )
            continue
        pieces += [(speaker, said, s, e, line) for speaker, said, s, e in runs]
    df, lines, more = join_turns(path, pieces, speaker_map, what="segment")
    return df, lines, problems + more
