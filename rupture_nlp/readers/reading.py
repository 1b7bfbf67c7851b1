"""The entry points: read files of any known format into one canonical table.

Every format's parser collects problems with their file and line instead of stopping at the
first, so ``rupture validate`` can list them all; :func:`read_transcripts` raises one
:class:`~rupture_nlp.errors.TranscriptError` carrying the list.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import Problem, TranscriptError
from ..validation import SessionContinuity, check_frame
from .formats import FORMATS, format_of
from .paths import expand_paths, find_inputs, ids_of
from .speakers import map_for, role_of
from .tables import canonical_pieces, parse_column_map
from .textfile import decode

__all__ = [
    "iter_transcript_chunks",
    "read_file",
    "read_label_table",
    "read_transcripts",
]


def _normalise_table(df: pd.DataFrame, speaker_map: dict[str, str]) -> pd.DataFrame:
    """Map speakers to roles (keeping names) and give the canonical columns their types."""
    df = df.copy()
    if "speaker" in df.columns:
        raw = df["speaker"].astype(str)
        roles = {s: role_of(s, speaker_map) for s in raw.unique()}
        mapped = raw.map(lambda s: roles[s] or s)
        if speaker_map and "speaker_name" not in df.columns:
            df["speaker_name"] = raw
        df["speaker"] = mapped
    for col in ("session_id", "text", "label", "subtype"):
        if col in df.columns:
            df[col] = df[col].astype(str).where(df[col].notna(), "")
    for col in ("label", "subtype"):
        if col in df.columns:
            df[col] = df[col].str.strip()
    return df


def _finish(df, path: Path, lines, problems: list[Problem], speaker_map, timed: bool, checked=None):
    if df is None:
        return pd.DataFrame(), problems, lines
    from ..speakers import apply_speaker_roles  # role inference reads through these readers

    df = apply_speaker_roles(_normalise_table(df, speaker_map), path, speaker_map, checked)
    df, more = check_frame(df, str(path), lines, check_times=not timed)
    return df, problems + more, lines


def _iter_file(
    path: Path,
    speaker_map: dict,
    chunk: int,
    columns: dict[str, str] | None = None,
    session_id: str | None = None,
):
    """Yield ``(frame, problems, lines)`` pieces of a file; tables stream, transcripts come whole."""
    fmt = format_of(path)
    speaker_map = map_for(path, speaker_map)
    try:
        if fmt.streams:
            pieces = canonical_pieces(path, fmt.parser(path, chunk), columns)
            checked: set = set()  # sessions whose given speaker map was checked
            for df, lines in pieces:
                yield _finish(df, path, lines, [], speaker_map, fmt.timed, checked)
            return
        text, problems = decode(path, path.read_bytes())
    except OSError as exc:
        raise TranscriptError(
            Problem(str(path), None, f"cannot read file ({exc.strerror})")
        ) from None
    if text is None:
        yield pd.DataFrame(), problems, None
        return
    df, lines, parse_problems = fmt.parser(path, text, speaker_map)
    problems += parse_problems
    if df is not None and not len(df) and not problems:
        problems.append(Problem(str(path), None, f"no turns found in this {fmt.name} file"))
    if df is not None and session_id is not None:
        df["session_id"] = session_id
    yield _finish(df, path, lines, problems, speaker_map, fmt.timed)


def _iter_table(path: Path, chunk: int):
    """The raw ``(frame, lines)`` pieces of a table file."""
    return format_of(path).parser(path, chunk)


def read_file(
    path: str | Path,
    speaker_map: dict | None = None,
    continuity: SessionContinuity | None = None,
    columns: str | dict[str, str] | None = None,
    session_id: str | None = None,
):
    """Read one file; return ``(frame, problems)`` without raising for content problems.

    Problems that make the rest of the file unreadable (a malformed row, bad bytes) are
    returned as the only problem with an empty frame. Pass one ``continuity`` to the reads of
    several files to have session ids checked across them. ``columns`` maps a table's column
    names to the canonical ones (``{"Utterance": "text"}`` or ``"Utterance=text"``);
    ``session_id`` replaces the session id a transcript file takes from its name.
    """
    path = Path(path)
    continuity = continuity if continuity is not None else SessionContinuity()
    frames, problems = [], []
    try:
        pieces = _iter_file(
            path, speaker_map or {}, 1_000_000, parse_column_map(columns), session_id
        )
        for df, probs, lines in pieces:
            frames.append(df)
            problems += probs + continuity.check(df, path, lines)
    except TranscriptError as exc:
        return pd.DataFrame(), problems + exc.problems
    frames = [f for f in frames if len(f.columns)]
    df = (
        pd.concat(frames, ignore_index=True)
        if len(frames) > 1
        else (frames[0] if frames else pd.DataFrame())
    )
    problems.sort(key=lambda p: (p.line is None, p.line or 0))
    return df, problems


def read_transcripts(
    paths, speaker_map: dict | None = None, columns: str | dict[str, str] | None = None
) -> pd.DataFrame:
    """Read files, directories or globs of any supported format into one canonical DataFrame.

    Raises :class:`TranscriptError` listing every problem found, so nothing half-valid reaches
    a model. Session ids must be unique across files; transcript files whose names clash in
    different folders take their path relative to the folder given (``jordan/session01``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "s1.txt").write_text("Therapist: How was the week?\\nClient: Fine.\\n")
    >>> read_transcripts([d])[["session_id", "turn", "speaker", "text"]].values.tolist()
    [['s1', 1, 'therapist', 'How was the week?'], ['s1', 2, 'client', 'Fine.']]
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    found = find_inputs(paths)
    ids = ids_of(found)
    columns = parse_column_map(columns)
    frames, problems = [], []
    continuity = SessionContinuity()
    for path, _ in found:
        df, probs = read_file(path, speaker_map, continuity, columns, ids.get(path))
        problems += probs
        frames.append(df)
    if problems:
        raise TranscriptError(problems)
    frames = [f for f in frames if len(f)]
    if not frames:
        raise TranscriptError("no turns found in the given paths")
    return pd.concat(frames, ignore_index=True)


