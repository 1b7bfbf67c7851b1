"""Scan many sessions for rupture episodes, for a supervisor's report.

:func:`scan` tags every turn (or takes the coders' labels), groups marker turns into episodes
and keeps, for each session, what the report needs: the label of every turn, the times, the
counts, the turns around each unrepaired episode (its exchange) and the session's therapist,
client and date where the input has those columns. It streams the input chunk by chunk, so an archive of recordings costs the memory of
one chunk plus a few bytes a turn.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .episodes import (
    DEFAULT_GAP,
    DEFAULT_WINDOW,
    EPISODE_COLUMNS,
    count_unrepaired,
    episode_exchanges,
    find_episodes,
    turn_kinds,
)
from .labels import LABELS
from .model import require_labels
from .modelio import resolve_model
from .readers import DEFAULT_CHUNK_TURNS, iter_transcript_chunks
from .survey import count_turns
from .tagging import iter_tagged

__all__ = ["SESSION_META_COLUMNS", "ScanResult", "SessionSummary", "scan"]

#: Columns describing the session as a whole; the report summarises across sessions by them.
SESSION_META_COLUMNS = ("therapist_id", "client_id", "date")


@dataclass
class SessionSummary:
    """One session as the report draws it."""

    session_id: str
    turns: np.ndarray  # turn numbers, in order
    labels: np.ndarray  # label of each turn
    starts: np.ndarray | None  # seconds, or None when the input had no times
    counts: dict[str, int]
    episodes: pd.DataFrame
    ends: np.ndarray | None = None  # seconds, or None when the input had no end times
    n_marker_turns: int = 0  # turns counted as markers (with --min-prob, more than the labels)
    #: the turns around each unrepaired episode (:func:`~rupture_nlp.episodes.episode_exchanges`)
    exchanges: pd.DataFrame | None = None
    #: therapist_id, client_id and date, where the input has them (first value of the session)
    meta: dict[str, str] = field(default_factory=dict)

    @property
    def n_unrepaired(self) -> int:
        return count_unrepaired(self.episodes)

    @property
    def markers_per_100(self) -> float:
        """Marker turns per 100 turns: how strained the session was, whatever its length."""
        return 100.0 * self.n_marker_turns / len(self.labels) if len(self.labels) else 0.0

    @property
    def repair_rate(self) -> float | None:
        """Share of this session's episodes that were repaired (None without episodes)."""
        if not len(self.episodes):
            return None
        return float(self.episodes["repaired"].astype(bool).mean())


@dataclass
class ScanResult:
    episodes: pd.DataFrame
    sessions: list[SessionSummary] = field(default_factory=list)
    settings: dict = field(default_factory=dict)

    @property
    def n_unrepaired(self) -> int:
        return count_unrepaired(self.episodes)

    def ordered_sessions(self) -> list[SessionSummary]:
        """Sessions with most unrepaired episodes first, then most episodes, then by id."""
        return sorted(
            self.sessions, key=lambda s: (-s.n_unrepaired, -len(s.episodes), s.session_id)
        )


def scan(
    paths,
    model=None,
    window: int = DEFAULT_WINDOW,
    gap: int = DEFAULT_GAP,
    min_prob: float | None = None,
    speaker_map=None,
    text: bool = True,
    use_gold: bool = False,
    chunk_turns: int = DEFAULT_CHUNK_TURNS,
    n_process: int | None = None,
    columns=None,
    exclude=(),
    progress=None,
    notice=None,
) -> ScanResult:
    """Find rupture episodes in transcripts and whether each was repaired.

    With ``use_gold=True`` the coders' ``label`` column is used instead of a model, so a
    model's missed ruptures can be compared with a coder's on the same sessions. ``columns``
    maps a table's column names to the canonical ones, as for :func:`read_transcripts`. Files
    in ``exclude`` are left out of the inputs (the command's earlier output). ``progress`` is a
    tqdm-like bar (``total`` set to the expected turns, ``update(n)`` per chunk); ``notice``
    hears when the default model is built on first use.
    """
    column = "label" if use_gold else "predicted_label"
    if use_gold:
        meta: dict = {}
        tagged_chunks = (
            require_labels(chunk, "scanning with --gold")
            for chunk in iter_transcript_chunks(paths, speaker_map, chunk_turns, columns, exclude)
        )
    else:
        from .explain import can_explain

        fitted = resolve_model(model, n_process, notice)
        meta = getattr(fitted, "metadata_", {})
        # the report shows why each flagged turn was flagged, where the model can say
        tagged_chunks = iter_tagged(
            paths,
            fitted,
            speaker_map,
            chunk_turns,
            columns=columns,
            explain=can_explain(fitted),
            exclude=exclude,
        )
    if progress is not None:
        progress.total = count_turns(paths, exclude)
    probs = None if use_gold else min_prob
    parts, sessions, has_why = [], [], False
    for tagged in tagged_chunks:
        episodes = find_episodes(tagged, column, gap=gap, window=window, min_prob=probs, text=text)
        parts.append(episodes)
        has_why = has_why or "why" in tagged.columns
        exchanges = episode_exchanges(
            tagged,
            episodes[~episodes["repaired"].astype(bool)],
            column,
            window=window,
            min_prob=probs,
            text=text,
        )
        if progress is not None:
            progress.update(len(tagged))
        by_session = dict(tuple(episodes.groupby("session_id", sort=False)))
        exchanges_by = dict(tuple(exchanges.groupby("session_id", sort=False)))
        for sid, turns in tagged.groupby("session_id", sort=False):
            labels = turns[column].astype(str).to_numpy()
            sessions.append(
                SessionSummary(
                    session_id=str(sid),
                    turns=turns["turn"].to_numpy(),
                    labels=labels,
                    starts=_times(turns, "start"),
                    ends=_times(turns, "end"),
                    counts={lab: int((labels == lab).sum()) for lab in LABELS},
                    episodes=by_session.get(sid, pd.DataFrame(columns=EPISODE_COLUMNS)),
                    n_marker_turns=int((turn_kinds(turns, column, probs) == "m").sum()),
                    exchanges=exchanges_by.get(sid, exchanges.iloc[:0]),
                    meta=_session_meta(turns),
                )
            )
    cols = EPISODE_COLUMNS if text else [c for c in EPISODE_COLUMNS if c != "excerpt"]
    episodes = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)
    settings = {
        "window": window,
        "gap": gap,
        "min_prob": min_prob,
        "labels": "coders' labels" if use_gold else "model",
        "model_file": meta.get("model_file"),
        "model_sha256": meta.get("sha256"),
        "excerpts": text,
        # the model's reasons for each flagged turn, when the tagged turns carry a `why` column
        "why": has_why and text,
    }
    return ScanResult(episodes=episodes, sessions=sessions, settings=settings)


def _times(turns: pd.DataFrame, column: str) -> np.ndarray | None:
    if column not in turns.columns:
        return None
    values = pd.to_numeric(turns[column], errors="coerce").to_numpy(dtype=float)
    return None if np.isnan(values).all() else values


def _session_meta(turns: pd.DataFrame) -> dict[str, str]:
    meta = {}
    for col in SESSION_META_COLUMNS:
        if col in turns.columns:
            values = turns[col].dropna().astype(str).str.strip()
            values = values[values != ""]
            if len(values):
                meta[col] = values.iloc[0]
    return meta
