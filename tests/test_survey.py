"""The look at the inputs that decides a streamed table's columns and a progress bar's total."""

from __future__ import annotations

import pandas as pd

from rupture_nlp.survey import CANONICAL_COLUMNS, conform_columns, output_columns, survey_inputs
from rupture_nlp.writers import write_table


def test_every_table_format_gives_its_columns_and_rows(tmp_path):
    (tmp_path / "a.jsonl").write_text(
        '{"session_id": "j1", "turn": 1, "speaker": "client", "text": "Hi."}\n'
        "\n"
        '{"session_id": "j1", "turn": 2, "speaker": "therapist", "text": "Hello.", "mood": "low"}\n'
    )
    write_table(
        pd.DataFrame(
            {"session_id": ["p1"] * 3, "turn": [1, 2, 3], "speaker": ["client"] * 3}
            | {"text": ["Yes.", "No.", "Maybe."], "site": ["north"] * 3}
        ),
        tmp_path / "b.parquet",
    )
    (tmp_path / "c.tsv").write_text("session_id\tturn\tspeaker\ttext\nt1\t1\tclient\tOkay.\n")
    survey = survey_inputs([tmp_path])
    assert {p.name: survey.columns[p][4:] for p in survey.files} == {
        "a.jsonl": ["mood"],
        "b.parquet": ["site"],
        "c.tsv": [],
    }
    assert {p.name: n for p, n in survey.rows.items()} == {"a.jsonl": 2, "b.parquet": 3, "c.tsv": 1}
    assert survey.output_columns() == [*CANONICAL_COLUMNS, "mood", "site"]


def test_a_file_that_cannot_be_read_counts_nothing_and_is_left_to_the_reader(tmp_path):
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 not really")
    survey = survey_inputs([tmp_path])
    assert survey.rows == {tmp_path / "broken.parquet": 0}


def test_the_order_of_inputs_does_not_change_the_columns():
    a = ["session_id", "turn", "speaker", "text", "label", "Coder notes"]
    b = ["Session", "session_id", "turn", "speaker", "speaker_name", "text", "start", "end"]
    assert output_columns([a, b]) == [*CANONICAL_COLUMNS, "label", "Coder notes", "Session"]
    assert output_columns([b, a]) == [*CANONICAL_COLUMNS, "label", "Session", "Coder notes"]


def test_missing_columns_are_empty_and_times_stay_numbers():
    df = pd.DataFrame({"session_id": ["s"], "turn": [1], "speaker": ["client"], "text": ["Hi."]})
    out = conform_columns(df, [*CANONICAL_COLUMNS, "Coder notes"])
    assert list(out.columns) == [*CANONICAL_COLUMNS, "Coder notes"]
    assert out["start"].dtype == float and out["start"].isna().all()
    assert out["Coder notes"].tolist() == [None] and out["speaker_name"].tolist() == [None]


def test_transcript_turns_are_counted_without_parsing_them():
    """The estimate (speaker label changes) equals the reader's turns on the shipped samples."""
    from importlib.resources import files

    from rupture_nlp.readers import read_file

    samples = files("rupture_nlp") / "data" / "samples"
    survey = survey_inputs([samples])
    assert {p.name: n for p, n in survey.rows.items()} == {
        "sample-a03.txt": 83,
        "sample-f09.vtt": 67,
        "sample-g09.srt": 64,
    }
    assert all(len(read_file(p)[0]) == n for p, n in survey.rows.items())
    assert all(survey.columns[p] == list(CANONICAL_COLUMNS) for p in survey.files)
