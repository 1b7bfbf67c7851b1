"""How good a model is: per-label and marker metrics, calibration, grouped cross-validation.

Every figure here is computed on turns the model did not train on, and cross-validation keeps
all turns of a session on one side (``GroupKFold`` on ``session_id``): turns of one session share
a writer, a client and a topic, and splitting them would flatter the model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support
from sklearn.model_selection import GroupKFold

from .agreement import session_frequency_icc
from .labels import LABELS, MARKERS
from .model import PROBA_COLUMNS, build_model, fit_model, predict
from .workers import in_workers

__all__ = [
    "cross_val_predictions",
    "expected_calibration_error",
    "format_metrics",
    "metrics",
]

REPAIR_AND_MARKERS = ("withdrawal", "confrontation", "repair")


def expected_calibration_error(y_true, proba: np.ndarray, n_bins: int = 10) -> dict[str, float]:
    """One-vs-rest expected calibration error per label (0 is perfect), equal-width bins."""
    y_true = np.asarray(y_true)
    out = {}
    for j, label in enumerate(LABELS):
        p, hit = proba[:, j], (y_true == label).astype(float)
        bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
        err = 0.0
        for b in range(n_bins):
            m = bins == b
            if m.any():
                err += m.mean() * abs(p[m].mean() - hit[m].mean())
        out[label] = round(float(err), 4)
    return out


def reliability_table(y_true, proba: np.ndarray, n_bins: int = 10) -> pd.DataFrame:
    """Mean predicted probability against observed frequency per bin, per label (for plots)."""
    y_true = np.asarray(y_true)
    rows = []
    for j, label in enumerate(LABELS):
        p, hit = proba[:, j], (y_true == label).astype(float)
        bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
        for b in range(n_bins):
            m = bins == b
            if m.any():
                rows.append(
                    {
                        "label": label,
                        "bin": b,
                        "n": int(m.sum()),
                        "mean_predicted": float(p[m].mean()),
                        "observed": float(hit[m].mean()),
                    }
                )
    return pd.DataFrame(rows)


def metrics(y_true, y_pred, proba: np.ndarray | None = None) -> dict:
    """Per-label precision/recall/F1/support, macro-F1s, confusion matrix and marker recall.

    ``marker_macro_f1`` averages the three marker labels (withdrawal, confrontation, repair),
    the figure that matters, since ``none`` is easy and dominant. ``rupture_recall`` is the share
    of gold withdrawal/confrontation turns predicted as either of them: a supervisor cares that a
    rupture is flagged, less which kind.

    >>> m = metrics(["none", "withdrawal"], ["none", "confrontation"])
    >>> m["rupture_recall"], m["per_label"]["withdrawal"]["recall"]
    (1.0, 0.0)
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    p, r, f, s = precision_recall_fscore_support(
        y_true, y_pred, labels=list(LABELS), zero_division=0
    )
    per = {
        lab: {
            "precision": round(float(p[i]), 4),
            "recall": round(float(r[i]), 4),
            "f1": round(float(f[i]), 4),
            "support": int(s[i]),
        }
        for i, lab in enumerate(LABELS)
    }
    rupture = np.isin(y_true, MARKERS)
    out = {
        "n_turns": int(len(y_true)),
        "accuracy": round(float((y_true == y_pred).mean()), 4) if len(y_true) else 0.0,
        "macro_f1": round(float(np.mean(f)), 4),
        "marker_macro_f1": round(float(np.mean([per[lab]["f1"] for lab in REPAIR_AND_MARKERS])), 4),
        "rupture_recall": round(float(np.isin(y_pred[rupture], MARKERS).mean()), 4)
        if rupture.any()
        else None,
        "flagged_turns": int(np.isin(y_pred, REPAIR_AND_MARKERS).sum()),
        "coded_turns": int(np.isin(y_true, REPAIR_AND_MARKERS).sum()),
        "per_label": per,
        "confusion": {
            "labels": list(LABELS),
            "matrix": confusion_matrix(y_true, y_pred, labels=list(LABELS)).tolist(),
        },
    }
    if proba is not None:
        out["calibration_ece"] = expected_calibration_error(y_true, proba)
    return out


def _fold_predictions(model, train_df: pd.DataFrame, test_df: pd.DataFrame, fold: int):
    return predict(fit_model(clone(model), train_df), test_df).assign(fold=fold)


def cross_val_predictions(
    df: pd.DataFrame,
    k: int = 5,
    seed: int = 0,
    model=None,
    groups_column: str = "session_id",
    progress=None,
    bar=None,
    n_jobs: int = 1,
) -> pd.DataFrame:
    """Out-of-fold predictions for every turn, folds grouped by session (or another column).

    ``groups_column="writer"`` holds out whole writers: with ``k`` equal to the number of
    writers, leave one writer out. ``progress`` hears ``"fold i/k"`` before each fold (as each
    fold is done with ``n_jobs`` > 1); a tqdm-like ``bar`` is updated after it. ``n_jobs`` > 1
    fits folds in that many worker processes (:func:`~rupture_nlp.workers.in_workers`), with
    the same predictions: the model fits and predicts with one BLAS thread wherever it runs.

    The stacks here take their own inner folds (``model.cv`` of them in each fold's training
    turns); ``rupture train --cv`` gives each fold's stack the other outer folds instead
    (:mod:`rupture_nlp.training`), so the two report slightly different figures for one ``k``.
    """
    model = model if model is not None else build_model(seed=seed)
    groups = df[groups_column].to_numpy()
    k = min(k, len(np.unique(groups)))
    folds = list(GroupKFold(n_splits=k).split(df, groups=groups))
    tasks = ((model, df.iloc[tr], df.iloc[te], fold) for fold, (tr, te) in enumerate(folds))
    results = in_workers(_fold_predictions, tasks, n_jobs)
    parts = []
    for fold in range(k):
        if progress and n_jobs <= 1:
            progress(f"fold {fold + 1}/{k}")
        parts.append(next(results))
        if progress and n_jobs > 1:
            progress(f"fold {fold + 1}/{k}")
        if bar is not None:
            bar.update(1)
    return pd.concat(parts).loc[df.index]


