from __future__ import annotations

import pandas as pd
import pytest

from rupture_nlp.episodes import count_unrepaired, episode_exchanges, find_episodes, match_episodes


def session(labels, sid="s", speakers=None, start=None):
    n = len(labels)
    df = pd.DataFrame(
        {
            "session_id": sid,
            "turn": range(1, n + 1),
            "speaker": speakers or ["therapist" if i % 2 == 0 else "client" for i in range(n)],
            "text": [f"turn {i + 1}" for i in range(n)],
            "label": labels,
        }
    )
    if start is not None:
        df["start"] = start
        df["end"] = [s + 2.0 for s in start]
    return df


def spans(ep):
    return ep[["start_turn", "end_turn", "marker", "repaired"]].values.tolist()


def test_back_to_back_episodes_split_by_the_gap():
    labels = [
        "none",
        "withdrawal",
        "none",
        "withdrawal",
        "none",
        "none",
        "none",
        "confrontation",
        "repair",
    ]
    ep = find_episodes(session(labels))
    assert spans(ep) == [[2, 4, "withdrawal", False], [8, 8, "confrontation", True]]
    assert spans(find_episodes(session(labels), gap=4)) == [[2, 8, "mixed", True]]


def test_a_repair_before_the_marker_does_not_count():
    ep = find_episodes(session(["repair", "withdrawal", "none", "none", "none", "none"]))
    assert ep["repaired"].tolist() == [False]
    assert ep["repair_turn"].isna().all()


def test_repair_must_come_within_the_window():
    labels = ["none", "confrontation", "none", "none", "none", "repair"]
    assert find_episodes(session(labels), window=3)["repaired"].tolist() == [False]
    assert find_episodes(session(labels), window=4)["repair_turn"].tolist() == [6]


def test_session_ending_mid_episode_is_unrepaired_and_flagged():
    ep = find_episodes(session(["none", "none", "withdrawal", "none", "withdrawal"]))
    assert spans(ep) == [[3, 5, "withdrawal", False]] and ep["ends_session"].tolist() == [True]


def test_session_with_no_turns_of_one_speaker():
    ep = find_episodes(session(["withdrawal", "withdrawal", "repair"], speakers=["client"] * 3))
    assert spans(ep) == [[1, 2, "withdrawal", True]]
    none_at_all = find_episodes(session(["none", "none"], speakers=["therapist"] * 2))
    assert len(none_at_all) == 0


def test_times_come_from_the_turns():
    ep = find_episodes(session(["none", "withdrawal", "withdrawal"], start=[0.0, 61.5, 70.0]))
    assert ep[["start", "end"]].values.tolist() == [[61.5, 72.0]]


def test_predicted_labels_and_min_prob():
    df = session(["none", "none", "none"])
    df["predicted_label"] = ["none", "none", "repair"]
    df["p_withdrawal"] = [0.05, 0.30, 0.01]
    df["p_confrontation"] = [0.05, 0.15, 0.01]
    df["p_repair"] = [0.0, 0.0, 0.6]
    df["p_none"] = 1 - df[["p_withdrawal", "p_confrontation", "p_repair"]].sum(axis=1)
    assert len(find_episodes(df)) == 0
    ep = find_episodes(df, min_prob=0.4)
    assert spans(ep) == [[2, 2, "withdrawal", True]]


def test_min_prob_never_turns_a_confident_repair_into_a_rupture():
    df = session(["none", "confrontation", "repair"])
    df["predicted_label"] = ["none", "confrontation", "repair"]
    df["p_withdrawal"] = [0.05, 0.10, 0.10]
    df["p_confrontation"] = [0.05, 0.80, 0.20]
    df["p_repair"] = [0.05, 0.05, 0.65]
    df["p_none"] = [0.85, 0.05, 0.05]
    assert spans(find_episodes(df, min_prob=0.3)) == [[2, 2, "confrontation", True]]
    with pytest.raises(ValueError, match="min_prob needs model probabilities"):
        find_episodes(session(["withdrawal", "confrontation"]), "label", min_prob=0.4)


def test_ends_session_only_when_the_window_is_cut_short():
    full_window = find_episodes(session(["none", "withdrawal", "none", "none", "none"]))
    assert full_window["ends_session"].tolist() == [False]
    cut = find_episodes(session(["none", "withdrawal", "none", "none"]))
    assert cut["ends_session"].tolist() == [True]


