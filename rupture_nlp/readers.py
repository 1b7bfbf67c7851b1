"""Read transcripts from every format users have into one canonical table.

Whatever the source (CSV, TSV, JSONL, Parquet, plain-text transcripts, WebVTT or SRT files from
recording transcription), the result is a pandas DataFrame with the columns of
``docs/codebook.md``: ``session_id``, ``turn``, ``speaker`` (a canonical role), ``text`` and,
where the file has them, ``label``, ``subtype``, ``start`` and ``end``. Other columns of a table
are kept unchanged. When a speaker was mapped from a name, the name stays in ``speaker_name``.

Every reader collects problems with their file and line instead of stopping at the first, so
``rupture validate`` can list them all; :func:`read_transcripts` raises one
:class:`~rupture_nlp.errors.TranscriptError` carrying the list.
"""

from __future__ import annotations

import csv
import glob
import io
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import Problem, TranscriptError
from .labels import normalise_role
from .validation import check_frame

__all__ = [
    "READERS",
    "SessionContinuity",
    "expand_paths",
    "iter_transcript_chunks",
    "parse_speaker_map",
    "read_file",
    "read_label_table",
    "read_transcripts",
]

TABLE_SUFFIXES = {".csv", ".tsv", ".jsonl", ".parquet"}
TEXT_SUFFIXES = {".txt"}
CUE_SUFFIXES = {".vtt", ".srt"}


