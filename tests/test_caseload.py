from __future__ import annotations

import re

import pandas as pd

from rupture_nlp.caseload import caseload_figures, caseload_summary, session_table
from rupture_nlp.readers import read_transcripts
from rupture_nlp.scanning import scan


def figures(df):
    return df[["sessions", "episodes", "unrepaired", "repair_rate", "unrepaired_per_session"]]


def test_pooled_figures_per_therapist_client_and_week(supervision):
    summary = caseload_summary(scan([supervision], use_gold=True))
    assert list(summary) == ["therapist_id", "client_id", "week"]
    assert figures(summary["therapist_id"]).reset_index().values.tolist() == [
        ["adeyemi", 2, 1, 1, 0.0, 0.5],
        ["ortiz", 2, 2, 1, 0.5, 0.5],
    ]
    clients = figures(summary["client_id"]).reset_index().fillna(-1).values.tolist()
    assert clients == [
        ["c03", 2, 2, 1, 0.5, 0.5],
        ["c05", 1, 1, 1, 0.0, 1.0],
        ["c06", 1, 0, 0, -1, 0.0],
    ]
    # 2026-03-02 to 2026-04-15 is six weeks: weeks, named by their Monday
    weeks = figures(summary["week"]).reset_index().fillna(-1).values.tolist()
    assert weeks == [
        ["2026-03-02", 2, 2, 2, 0.0, 1.0],
        ["2026-03-09", 1, 1, 0, 1.0, 0.0],
        ["2026-04-13", 1, 0, 0, -1, 0.0],
    ]
    assert summary["week"].attrs["undated"] == 0


def test_months_for_a_longer_span_and_undated_sessions_left_out(supervision, tmp_path):
    df = read_transcripts(supervision)
    df["date"] = df["session_id"].map(
        {
            "ortiz-12": "2025-11-03",
            "ortiz-13": "3 March 2026",
            "adeyemi-04": "",
            "adeyemi-05": "soon",
        }
    )
    path = tmp_path / "dated.csv"
    df.to_csv(path, index=False)
    summary = caseload_summary(scan([path], use_gold=True))
    assert figures(summary["month"]).reset_index().values.tolist() == [
        ["2025-11", 1, 1, 1, 0.0, 1.0],
        ["2026-03", 1, 1, 0, 1.0, 0.0],
    ]
    assert summary["month"].attrs["undated"] == 2


def test_no_caseload_without_the_columns(files):
    df = read_transcripts(files / "lee_sam.vtt", {"Dr Lee": "therapist", "Sam": "client"})
    df["label"] = ["none", "withdrawal", "repair", "none"]
    path = files / "coded.csv"
    df.to_csv(path, index=False)
    result = scan([path], use_gold=True)
    assert caseload_summary(result) == {}
    assert caseload_figures({}) == []
    assert list(session_table(result).columns) == [
        "session_id",
        "turns",
        "marker_turns",
        "markers_per_100",
        "episodes",
        "unrepaired",
        "repair_rate",
    ]


def test_pictures_are_svg_with_text_as_paths(supervision):
    pictures = caseload_figures(caseload_summary(scan([supervision], use_gold=True)))
    assert [what for what, _ in pictures] == [
        "repair rate and unrepaired episodes per session, per therapist",
        "repair rate and unrepaired episodes per session, per week",
    ]
    for _, svg in pictures:
        assert svg.startswith("<?xml") and "<svg" in svg
        assert "<text" not in svg and "@font-face" not in svg  # no font needed to read it
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", svg)
    assert pictures == caseload_figures(caseload_summary(scan([supervision], use_gold=True)))


def test_session_table_figures(supervision):
    table = session_table(scan([supervision], use_gold=True))
    assert table.set_index("session_id").loc["ortiz-12"].to_dict() == {
        "therapist_id": "ortiz",
        "client_id": "c03",
        "date": "2026-03-02",
        "turns": 13,
        "marker_turns": 3,
        "markers_per_100": 23.08,
        "episodes": 1,
        "unrepaired": 1,
        "repair_rate": 0.0,
    }
    assert pd.isna(table.set_index("session_id").loc["adeyemi-05", "repair_rate"])
