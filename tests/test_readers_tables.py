"""Tables: sniffed delimiters, Excel, column maps, turns numbered by row order."""

from __future__ import annotations

import csv

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rupture_nlp.errors import TranscriptError
from rupture_nlp.readers import iter_transcript_chunks, read_file, read_transcripts

EXPORT = "Session=session_id,Turn #=turn,Speaker=speaker,Utterance=text"
SHEET = "Session=session_id,Speaker=speaker,Utterance=text,Start=start"


def test_semicolon_csv_with_a_column_map(files):
    df = read_transcripts(files / "clinic_export_semicolon.csv", columns=EXPORT)
    assert list(df.columns) == ["session_id", "turn", "speaker", "text", "Coder notes"]
    assert df["speaker"].tolist() == ["therapist", "client", "therapist", "client"]
    assert df["text"].iloc[1] == "I don't know; you pick. You always have a plan anyway."
    assert df["Coder notes"].tolist() == ["", "possible C6", "", ""]


def test_without_a_column_map_the_export_says_what_it_has(files):
    _, problems = read_file(files / "clinic_export_semicolon.csv")
    assert [str(p) for p in problems] == [
        f"{files / 'clinic_export_semicolon.csv'}:1: missing required columns session_id, turn, "
        "speaker, text (has: Session, Turn #, Speaker, Utterance, Coder notes)"
    ]


def test_excel_sheet_with_times_and_row_order_for_turns(files):
    df = read_transcripts(files / "clinic_export.xlsx", {"Facilitator": "therapist"}, SHEET)
    assert df[["session_id", "turn", "speaker"]].values.tolist() == [
        ["GRP-03", 1, "therapist"],
        ["GRP-03", 2, "client"],
        ["GRP-03", 3, "therapist"],
        ["GRP-04", 1, "therapist"],
        ["GRP-04", 2, "client"],
    ]
    assert df["start"].tolist() == [5.0, 11.0, 19.0, 3.0, 9.0]
    assert df["speaker_name"].tolist()[:2] == ["Facilitator", "Patient"]
    _, problems = read_file(files / "clinic_export.xlsx", columns="Utterance=text")
    assert problems[0].line == 1 and problems[0].message.startswith("missing required columns")


def test_turns_by_row_order_continue_across_pieces(files):
    chunks = list(
        iter_transcript_chunks(
            files / "clinic_export.xlsx", {"Facilitator": "therapist"}, 1, columns=SHEET
        )
    )
    assert [c["turn"].tolist() for c in chunks] == [[1, 2, 3], [1, 2]]


def test_column_map_mistakes(files):
    with pytest.raises(TranscriptError) as err:
        read_transcripts(files / "clinic_export_semicolon.csv", columns="Utterance=txt")
    assert str(err.value) == (
        "column map entry 'Utterance=txt': 'txt' is not a column the readers know "
        "(session_id, turn, speaker, speaker_name, text, label, subtype, start, end)"
    )
    _, problems = read_file(files / "clinic_export_semicolon.csv", columns="Remark=text")
    assert [p.message for p in problems] == [
        "no column 'Remark' to map to text (the table has: Session, Turn #, Speaker, "
        "Utterance, Coder notes)"
    ]
    # a table that has the canonical column already needs no mapping: one map fits a folder
    assert len(read_transcripts(files / "table.tsv", columns=EXPORT)) == 2


def test_excel_damaged_or_empty(tmp_path):
    p = tmp_path / "x.xlsx"
    p.write_bytes(b"PK\x03\x04 not a workbook")
    _, problems = read_file(p)
    assert problems[0].message.startswith("unreadable Excel file (")
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["session_id", "turn", "speaker", "text"])
    wb.save(tmp_path / "h.xlsx")
    _, problems = read_file(tmp_path / "h.xlsx")
    assert [(pr.line, pr.message) for pr in problems] == [(1, "has a header but no rows")]


_text = st.text(
    st.characters(exclude_characters="\x00\r", exclude_categories=("Cs",)), min_size=1, max_size=40
).filter(str.strip)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    sessions=st.lists(st.lists(_text, min_size=1, max_size=5), min_size=1, max_size=4),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
)
def test_any_delimited_export_reads_back_with_row_order_turns(tmp_path, sessions, delimiter):
    rows = [
        {"Session": f"S{k}", "Speaker": ("Therapist", "Client")[i % 2], "Utterance": t}
        for k, texts in enumerate(sessions)
        for i, t in enumerate(texts)
    ]
    path = tmp_path / "export.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, ["Session", "Speaker", "Utterance"], delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    df = read_transcripts(path, columns="Session=session_id,Speaker=speaker,Utterance=text")
    assert df["text"].tolist() == [r["Utterance"] for r in rows]
    expected = [i + 1 for texts in sessions for i in range(len(texts))]
    assert df["turn"].tolist() == expected
    pd.testing.assert_series_equal(
        df["session_id"], pd.Series([r["Session"] for r in rows], name="session_id")
    )
