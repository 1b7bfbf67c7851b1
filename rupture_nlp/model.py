"""The rupture model: spaCy encoding, feature blocks, a linear first stage, a context stage.

``build_model()`` returns an unfitted :class:`~rupture_nlp.context.ContextStack` whose first stage
is a scikit-learn ``Pipeline`` (encode, features, a linear classifier); ``train()`` fits it on a
labelled turns table; ``predict()`` adds the predicted label and one calibrated probability per
label to a copy of a turns table.

Why a linear first stage: with tens of thousands of labelled turns, a regularised linear
classifier over well-chosen sparse features generalises to unseen writers better than anything
with more capacity, and it trains in seconds. Why a second stage: the first scores each turn
almost on its own words, but whether a turn is a marker depends on what came before it (see
:mod:`rupture_nlp.context`). The measurements behind these choices are in the README.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

from .context import ContextStack
from .errors import TranscriptError
from .features import turn_features
from .labels import LABELS
from .preprocess import TurnEncoder
from .readers import DEFAULT_CHUNK_TURNS

__all__ = [
    "DEFAULT_PARAMS",
    "PROBA_COLUMNS",
    "build_model",
    "explained_fit_errors",
    "fit_model",
    "predict",
    "train",
    "with_predictions",
]

PROBA_COLUMNS = tuple(f"p_{label}" for label in LABELS)

#: Chosen by holding writers out, on the dev split and on real client conversations (README
#: "Model"); every key is a real parameter of the model, so grid search can reach it. Three
#: inner folds, not five: the second stage learns as well from scores of first stages fitted
#: on two thirds of the turns, and training fits 7 first stages instead of 16. Turns of
#: rupture-dense sessions count half: they still give every subtype examples, but no longer set
#: how often ordinary agreement reads as deference.
DEFAULT_PARAMS = {
    "first__clf__C": 0.3,
    "cv": 3,
    "prior_power": 0.0,
    "threshold": 0.5,
    "before": 2,
    "after": 2,
    "dense_weight": 0.5,
}


def build_model(seed: int = 0, spacy_model: str | None = None, **params) -> ContextStack:
    """An unfitted model; ``params`` (``get_params`` names) override :data:`DEFAULT_PARAMS`.

    >>> model = build_model(first__features__chars__weight=0.3)
    >>> model.get_params()["first__features__chars__weight"], model.get_params()["first__clf__C"]
    (0.3, 0.3)
    """
    first = Pipeline(
        [
            ("encode", TurnEncoder(spacy_model=spacy_model)),
            ("features", turn_features()),
            ("clf", LinearSVC(class_weight="balanced", random_state=seed)),
        ]
    )
    return ContextStack(first).set_params(**{**DEFAULT_PARAMS, **params})


def fit_model(model, df: pd.DataFrame, sample_weight=None):
    """Fit ``model`` on a labelled table, keeping each session on one side of every fold."""
    return model.fit(
        df, df["label"].to_numpy(), groups=df["session_id"].to_numpy(), sample_weight=sample_weight
    )


def require_labels(df: pd.DataFrame, purpose: str = "evaluation") -> pd.DataFrame:
    """Refuse a table without a label on every turn (what evaluation and training need)."""
    if "label" not in df.columns:
        raise TranscriptError(f"{purpose} needs a 'label' column")
    missing = df["label"].astype(str).str.strip() == ""
    if missing.any():
        row = df[missing].iloc[0]
        raise TranscriptError(
            f"{int(missing.sum())} turns have no label (first: session "
            f"{row['session_id']!r}, turn {row['turn']}); {purpose} needs every turn labelled"
        )
    return df


def _trainable(df: pd.DataFrame, allow_uncoded: bool = False) -> pd.DataFrame:
    """What training adds: two labels, two sessions, every label in two sessions.

    With ``allow_uncoded``, turns with an empty label are context only, and the rules apply to
    the coded turns.
    """
    if not allow_uncoded:
        require_labels(df, "training")
    elif "label" not in df.columns:
        raise TranscriptError("training needs a 'label' column")
    else:
        df = df.assign(label=df["label"].where(df["label"].notna(), "").astype(str).str.strip())
    coded = df[df["label"] != ""]
    if not len(coded):
        raise TranscriptError("no coded turns to train on: every label is empty")
    present = set(coded["label"])
    if len(present) < 2:
        raise TranscriptError(f"training needs at least two labels; found only {sorted(present)}")
    if coded["session_id"].nunique() < 2:
        raise TranscriptError(
            "training needs at least 2 sessions: the context stage learns from held-out sessions"
        )
    sessions_per_label = coded.groupby("label")["session_id"].nunique()
    rare = sessions_per_label[sessions_per_label < 2]
    if len(rare):
        raise TranscriptError(
            f"label {rare.index[0]!r} occurs in only one session; every label needs at least two "
            "sessions, because training holds whole sessions out"
        )
    return df


def train(
    df: pd.DataFrame,
    seed: int = 0,
    spacy_model: str | None = None,
    allow_uncoded: bool = False,
    **params,
) -> ContextStack:
    """Fit a model on a labelled turns table (every turn labelled).

    ``allow_uncoded=True`` accepts partly coded sessions: turns with an empty label are left out
    of the fit but kept as context for the coded turns around them (what a review queue's
    corrections give, see :mod:`rupture_nlp.review_queue`).

    Examples
    --------
    >>> from rupture_nlp.datasets import load_fixture
    >>> model = train(load_fixture())
    >>> sorted(model.classes_)
    ['confrontation', 'none', 'repair', 'withdrawal']
    """
    df = _trainable(df, allow_uncoded)
    model = build_model(seed=seed, spacy_model=spacy_model, **params)
    with explained_fit_errors():
        return fit_model(model, df)


@contextlib.contextmanager
def explained_fit_errors():
    """Turn scikit-learn's complaint about a fold without some label into what to do about it."""
    try:
        yield
    except ValueError as exc:
        if "class" not in str(exc):
            raise
        raise TranscriptError(
            "too few sessions per label to hold sessions out "
            f"({exc}); add coded sessions or merge rare labels"
        ) from None


