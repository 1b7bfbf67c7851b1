"""Rupture episodes: runs of marker turns, and whether anyone repaired them.

A withdrawal or confrontation turn starts an episode; marker turns at most ``gap`` turns apart
join it. The episode is *repaired* when a repair turn begins within ``window`` turns after its
last marker turn, and *unrepaired* (missed) otherwise, including when the session ends first.

Defaults: ``gap=2`` joins two client markers with one therapist turn between them (the usual
shape of a rupture that builds); ``window=3`` gives the therapist their next turn or the one
after to respond, which is where 3RS coders look for the resolution of a marker. Distances are
counted in turns (rows of the session), not in turn numbers, so gaps in numbering do not matter.

The same function runs on gold labels (``label``) and on model output (``predicted_label``),
so a model's missed ruptures can be compared with a coder's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .labels import MARKERS

__all__ = ["DEFAULT_GAP", "DEFAULT_WINDOW", "EPISODE_COLUMNS", "find_episodes", "match_episodes"]

DEFAULT_GAP = 2
DEFAULT_WINDOW = 3
EXCERPT_CHARS = 160
EPISODE_COLUMNS = [
    "session_id",
    "start_turn",
    "end_turn",
    "marker",
    "n_markers",
    "repaired",
    "repair_turn",
    "ends_session",
    "start",
    "end",
    "excerpt",
]


def _turn_kinds(df: pd.DataFrame, column: str, min_prob: float | None) -> np.ndarray:
    """'m' for a marker turn, 'r' for a repair turn, '' otherwise.

    With ``min_prob``, a turn is also a marker when p(withdrawal) + p(confrontation) reaches it
    and is not below p(repair): lowering the threshold finds quieter ruptures but never turns a
    confident repair into a rupture. Repairs stay the model's own repair predictions.
    """
    labels = df[column].astype(str).to_numpy()
    marker = np.isin(labels, MARKERS)
    if min_prob is not None:
        p_marker = (df["p_withdrawal"] + df["p_confrontation"]).to_numpy()
        marker = (p_marker >= min_prob) & (p_marker >= df["p_repair"].to_numpy())
    return np.where(marker, "m", np.where(labels == "repair", "r", ""))


def _excerpt(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1].rstrip() + "…"


def find_episodes(
    df: pd.DataFrame,
    column: str | None = None,
    gap: int = DEFAULT_GAP,
    window: int = DEFAULT_WINDOW,
    min_prob: float | None = None,
    text: bool = True,
) -> pd.DataFrame:
    """Group each session's marker turns into episodes and decide whether each was repaired.

    Parameters
    ----------
    df : DataFrame
        Turns in session order, with ``label`` or ``predicted_label``.
    column : str, optional
        Label column to use; default ``predicted_label`` if present, else ``label``.
    min_prob : float, optional
        With model output, count a turn as a marker when p(withdrawal) + p(confrontation)
        reaches this (lower finds more ruptures, with more false alarms), and as a repair when
        p(repair) does.
    text : bool
        Include a short excerpt of the first marker turn (``False`` for reports that leave the
        clinic).

    Examples
    --------
    >>> turns = pd.DataFrame({"session_id": ["s"] * 5, "turn": [1, 2, 3, 4, 5],
    ...     "speaker": ["therapist", "client", "therapist", "client", "therapist"],
    ...     "text": ["How was it?", "Fine.", "Mm.", "Whatever.", "Sorry, I pushed."],
    ...     "label": ["none", "withdrawal", "none", "withdrawal", "repair"]})
    >>> find_episodes(turns)[["start_turn", "end_turn", "repaired", "repair_turn"]].values.tolist()
    [[2, 4, True, 5]]
    """
    if column is None:
        column = "predicted_label" if "predicted_label" in df.columns else "label"
    if gap < 1 or window < 0:
        raise ValueError("gap must be at least 1 and window at least 0")
    needed = {"p_withdrawal", "p_confrontation", "p_repair"}
    if min_prob is not None and not needed <= set(df.columns):
        raise ValueError(
            "min_prob needs model probabilities (p_withdrawal, p_confrontation, "
            "p_repair); tag the turns first"
        )
    rows = []
    has_times = "start" in df.columns
    for sid, session in df.groupby("session_id", sort=False):
        kinds = _turn_kinds(session, column, min_prob)
        labels = session[column].astype(str).to_numpy()
        turns = session["turn"].to_numpy()
        marker_pos = np.flatnonzero(kinds == "m")
        if not len(marker_pos):
            continue
        breaks = np.flatnonzero(np.diff(marker_pos) > gap)
        for group in np.split(marker_pos, breaks + 1):
            first, last = int(group[0]), int(group[-1])
            after = np.flatnonzero(kinds[last + 1 : last + 1 + window] == "r")
            repair_pos = last + 1 + int(after[0]) if len(after) else None
            kinds_here = set(labels[group]) & set(MARKERS)
            if not kinds_here:  # only below-argmax markers (min_prob): the likelier kind
                kinds_here = (
                    {"withdrawal"}
                    if (
                        session["p_withdrawal"].to_numpy()[group].sum()
                        >= session["p_confrontation"].to_numpy()[group].sum()
                    )
                    else {"confrontation"}
                )
            row = {
                "session_id": sid,
                "start_turn": int(turns[first]),
                "end_turn": int(turns[last]),
                "marker": kinds_here.pop() if len(kinds_here) == 1 else "mixed",
                "n_markers": len(group),
                "repaired": repair_pos is not None,
                "repair_turn": int(turns[repair_pos]) if repair_pos is not None else pd.NA,
                # the session ended before the whole repair window had passed
                "ends_session": repair_pos is None and last + window > len(session) - 1,
                "start": np.nan,
                "end": np.nan,
                "excerpt": _excerpt(session["text"].iloc[first]) if text else "",
            }
            if has_times:
                row["start"] = float(session["start"].iloc[first])
                ends = session["end"] if "end" in session.columns else session["start"]
                row["end"] = float(ends.iloc[last])
            rows.append(row)
    out = pd.DataFrame(rows, columns=EPISODE_COLUMNS)
    out["repair_turn"] = out["repair_turn"].astype("Int64")
    if not text:
        out = out.drop(columns=["excerpt"])
    return out


def match_episodes(predicted: pd.DataFrame, gold: pd.DataFrame, slack: int = 1) -> dict:
    """Precision and recall of *unrepaired* predicted episodes against gold ones.

    A predicted unrepaired episode counts as found when it overlaps a gold unrepaired episode of
    the same session, its turn span widened by ``slack`` turns on each side (coders and models
    disagree by a turn about where a rupture starts).

    >>> g = pd.DataFrame({"session_id": ["s"], "start_turn": [4], "end_turn": [6], "repaired": [False]})
    >>> p = pd.DataFrame({"session_id": ["s", "s"], "start_turn": [7, 20], "end_turn": [7, 21],
    ...                   "repaired": [False, False]})
    >>> match_episodes(p, g)
    {'predicted': 2, 'gold': 1, 'precision': 0.5, 'recall': 1.0}
    """
    p = predicted[~predicted["repaired"].astype(bool)]
    g = gold[~gold["repaired"].astype(bool)]

    def overlaps(a, b) -> bool:
        return (
            a.session_id == b.session_id
            and a.start_turn - slack <= b.end_turn
            and b.start_turn - slack <= a.end_turn
        )

    by_session: dict[str, list] = {}
    for row in g.itertuples():
        by_session.setdefault(row.session_id, []).append(row)
    hit_p = sum(
        any(overlaps(a, b) for b in by_session.get(a.session_id, [])) for a in p.itertuples()
    )
    p_by: dict[str, list] = {}
    for row in p.itertuples():
        p_by.setdefault(row.session_id, []).append(row)
    hit_g = sum(any(overlaps(b, a) for a in p_by.get(b.session_id, [])) for b in g.itertuples())
    return {
        "predicted": len(p),
        "gold": len(g),
        "precision": round(hit_p / len(p), 4) if len(p) else 0.0,
        "recall": round(hit_g / len(g), 4) if len(g) else 0.0,
    }
