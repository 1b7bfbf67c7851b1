"""Scan many sessions for rupture episodes, for a supervisor's report.

:func:`scan` tags every turn (or takes the coders' labels), groups marker turns into episodes
and keeps, for each session, what the report needs: the label of every turn, the times, the
counts. It streams the input chunk by chunk, so an archive of recordings costs the memory of
one chunk plus a few bytes a turn.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .episodes import DEFAULT_GAP, DEFAULT_WINDOW, EPISODE_COLUMNS, find_episodes
from .labels import LABELS
from .model import require_labels
from .modelio import resolve_model
from .readers import iter_transcript_chunks
from .survey import survey_inputs
from .tagging import iter_tagged

__all__ = ["ScanResult", "SessionSummary", "scan"]


@dataclass
class SessionSummary:
    """One session as the report draws it."""

    session_id: str
    turns: np.ndarray  # turn numbers, in order
    labels: np.ndarray  # label of each turn
    starts: np.ndarray | None  # seconds, or None when the input had no times
    counts: dict[str, int]
    episodes: pd.DataFrame

    @property
    def n_unrepaired(self) -> int:
        return int((~self.episodes["repaired"].astype(bool)).sum())

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
    chunk_turns: int = 20_000,
    n_process: int | None = None,
    exclude=(),
    progress=None,
    notice=None,
) -> ScanResult:
    """Find rupture episodes in transcripts and whether each was repaired.

    With ``use_gold=True`` the coders' ``label`` column is used instead of a model, so a
    model's missed ruptures can be compared with a coder's on the same sessions. Files in
    ``exclude`` are left out of the inputs (the command's earlier output). ``progress`` is a
    tqdm-like bar (``total`` set to the expected turns, ``update(n)`` per chunk); ``notice``
    hears when the default model is built on first use.
    """
    column = "label" if use_gold else "predicted_label"
    if use_gold:
        meta: dict = {}
        tagged_chunks = (
            require_labels(chunk, "scanning with --gold")
            for chunk in iter_transcript_chunks(paths, speaker_map, chunk_turns, exclude)
        )
    else:
        fitted = resolve_model(model, n_process, notice)
        meta = getattr(fitted, "metadata_", {})
        tagged_chunks = iter_tagged(paths, fitted, speaker_map, chunk_turns, exclude=exclude)
    if progress is not None:
        progress.total = survey_inputs(paths, speaker_map, exclude).n_rows
    parts, sessions = [], []
    for tagged in tagged_chunks:
        episodes = find_episodes(
            tagged,
            column,
            gap=gap,
            window=window,
            min_prob=None if use_gold else min_prob,
            text=text,
        )
        parts.append(episodes)
        if progress is not None:
            progress.update(len(tagged))
        by_session = dict(tuple(episodes.groupby("session_id", sort=False)))
        for sid, turns in tagged.groupby("session_id", sort=False):
            labels = turns[column].astype(str).to_numpy()
            starts = turns["start"].to_numpy(dtype=float) if "start" in turns.columns else None
            sessions.append(
                SessionSummary(
                    session_id=str(sid),
                    turns=turns["turn"].to_numpy(),
                    labels=labels,
                    starts=starts if starts is not None and not np.isnan(starts).all() else None,
                    counts={lab: int((labels == lab).sum()) for lab in LABELS},
                    episodes=by_session.get(sid, pd.DataFrame(columns=EPISODE_COLUMNS)),
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
    }
    return ScanResult(episodes=episodes, sessions=sessions, settings=settings)
