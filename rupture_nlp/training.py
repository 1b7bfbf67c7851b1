"""Train a model from files and save it with the metadata that makes it reproducible.

Training cross-validates before it fits the model it saves, and both fit context stacks
(:class:`~rupture_nlp.context.ContextStack`), each of which fits a first stage per inner fold and
one on all its turns: 13 first-stage fits for three folds (31 for five), done one by one. They
overlap: the final stack's inner folds are the cross-validation's folds (the same ``GroupKFold``
on the same sessions), so its fold models are the first stages the cross-validation's stacks fit
on all their turns. And the stack of outer fold ``j`` takes the other outer folds as its inner
folds (two, for three), so its fold model without outer fold ``i`` is fitted on the turns of
neither ``i`` nor ``j``: the one the stack of fold ``i`` needs without fold ``j``. So the turns
are encoded once (:func:`~rupture_nlp.preprocess.reusing_encoding`), each distinct first stage
is fitted once (1 + k + k(k-1)/2 of them: 7 for three folds, 16 for five), in worker processes,
and the stacks are put together from them. Every fit is the one the plain loop makes, so the
model and the metrics are the same with any number of workers; the file is byte for byte the
same for the same number (with another, pickle may share objects differently: measured on the
corpus, equal coefficients). The cross-validation takes the model's own number of inner folds
unless told otherwise, since only then do the two share their fits.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import GroupKFold

from .context import fit_first_stage, rows_key
from .evaluation import metrics_of_predictions
from .model import _trainable, build_model, explained_fit_errors, predict
from .modelio import data_hash, save_model
from .preprocess import reusing_encoding
from .workers import in_workers

__all__ = ["fit_and_cross_validate", "train_and_save"]


def _jsonable(value):
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return repr(value)


def model_parameters(model) -> dict:
    """The pipeline's parameters that are plain values (estimators themselves are left out)."""
    return {
        k: _jsonable(v)
        for k, v in sorted(model.get_params(deep=True).items())
        if not hasattr(v, "get_params")
        and k.rsplit("__", 1)[-1] not in ("steps", "transformer_list")
    }


def _fit_part(first, part: pd.DataFrame, y: np.ndarray, w, encoding):
    """One first stage on some turns (``w`` their weights or ``None``), in a worker:
    ``encoding`` is theirs, made by the parent."""
    with reusing_encoding(part, encoding):
        return fit_first_stage(first, part, y, w)


def _fold_part(model, part: pd.DataFrame, n_train: int, y, groups, fitted, splits, encoding):
    """Outer fold's stack and its predictions, in a worker: ``part`` is the fold's training
    turns (the first ``n_train`` rows) then its held-out turns, and ``encoding`` theirs."""
    train = part.iloc[:n_train]
    with reusing_encoding(part, encoding):
        stack = clone(model).fit(train, y, groups=groups, fitted=fitted, splits=splits)
        return predict(stack, part.iloc[n_train:])


