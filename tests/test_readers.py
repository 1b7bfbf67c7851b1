from __future__ import annotations

import json

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rupture_nlp.errors import TranscriptError
from rupture_nlp.readers import (
    expand_paths,
    iter_transcript_chunks,
    read_file,
    read_transcripts,
)
from rupture_nlp.writers import write_table

LEE_SAM = {"Dr Lee": "therapist", "Sam": "client"}


def test_webvtt_voices_merge_cues_of_one_speaker(files):
    df = read_transcripts(files / "lee_sam.vtt", LEE_SAM)
    assert df["speaker"].tolist() == ["therapist", "client", "therapist", "client"]
    assert df["speaker_name"].tolist() == ["Dr Lee", "Sam", "Dr Lee", "Sam"]
    assert df["text"].iloc[0] == (
        "Hi Sam. Last time we ended on your sister's visit. How did that go in the end?"
    )
    assert df[["start", "end"]].iloc[0].tolist() == [1.2, 6.5]
    assert df["end"].iloc[-1] == pytest.approx(62.48)
    assert set(df["session_id"]) == {"lee_sam"}


def test_srt_name_prefix_and_unprefixed_cue_continue_the_speaker(files):
    df = read_transcripts(files / "lee_sam.srt", LEE_SAM)
    vtt = read_transcripts(files / "lee_sam.vtt", LEE_SAM)
    pd.testing.assert_frame_equal(df, vtt)


def test_unknown_speaker_in_vtt_says_how_to_map_it(files):
    df, problems = read_file(files / "lee_sam.vtt")
    assert [p.line for p in problems] == [6, 14, 18, 21]
    assert "unknown speaker 'Dr Lee'" in problems[0].message
    assert problems[0].message == (
        "unknown speaker 'Dr Lee'; expected therapist, client or client2..client9 "
        "(map the name to its role: --speaker-map 'Dr Lee=therapist' or 'Dr Lee=client')"
    )


def test_plain_text_prefixes_continuations_and_timestamps(files):
    df = read_transcripts(files / "intake_07.txt")
    assert df["speaker"].tolist() == ["therapist", "client", "therapist", "client", "therapist"]
    assert (
        df["text"].iloc[0]
        == "So, we said we'd look at the thought record first. How did that go this week?"
    )
    assert df["text"].iloc[3].endswith("like homework I'm failing.")
    assert df["start"].tolist() == [3, 9, 14, 16, 62]
    assert df["end"].iloc[:4].tolist() == [9, 14, 16, 62]
    assert pd.isna(df["end"].iloc[4])


def test_plain_text_without_times_keeps_empty_time_columns(tmp_path):
    """Every transcript file gives the same columns, so files can be tagged into one table."""
    p = tmp_path / "s.txt"
    p.write_text("Counsellor: How are you?\nPatient: Grand.\n", encoding="utf-8")
    df = read_transcripts(p)
    assert df["start"].isna().all() and df["end"].isna().all()
    assert df["speaker"].tolist() == ["therapist", "client"]


def test_line_numbers_count_newlines_only(tmp_path):
    p = tmp_path / "vt.txt"
    p.write_text("Therapist: one\x0bsoft break\nClient: Fine.\nNurse: hello\n", encoding="utf-8")
    _, problems = read_file(p)
    assert [pr.line for pr in problems] == [3]


def test_tsv_quote_marks_are_text(tmp_path):
    p = tmp_path / "q.tsv"
    p.write_text(
        'session_id\tturn\tspeaker\ttext\ns\t1\tclient\t"Whatever\n'
        's\t2\ttherapist\tOkay.\ns\t3\tclient\tshe said "no" twice\n',
        encoding="utf-8",
    )
    df = read_transcripts(p)
    assert df["text"].tolist() == ['"Whatever', "Okay.", 'she said "no" twice']


def test_streaming_checks_match_whole_file_checks(tmp_path):
    """A duplicate turn on a piece boundary and a session that comes back are errors whatever
    the chunk size."""
    dup = tmp_path / "dup.csv"
    dup.write_text(
        "session_id,turn,speaker,text\nA,1,client,a\nA,2,client,b\nA,2,client,c\nA,3,client,d\n",
        encoding="utf-8",
    )
    back = tmp_path / "back.csv"
    back.write_text(
        "session_id,turn,speaker,text\nA,1,client,a\nB,1,client,b\nA,2,client,c\nC,1,client,d\n",
        encoding="utf-8",
    )
    for path, message in ((dup, "turn 2"), (back, "continues here")):
        for chunk in (1, 2, 3, 1000):
            with pytest.raises(TranscriptError, match=message):
                list(iter_transcript_chunks(path, chunk_turns=chunk))
        with pytest.raises(TranscriptError, match=message):
            read_transcripts(path)


