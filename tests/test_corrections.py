from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from rupture_nlp.cli import cli
from rupture_nlp.corrections import apply_labels, is_correction_file, read_corrections
from rupture_nlp.errors import TranscriptError
from rupture_nlp.readers import read_label_table

EXPORTS = Path(__file__).parent / "exports"  # not in files/: those are transcripts


def _rows(df: pd.DataFrame) -> list[list]:
    return df[["session_id", "turn", "label", "subtype"]].values.tolist()


def test_a_label_studio_export_reads_as_a_label_table():
    table, problems = read_corrections(EXPORTS / "label-studio-export.json")
    assert problems == []
    assert _rows(table) == [
        ["intake_07", 12, "withdrawal", "W2"],
        ["intake_07", 15, "confrontation", ""],  # two annotators who agree count once
        ["intake_07", 16, "", ""],  # the only annotation was cancelled: not coded
        ["lee_sam", 3, "repair", "R5"],
        ["lee_sam", 8, "", ""],  # not annotated yet
    ]


def test_label_studio_annotations_that_disagree_are_named(tmp_path):
    tasks = json.loads((EXPORTS / "label-studio-export.json").read_text())
    second = tasks[1]["annotations"][1]["result"][0]["value"]
    second["choices"] = ["withdrawal"]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(tasks))
    _, problems = read_corrections(path)
    assert [str(p) for p in problems] == [
        f"{path}: task 2 (id 42): its annotations disagree (confrontation, withdrawal); settle "
        "them in Label Studio, or export one annotator's"
    ]


def test_a_label_studio_json_min_export(tmp_path):
    path = tmp_path / "min.json"
    path.write_text(
        json.dumps(
            [
                {
                    "session_id": "intake_07",
                    "turn": 12,
                    "text": "I don't know. It's fine, I guess.",
                    "id": 41,
                    "label": "withdrawal",
                    "subtype": "W2",
                    "annotator": 2,
                    "annotation_id": 17,
                    "created_at": "2026-11-24T10:14:02.118842Z",
                    "lead_time": 38.402,
                },
                {"session_id": "lee_sam", "turn": 3, "id": 44, "label": "repair", "annotator": 2},
            ]
        )
    )
    table, problems = read_corrections(path)
    assert problems == []
    assert _rows(table) == [["intake_07", 12, "withdrawal", "W2"], ["lee_sam", 3, "repair", ""]]


def test_a_doccano_export_reads_labels_subtypes_and_metadata():
    path = EXPORTS / "doccano-admin.jsonl"
    assert is_correction_file(path)
    table, problems = read_corrections(path)
    assert problems == []
    assert _rows(table) == [
        ["intake_07", 12, "withdrawal", "W2"],
        ["intake_07", 15, "confrontation", ""],  # label names are matched case-insensitively
        ["intake_07", 16, "", ""],
        ["lee_sam", 3, "repair", "R5"],
    ]


def test_doccano_records_with_two_labels_or_an_unknown_one_are_located(tmp_path):
    path = tmp_path / "all.jsonl"
    path.write_text(
        '{"id": 1, "text": "a", "meta": {"session_id": "s1", "turn": 4}, "label": ["none"]}\n'
        '{"id": 2, "text": "b", "session_id": "s1", "turn": 5, "label": ["withdrawal", "repair"]}\n'
        "\n"
        '{"id": 3, "text": "c", "session_id": "s1", "turn": 6, "label": ["sarcasm"]}\n'
        '{"id": 4, "text": "d", "session_id": "s1", "turn": 7, "label": ["repair", "W2"]}\n'
    )
    table, problems = read_corrections(path)
    assert table["session_id"].iloc[0] == "s1"  # doccano before 1.6 nested metadata in "meta"
    assert [str(p) for p in problems] == [
        f"{path}:2: two labels 'withdrawal/repair'; choose one",
        f"{path}:4: unknown label 'sarcasm'; expected one of withdrawal, confrontation, "
        "repair, none",
        f"{path}:5: subtype W2 belongs to withdrawal, not to label 'repair'",
    ]


def test_a_coded_csv_sheet_is_checked_at_its_lines(tmp_path):
    sheet = tmp_path / "queue.csv"
    sheet.write_text(
        "rank,session_id,turn,speaker,context_before,text,context_after,label,subtype\n"
        '1,intake_07,12,client,"[10] therapist: How was home?\n[11] client: Busy.",'
        '"It\'s fine.",[13] therapist: You paused.,withdrawal,W2\n'
        '2,intake_07,15,client,"[13] therapist: You paused.\n[14] therapist: Stay with it?",'
        "Can we not?,[16] therapist: Fair.,confrontation,R1\n"
        "3,lee_sam,3,therapist,[2] client: Not the homework.,Let's drop it.,,angry,\n"
        "4,lee_sam,x,client,,Okay.,,,\n"
    )
    assert is_correction_file(sheet)
    _, problems = read_corrections(sheet)
    assert [str(p) for p in problems] == [
        f"{sheet}:7: turn 'x' is not an integer",
        f"{sheet}:6: unknown label 'angry'; expected one of withdrawal, confrontation, repair, "
        "none",
        f"{sheet}:4: subtype R1 belongs to repair, not to label 'confrontation'",
    ]
    result = CliRunner().invoke(cli, ["validate", str(sheet)], catch_exceptions=False)
    assert result.exit_code == 1
    assert f"{sheet}:6: unknown label 'angry'" in result.output
    assert "1 file(s), 4 turns, 3 problem(s)" in result.output