def parse_speaker_map(spec: str | None) -> dict[str, str]:
    """Parse ``"Dr Lee=therapist,Sam=client"`` into a dict.

    >>> parse_speaker_map("Dr Lee=therapist, Sam=client")
    {'Dr Lee': 'therapist', 'Sam': 'client'}
    """
    if not spec:
        return {}
    mapping = {}
    for item in spec.split(","):
        if not item.strip():
            continue
        name, sep, role = item.partition("=")
        if not sep or not name.strip() or not role.strip():
            raise TranscriptError(
                f"speaker map entry {item.strip()!r} is not NAME=ROLE "
                "(example: 'Dr Lee=therapist,Sam=client')"
            )
        mapping[name.strip()] = role.strip()
    return mapping


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Turn files, directories (searched recursively) and glob patterns into a sorted file list.

    Directories contribute only files with a transcript extension; a path that matches nothing
    is an error rather than a silently empty input.
    """
    found: list[Path] = []
    known = TABLE_SUFFIXES | TEXT_SUFFIXES | CUE_SUFFIXES
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found += sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in known)
        elif p.is_file():
            found.append(p)
        else:
            matches = sorted(Path(m) for m in glob.glob(str(raw), recursive=True))
            files = [m for m in matches if m.is_file()]
            if not files:
                raise TranscriptError(f"{raw}: no such file, directory or matching files")
            found += files
    seen: set[Path] = set()
    unique = []
    for f in found:
        if f not in seen:
            seen.add(f)
            unique.append(f)
    return unique


def _decode(path: Path, data: bytes) -> tuple[str | None, list[Problem]]:
    """Decode UTF-8 (a BOM is fine); report the line of the first bad byte otherwise."""
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        return None, [_not_utf8(path, data.count(b"\n", 0, exc.start) + 1, data[exc.start])]


def _not_utf8(path: Path, line: int | None, byte: int | None = None) -> Problem:
    which = "" if byte is None else f" (byte 0x{byte:02x})"
    return Problem(str(path), line, f"not UTF-8 text{which}; save the file as UTF-8")


# --- tables -----------------------------------------------------------------------------------


def _rows_to_frame(rows: list[dict], lines: list[int]) -> tuple[pd.DataFrame, np.ndarray]:
    df = pd.DataFrame(rows) if rows else pd.DataFrame()
    return df, np.asarray(lines, dtype=np.int64)


def _iter_delimited(path: Path, text_stream: io.TextIOBase, delimiter: str, chunk: int):
    # TSV has no quoting (IANA): a lone " in a turn is text, not the start of a quoted field
    quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
    reader = csv.reader(text_stream, delimiter=delimiter, quoting=quoting)
    try:
        header = next(reader)
    except StopIteration:
        raise TranscriptError(Problem(str(path), 1, "empty file (no header row)")) from None
    header = [h.strip() for h in header]
    rows, lines = [], []
    yielded = False
    prev_end = reader.line_num
    for record in reader:
        start_line = prev_end + 1
        prev_end = reader.line_num
        if not record or (len(record) == 1 and not record[0].strip()):
            continue
        if len(record) != len(header):
            raise TranscriptError(
                Problem(
                    str(path),
                    start_line,
                    f"has {len(record)} fields but the header has {len(header)} "
                    "(an unquoted delimiter or quote inside the text?)",
                )
            )
        rows.append(dict(zip(header, record, strict=True)))
        lines.append(start_line)
        if len(rows) >= chunk:
            yield _rows_to_frame(rows, lines)
            rows, lines, yielded = [], [], True
    if rows:
        yield _rows_to_frame(rows, lines)
    elif not yielded:  # a header and no rows: the columns still tell what the table is
        yield pd.DataFrame(columns=header), np.array([])


def _iter_jsonl(path: Path, stream: io.TextIOBase, chunk: int):
    rows, lines = [], []
    for number, line in enumerate(stream, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TranscriptError(
                Problem(str(path), number, f"not valid JSON ({exc.msg})")
            ) from None
        if not isinstance(obj, dict):
            raise TranscriptError(Problem(str(path), number, "each line must be a JSON object"))
        rows.append({k: "" if v is None else v for k, v in obj.items()})
        lines.append(number)
        if len(rows) >= chunk:
            yield _rows_to_frame(rows, lines)
            rows, lines = [], []
    if rows:
        yield _rows_to_frame(rows, lines)


def _iter_parquet(path: Path, chunk: int):
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for damaged files
        raise TranscriptError(
            Problem(str(path), None, f"unreadable Parquet file ({exc})")
        ) from None
    offset = 0
    for batch in pf.iter_batches(batch_size=chunk):
        df = batch.to_pandas()
        # rows are numbered from 1, as in a spreadsheet view of the table
        yield df, np.arange(offset + 1, offset + 1 + len(df))
        offset += len(df)


def _open_text(path: Path):
    return open(path, encoding="utf-8-sig", errors="strict", newline="")


def _locate_bad_bytes(path: Path) -> Problem:
    with open(path, "rb") as f:
        for number, raw in enumerate(f, 1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                return _not_utf8(path, number, raw[exc.start])
    return _not_utf8(path, None)


def _iter_table(path: Path, chunk: int) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        yield from _iter_parquet(path, chunk)
        return
    try:
        with _open_text(path) as stream:
            if suffix == ".jsonl":
                yield from _iter_jsonl(path, stream, chunk)
            else:
                yield from _iter_delimited(path, stream, "\t" if suffix == ".tsv" else ",", chunk)
    except UnicodeDecodeError:
        raise TranscriptError(_locate_bad_bytes(path)) from None
    except csv.Error as exc:
        raise TranscriptError(Problem(str(path), None, f"malformed CSV ({exc})")) from None


# --- plain-text transcripts -----------------------------------------------------------------

_TIME = r"(?:\d{1,2}:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?"
_TEXT_LINE = re.compile(
    rf"^\s*(?:\[(?P<ts>{_TIME})\]\s*)?"
    r"(?P<name>[A-Za-z][\w.'\- ]{0,29}?)\s*"
    rf"(?:\[(?P<ts2>{_TIME})\]\s*)?:\s*(?P<text>.*)$"
)


def parse_time(value: str) -> float:
    """Seconds from ``hh:mm:ss.mmm``, ``mm:ss`` or ``mm:ss,mmm``.

    >>> parse_time("01:02:03.5")
    3723.5
    >>> parse_time("2:05")
    125.0
    """
    parts = value.replace(",", ".").split(":")
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + float(part)
    return seconds


def _looks_like_name(name: str) -> bool:
    words = name.split()
    return 0 < len(words) <= 3 and all(w[0].isupper() for w in words)


def read_plain_text(path: Path, text: str, speaker_map: dict[str, str]):
    """Parse a ``Therapist: ...`` / ``C: ...`` transcript; unprefixed lines continue a turn."""
    rows: list[dict] = []
    lines: list[int] = []
    problems: list[Problem] = []
    session = path.stem
    for number, line in enumerate(_physical_lines(text), 1):
        if not line.strip():
            continue
        m = _TEXT_LINE.match(line)
        name = m.group("name").strip() if m else ""
        role = normalise_role(name, speaker_map) if m else None
        if m and (role is not None or _looks_like_name(name)):
            ts = m.group("ts") or m.group("ts2")
            rows.append(
                {
                    "session_id": session,
                    "turn": len(rows) + 1,
                    "speaker": role or name,
                    "speaker_name": name,
                    "text": m.group("text").strip(),
                    "start": parse_time(ts) if ts else np.nan,
                }
            )
            lines.append(number)
        elif rows:
            rows[-1]["text"] = (rows[-1]["text"] + " " + line.strip()).strip()
        else:
            problems.append(
                Problem(
                    str(path),
                    number,
                    "text before the first speaker line (expected 'Therapist: ...')",
                )
            )
    df = pd.DataFrame(
        rows, columns=["session_id", "turn", "speaker", "speaker_name", "text", "start"]
    )
    df["end"] = df["start"].shift(-1)  # a text transcript has start times; a turn ends at the next
    return df, np.asarray(lines, dtype=np.int64), problems


# --- WebVTT and SRT ---------------------------------------------------------------------------

_PREFIX = re.compile(
    r"^\s*(?:\[(?P<b>[^\]]{1,30})\]|(?P<n>[A-Za-z][\w.'\- ]{0,29}?)\s*:)\s*(?P<t>.*)$", re.S
)


def _cue_speaker(text: str, voice: str | None, speaker_map) -> tuple[str | None, str]:
    if voice:
        return voice.strip(), text
    m = _PREFIX.match(text)
    if m:
        name = (m.group("b") or m.group("n")).strip()
        if normalise_role(name, speaker_map) is not None or _looks_like_name(name):
            return name, m.group("t")
    return None, text


def _timing_lines(text: str) -> list[int]:
    return [i for i, line in enumerate(_physical_lines(text), 1) if "-->" in line]


def _physical_lines(text: str) -> list[str]:
    """Lines as an editor numbers them: split on newlines only (str.splitlines also splits on
    form feeds, vertical tabs and Unicode separators, which shifts every line number after)."""
    return [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]


def _read_cues(path: Path, text: str, speaker_map: dict[str, str]):
    """Parse WebVTT/SRT cues with a well-kept library, then merge a speaker's consecutive cues.

    Recognisers cut one speaker turn into many cues; a turn is what one speaker says until
    another speaks, so consecutive cues of one speaker become one turn spanning their times.
    """
    problems: list[Problem] = []
    cues: list[tuple[str | None, str, float, float]] = []
    try:
        if path.suffix.lower() == ".vtt":
            import webvtt

            for c in webvtt.from_buffer(io.StringIO(text)):
                cues.append((c.voice, c.text, parse_time(c.start), parse_time(c.end)))
        else:
            import srt

            for s in srt.parse(text):
                cues.append((None, s.content, s.start.total_seconds(), s.end.total_seconds()))
    except Exception as exc:  # both libraries raise their own error types for malformed files
        return (
            None,
            None,
            [
                Problem(
                    str(path),
                    None,
                    f"not a valid {path.suffix[1:].upper()} file ({type(exc).__name__}: {exc})",
                )
            ],
        )
    timing = _timing_lines(text)
    rows: list[dict] = []
    lines: list[int] = []
    prev_start = -1.0
    for k, (voice, body, start, end) in enumerate(cues):
        line = timing[k] if k < len(timing) else None
        # Times are checked per cue (check_frame skips them for cue files): a cue merged into
        # the turn before would otherwise vanish unseen, and turn starts hide cue order.
        if end < start:
            problems.append(
                Problem(str(path), line, f"cue ends ({end:.3f}s) before it starts ({start:.3f}s)")
            )
        if start < prev_start:
            problems.append(
                Problem(
                    str(path),
                    line,
                    f"cue starts at {start:.3f}s, before the previous "
                    f"cue ({prev_start:.3f}s): cue times out of order",
                )
            )
        prev_start = max(prev_start, start)
        name, body = _cue_speaker(" ".join(body.split()), voice, speaker_map)
        if name is None:
            if not rows:
                problems.append(
                    Problem(
                        str(path),
                        line,
                        "first cue has no speaker (use '<v Name>' or a 'Name:' prefix)",
                    )
                )
                continue
            name = rows[-1]["speaker_name"]
        if rows and rows[-1]["speaker_name"] == name:
            rows[-1]["text"] = (rows[-1]["text"] + " " + body).strip()
            rows[-1]["end"] = max(rows[-1]["end"], end)
            continue
        role = normalise_role(name, speaker_map)
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
    df = pd.DataFrame(
        rows, columns=["session_id", "turn", "speaker", "speaker_name", "text", "start", "end"]
    )
    return df, np.asarray(lines, dtype=object), problems


# --- entry points -----------------------------------------------------------------------------


def _normalise_table(df: pd.DataFrame, speaker_map: dict[str, str]) -> pd.DataFrame:
    """Map speakers to roles (keeping names) and give the canonical columns their types."""
    df = df.copy()
    if "speaker" in df.columns:
        raw = df["speaker"].astype(str)
        roles = {s: normalise_role(s, speaker_map) for s in raw.unique()}
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


def _finish(
    df: pd.DataFrame,
    path: Path,
    lines: np.ndarray,
    problems: list[Problem],
    speaker_map: dict[str, str],
):
    if df is None:
        return pd.DataFrame(), problems, lines
    df = _normalise_table(df, speaker_map)
    cue_file = path.suffix.lower() in CUE_SUFFIXES
    df, more = check_frame(df, str(path), lines, check_times=not cue_file)
    return df, problems + more, lines


class SessionContinuity:
    """The checks that span pieces of a file and files of one input.

    ``check_frame`` sees one piece at a time; this remembers where the last piece ended and which
    sessions are finished, so a turn duplicated across a piece boundary, a session that comes
    back after others, or one session id in two files (ids come from file names) is reported
    the same whether a file is read whole or streamed.
    """

    def __init__(self):
        self.finished: dict[str, str] = {}
        self.last: tuple[str, str, int, float] | None = None  # path, session, turn, start

    def check(self, df: pd.DataFrame, path: Path, lines) -> list[Problem]:
        if not len(df) or not {"session_id", "turn"} <= set(df.columns):
            return []
        problems = []
        where = str(path)
        sids = df["session_id"].to_numpy()
        line0 = None if lines is None or not len(lines) or lines[0] is None else int(lines[0])
        if self.last is not None and self.last[:2] == (where, sids[0]):
            turn = int(df["turn"].iloc[0])
            if 0 <= turn <= self.last[2]:
                problems.append(
                    Problem(
                        where,
                        line0,
                        f"turn {turn} does not come after turn "
                        f"{self.last[2]} in session {sids[0]!r}; turns must ascend",
                    )
                )
            start = float(df["start"].iloc[0]) if "start" in df.columns else float("nan")
            if start < self.last[3]:  # False when either is NaN (no times)
                problems.append(
                    Problem(
                        where,
                        line0,
                        f"start {start:.3f}s is before the previous turn's start "
                        f"{self.last[3]:.3f}s in session {sids[0]!r}: times out of order",
                    )
                )
        elif self.last is not None:
            self.finished[self.last[1]] = self.last[0]
        starts = np.flatnonzero(np.r_[True, sids[1:] != sids[:-1]])
        for i in starts:
            sid = sids[i]
            if sid not in self.finished:
                continue
            at = None if lines is None or lines[i] is None else int(lines[i])
            if self.finished[sid] == where:
                msg = (
                    f"session {sid!r} continues here after other sessions; keep its turns together"
                )
            else:
                msg = (
                    f"session {sid!r} also appears in {self.finished[sid]}; session ids must be "
                    "unique (rename one file, or give the table a session_id column)"
                )
            problems.append(Problem(where, at, msg))
        for i in starts[:-1]:
            self.finished.setdefault(sids[i], where)
        start = float(df["start"].iloc[-1]) if "start" in df.columns else float("nan")
        self.last = (where, sids[-1], int(df["turn"].iloc[-1]), start)
        return problems


READERS = {
    ".csv": "table",
    ".tsv": "table",
    ".jsonl": "table",
    ".parquet": "table",
    ".txt": "plain text transcript",
    ".vtt": "WebVTT",
    ".srt": "SRT",
}


def _iter_file(path: Path, speaker_map: dict[str, str], chunk: int):
    """Yield ``(frame, problems, lines)`` pieces of a file; tables stream, transcripts come whole."""
    suffix = path.suffix.lower()
    if suffix not in READERS:
        raise TranscriptError(
            Problem(
                str(path),
                None,
                f"unknown file type {suffix or '(none)'}; "
                f"expected one of {', '.join(sorted(READERS))}",
            )
        )
    try:
        if suffix in TABLE_SUFFIXES:
            for df, lines in _iter_table(path, chunk):
                yield _finish(df, path, lines, [], speaker_map)
            return
        text, problems = _decode(path, path.read_bytes())
    except OSError as exc:
        raise TranscriptError(
            Problem(str(path), None, f"cannot read file ({exc.strerror})")
        ) from None
    if text is None:
        yield pd.DataFrame(), problems, None
        return
    reader = read_plain_text if suffix in TEXT_SUFFIXES else _read_cues
    df, lines, parse_problems = reader(path, text, speaker_map)
    yield _finish(df, path, lines, problems + parse_problems, speaker_map)


def read_file(
    path: str | Path,
    speaker_map: dict[str, str] | None = None,
    continuity: SessionContinuity | None = None,
):
    """Read one file; return ``(frame, problems)`` without raising for content problems.

    Problems that make the rest of the file unreadable (a malformed row, bad bytes) are
    returned as the only problem with an empty frame. Pass one ``continuity`` to the reads of
    several files to have session ids checked across them.
    """
    path = Path(path)
    continuity = continuity if continuity is not None else SessionContinuity()
    frames, problems = [], []
    try:
        for df, probs, lines in _iter_file(path, speaker_map or {}, chunk=1_000_000):
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


def read_transcripts(paths, speaker_map: dict[str, str] | None = None) -> pd.DataFrame:
    """Read files, directories or globs of any supported format into one canonical DataFrame.

    Raises :class:`TranscriptError` listing every problem found, so nothing half-valid reaches
    a model. Session ids must be unique across files.

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
    frames, problems = [], []
    continuity = SessionContinuity()
    for path in expand_paths(paths):
        df, probs = read_file(path, speaker_map, continuity)
        problems += probs
        frames.append(df)
    if problems:
        raise TranscriptError(problems)
    frames = [f for f in frames if len(f)]
    if not frames:
        raise TranscriptError("no turns found in the given paths")
    return pd.concat(frames, ignore_index=True)