def test_clashing_file_names_in_subfolders_take_their_relative_path(tmp_path):
    """recordings/jordan/session01.vtt and recordings/aisha/session01.txt are two sessions."""
    rec = tmp_path / "recordings"
    (rec / "jordan").mkdir(parents=True)
    (rec / "aisha").mkdir()
    (rec / "jordan" / "session01.vtt").write_text(
        "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v Therapist>How was the week?\n\n"
        "00:00:04.000 --> 00:00:05.000\n<v Client>Long.\n"
    )
    (rec / "aisha" / "session01.txt").write_text("Therapist: Hi.\nClient: Hello.\n")
    (rec / "aisha" / "session02.txt").write_text("Therapist: Hi again.\nClient: Hi.\n")
    expected = ["aisha/session01", "session02", "jordan/session01"]  # only clashing names change
    assert read_transcripts([rec])["session_id"].unique().tolist() == expected
    chunks = list(iter_transcript_chunks([rec]))
    assert [sid for c in chunks for sid in c["session_id"].unique()] == expected
    files = [rec / "jordan" / "session01.vtt", rec / "aisha" / "session01.txt"]
    assert read_transcripts(files)["session_id"].unique().tolist() == [
        "jordan/session01",
        "aisha/session01",
    ]


def test_one_session_id_in_two_tables_is_an_error_everywhere(tmp_path):
    for coder in ("clientA", "clientB"):
        (tmp_path / coder).mkdir()
        (tmp_path / coder / "coded.csv").write_text(
            "session_id,turn,speaker,text\nsession1,1,therapist,Hi.\nsession1,2,client,Hello.\n"
        )
    with pytest.raises(TranscriptError, match="session 'session1' also appears in"):
        list(iter_transcript_chunks([tmp_path]))
    with pytest.raises(TranscriptError, match="session ids must be unique"):
        read_transcripts([tmp_path])


def test_empty_folder_and_header_only_table_are_errors(tmp_path, files):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.md").write_text("nothing here yet")
    message = (
        f"{tmp_path / 'empty'}: folder has no transcript files (looked for .csv, .json, .jsonl, "
        ".parquet, .srt, .tsv, .txt, .vtt, .xlsx, in subfolders too)"
    )
    for read in (read_transcripts, lambda p: list(iter_transcript_chunks(p))):
        with pytest.raises(TranscriptError) as err:
            read([tmp_path / "empty"])
        assert str(err.value) == message
        with pytest.raises(TranscriptError) as err:
            read([files / "header_only.csv"])
        assert str(err.value) == f"{files / 'header_only.csv'}:1: has a header but no rows"


def test_text_before_first_speaker_is_reported(tmp_path):
    p = tmp_path / "s.txt"
    p.write_text("recorded on Tuesday\nTherapist: Hello.\n", encoding="utf-8")
    _, problems = read_file(p)
    assert [(p.line, p.message) for p in problems] == [
        (1, "text before the first speaker line (expected 'Therapist: ...')")
    ]


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet"])
def test_tables_round_trip_and_keep_extra_columns(tmp_path, mini_df, suffix):
    df = mini_df.head(20).copy()
    df["meta.coder"] = "JB"
    path = tmp_path / f"corpus{suffix}"
    write_table(df, path)
    back = read_transcripts(path)
    assert back["text"].tolist() == df["text"].tolist()
    assert back["turn"].tolist() == df["turn"].tolist()
    assert back["meta.coder"].tolist() == ["JB"] * 20
    assert back["start"].iloc[0] == 0.0


def test_bom_is_fine_and_bad_bytes_are_located(tmp_path):
    good = tmp_path / "bom.csv"
    good.write_bytes("\ufeffsession_id,turn,speaker,text\ns,1,client,Hi\n".encode())
    assert read_transcripts(good)["session_id"].tolist() == ["s"]
    bad = tmp_path / "latin1.csv"
    bad.write_bytes(b"session_id,turn,speaker,text\ns,1,client,Hi\ns,2,therapist,caf\xe9\n")
    _, problems = read_file(bad)
    assert [(p.line, p.message) for p in problems] == [
        (3, "not UTF-8 text (byte 0xe9); save the file as UTF-8")
    ]


def test_directories_and_globs_expand_to_transcript_files(files):
    (files / "notes.md").write_text("not a transcript")
    (files / "model.json").write_text('{"format_version": 3, "sha256": "ab12"}')
    (files / "._lee_sam.vtt").write_bytes(b"\x00\x05\x16\x07")  # macOS metadata on a USB drive
    names = [p.name for p in expand_paths([files])]
    assert names == [
        "clinic_export.xlsx",
        "clinic_export_semicolon.csv",
        "header_only.csv",
        "intake_07.txt",
        "lee_sam.srt",
        "lee_sam.vtt",
        "otter_export.txt",
        "rev_inline.txt",
        "rev_paragraphs.txt",
        "table.tsv",
        "whisperx_intake.json",
        "whisperx_speakers.srt",
        "whisperx_speakers.txt",
        "whisperx_speakers.vtt",
        "zoom_unlabelled_cue.vtt",
    ]
    assert [p.name for p in expand_paths([files / "model.json"])] == ["model.json"]
    assert [p.name for p in expand_paths([str(files / "lee*.vtt")])] == ["lee_sam.vtt"]
    with pytest.raises(TranscriptError, match="no such file"):
        expand_paths([str(files / "*.nothing")])


