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

__all__ = [
    "DEFAULT_GAP",
    "DEFAULT_WINDOW",
    "EPISODE_COLUMNS",
    "EXCHANGE_BEFORE",
    "count_unrepaired",
    "episode_exchanges",
    "find_episodes",
    "match_episodes",
    "turn_kinds",
]

DEFAULT_GAP = 2
DEFAULT_WINDOW = 3
EXCERPT_CHARS = 160
#: Turns shown before an episode's first marker: the therapist's turn that drew it, and one more.
EXCHANGE_BEFORE = 2
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


def turn_kinds(df: pd.DataFrame, column: str, min_prob: float | None) -> np.ndarray:
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


def count_unrepaired(episodes: pd.DataFrame) -> int:
    """Number of episodes nobody repaired: the one count the CLI, the report and the scan share.

    >>> count_unrepaired(pd.DataFrame({"repaired": [True, False, False]}))
    2
    >>> count_unrepaired(pd.DataFrame(columns=EPISODE_COLUMNS))
    0
    """
    if not len(episodes):
        return 0
    return int((~episodes["repaired"].astype(bool)).sum())


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
        kinds = turn_kinds(session, column, min_prob)
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


def episode_exchanges(
    df: pd.DataFrame,
    episodes: pd.DataFrame,
    column: str | None = None,
    window: int = DEFAULT_WINDOW,
    min_prob: float | None = None,
    before: int = EXCHANGE_BEFORE,
    text: bool = True,
) -> pd.DataFrame:
    """The turns around each episode, as a supervisor reads them: the exchange.

    For every row of ``episodes`` (usually the unrepaired ones), the turns from ``before`` turns
    before its first marker to ``window`` turns after its last: the therapist turn that drew the
    marker, the markers, what happened between them, and the turns in which a repair was looked
    for. ``role`` names what each turn is to the episode: ``marker``; ``repair attempt`` for a
    repair turn between its first and last marker (the strain went on after it, so by the
    episode rule it did not end it); ``repair`` for the turn that did; ``other marker`` and
    ``earlier repair`` outside the episode's own span; empty otherwise.

    Returns one row per turn and episode, in order, with ``session_id``, ``episode_start`` (the
    episode's ``start_turn``), ``turn``, ``speaker``, ``start`` (seconds or NaN), ``label``,
    ``p_label`` (the model's probability of that label, NaN for coders' labels), ``p_marker``
    (p(withdrawal) + p(confrontation), NaN for coders' labels) and ``role``; with ``text``,
    also ``text`` and, where the input has it, the model's ``why``. Both are left out with
    ``text=False``: the reasons quote the turn's own words.

    Examples
    --------
    >>> turns = pd.DataFrame({"session_id": ["s"] * 6, "turn": [1, 2, 3, 4, 5, 6],
    ...     "speaker": ["therapist", "client"] * 3,
    ...     "text": ["Homework?", "No.", "I'm sorry.", "Whatever.", "Okay.", "Fine."],
    ...     "label": ["none", "withdrawal", "repair", "withdrawal", "none", "none"]})
    >>> ep = find_episodes(turns)
    >>> episode_exchanges(turns, ep)[["turn", "label", "role"]].values.tolist()
    [[1, 'none', ''], [2, 'withdrawal', 'marker'], [3, 'repair', 'repair attempt'], [4, 'withdrawal', 'marker'], [5, 'none', ''], [6, 'none', '']]
    """
    if column is None:
        column = "predicted_label" if "predicted_label" in df.columns else "label"
    with_why = text and "why" in df.columns
    out_columns = (
        [
            "session_id",
            "episode_start",
            "turn",
            "speaker",
            "start",
            "label",
            "p_label",
            "p_marker",
            "role",
        ]
        + (["text"] if text else [])
        + (["why"] if with_why else [])
    )
    if not len(episodes):
        return pd.DataFrame(columns=out_columns)
    has_p = {f"p_{lab}" for lab in ("withdrawal", "confrontation", "repair")} <= set(df.columns)
    wanted = set(episodes["session_id"])
    parts = []
    for sid, session in df.groupby("session_id", sort=False):
        if sid not in wanted:
            continue
        session = session.reset_index(drop=True)
        kinds = turn_kinds(session, column, min_prob)
        labels = session[column].astype(str).to_numpy()
        position = {int(t): i for i, t in enumerate(session["turn"].to_numpy())}
        p_label = np.full(len(session), np.nan)
        p_marker = np.full(len(session), np.nan)
        if has_p:
            for lab in set(labels):
                if f"p_{lab}" in session.columns:
                    here = labels == lab
                    p_label[here] = session[f"p_{lab}"].to_numpy(dtype=float)[here]
            p_marker = (session["p_withdrawal"] + session["p_confrontation"]).to_numpy(dtype=float)
            p_marker = p_marker.round(6)  # as predict rounds the probabilities it sums
        here_eps = episodes[episodes["session_id"] == sid]
        for start_turn, end_turn in zip(here_eps["start_turn"], here_eps["end_turn"], strict=True):
            first, last = position[int(start_turn)], position[int(end_turn)]
            lo, hi = max(first - before, 0), min(last + window, len(session) - 1)
            pos = np.arange(lo, hi + 1)
            here = kinds[pos]
            inside = (pos >= first) & (pos <= last)
            role = np.select(
                [
                    inside & (here == "m"),
                    inside & (here == "r"),
                    here == "m",
                    (here == "r") & (pos < first),
                    here == "r",
                ],
                ["marker", "repair attempt", "other marker", "earlier repair", "repair"],
                default="",
            )
            part = pd.DataFrame(
                {
                    "session_id": sid,
                    "episode_start": int(start_turn),
                    "turn": session["turn"].to_numpy()[pos],
                    "speaker": session["speaker"].astype(str).to_numpy()[pos],
                    "start": (
                        session["start"].to_numpy(dtype=float)[pos]
                        if "start" in session.columns
                        else np.nan
                    ),
                    "label": labels[pos],
                    "p_label": p_label[pos],
                    "p_marker": p_marker[pos],
                    "role": role,
                }
            )
            if text:
                part["text"] = session["text"].astype(str).to_numpy()[pos]
            if with_why:
                part["why"] = session["why"].fillna("").astype(str).to_numpy()[pos]
            parts.append(part)
    if not parts:
        return pd.DataFrame(columns=out_columns)
    return pd.concat(parts, ignore_index=True)[out_columns]


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