def metrics_of_predictions(pred: pd.DataFrame) -> dict:
    """:func:`metrics` of a frame that has ``label``, ``predicted_label`` and ``p_*`` columns,
    with the per-session frequency ICC (:func:`session_frequency_icc`)."""
    out = metrics(pred["label"], pred["predicted_label"], pred[list(PROBA_COLUMNS)].to_numpy())
    out["session_icc"] = session_frequency_icc(pred)
    return out


def format_metrics(m: dict, title: str = "") -> str:
    """A plain-text table of :func:`metrics` output for the terminal."""
    lines = [title] if title else []
    lines.append(f"{'label':<14}{'precision':>10}{'recall':>8}{'f1':>8}{'support':>9}")
    for lab, v in m["per_label"].items():
        lines.append(
            f"{lab:<14}{v['precision']:>10.3f}{v['recall']:>8.3f}{v['f1']:>8.3f}{v['support']:>9}"
        )
    lines.append(
        f"macro-F1 {m['macro_f1']:.3f}   marker macro-F1 (W, C, R) {m['marker_macro_f1']:.3f}"
        f"   rupture recall {m['rupture_recall'] if m['rupture_recall'] is None else round(m['rupture_recall'], 3)}"
    )
    n = max(m["n_turns"], 1)
    lines.append(
        f"marker turns: {m['flagged_turns']} flagged ({m['flagged_turns'] / n:.1%}) against "
        f"{m['coded_turns']} coded ({m['coded_turns'] / n:.1%})"
    )
    if m.get("session_icc"):
        lines.append(
            "per-session frequency ICC(2,1): "
            + ", ".join(
                f"{k} {'-' if v is None else f'{v:.2f}'}" for k, v in m["session_icc"].items()
            )
        )
    lines.append(
        "confusion (rows gold, columns predicted; " + ", ".join(m["confusion"]["labels"]) + "):"
    )
    for lab, row in zip(m["confusion"]["labels"], m["confusion"]["matrix"], strict=True):
        lines.append(f"  {lab:<14}" + "".join(f"{v:>7}" for v in row))
    if "calibration_ece" in m:
        lines.append(
            "calibration error (ECE): "
            + ", ".join(f"{k} {v:.3f}" for k, v in m["calibration_ece"].items())
        )
    return "\n".join(lines)


def evaluate_frame(
    df: pd.DataFrame,
    model=None,
    cv: int | None = None,
    seed: int = 0,
    window: int | None = None,
    gap: int | None = None,
    progress=None,
    min_prob: float | None = None,
    notice=None,
) -> dict:
    """Evaluate a labelled turns table with a model, or by grouped cross-validation.

    Returns ``{"title", "turns": metrics(...), "episodes": unrepaired-episode precision/recall}``,
    and the same for each kind of session under ``"by_density"`` when the table has a ``density``
    column with more than one value (the corpus: ``natural`` and ``dense``); ``min_prob``
    applies to the model's episodes as in ``rupture scan --min-prob``. ``notice`` hears when the
    default model is built on first use.
    """
    from .model import require_labels
    from .modelio import resolve_model

    df = require_labels(df)
    if cv:
        pred = cross_val_predictions(df, k=cv, seed=seed, progress=progress)
        title = f"{cv}-fold cross-validation grouped by session, {len(df)} turns"
    else:
        fitted = resolve_model(model, notice=notice)
        meta = getattr(fitted, "metadata_", {})
        pred = predict(fitted, df)
        title = f"model {meta.get('model_file', 'in memory')} on {len(df)} turns"
    result = {"title": title, **prediction_figures(pred, gap, window, min_prob)}
    # a corpus mixing natural-density and rupture-dense sessions is reported for each kind too:
    # the overall figure hides how often ordinary sessions raise false alarms
    if "density" in pred.columns and pred["density"].nunique() > 1:
        result["by_density"] = figures_by_density(pred, gap, window, min_prob)
    return result


def prediction_figures(
    pred: pd.DataFrame,
    gap: int | None = None,
    window: int | None = None,
    min_prob: float | None = None,
) -> dict:
    """``{"turns": metrics, "episodes": unrepaired-episode precision/recall}`` of a table with
    ``label`` and ``predicted_label`` (and, when it has them, ``p_*`` columns, which add
    calibration error and the per-session frequency ICC)."""
    from .episodes import DEFAULT_GAP, DEFAULT_WINDOW, find_episodes, match_episodes

    gap = DEFAULT_GAP if gap is None else gap
    window = DEFAULT_WINDOW if window is None else window
    episodes = match_episodes(
        find_episodes(pred, "predicted_label", gap, window, min_prob=min_prob),
        find_episodes(pred, "label", gap, window),
    )
    if set(PROBA_COLUMNS) <= set(pred.columns):
        turns = metrics_of_predictions(pred)
    else:
        turns = metrics(pred["label"], pred["predicted_label"])
    return {
        "turns": turns,
        "episodes": {**episodes, "gap": gap, "window": window, "min_prob": min_prob},
    }


def figures_by_density(pred: pd.DataFrame, *args, **kwargs) -> dict[str, dict]:
    """:func:`prediction_figures` of each kind of session (``density``; ``unknown`` if missing)."""
    kinds = pred["density"].fillna("unknown")
    return {
        str(kind): prediction_figures(part, *args, **kwargs)
        for kind, part in pred.groupby(kinds, sort=True)
    }