def test_no_text_drops_excerpts():
    ep = find_episodes(session(["none", "withdrawal"]), text=False)
    assert "excerpt" not in ep.columns


def test_bad_parameters():
    with pytest.raises(ValueError, match="gap must be at least 1"):
        find_episodes(session(["none"]), gap=0)


def test_match_counts_overlap_with_slack():
    gold = find_episodes(
        session(["none", "withdrawal", "none", "none", "none", "none", "none", "none", "none"])
    )
    pred = find_episodes(
        session(
            ["none", "none", "withdrawal", "none", "none", "none", "none", "none", "confrontation"]
        )
    )
    assert match_episodes(pred, gold) == {
        "predicted": 2,
        "gold": 1,
        "precision": 0.5,
        "recall": 1.0,
    }


def roles(exchange):
    return exchange[["turn", "label", "role"]].values.tolist()


def test_exchange_spans_two_turns_before_to_the_window_after():
    labels = ["none", "none", "repair", "none", "withdrawal", "repair", "confrontation"]
    labels += ["none", "none", "none", "none", "withdrawal"]
    df = session(labels)
    ep = find_episodes(df, gap=1)  # 5 alone (6 is no marker), 7 alone, 12 alone
    assert spans(ep) == [
        [5, 5, "withdrawal", True],
        [7, 7, "confrontation", False],
        [12, 12, "withdrawal", False],
    ]
    assert count_unrepaired(ep) == 2
    ex = episode_exchanges(df, ep[~ep["repaired"]], window=3)
    assert roles(ex[ex["episode_start"] == 7]) == [
        [5, "withdrawal", "other marker"],
        [6, "repair", "earlier repair"],
        [7, "confrontation", "marker"],
        [8, "none", ""],
        [9, "none", ""],
        [10, "none", ""],
    ]
    # the last episode: the session ends with its marker
    assert roles(ex[ex["episode_start"] == 12]) == [
        [10, "none", ""],
        [11, "none", ""],
        [12, "withdrawal", "marker"],
    ]
    # a repaired episode's exchange ends with the repair that ended it
    repaired = episode_exchanges(df, ep[ep["repaired"]], window=1)
    assert roles(repaired) == [
        [3, "repair", "earlier repair"],
        [4, "none", ""],
        [5, "withdrawal", "marker"],
        [6, "repair", "repair"],
    ]


def test_exchange_probabilities_and_reasons_and_no_text():
    df = session(["none", "withdrawal", "repair", "withdrawal", "none"])
    df["predicted_label"] = ["none", "withdrawal", "repair", "none", "none"]
    df["p_withdrawal"] = [0.1, 0.7, 0.1, 0.35, 0.1]
    df["p_confrontation"] = [0.1, 0.1, 0.1, 0.15, 0.1]
    df["p_repair"] = [0.1, 0.1, 0.6, 0.1, 0.1]
    df["p_none"] = [0.7, 0.1, 0.2, 0.4, 0.7]
    df["why"] = ["", "cue: short reply +0.40", "word 'sorry' +0.50", "", None]
    ep = find_episodes(df, min_prob=0.5)  # turn 4 is a marker by p(marker) 0.50 alone
    assert spans(ep) == [[2, 4, "withdrawal", False]]
    ex = episode_exchanges(df, ep, window=1, min_prob=0.5)
    assert ex[["turn", "label", "p_label", "p_marker", "role", "why"]].values.tolist() == [
        [1, "none", 0.7, 0.2, "", ""],
        [2, "withdrawal", 0.7, 0.8, "marker", "cue: short reply +0.40"],
        [3, "repair", 0.6, 0.2, "repair attempt", "word 'sorry' +0.50"],
        [4, "none", 0.4, 0.5, "marker", ""],
        [5, "none", 0.7, 0.2, "", ""],
    ]
    assert ex["text"].tolist() == [f"turn {i}" for i in range(1, 6)]
    quiet = episode_exchanges(df, ep, window=1, min_prob=0.5, text=False)
    assert "text" not in quiet.columns and "why" not in quiet.columns
    assert list(episode_exchanges(df, ep.iloc[:0]).columns) == list(ex.columns)
