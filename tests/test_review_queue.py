from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from rupture_nlp.cli import cli
from rupture_nlp.errors import TranscriptError
from rupture_nlp.labels import LABELS, SUBTYPES
from rupture_nlp.model import PROBA_COLUMNS
from rupture_nlp.readers import read_label_table
from rupture_nlp.review_queue import (
    build_queue,
    doccano_records,
    label_studio_config,
    label_studio_tasks,
    queue_turns,
    select_uncertain,
    uncertainty,
    write_doccano,
    write_label_studio,
    write_sheet,
)


def _tagged() -> pd.DataFrame:
    """Three sessions tagged by hand: (withdrawal, confrontation, repair, none) per turn."""
    rows = [
        ("a", 1, "therapist", "What brings you in?", (0.02, 0.02, 0.06, 0.90)),
        ("a", 2, "client", "Nothing much.", (0.45, 0.05, 0.05, 0.45)),  # margin 1.00
        ("a", 3, "therapist", "Nothing at all?", (0.05, 0.05, 0.10, 0.80)),
        ("a", 4, "client", "I said it's fine.", (0.35, 0.30, 0.05, 0.30)),  # margin 0.95
        ("a", 5, "therapist", "I pushed there, sorry.", (0.02, 0.03, 0.55, 0.40)),  # 0.85
        ("b", 1, "client", "This is pointless.", (0.10, 0.40, 0.10, 0.40)),  # margin 1.00
        ("b", 2, "therapist", "Say more about pointless.", (0.05, 0.05, 0.50, 0.40)),  # 0.90
        ("b", 3, "client", "Forget it.", (0.30, 0.20, 0.00, 0.50)),  # margin 0.80
        ("c", 1, "client", "Work was fine.", (0.10, 0.00, 0.00, 0.90)),
        ("c", 2, "therapist", "Good to hear.", (0.00, 0.00, 0.10, 0.90)),
    ]
    return pd.DataFrame(
        [
            {
                "session_id": s,
                "turn": t,
                "speaker": sp,
                "text": x,
                **dict(zip(PROBA_COLUMNS, p, strict=True)),
            }
            for s, t, sp, x, p in rows
        ]
    )


def test_margin_and_entropy_of_a_hand_made_table():
    p = np.array([[0.7, 0.2, 0.1, 0.0], [0.5, 0.5, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25]])
    assert uncertainty(p, "margin").round(4).tolist() == [0.5, 1.0, 1.0]
    # entropy / log 4: (0.7, 0.2, 0.1) -> 0.5784; two equal labels -> 0.5; uniform -> 1
    assert uncertainty(p, "entropy").round(4).tolist() == [0.5784, 0.5, 1.0]
    with pytest.raises(TranscriptError, match="unknown uncertainty 'variance'"):
        uncertainty(p, "variance")


def test_ranking_order_ties_and_the_per_session_cap():
    tagged = _tagged()
    ranked = select_uncertain(tagged, size=10)
    keys = list(zip(ranked["session_id"], ranked["turn"], strict=True))
    # ties (a/2 and b/1 at 1.0) go by session then turn
    assert keys[:6] == [("a", 2), ("b", 1), ("a", 4), ("b", 2), ("a", 5), ("b", 3)]
    assert ranked["rank"].tolist() == list(range(1, 11))
    capped = select_uncertain(tagged, size=5, per_session=2)
    # a/5, b/3 and a/3 are over their sessions' cap; c/1 (0.2, before c/2 by turn) fills in
    assert list(zip(capped["session_id"], capped["turn"], strict=True)) == [
        ("a", 2),
        ("b", 1),
        ("a", 4),
        ("b", 2),
        ("c", 1),
    ]
    assert capped["uncertainty"].tolist() == [1.0, 1.0, 0.95, 0.9, 0.2]


def test_coded_turns_are_never_queued():
    tagged = _tagged().assign(label="")
    tagged.loc[(tagged["session_id"] == "a") & (tagged["turn"] == 2), "label"] = "withdrawal"
    ranked = select_uncertain(tagged, size=2)
    assert list(zip(ranked["session_id"], ranked["turn"], strict=True)) == [("b", 1), ("a", 4)]