def test_one_turn_coded_twice_differently_is_refused(tmp_path):
    sheet = tmp_path / "queue.csv"
    sheet.write_text(
        "rank,session_id,turn,speaker,context_before,text,context_after,label,subtype\n"
        "1,s1,2,client,,Fine.,,withdrawal,\n"
        "2,s1,2,client,,Fine.,,none,\n"
    )
    _, problems = read_corrections(sheet)
    assert [str(p) for p in problems] == [
        f"{sheet}:2: session 's1' turn 2 is coded twice with different labels"
    ]


def test_read_label_table_takes_tool_exports_beside_sheets(tmp_path):
    table = read_label_table(
        [EXPORTS / "label-studio-export.json", EXPORTS / "doccano-admin.jsonl"]
    )
    assert len(table) == 9 and set(table["label"]) == {
        "withdrawal",
        "confrontation",
        "repair",
        "",
    }
    bad = tmp_path / "bad.json"
    bad.write_text('{"session_id": "s1"}')
    with pytest.raises(
        TranscriptError, match=r"a queue sheet, or a Label Studio \(.json\) or doccano"
    ):
        read_label_table([bad])


def test_apply_labels_codes_turns_and_refuses_labels_of_other_transcripts():
    turns = pd.DataFrame(
        {
            "session_id": ["intake_07"] * 3,
            "turn": [11, 12, 13],
            "speaker": ["client", "client", "therapist"],
            "text": ["Busy.", "It's fine.", "You paused."],
            "label": ["none", "", ""],
        }
    )
    table, _ = read_corrections(EXPORTS / "doccano-admin.jsonl")
    first = table.iloc[:1]
    coded = apply_labels(turns, first)
    assert coded["label"].tolist() == ["none", "withdrawal", ""]
    assert coded["subtype"].tolist() == ["", "W2", ""]
    with pytest.raises(TranscriptError) as info:
        apply_labels(turns, table)
    assert str(info.value) == (
        "session 'intake_07' turn 15 is coded in the labels but not in the transcripts (2 coded "
        "turn(s) not found); label files must come from a queue of these transcripts"
    )
    clash = pd.concat([first, first.assign(label="none")])
    with pytest.raises(TranscriptError, match="session 'intake_07' turn 12 has different labels"):
        apply_labels(turns, clash)


def test_train_on_partly_coded_sessions_with_labels_from_a_sheet(tmp_path, mini_df):
    from rupture_nlp.modelio import load_model

    uncoded = tmp_path / "uncoded.csv"
    mini_df.drop(columns=["label", "subtype"]).to_csv(uncoded, index=False)
    keep = mini_df[mini_df["turn"] % 3 != 0]  # a third of the turns were never coded
    sheet = tmp_path / "coded.csv"
    keep[["session_id", "turn", "label", "subtype"]].to_csv(sheet, index=False)
    out = tmp_path / "round1.joblib"
    result = CliRunner().invoke(
        cli,
        ["train", str(uncoded), "--labels", str(sheet), "-o", str(out), "--cv", "2"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert f"{len(mini_df)} turns ({len(keep)} coded)" in result.output
    meta = load_model(out).metadata_
    assert meta["n_coded_turns"] == len(keep)
    assert sum(meta["label_counts"].values()) == len(keep)
    assert meta["cv_metrics"]["n_turns"] == len(keep)  # figures count coded turns only
    without = CliRunner().invoke(cli, ["train", str(uncoded), "-o", str(out)])
    assert without.exit_code == 1 and "training needs a 'label' column" in without.output


def test_a_workbook_is_opened_once_to_tell_a_queue_sheet_from_a_transcript(files, monkeypatch):
    import os

    import rupture_nlp.corrections as corrections

    opened = []
    real = corrections._xlsx_header
    monkeypatch.setattr(corrections, "_xlsx_header", lambda p: opened.append(p) or real(p))
    path = files / "clinic_export.xlsx"
    assert [corrections.is_correction_file(path) for _ in range(3)] == [False] * 3
    assert len(opened) == 1
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # edited: ask again
    assert not corrections.is_correction_file(path) and len(opened) == 2
