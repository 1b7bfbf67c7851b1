"""Training's cross-validation and final fit, done once per first stage and in parallel, against
the plain loops they replace: the same model file and the same out-of-fold predictions."""

from __future__ import annotations

import io
import itertools

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GroupKFold

from rupture_nlp.context import fit_first_stage
from rupture_nlp.evaluation import cross_val_predictions, metrics_of_predictions
from rupture_nlp.model import build_model, predict, train
from rupture_nlp.training import fit_and_cross_validate, train_and_save


def _pickled(model) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    return buffer.getvalue()


def _nested_predictions(df: pd.DataFrame, k: int) -> pd.DataFrame:
    """The plain loop: the stack of each of k session folds fitted on the other folds' turns,
    with those folds (by their sessions) as its inner folds, and predicting its own fold."""
    folds = list(GroupKFold(n_splits=k).split(df, groups=df["session_id"]))
    parts = []
    for j, (tr, te) in enumerate(folds):
        part = df.iloc[tr]
        inner = []
        for i, (_, held) in enumerate(folds):
            out = part["session_id"].isin(df["session_id"].iloc[held]).to_numpy()
            if i != j:
                inner.append((np.flatnonzero(~out), np.flatnonzero(out)))
        stack = build_model().fit(part, part["label"].to_numpy(), splits=inner)
        parts.append(predict(stack, df.iloc[te]).assign(fold=j))
    return pd.concat(parts).loc[df.index]


@pytest.fixture(scope="module")
def slow(mini_df):
    """The plain loops: each fold's stack on its own, then train on every turn."""
    return _nested_predictions(mini_df, k=3), train(mini_df)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_shared_first_stages_give_the_plain_loops_model_and_predictions(mini_df, slow, n_jobs):
    slow_pred, slow_model = slow
    model, pred = fit_and_cross_validate(build_model(), mini_df, cv=3, n_jobs=n_jobs)
    assert _pickled(model) == _pickled(slow_model)
    pd.testing.assert_frame_equal(pred, slow_pred, check_exact=True)
    assert metrics_of_predictions(pred) == metrics_of_predictions(slow_pred)


@pytest.fixture(scope="module")
def mixed_df(mini_df):
    """The mini corpus with two of its sessions marked as written rupture-dense."""
    dense = mini_df["session_id"].isin(["mini02", "mini05"])
    return mini_df.assign(density=np.where(dense, "dense", "natural"))


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_dense_sessions_weigh_less_in_every_fit_shared_or_not(mixed_df, n_jobs):
    """The shared, parallel fits weigh dense turns as the plain loops do, in both stages."""
    slow_pred = _nested_predictions(mixed_df, k=3)
    model, pred = fit_and_cross_validate(build_model(), mixed_df, cv=3, n_jobs=n_jobs)
    assert _pickled(model) == _pickled(train(mixed_df))
    pd.testing.assert_frame_equal(pred, slow_pred, check_exact=True)


def test_dense_weight_is_a_turn_weight(mixed_df):
    """dense_weight=0.5 is sample_weight 0.5 on dense turns; 1 (or no density column) is none."""
    dense = (mixed_df["density"] == "dense").to_numpy()
    weighted = train(mixed_df)  # the default model weighs dense sessions 0.5
    explicit = build_model(dense_weight=1.0).fit(
        mixed_df,
        mixed_df["label"].to_numpy(),
        sample_weight=np.where(dense, 0.5, 1.0),
    )
    assert weighted.dense_weight == 0.5
    np.testing.assert_array_equal(
        weighted.predict_proba(mixed_df), explicit.predict_proba(mixed_df)
    )
    unweighted = train(mixed_df, dense_weight=1.0)
    assert not np.array_equal(weighted.predict_proba(mixed_df), unweighted.predict_proba(mixed_df))
    plain = mixed_df.drop(columns="density")
    assert build_model().turn_weights(plain) is None
    np.testing.assert_array_equal(build_model().turn_weights(mixed_df), np.where(dense, 0.5, 1.0))


def test_folds_that_are_not_the_stacks_own_still_give_the_same_model(mini_df):
    """Two outer folds and a stack of three inner ones share no first stage but the last."""
    slow_pred = cross_val_predictions(mini_df, k=2, model=build_model())
    model, pred = fit_and_cross_validate(build_model(), mini_df, cv=2)
    assert _pickled(model) == _pickled(train(mini_df))
    pd.testing.assert_frame_equal(pred, slow_pred, check_exact=True)


def test_partly_coded_sessions_train_the_same_way(mini_df, tmp_path):
    partial = mini_df.assign(label=np.where(mini_df["turn"] % 4 == 0, "", mini_df["label"]))
    meta = train_and_save(partial, tmp_path / "p.joblib", cv=3, allow_uncoded=True, n_jobs=2)
    slow_pred = _nested_predictions(partial, k=3)
    assert meta["cv_metrics"] == metrics_of_predictions(slow_pred[slow_pred["label"] != ""])
    assert meta["n_coded_turns"] == int((partial["label"] != "").sum())
    plain = train_and_save(partial, tmp_path / "q.joblib", cv=0, allow_uncoded=True, n_jobs=1)
    assert meta["sha256"] == plain["sha256"]


def test_without_cross_validation_there_are_no_predictions(mini_df):
    model, pred = fit_and_cross_validate(build_model(), mini_df, cv=0)
    assert pred is None and _pickled(model) == _pickled(train(mini_df))


@pytest.mark.parametrize(("model_cv", "cv", "fits"), [(5, 5, 16), (3, None, 7)])
def test_k_folds_fit_each_first_stage_once(mini_df, monkeypatch, model_cv, cv, fits):
    """1 on every turn, k without one fold, k(k-1)/2 without two: each fits once, and no stack
    fits one of its own (ContextStack.fit would, through rupture_nlp.context). Without ``cv``
    the cross-validation takes the model's folds (the default model's three)."""
    g = mini_df["session_id"]
    rows = []

    def counting(first, X, y, sample_weight=None):
        rows.append(frozenset(X.index))
        return fit_first_stage(first, X, y, sample_weight)

    monkeypatch.setattr("rupture_nlp.training.fit_first_stage", counting)
    monkeypatch.setattr("rupture_nlp.context.fit_first_stage", counting)
    model = build_model() if model_cv == 3 else build_model(cv=model_cv)
    fit_and_cross_validate(model, mini_df, cv=cv)
    k = model_cv
    folds = [frozenset(mini_df.index[te]) for _, te in GroupKFold(k).split(mini_df, groups=g)]
    every = frozenset(mini_df.index)
    without = {every - a - b for a, b in itertools.combinations_with_replacement(folds, 2)}
    assert len(rows) == len(set(rows)) == fits and set(rows) == without | {every}