def test_queued_turns_carry_their_context():
    queue = queue_turns(_tagged().assign(predicted_label="none"), size=3, before=2, after=1)
    first = queue.iloc[0]
    assert (first["session_id"], first["turn"]) == ("a", 2)
    assert first["context_before"] == "[1] therapist: What brings you in?"
    assert first["context_after"] == "[3] therapist: Nothing at all?"
    third = queue.iloc[2]  # a/4: two turns before, one after
    assert third["context_before"] == "[2] client: Nothing much.\n[3] therapist: Nothing at all?"
    assert third["context_after"] == "[5] therapist: I pushed there, sorry."
    second = queue.iloc[1]  # b/1 opens its session
    assert second["context_before"] == "" and second["context_after"].startswith("[2] therapist")
    assert queue[["label", "subtype", "note"]].eq("").all().all()


def test_a_chunked_archive_gives_the_same_queue(tmp_path, mini_df, mini_model):
    uncoded = tmp_path / "uncoded.csv"
    mini_df.drop(columns=["label", "subtype"]).to_csv(uncoded, index=False)
    whole = build_queue([uncoded], mini_model, size=12, per_session=3, chunk_turns=10**6)
    pieces = build_queue([uncoded], mini_model, size=12, per_session=3, chunk_turns=5)
    pd.testing.assert_frame_equal(whole, pieces)
    assert len(whole) == 12 and whole["session_id"].value_counts().max() == 3
    assert whole["uncertainty"].is_monotonic_decreasing
    assert whole["rank"].tolist() == list(range(1, 13))


def test_label_studio_tasks_match_their_config():
    queue = queue_turns(_tagged().assign(predicted_label="withdrawal"), size=2)
    tasks = label_studio_tasks(queue, model_version="mini")
    assert tasks[0] == {
        "data": {
            "session_id": "a",
            "turn": 2,
            "speaker": "client",
            "rank": 1,
            "context_before": "[1] therapist: What brings you in?",
            "text": "Nothing much.",
            "context_after": "[3] therapist: Nothing at all?",
        },
        "predictions": [
            {
                "model_version": "mini",
                "score": 0.45,
                "result": [
                    {
                        "from_name": "label",
                        "to_name": "text",
                        "type": "choices",
                        "value": {"choices": ["withdrawal"]},
                    }
                ],
            }
        ],
    }
    config = ET.fromstring(label_studio_config())
    controls = {c.get("name"): c for c in config.iter("Choices")}
    assert [c.get("value") for c in controls["label"]] == list(LABELS)
    assert [c.get("value") for c in controls["subtype"]] == list(SUBTYPES)
    assert controls["label"].get("toName") == "text"
    objects = {t.get("name"): t.get("value") for t in config.iter("Text")}
    assert objects["text"] == "$text"
    for value in objects.values():  # every variable the config shows is in each task's data
        assert value[1:] in tasks[0]["data"]


def test_doccano_records_mark_the_turn_and_carry_no_label():
    queue = queue_turns(_tagged().assign(predicted_label="none"), size=1)
    (record,) = doccano_records(queue)
    assert record["text"] == (
        "[1] therapist: What brings you in?\n>>> [2] client: Nothing much. <<<\n"
        "[3] therapist: Nothing at all?"
    )
    assert "label" not in record  # an imported label would count as a coder's annotation
    assert (record["session_id"], record["turn"], record["p_withdrawal"]) == ("a", 2, 0.45)


def test_writers_refuse_the_wrong_suffix(tmp_path):
    queue = queue_turns(_tagged().assign(predicted_label="none"), size=1)
    with pytest.raises(TranscriptError, match="a queue sheet is .csv or .xlsx; got .ods"):
        write_sheet(queue, tmp_path / "q.ods")
    with pytest.raises(TranscriptError, match="Label Studio tasks are a .json file"):
        write_label_studio(queue, tmp_path / "q.jsonl")
    with pytest.raises(TranscriptError, match="a doccano import file is .jsonl"):
        write_doccano(queue, tmp_path / "q.json")