def _other_folds(folds, j: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The inner splits of outer fold ``j``'s stack: each other outer fold held out in turn, as
    row positions of the stack's own turns (``folds[j]``'s training rows)."""
    rows = folds[j][0]
    local = np.full(rows.max() + 1, -1)
    local[rows] = np.arange(len(rows))
    return [
        (local[np.setdiff1d(rows, held)], local[held])
        for i, (_, held) in enumerate(folds)
        if i != j
    ]


def fit_and_cross_validate(
    model,
    df: pd.DataFrame,
    cv: int | None = None,
    n_jobs: int = 1,
    spacy_model: str | None = None,
    progress=None,
    bar=None,
):
    """``model`` fitted on ``df``, and its session-grouped out-of-fold predictions.

    The same model as fitting a clone of ``model`` on all of ``df``; the predictions (``None``
    when ``cv`` < 2; ``cv=None`` takes the model's own ``cv``) are those of a clone fitted on
    each of ``k=cv`` ``GroupKFold`` folds' training turns with the other folds as its inner
    folds (``ContextStack.fit``'s ``splits``; with two folds, one other is too few, and each
    stack takes its own inner folds as :func:`~rupture_nlp.evaluation.cross_val_predictions`
    does). Each first stage is fitted once, ``n_jobs`` at a time in worker processes, and the
    folds' stacks are put together there too while the final one is put together here; see the
    module docstring. ``progress`` hears each fold as its predictions are made; a tqdm-like
    ``bar`` is updated after each fold and the final model.
    """
    say = progress or (lambda _msg: None)
    cv = model.cv if cv is None else cv
    y = df["label"].to_numpy()
    groups = df["session_id"].to_numpy()
    w = model.turn_weights(df)  # the stacks weigh their own turns alike (ContextStack.fit)
    folds = []
    if cv and cv > 1:
        k = min(cv, len(np.unique(groups)))
        folds = list(GroupKFold(n_splits=k).split(df, groups=groups))
    # a stack per fold (fitted on the fold's training turns) and the final one on every turn,
    # and the training rows (positions in df) of every first stage each stack fits
    stacks = [tr for tr, _ in folds] + [np.arange(len(df))]
    # each stack's inner splits; None: its own fold_splits (the final stack's are the folds
    # themselves when cv is the model's cv)
    splits = [_other_folds(folds, j) if len(folds) > 2 else None for j in range(len(folds))]
    splits.append(None)
    needs = []  # per stack: rows_key of its rows -> rows_key of the same rows of df
    for rows, given in zip(stacks, splits, strict=True):
        own = given or model.fold_splits(df.iloc[rows], groups[rows])
        inner = [tr for tr, _ in own]
        needs.append(
            {rows_key(local): rows_key(rows[local]) for local in [*inner, np.arange(len(rows))]}
        )
    # The final stack's first stages first: its fold models are the folds' stacks' own. The one
    # on every turn goes into the model file, so it is fitted here, not in a worker: objects
    # that come back from a worker share no strings with this process's, and the pickle would
    # differ (not the model).
    everything = rows_key(stacks[-1])
    todo = {}
    for j in [len(stacks) - 1, *range(len(folds))]:
        for local, key in needs[j].items():
            todo.setdefault(key, stacks[j][np.frombuffer(local, dtype=np.int64)])
    del todo[everything]
    parts = []
    with reusing_encoding(df, spacy_model=spacy_model) as encoding:
        tasks = (
            (
                model.first,
                df.iloc[rows],
                y[rows],
                None if w is None else w[rows],
                encoding.take(rows),
            )
            for rows in todo.values()
        )
        fits = in_workers(_fit_part, tasks, n_jobs)
        fitted = {everything: fit_first_stage(model.first, df, y, w)}  # while the workers fit
        fitted.update(zip(todo, fits, strict=True))

        # The second stages only now, with the first stages done; each is fitted, and
        # predicts, with one BLAS thread (see ContextStack). The folds' stacks (which give
        # only predictions) are put together in the workers while the final one is here.
        def fold_task(j):
            rows, held = stacks[j], folds[j][1]
            both = np.concatenate([rows, held])
            mine = {local: fitted[g] for local, g in needs[j].items()}
            return (
                model,
                df.iloc[both],
                len(rows),
                y[rows],
                groups[rows],
                mine,
                splits[j],
                encoding.take(both),
            )

        made = in_workers(_fold_part, (fold_task(j) for j in range(len(folds))), n_jobs)
        stack = clone(model).fit(
            df,
            y,
            groups=groups,
            fitted={local: fitted[g] for local, g in needs[-1].items()},
            splits=splits[-1],
        )
        for j, part in enumerate(made):
            parts.append(part.assign(fold=j))
            say(f"fold {j + 1}/{len(folds)}")
            if bar is not None:
                bar.update(1)
        if bar is not None:
            bar.update(1)
    pred = pd.concat(parts).loc[df.index] if folds else None
    return stack, pred


def train_and_save(
    df: pd.DataFrame,
    out: str | Path,
    seed: int = 0,
    spacy_model: str | None = None,
    cv: int | None = None,
    progress=None,
    bar=None,
    allow_uncoded: bool = False,
    n_jobs: int = 1,
    **params,
) -> dict:
    """Cross-validate (grouped by session), train on everything, save model + metadata.

    ``cv`` folds (``None``: the model's own inner folds, which lets the two share their fits; 0:
    no cross-validation). Returns the metadata written. ``progress`` is called with short
    status strings (never with transcript text) so a CLI can show where long work is. A
    tqdm-like ``bar`` counts the fits: its ``total`` is set to the folds plus the final model,
    and it is updated after each.
    ``allow_uncoded`` trains on partly coded sessions (see :func:`rupture_nlp.model.train`); the
    figures count coded turns only. ``n_jobs`` worker processes fit the first stages (see
    :func:`fit_and_cross_validate`); the model file is the same for any number.
    """
    say = progress or (lambda _msg: None)
    df = _trainable(df, allow_uncoded)  # before cross-validation, not after folds of it
    model = build_model(seed=seed, spacy_model=spacy_model, **params)
    cv = model.cv if cv is None else cv
    folds = min(cv, df["session_id"].nunique()) if cv and cv > 1 else 0
    if bar is not None:
        bar.total = folds + 1  # as cross_val_predictions caps the folds
    started = time.perf_counter()
    if folds:
        say(f"cross-validating ({cv} folds grouped by session)")
    say(f"training on {len(df)} turns in {df['session_id'].nunique()} sessions")
    with explained_fit_errors():
        model, pred = fit_and_cross_validate(
            model,
            df,
            cv=cv,
            n_jobs=n_jobs,
            spacy_model=spacy_model,
            progress=say,
            bar=bar,
        )
    cv_metrics = None if pred is None else metrics_of_predictions(pred[pred["label"] != ""])
    coded = df[df["label"] != ""]
    meta = {
        "seed": seed,
        "spacy_model": spacy_model or "blank:en",
        "data_sha256": data_hash(df),
        "n_turns": int(len(df)),
        "n_coded_turns": int(len(coded)),
        "n_sessions": int(df["session_id"].nunique()),
        "label_counts": {k: int(v) for k, v in coded["label"].value_counts().sort_index().items()},
        "parameters": model_parameters(model),
        "cv_folds": cv,
        "cv_metrics": cv_metrics,
        "train_seconds": round(time.perf_counter() - started, 1),
    }
    say(f"saving {out}")
    return save_model(model, out, meta)
