from __future__ import annotations

import pandas as pd
import pytest

from rupture_nlp.evaluation import evaluate_frame, icc_2_1, metrics, session_frequency_icc
from rupture_nlp.model import train

# Shrout & Fleiss (1979), Table 2: six targets rated by four judges. Their ICC(2,1) is 0.29.
SHROUT_FLEISS = [
    [9, 2, 5, 8],
    [6, 1, 3, 2],
    [8, 4, 6, 8],
    [7, 1, 2, 6],
    [10, 5, 6, 9],
    [6, 2, 4, 7],
]


def test_icc_matches_the_published_worked_example():
    """Shrout & Fleiss (1979) report ICC(2,1) = .29, ICC(1,1) = .17, ICC(3,1) = .71."""
    assert icc_2_1(pd.DataFrame(SHROUT_FLEISS)) == pytest.approx(0.29, abs=0.005)
    assert icc_2_1(pd.DataFrame([[1, 1], [1, 1], [1, 1]])) is None  # no variation: undefined


def test_session_icc_is_the_icc_of_per_session_rates_per_100_turns():
    """Judges 1 and 4 of Shrout & Fleiss as two codings of six 100-turn sessions."""
    rows = []
    for target, ratings in enumerate(SHROUT_FLEISS):
        a, b = ratings[0], ratings[3]
        for i in range(100):
            rows.append(
                {
                    "session_id": f"s{target}",
                    "label": "withdrawal" if i < a else "none",
                    "predicted_label": "withdrawal" if i < b else "none",
                }
            )
    icc = session_frequency_icc(pd.DataFrame(rows))
    two_judges = pd.DataFrame(SHROUT_FLEISS)[[0, 3]]
    assert icc["withdrawal"] == icc_2_1(two_judges) == pytest.approx(0.6479, abs=1e-4)
    assert icc["confrontation"] is None  # no session has any: undefined, not 1 or 0


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