def predict(model, df: pd.DataFrame, chunk_turns: int = DEFAULT_CHUNK_TURNS) -> pd.DataFrame:
    """Return a copy of ``df`` with ``predicted_label`` and ``p_<label>`` columns added.

    ``model`` is a fitted model (from :func:`train` or :func:`~rupture_nlp.modelio.load_model`)
    or the path of a model file, loaded with the same checks as ``load_model``.

    ``p_<label>`` are calibrated probabilities; ``predicted_label`` is the classifier's decision:
    the most probable label, and ``none`` where that is a marker or a repair with a probability
    under the model's ``threshold`` (one half by default); a model built with ``threshold=0`` may
    instead temper it towards the rare labels with ``prior_power``
    (see :class:`~rupture_nlp.context.ContextStack`).

    Turns go through the model in pieces of whole sessions of about ``chunk_turns`` turns: the
    sparse feature matrices of a piece stay in the processor's cache, which makes a large table
    half again as fast as one call, and memory stays bounded. Results do not depend on it.

    Examples
    --------
    >>> from rupture_nlp.datasets import load_fixture
    >>> df = load_fixture()
    >>> out = predict(train(df), df.head(4))
    >>> [c for c in out.columns if c.startswith(("p_", "predicted"))]
    ['predicted_label', 'p_withdrawal', 'p_confrontation', 'p_repair', 'p_none']
    """
    if isinstance(model, (str, Path, tuple)):
        from .modelio import resolve_model

        model = resolve_model(model)
    if not len(df):
        return with_predictions(model, df, np.zeros((0, len(model.classes_))))
    proba = np.vstack([model.predict_proba(part) for part in _session_chunks(df, chunk_turns)])
    return with_predictions(model, df, proba)


def with_predictions(model, df: pd.DataFrame, proba: np.ndarray) -> pd.DataFrame:
    """A copy of ``df`` with the columns :func:`predict` adds, from ``model.predict_proba(df)``."""
    out = df.copy()
    if not len(df):
        out["predicted_label"] = pd.Series(dtype=str)
        for col in PROBA_COLUMNS:
            out[col] = pd.Series(dtype=float)
        return out
    classes = list(model.classes_)
    full = np.zeros((len(df), len(LABELS)))
    for j, label in enumerate(LABELS):
        if label in classes:
            full[:, j] = proba[:, classes.index(label)]
    decide = getattr(model, "decide", None)
    out["predicted_label"] = decide(proba) if decide else np.asarray(classes)[proba.argmax(axis=1)]
    for j, col in enumerate(PROBA_COLUMNS):
        out[col] = full[:, j].round(6)
    return out


def _session_chunks(df: pd.DataFrame, chunk_turns: int):
    """Consecutive slices of ``df`` that never cut a session, about ``chunk_turns`` rows each."""
    sid = df["session_id"].to_numpy()
    starts = np.flatnonzero(np.r_[True, sid[1:] != sid[:-1]])
    if len(starts) != len(set(sid[starts].tolist())):
        yield df  # a session's rows are not together: only the whole table keeps it whole
        return
    begin = 0
    for s in starts[1:]:
        if s - begin >= chunk_turns:
            yield df.iloc[begin:s]
            begin = s
    yield df.iloc[begin:]
