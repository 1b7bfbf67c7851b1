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


# pyarrow reads delimited tables where it gives what the csv module gives; these compare the two
# readers piece by piece (frames and file lines) on the cases where they could part.
def _csv_module_pieces(path, delimiter, chunk, quoting=csv.QUOTE_MINIMAL):
    from rupture_nlp.readers import tables

    read = lambda s: tables._iter_delimited(path, s, delimiter, chunk, quoting)  # noqa: E731
    return list(tables._text_table(path, read))


def _assert_same_pieces(fast, slow):
    assert len(fast) == len(slow)
    for (a, la), (b, lb) in zip(fast, slow, strict=True):
        pd.testing.assert_frame_equal(a, b)
        assert la.tolist() == lb.tolist()


ODD_ROWS = (
    "session_id,turn,speaker,text,Coder notes\r\n"
    's1,1,therapist,"So what brings you in, today?",\r\n'
    's1,2,client,"Honestly?\r\nMy sister made me.\r\nShe said ""go"".",C6?\r\n'
    "s1,3,therapist,It's a start.,\r\n"
    's2,1,therapist,"Last week you said\nyou\'d think about it.","multi\nline note"\r\n'
    "s2,2,client,Mm.,\r\n"
)


@pytest.mark.parametrize("chunk", [1, 2, 100])
def test_pyarrow_reads_quoted_line_breaks_with_the_csv_modules_rows_and_lines(tmp_path, chunk):
    from rupture_nlp.readers import tables

    path = tmp_path / "odd.csv"
    path.write_bytes(("\ufeff" + ODD_ROWS).encode())
    fast = list(tables._arrow_delimited(path, ",", chunk, csv.QUOTE_MINIMAL))
    _assert_same_pieces(fast, _csv_module_pieces(path, ",", chunk))
    lines = [line for _, piece_lines in fast for line in piece_lines.tolist()]
    assert lines == [2, 3, 6, 7, 10]
    assert fast[0][0]["text"].iloc[1 if chunk > 1 else 0].startswith(("Honestly?\r\n", "So"))


def test_blank_lines_and_bad_rows_fall_back_to_the_csv_module(tmp_path):
    from rupture_nlp.readers import tables

    blank = tmp_path / "blank.csv"
    blank.write_text("session_id,turn,speaker,text\ns1,1,therapist,Hi.\n\ns1,2,client,Hey.\n\n")
    with pytest.raises(tables._NotArrow):
        list(tables._arrow_delimited(blank, ",", 10, csv.QUOTE_MINIMAL))
    pieces = list(tables.iter_csv(blank, 10))
    assert pieces[0][1].tolist() == [2, 4]
    _assert_same_pieces(pieces, _csv_module_pieces(blank, ",", 10))
    trailing = tmp_path / "trailing.csv"  # blank lines only at the end: pyarrow still reads it
    trailing.write_text("session_id,turn,speaker,text\ns1,1,therapist,Hi.\n\n\n")
    assert not tables._has_blank_lines(trailing)
    # a row with a field too many after a first piece: the csv module takes over where pyarrow
    # stopped and names the line, as it always did
    bad = tmp_path / "bad.csv"
    rows = [f"s1,{i},client,Turn {i}." for i in range(1, 6)]
    rows.insert(3, "s1,4,client,Well, no.")
    bad.write_text("session_id,turn,speaker,text\n" + "\n".join(rows) + "\n")
    with pytest.raises(TranscriptError) as err:
        list(iter_transcript_chunks(bad, chunk_turns=2))
    assert str(err.value) == (
        f"{bad}:5: has 5 fields but the header has 4 (an unquoted delimiter or quote inside "
        "the text?)"
    )


def test_pyarrow_path_keeps_the_csv_modules_field_limit_and_header_rules(tmp_path):
    from rupture_nlp.readers import tables

    long = tmp_path / "long.csv"
    long.write_text("session_id,turn,speaker,text\ns1,1,client," + "a" * 200_000 + "\n")
    with pytest.raises(TranscriptError, match="field larger than field limit"):
        read_transcripts(long)
    dup = tmp_path / "dup.csv"  # two columns named alike: the csv module's rows keep the last
    dup.write_text("session_id,turn,speaker,text, text\ns1,1,client,first,second\n")
    with pytest.raises(tables._NotArrow):
        list(tables._arrow_delimited(dup, ",", 10, csv.QUOTE_MINIMAL))
    assert read_transcripts(dup)["text"].tolist() == ["second"]


def test_tsv_through_pyarrow_keeps_quotes_as_text(tmp_path):
    from rupture_nlp.readers import tables

    path = tmp_path / "s.tsv"
    path.write_text('session_id\tturn\tspeaker\ttext\ns1\t1\tclient\t"Fine," she said\n')
    fast = list(tables._arrow_delimited(path, "\t", 10, csv.QUOTE_NONE))
    _assert_same_pieces(fast, _csv_module_pieces(path, "\t", 10, csv.QUOTE_NONE))
    assert fast[0][0]["text"].tolist() == ['"Fine," she said']
