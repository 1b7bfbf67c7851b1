from __future__ import annotations

import numpy as np

from rupture_nlp.evaluation import cross_val_predictions, evaluate_frame, metrics
from rupture_nlp.model import PROBA_COLUMNS, train


def test_metrics_count_flagged_and_coded_marker_turns():
    m = metrics(["none", "none", "repair", "none"], ["withdrawal", "none", "repair", "none"])
    assert (m["flagged_turns"], m["coded_turns"]) == (2, 1)


def test_evaluation_reports_natural_and_dense_sessions_apart(mini_df):
    df = mini_df.copy()
    first = df["session_id"].unique()[: len(df["session_id"].unique()) // 2]
    df["density"] = df["session_id"].isin(first).map({True: "natural", False: "dense"})
    result = evaluate_frame(df, model=train(mini_df))
    assert set(result["by_density"]) == {"natural", "dense"}
    n = {k: v["turns"]["n_turns"] for k, v in result["by_density"].items()}
    assert n["natural"] + n["dense"] == result["turns"]["n_turns"] == len(df)
    assert set(result["turns"]["session_icc"]) == {"withdrawal", "confrontation", "repair"}


def test_sessions_without_a_density_are_reported_as_unknown(mini_df):
    df = mini_df.copy()
    sessions = df["session_id"].unique()
    df["density"] = df["session_id"].map({sessions[0]: "natural", sessions[1]: "dense"})
    result = evaluate_frame(df, model=train(mini_df))
    parts = result["by_density"]
    assert "unknown" in parts
    assert sum(p["turns"]["n_turns"] for p in parts.values()) == len(df)


def test_folds_fitted_in_worker_processes_predict_what_one_process_predicts(mini_df):
    one = cross_val_predictions(mini_df, k=3)
    seen = []
    two = cross_val_predictions(mini_df, k=3, n_jobs=2, progress=seen.append)
    assert seen == ["fold 1/3", "fold 2/3", "fold 3/3"]
    assert two.index.equals(mini_df.index) and two["fold"].tolist() == one["fold"].tolist()
    assert two["predicted_label"].tolist() == one["predicted_label"].tolist()
    np.testing.assert_array_equal(two[list(PROBA_COLUMNS)], one[list(PROBA_COLUMNS)])