def test_same_session_id_in_two_files_is_an_error(files):
    with pytest.raises(TranscriptError, match="session 'lee_sam' also appears in"):
        read_transcripts([files / "lee_sam.vtt", files / "lee_sam.srt"], LEE_SAM)


def test_chunks_never_split_a_session(tmp_path, mini_df):
    path = tmp_path / "c.csv"
    write_table(mini_df, path)
    chunks = list(iter_transcript_chunks(path, chunk_turns=7))
    assert sum(len(c) for c in chunks) == len(mini_df)
    seen = [sid for c in chunks for sid in c["session_id"].unique()]
    assert len(seen) == len(set(seen)), "a session was split across chunks"


def test_jsonl_reports_bad_json_with_line(tmp_path):
    p = tmp_path / "x.jsonl"
    row = {"session_id": "s", "turn": 1, "speaker": "client", "text": "Hi"}
    p.write_text(json.dumps(row) + "\n{not json\n", encoding="utf-8")
    _, problems = read_file(p)
    assert problems[0].line == 2 and problems[0].message.startswith("not valid JSON")


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.binary(max_size=400),
    suffix=st.sampled_from(
        [".csv", ".tsv", ".jsonl", ".txt", ".vtt", ".srt", ".parquet", ".json", ".xlsx"]
    ),
)
def test_arbitrary_bytes_never_escape_as_unhandled_errors(tmp_path, data, suffix):
    p = tmp_path / f"fuzz{suffix}"
    p.write_bytes(data)
    df, problems = read_file(p)
    assert isinstance(df, pd.DataFrame)
    assert all(pr.path == str(p) for pr in problems)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=st.text(max_size=300), suffix=st.sampled_from([".txt", ".vtt", ".srt", ".csv", ".json"])
)
def test_arbitrary_text_never_escapes(tmp_path, text, suffix):
    p = tmp_path / f"fuzz{suffix}"
    p.write_text(text, encoding="utf-8")
    df, _problems = read_file(p)
    assert isinstance(df, pd.DataFrame)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    texts=st.lists(
        st.text(
            st.characters(exclude_characters="\x00", exclude_categories=("Cs",)),
            min_size=1,
            max_size=60,
        ).filter(str.strip),
        min_size=1,
        max_size=8,
    )
)
def test_csv_round_trip_preserves_any_text(tmp_path, texts):
    df = pd.DataFrame(
        {"session_id": "s", "turn": range(1, len(texts) + 1), "speaker": "client", "text": texts}
    )
    path = tmp_path / "rt.csv"
    write_table(df, path)
    assert read_transcripts(path)["text"].tolist() == texts


def test_start_times_going_back_across_a_chunk_boundary_are_refused(tmp_path):
    """validate refuses starts 10, 20, 5, 30; streaming in pieces of two turns must too."""
    from rupture_nlp.readers import iter_transcript_chunks, read_file

    p = tmp_path / "timed.csv"
    p.write_text(
        "session_id,turn,speaker,text,start\n"
        "s,1,therapist,Hello.,10\ns,2,client,Hi.,20\ns,3,therapist,So.,5\ns,4,client,Yes.,30\n"
    )
    _, problems = read_file(p)
    assert [pr.message for pr in problems if "out of order" in pr.message]
    with pytest.raises(TranscriptError, match=r"start 5.000s is before .* times out of order"):
        list(iter_transcript_chunks([p], chunk_turns=2))


def test_a_table_of_whole_pieces_yields_no_empty_piece(tmp_path):
    from rupture_nlp.readers import _iter_table  # the single-module readers' name still works

    p = tmp_path / "four.csv"
    p.write_text(
        "session_id,turn,speaker,text\n"
        "a,1,therapist,Hello.\na,2,client,Hi.\nb,1,therapist,So.\nb,2,client,Yes.\n"
    )
    assert [len(df) for df, _ in _iter_table(p, 2)] == [2, 2]
    empty = tmp_path / "header.csv"
    empty.write_text("session_id,turn,speaker,text\n")
    ((df, _),) = _iter_table(empty, 2)
    assert list(df.columns) == ["session_id", "turn", "speaker", "text"] and not len(df)


def test_one_format_record_per_suffix_drives_the_messages(tmp_path):
    from rupture_nlp.readers import FORMATS, READERS, read_label_table

    assert sorted(READERS) == sorted(FORMATS) == [
        ".csv", ".json", ".jsonl", ".parquet", ".srt", ".tsv", ".txt", ".vtt", ".xlsx"
    ]  # fmt: skip
    p = tmp_path / "notes.docx"
    p.write_bytes(b"PK")
    _, problems = read_file(p)
    assert [pr.message for pr in problems] == [
        "unknown file type .docx; expected one of .csv, .json, .jsonl, .parquet, .srt, .tsv, "
        ".txt, .vtt, .xlsx"
    ]
    vtt = tmp_path / "s.vtt"
    vtt.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v T>Hi.\n")
    with pytest.raises(TranscriptError) as err:
        read_label_table([vtt])
    assert str(err.value) == (
        f"{vtt}: label sheets must be tables (.csv, .jsonl, .parquet, .tsv, .xlsx), a queue "
        "sheet, or a Label Studio (.json) or doccano (.jsonl) export"
    )