def test_the_xlsx_sheet_offers_the_labels_as_a_list(tmp_path):
    from openpyxl import load_workbook

    tagged = _tagged().assign(predicted_label="none")
    tagged.loc[1, "text"] = "Nothing\x0c much."  # a form feed, which XML cannot hold
    queue = queue_turns(tagged, size=4)
    write_sheet(queue, tmp_path / "q.xlsx")
    ws = load_workbook(tmp_path / "q.xlsx").active
    header = [c.value for c in ws[1]]
    assert header == list(queue.columns)
    assert ws.freeze_panes == "A2"
    lists = {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation}
    label_col = "H"  # the 8th column
    assert header[7] == "label"
    assert lists[f"{label_col}2:{label_col}5"] == '"withdrawal,confrontation,repair,none"'
    assert ws.cell(row=2, column=header.index("context_after") + 1).alignment.wrap_text
    assert ws.cell(row=2, column=header.index("text") + 1).value == "Nothing much."


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_round_trip_queue_code_read_back(tmp_path, mini_df, mini_model, suffix):
    """queue -> a coder fills label and subtype -> read back -> the same coded keys."""
    from openpyxl import load_workbook

    uncoded = tmp_path / "uncoded.csv"
    mini_df.drop(columns=["label", "subtype"]).to_csv(uncoded, index=False)
    sheet = tmp_path / f"queue{suffix}"
    result = CliRunner().invoke(
        cli,
        ["queue", str(uncoded), "-m", str(mini_model), "-o", str(sheet), "--size", "15"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "queued 15 turns from" in result.output
    gold = mini_df.set_index(["session_id", "turn"])
    if suffix == ".csv":
        coded = pd.read_csv(sheet, dtype=str, keep_default_na=False)
        for col in ("label", "subtype"):
            coded[col] = [
                gold.loc[(s, int(t)), col]
                for s, t in zip(coded.session_id, coded.turn, strict=True)
            ]
        coded.to_csv(sheet, index=False)
    else:
        wb = load_workbook(sheet)
        ws = wb.active
        header = [c.value for c in ws[1]]
        for row in ws.iter_rows(min_row=2):
            key = (row[header.index("session_id")].value, row[header.index("turn")].value)
            row[header.index("label")].value = gold.loc[key, "label"]
            row[header.index("subtype")].value = gold.loc[key, "subtype"] or None
        wb.save(sheet)
    back = read_label_table([sheet])
    queued = pd.read_csv(sheet) if suffix == ".csv" else pd.read_excel(sheet)
    expected = {
        (s, int(t), gold.loc[(s, int(t)), "label"])
        for s, t in zip(queued.session_id, queued.turn, strict=True)
    }
    assert set(zip(back["session_id"], back["turn"], back["label"], strict=True)) == expected
    assert len(back) == 15
    check = CliRunner().invoke(cli, ["validate", str(sheet)], catch_exceptions=False)
    assert check.exit_code == 0, check.output


def test_queue_command_writes_every_format_and_refuses_bad_options(tmp_path, mini_df, mini_model):
    uncoded = tmp_path / "uncoded.csv"
    mini_df.drop(columns=["label", "subtype"]).to_csv(uncoded, index=False)
    out = tmp_path / "q.csv"
    args = ["queue", str(uncoded), "-m", str(mini_model), "-o", str(out), "--size", "4"]
    result = CliRunner().invoke(
        cli,
        [
            *args,
            "--label-studio",
            str(tmp_path / "ls.json"),
            "--doccano",
            str(tmp_path / "d.jsonl"),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert len(json.loads((tmp_path / "ls.json").read_text())) == 4
    ET.fromstring((tmp_path / "ls.xml").read_text())  # the labeling config is valid XML
    lines = (tmp_path / "d.jsonl").read_text().splitlines()
    assert len(lines) == 4 and all("text" in json.loads(line) for line in lines)
    bad = CliRunner().invoke(cli, [*args, "--context", "two"])
    assert bad.exit_code == 2 and "expected two counts such as 2,1" in bad.output
    wrong = CliRunner().invoke(cli, [*args[:4], "-o", str(tmp_path / "q.parquet")])
    assert wrong.exit_code == 1
    assert "unknown output type .parquet; use one of .csv, .xlsx or '-'" in wrong.output
    coded = tmp_path / "coded.csv"
    mini_df.to_csv(coded, index=False)
    nothing = CliRunner().invoke(cli, ["queue", str(coded), "-m", str(mini_model), "-o", str(out)])
    assert nothing.exit_code == 1
    assert "Error: every turn already has a label; there is nothing to queue" in nothing.output