def iter_transcript_chunks(
    paths, speaker_map: dict[str, str] | None = None, chunk_turns: int = 20_000
) -> Iterator[pd.DataFrame]:
    """Yield canonical frames of whole sessions, about ``chunk_turns`` turns each.

    Large tables are read piece by piece so memory stays flat however long the input is; a
    session cut by a piece boundary is held back and completed from the next piece, because the
    model's context features need every turn of a session together.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    speaker_map = speaker_map or {}
    continuity = SessionContinuity()
    pending: pd.DataFrame | None = None
    n_turns = 0
    for path in expand_paths(paths):
        for df, problems, lines in _iter_file(Path(path), speaker_map, chunk_turns):
            problems = problems + continuity.check(df, Path(path), lines)
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
    from .corrections import is_correction_file, read_corrections
    from .labels import LABELS

    if isinstance(paths, (str, Path)):
        paths = [paths]
    frames, problems = [], []
    for path in expand_paths(paths):
        if is_correction_file(path):
            df, found = read_corrections(path, column)
            problems += found
            frames.append(df)
            continue
        if path.suffix.lower() not in TABLE_SUFFIXES:
            problems.append(
                Problem(
                    str(path),
                    None,
                    f"label sheets must be tables ({', '.join(sorted(TABLE_SUFFIXES))}), a "
                    "queue sheet (.xlsx), or a Label Studio (.json) or doccano (.jsonl) export",
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