#: Turns read, tagged and written at a time. Smaller pieces keep less text, features and output
#: in memory at once; much smaller ones pay the per-piece overhead of the model's passes more
#: often than they save (README "Performance").
DEFAULT_CHUNK_TURNS = 5_000


def iter_transcript_chunks(
    paths,
    speaker_map: dict | None = None,
    chunk_turns: int = DEFAULT_CHUNK_TURNS,
    columns: str | dict[str, str] | None = None,
    exclude: Iterable[str | Path] = (),
) -> Iterator[pd.DataFrame]:
    """Yield canonical frames of whole sessions, about ``chunk_turns`` turns each (files in
    ``exclude`` left out, as for :func:`expand_paths`).

    Large tables are read piece by piece so memory stays flat however long the input is; a
    session cut by a piece boundary is held back and completed from the next piece, because the
    model's context features need every turn of a session together.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    speaker_map = speaker_map or {}
    columns = parse_column_map(columns)
    found = find_inputs(paths, exclude)
    ids = ids_of(found)
    continuity = SessionContinuity()
    pending: pd.DataFrame | None = None
    n_turns = 0
    for path, _ in found:
        for df, problems, lines in _iter_file(
            path, speaker_map, chunk_turns, columns, ids.get(path)
        ):
            problems = problems + continuity.check(df, path, lines)
            if problems:
                raise TranscriptError(problems)
            if not len(df):
                continue
            n_turns += len(df)
            if pending is not None and len(pending):
                df = pd.concat([pending, df], ignore_index=True)
            last = df["session_id"].iloc[-1]
            tail = df["session_id"].to_numpy() == last
            if tail.all():
                pending = df
                continue
            pending = df[tail]
            yield df[~tail].reset_index(drop=True)
        if pending is not None and len(pending):
            yield pending.reset_index(drop=True)
        pending = None
    if not n_turns:
        raise TranscriptError("no turns found in the given paths")


def read_label_table(paths, column: str = "label") -> pd.DataFrame:
    """Read coders' label sheets: tables that need only ``session_id``, ``turn`` and ``column``.

    Researchers often keep codes apart from transcripts (a spreadsheet of session, turn, code);
    agreement needs nothing more. Labels must be known labels or empty (not coded); ``subtype``
    is kept when present. A filled review-queue sheet (CSV or XLSX) and Label Studio or doccano
    exports are read by :func:`rupture_nlp.corrections.read_corrections`.
    """
    from ..corrections import is_correction_file, read_corrections
    from ..labels import LABELS

    if isinstance(paths, (str, Path)):
        paths = [paths]
    sheets = sorted(s for s, f in FORMATS.items() if f.label_sheet)
    frames, problems = [], []
    for path in expand_paths(paths):
        if is_correction_file(path):
            df, found = read_corrections(path, column)
            problems += found
            frames.append(df)
            continue
        if path.suffix.lower() not in sheets:
            problems.append(
                Problem(
                    str(path),
                    None,
                    f"label sheets must be tables ({', '.join(sheets)}), a queue sheet, or a "
                    "Label Studio (.json) or doccano (.jsonl) export",
                )
            )
            continue
        try:
            for df, lines in _iter_table(path, 1_000_000):
                missing = [c for c in ("session_id", "turn", column) if c not in df.columns]
                if missing:
                    problems.append(
                        Problem(str(path), 1, f"missing column(s) {', '.join(missing)}")
                    )
                    break
                keep = ["session_id", "turn", column] + (["subtype"] if "subtype" in df else [])
                df = df[keep].copy()
                for col in keep:
                    if col != "turn":
                        df[col] = df[col].where(df[col].notna(), "").astype(str).str.strip()
                turn = pd.to_numeric(df["turn"].astype(str).str.strip(), errors="coerce")
                for i in np.flatnonzero((turn.isna() | (turn != turn.round())).to_numpy())[:50]:
                    problems.append(
                        Problem(
                            str(path),
                            int(lines[i]),
                            f"turn {df['turn'].iloc[i]!r} is not an integer",
                        )
                    )
                for i in np.flatnonzero((~df[column].isin(LABELS + ("",))).to_numpy())[:50]:
                    problems.append(
                        Problem(
                            str(path),
                            int(lines[i]),
                            f"unknown label {df[column].iloc[i]!r} in column {column!r}",
                        )
                    )
                df["turn"] = turn.fillna(-1).astype(np.int64)
                frames.append(df)
        except TranscriptError as exc:
            problems += exc.problems
    if problems:
        raise TranscriptError(problems)
    if not frames:
        raise TranscriptError("no label tables found in the given paths")
    return pd.concat(frames, ignore_index=True)
