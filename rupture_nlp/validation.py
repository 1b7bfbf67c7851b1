"""The checks every transcript passes before any command uses it.

One function, :func:`check_frame`, so that ``rupture validate`` and every other command apply
the same rules and report them the same way: file, line (or row) and what is wrong.
:func:`validate_paths` reads inputs exactly as ``tag`` and ``scan`` do (session ids checked
across files too), so what it accepts they accept; :func:`format_problems` groups a problem
repeated on many lines into one line with a count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import Problem
from .labels import LABELS, SPEAKER_ROLES, SUBTYPES

__all__ = [
    "REQUIRED_COLUMNS",
    "FileReport",
    "SessionContinuity",
    "check_frame",
    "format_problems",
    "map_hint",
    "validate_paths",
]

REQUIRED_COLUMNS = ("session_id", "turn", "speaker", "text")
#: Different messages one check reports per file; a broken column would otherwise drown the
#: report (the same message on many rows is counted in full: it is one line once grouped).
_MAX_PER_CHECK = 50


def _where(lines, i: int):
    if lines is None or i >= len(lines):
        return None
    value = lines[i]
    return None if value is None else int(value)


def map_hint(name: str) -> str:
    """Both ways of mapping a name, quoted for a shell: the reader cannot know which is right.

    >>> print(map_hint("Dr O'Neill"))
    --speaker-map "Dr O'Neill=therapist" or "Dr O'Neill=client"
    """
    q = '"' if "'" in name else "'"
    return f"--speaker-map {q}{name}=therapist{q} or {q}{name}=client{q}"


def check_frame(df: pd.DataFrame, path: str, lines=None, check_times: bool = True):
    """Check a freshly read table; return it with typed columns, and the problems found.

    ``lines[i]`` is the file line (or row) of ``df.iloc[i]``. ``check_times=False`` skips the
    order of start times, for readers that check them at a finer grain (subtitle cues,
    recogniser segments). ``turn`` becomes an integer and
    ``start``/``end`` floats where they parse; rows that do not parse are reported, not dropped.
    """
    problems: list[Problem] = []

    def add(mask, message) -> None:
        seen: dict[str, str] = {}
        for i in np.flatnonzero(np.asarray(mask)):
            msg = message(i) if callable(message) else message
            if msg not in seen and len(seen) >= _MAX_PER_CHECK:
                continue
            msg = seen.setdefault(msg, msg)  # one string however many rows repeat it
            problems.append(Problem(path, _where(lines, i), msg))

    if df.empty and not len(df.columns):
        return df, problems
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        problems.append(
            Problem(
                path,
                1 if lines is not None else None,
                f"missing required column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)} (has: {', '.join(map(str, df.columns))})",
            )
        )
        return df, problems
    df = df.copy()

    turn_raw = df["turn"]
    turn = pd.to_numeric(turn_raw.astype(str).str.strip(), errors="coerce")
    bad_turn = turn.isna() | (turn != turn.round())
    add(bad_turn, lambda i: f"turn {turn_raw.iloc[i]!r} is not an integer")
    df["turn"] = turn.where(~bad_turn, -1).astype(np.int64)

    text = df["text"].astype(str)
    add(text.str.strip() == "", "empty text")

    speakers = df["speaker"].astype(str)
    add(
        ~speakers.isin(SPEAKER_ROLES),
        lambda i: (
            f"unknown speaker {speakers.iloc[i]!r}; expected therapist, client or client2..client9 "
            f"(map the name to its role: {map_hint(speakers.iloc[i])})"
        ),
    )
    add(df["session_id"].astype(str).str.strip() == "", "empty session_id")

    if "label" in df.columns:
        label = df["label"]
        add(
            ~label.isin(LABELS + ("",)),
            lambda i: f"unknown label {label.iloc[i]!r}; expected one of {', '.join(LABELS)}",
        )
    if "subtype" in df.columns:
        sub = df["subtype"]
        known = sub.isin(tuple(SUBTYPES) + ("",))
        add(
            ~known,
            lambda i: f"unknown subtype {sub.iloc[i]!r}; expected a 3RS code such as W2, C1 or R3",
        )
        if "label" in df.columns:
            owner = sub.map(lambda s: SUBTYPES[s][0] if s in SUBTYPES else "")
            wrong = known & (sub != "") & (owner != df["label"])
            add(
                wrong,
                lambda i: (
                    f"subtype {sub.iloc[i]} belongs to {owner.iloc[i]}, not to "
                    f"label {df['label'].iloc[i]!r}"
                ),
            )

    for col in ("start", "end"):
        if col in df.columns:
            raw = df[col]
            blank = raw.isna() | (raw.astype(str).str.strip() == "")
            num = pd.to_numeric(raw.where(~blank), errors="coerce")
            add(
                ~blank & num.isna(),
                lambda i, c=col, r=raw: f"{c} {r.iloc[i]!r} is not a number of seconds",
            )
            df[col] = num.astype(float)
    if "start" in df.columns and "end" in df.columns:
        add(
            df["end"] < df["start"],
            lambda i: f"end {df['end'].iloc[i]} is before start {df['start'].iloc[i]}",
        )

    # order within each session: turns strictly ascending, start times not going backwards
    sid = df["session_id"].to_numpy()
    same = np.r_[False, sid[1:] == sid[:-1]]
    turn = df["turn"].to_numpy()
    prev_turn = np.r_[0, turn[:-1]]
    add(
        same & (turn == prev_turn) & (turn >= 0),
        lambda i: f"turn {turn[i]} is duplicated in session {sid[i]!r}",
    )
    add(
        same & (turn < prev_turn) & (turn >= 0),
        lambda i: (
            f"turn {turn[i]} comes after turn "
            f"{prev_turn[i]} in session {sid[i]!r}; turns must ascend"
        ),
    )
    if "start" in df.columns and check_times:
        start = df["start"].to_numpy(dtype=float)
        prev = np.r_[np.nan, start[:-1]]
        add(
            same & (start < prev),
            lambda i: (
                f"start {start[i]:.3f}s is before the previous turn's "
                f"start {prev[i]:.3f}s in session {sid[i]!r}: times out of order"
            ),
        )
    seen_later = pd.Series(sid).duplicated() & ~pd.Series(same)
    add(
        seen_later,
        lambda i: (
            f"session {sid[i]!r} continues here after other sessions; keep each "
            "session's turns together"
        ),
    )
    return df, problems


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


@dataclass
class FileReport:
    """What :func:`validate_paths` found in one file."""

    path: Path
    turns: int = 0
    sessions: int = 0
    problems: list[Problem] = field(default_factory=list)

    def summary(self) -> str:
        """``data/a.csv: 120 turns, 2 sessions, 1 problem``."""
        n = len(self.problems)
        return (
            f"{self.path}: {self.turns} turn{'s' * (self.turns != 1)}, {self.sessions} "
            f"session{'s' * (self.sessions != 1)}, "
            + (f"{n} problem{'s' * (n != 1)}" if n else "no problems")
        )


def validate_paths(
    paths, speaker_map=None, exclude=(), columns=None
) -> tuple[list[FileReport], list[Problem]]:
    """Check every file ``paths`` expand to; return a report per file and the problems of the
    input as a whole (no turns at all).

    Files are read as ``rupture tag`` reads them, one session-id check across all of them, so
    the verdict (no problems at all) is whether ``tag`` and ``scan`` accept the same paths.
    A path that matches nothing and a folder without transcripts are problems of the input.
    """
    from .corrections import is_correction_file, read_corrections
    from .readers import read_file
    from .readers.paths import find_transcripts, ids_of

    if isinstance(paths, (str, Path)):
        paths = [paths]
    continuity = SessionContinuity()
    reports = []
    found, overall = find_transcripts(paths, exclude)  # an empty folder: a problem too
    ids = ids_of(found)
    for path, _ in found:
        if is_correction_file(path):  # a coded queue sheet, a Label Studio or doccano export
            df, problems = read_corrections(path)
        else:
            df, problems = read_file(path, speaker_map, continuity, columns, ids.get(path))
        sessions = df["session_id"].nunique() if "session_id" in df.columns else 0
        reports.append(FileReport(path, len(df), int(sessions), problems))
    if not overall and not sum(r.turns for r in reports):
        overall.append(Problem("", None, "no turns found in the given paths"))
    return reports, overall


def format_problems(problems: list[Problem], every: bool = False, first: int = 3) -> list[str]:
    """One line per problem message and file, with a count and the first ``first`` places when
    it repeats; ``every=True`` gives one line per occurrence instead.

    >>> ps = [Problem("zoom.vtt", n, "unknown speaker 'Maya'") for n in (3, 7, 11, 15)]
    >>> format_problems(ps + [Problem("zoom.vtt", 20, "empty text")])
    ["zoom.vtt: unknown speaker 'Maya' x4 (lines 3, 7, 11, ...)", 'zoom.vtt:20: empty text']
    """
    if every:
        return [str(p) for p in problems]
    groups: dict[tuple[str, str], list[Problem]] = {}
    for p in problems:
        groups.setdefault((p.path, p.message), []).append(p)
    out = []
    for (path, message), group in groups.items():
        if len(group) == 1:
            out.append(str(group[0]))
            continue
        places = [str(p.line) for p in group if p.line is not None]
        where = ""
        if places:
            more = ", ..." if len(places) > first else ""
            word = "line" if len(places) == 1 else "lines"
            where = f" ({word} {', '.join(places[:first])}{more})"
        head = f"{path}: {message}" if path else message
        out.append(f"{head} x{len(group)}{where}")
    return out
