"""Train a model from files and save it with the metadata that makes it reproducible."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from .evaluation import cross_val_predictions, metrics_of_predictions
from .model import _trainable, build_model, train
from .modelio import data_hash, save_model

__all__ = ["train_and_save"]


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


def train_and_save(
    df: pd.DataFrame,
    out: str | Path,
    seed: int = 0,
    spacy_model: str | None = None,
    cv: int = 5,
    progress=None,
    bar=None,
    allow_uncoded: bool = False,
    **params,
) -> dict:
    """Cross-validate (grouped by session), train on everything, save model + metadata.

    Returns the metadata written. ``progress`` is called with short status strings (never with
    transcript text) so a CLI can show where long work is. A tqdm-like ``bar`` counts the fits:
    its ``total`` is set to the folds plus the final model, and it is updated after each.
    ``allow_uncoded`` trains on partly coded sessions (see :func:`rupture_nlp.model.train`); the
    figures count coded turns only.
    """
    say = progress or (lambda _msg: None)
    df = _trainable(df, allow_uncoded)  # before cross-validation, not after five folds of it
    if bar is not None:
        folds = min(cv, df["session_id"].nunique()) if cv and cv > 1 else 0
        bar.total = folds + 1  # as cross_val_predictions caps the folds
    started = time.perf_counter()
    cv_metrics = None
    if cv and cv > 1:
        say(f"cross-validating ({cv} folds grouped by session)")
        pred = cross_val_predictions(
            df,
            k=cv,
            seed=seed,
            model=build_model(seed=seed, spacy_model=spacy_model, **params),
            progress=say,
            bar=bar,
        )
        cv_metrics = metrics_of_predictions(pred[pred["label"] != ""])
    say(f"training on {len(df)} turns in {df['session_id'].nunique()} sessions")
    model = train(df, seed=seed, spacy_model=spacy_model, allow_uncoded=allow_uncoded, **params)
    if bar is not None:
        bar.update(1)
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
