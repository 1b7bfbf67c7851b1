"""Training's cross-validation and final fit, done once per first stage and in parallel, against
the plain loop they replace: the same model file and the same out-of-fold predictions."""

from __future__ import annotations

import io

import joblib
import numpy as np
import pandas as pd
import pytest

from rupture_nlp.evaluation import cross_val_predictions, metrics_of_predictions
from rupture_nlp.model import build_model, train
from rupture_nlp.training import fit_and_cross_validate, train_and_save


def _pickled(model) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def slow(mini_df):
    """What training did before: cross_val_predictions, then train on every turn."""
    return cross_val_predictions(mini_df, k=3, model=build_model()), train(mini_df)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_shared_first_stages_give_the_plain_loops_model_and_predictions(mini_df, slow, n_jobs):
    slow_pred, slow_model = slow
    model, pred = fit_and_cross_validate(build_model(), mini_df, cv=3, n_jobs=n_jobs)
    assert _pickled(model) == _pickled(slow_model)
    pd.testing.assert_frame_equal(pred, slow_pred, check_exact=True)
    assert metrics_of_predictions(pred) == metrics_of_predictions(slow_pred)


def test_folds_that_are_not_the_stacks_own_still_give_the_same_model(mini_df):
    """Two outer folds and a stack of three inner ones share no first stage but the last."""
    slow_pred = cross_val_predictions(mini_df, k=2, model=build_model())
    model, pred = fit_and_cross_validate(build_model(), mini_df, cv=2)
    assert _pickled(model) == _pickled(train(mini_df))
    pd.testing.assert_frame_equal(pred, slow_pred, check_exact=True)


def test_partly_coded_sessions_train_the_same_way(mini_df, tmp_path):
    partial = mini_df.assign(label=np.where(mini_df["turn"] % 4 == 0, "", mini_df["label"]))
    meta = train_and_save(partial, tmp_path / "p.joblib", cv=3, allow_uncoded=True, n_jobs=2)
    slow_pred = cross_val_predictions(partial, k=3, model=build_model())
    assert meta["cv_metrics"] == metrics_of_predictions(slow_pred[slow_pred["label"] != ""])
    assert meta["n_coded_turns"] == int((partial["label"] != "").sum())
    plain = train_and_save(partial, tmp_path / "q.joblib", cv=0, allow_uncoded=True, n_jobs=1)
    assert meta["sha256"] == plain["sha256"]


def test_without_cross_validation_there_are_no_predictions(mini_df):
    model, pred = fit_and_cross_validate(build_model(), mini_df, cv=0)
    assert pred is None and _pickled(model) == _pickled(train(mini_df))
