from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from rupture_nlp.cli import cli
from rupture_nlp.readers import read_transcripts

PRED = ["predicted_label", "p_withdrawal", "p_confrontation", "p_repair", "p_none"]


@pytest.fixture
def runner():
    return CliRunner()


def test_every_command_has_help_with_examples(runner):
    for name, _command in cli.commands.items():
        result = runner.invoke(cli, [name, "--help"], catch_exceptions=False)
        assert result.exit_code == 0
        assert "Examples:" in result.output and f"rupture {name}" in result.output, name


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet"])
def test_tag_keeps_input_columns_and_adds_predictions(
    runner, tmp_path, mini_model, mini_csv, suffix
):
    out = tmp_path / f"tagged{suffix}"
    result = runner.invoke(
        cli, ["tag", mini_csv, "--model", str(mini_model), "-o", str(out)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    tagged = read_transcripts(out)
    source = read_transcripts(mini_csv)
    # the canonical columns first (speaker_name empty: the table has roles, not names)
    assert list(tagged.columns) == [
        *("session_id", "turn", "speaker", "speaker_name", "text", "start", "end"),
        *("label", "subtype", *PRED),
    ]
    assert (tagged["speaker_name"].fillna("") == "").all()
    pd.testing.assert_frame_equal(tagged[source.columns], source, check_dtype=False)
    assert set(tagged["predicted_label"]) <= {"withdrawal", "confrontation", "repair", "none"}


def test_tag_to_stdout_and_from_vtt_with_speaker_map(runner, files, mini_model):
    result = runner.invoke(
        cli,
        [
            "tag",
            str(files / "lee_sam.vtt"),
            "--model",
            str(mini_model),
            "--speaker-map",
            "Dr Lee=therapist,Sam=client",
            "-o",
            "-",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0
    header = result.stdout.splitlines()[0].split(",")
    assert header[:4] == ["session_id", "turn", "speaker", "speaker_name"] and header[-5:] == PRED
    assert len(result.stdout.splitlines()) == 5


def test_tag_an_export_with_a_column_map_and_recogniser_json_with_a_map_file(
    runner, tmp_path, files, mini_model
):
    out = tmp_path / "export.csv"
    args = ["tag", str(files / "clinic_export_semicolon.csv"), "-o", str(out)]
    args += ["--columns", "Session=session_id,Turn #=turn,Speaker=speaker,Utterance=text"]
    result = runner.invoke(cli, [*args, "--model", str(mini_model)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    tagged = pd.read_csv(out, keep_default_na=False)
    assert tagged["speaker"].tolist() == ["therapist", "client"] * 2
    assert tagged["Coder notes"].tolist() == ["", "possible C6", "", ""]
    out = tmp_path / "whisperx.csv"
    args = ["tag", str(files / "whisperx_intake.json"), "-o", str(out)]
    args += ["--speaker-map", str(files / "roles.map"), "--model", str(mini_model)]
    result = runner.invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    tagged = pd.read_csv(out, keep_default_na=False)
    assert tagged["speaker"].tolist() == ["therapist", "client"] * 3
    assert tagged["speaker_name"].tolist()[:2] == ["SPEAKER_00", "SPEAKER_01"]


def test_bad_columns_and_speaker_map_are_usage_errors(runner, files):
    result = runner.invoke(cli, ["validate", str(files / "table.tsv"), "--columns", "Utt=txt"])
    assert result.exit_code == 2
    assert "'txt' is not a column the readers know" in result.output
    result = runner.invoke(
        cli, ["validate", str(files / "lee_sam.vtt"), "--speaker-map", "Dr Lee=therapsit"]
    )
    assert result.exit_code == 2
    assert "'therapsit' is not a role (therapist, client); did you mean 'therapist'?" in (
        result.output
    )
    roles = files / "bad_roles.map"
    roles.write_text("Dr Lee=therapsit\nSam client\n", encoding="utf-8")
    result = runner.invoke(
        cli, ["validate", str(files / "lee_sam.vtt"), "--speaker-map", str(roles)]
    )
    assert result.exit_code == 2
    assert f"{roles}:1: speaker map entry 'Dr Lee=therapsit'" in result.output
    assert f"{roles}:2: 'Sam client' is not NAME=ROLE" in result.output


def test_tag_refuses_to_overwrite_its_input_and_leaves_no_partial_output(
    runner, tmp_path, mini_model, files
):
    src = files / "table.tsv"
    before = src.read_bytes()
    result = runner.invoke(cli, ["tag", str(src), "--model", str(mini_model), "-o", str(src)])
    assert result.exit_code == 1
    assert (
        result.output.strip()
        == f"Error: {src}: output would overwrite an input file; choose another name"
    )
    assert src.read_bytes() == before
    bad = tmp_path / "bad.csv"
    bad.write_text("session_id,turn,speaker,text\ns,1,client,Hi\ns,2,visitor,Hello\n")
    out = tmp_path / "out.csv"
    result = runner.invoke(cli, ["tag", str(bad), "--model", str(mini_model), "-o", str(out)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.startswith(f"Error: {bad}:3: unknown speaker 'visitor'")
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "files"]


def test_missing_default_model_says_how_to_build_it(runner, tmp_path, mini_csv, monkeypatch):
    monkeypatch.setenv("RUPTURE_MODEL", str(tmp_path / "none.joblib"))
    result = runner.invoke(cli, ["tag", mini_csv, "-o", str(tmp_path / "o.csv")])
    assert result.exit_code == 1
    assert "make model" in result.output


def test_train_then_evaluate(runner, tmp_path, mini_csv):
    model = tmp_path / "m.joblib"
    result = runner.invoke(
        cli,
        ["train", mini_csv, "-o", str(model), "--cv", "0", "--seed", "7"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "m.json").exists()
    metrics = tmp_path / "metrics.json"
    result = runner.invoke(
        cli,
        ["evaluate", mini_csv, "--model", str(model), "--json", str(metrics)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0
    assert "marker macro-F1" in result.output and "unrepaired episodes" in result.output
    assert "per-session frequency ICC(2,1): withdrawal" in result.output
    assert "marker turns: " in result.output and " flagged (" in result.output
    import json

    data = json.loads(metrics.read_text())
    assert data["turns"]["n_turns"] == 62 and "episodes" in data
    assert set(data["turns"]["session_icc"]) == {"withdrawal", "confrontation", "repair"}


def test_evaluate_reports_each_density_of_a_corpus_folder(runner, tmp_path, mini_df):
    """A corpus folder whose sessions.json marks densities gets a block for each kind."""
    import json

    from rupture_nlp.model import train
    from rupture_nlp.modelio import save_model
    from rupture_nlp.writers import write_table

    sessions = sorted(mini_df["session_id"].unique())
    write_table(mini_df, tmp_path / "corpus.csv")
    (tmp_path / "splits.json").write_text(json.dumps({"train": [], "dev": [], "test": sessions}))
    meta = [
        {"session_id": s, "density": "natural" if i % 2 else "dense"}
        for i, s in enumerate(sessions)
    ]
    (tmp_path / "sessions.json").write_text(json.dumps(meta))
    model = tmp_path / "m.joblib"
    save_model(train(mini_df), model, {})
    result = runner.invoke(
        cli, ["evaluate", str(tmp_path), "--model", str(model)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "natural-density sessions only" in result.output
    assert "rupture-dense sessions only" in result.output


def test_evaluate_cv_without_a_model(runner, mini_csv):
    result = runner.invoke(cli, ["evaluate", mini_csv, "--cv", "3"], catch_exceptions=False)
    assert result.exit_code == 0
    assert result.stdout.startswith("3-fold cross-validation grouped by session")


def test_no_network_connection_is_opened(runner, tmp_path, mini_csv, monkeypatch):
    """Transcripts are clinical data: train, tag and evaluate with sockets made unusable."""

    def refuse(*args, **kwargs):
        raise AssertionError("rupture-nlp tried to open a network connection")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    model = tmp_path / "m.joblib"
    for args in (
        ["train", mini_csv, "-o", str(model), "--cv", "2"],
        ["tag", mini_csv, "--model", str(model), "-o", str(tmp_path / "t.jsonl")],
        ["evaluate", mini_csv, "--model", str(model)],
    ):
        result = runner.invoke(cli, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output


def test_inputs_are_never_overwritten(runner, tmp_path, mini_model, mini_csv):
    g = tmp_path / "g"
    g.mkdir()
    target = g / "x.csv"
    target.write_bytes(Path(mini_csv).read_bytes())
    before = target.read_bytes()
    cases = [
        (
            ["tag", str(g / "*.csv"), "--model", str(mini_model), "-o", str(target)],
            "overwrite an input",
        ),
        (["train", str(target), "-o", str(target), "--cv", "0"], "must end in .joblib"),
        (
            ["evaluate", str(target), "--model", str(mini_model), "--json", str(target)],
            "unknown output type",
        ),
        (
            [
                "scan",
                str(target),
                "--model",
                str(mini_model),
                "-o",
                str(g / "e.csv"),
                "--report",
                str(g / "r.csv"),
            ],
            "unknown output type .csv; use one of .html",
        ),
        (
            ["tag", str(target), "--model", str(mini_model), "-o", str(tmp_path / "t.html")],
            "unknown output type .html",
        ),
    ]
    for args, message in cases:
        result = runner.invoke(cli, args)
        assert result.exit_code == 1 and message in result.output, (args, result.output)
        assert "Traceback" not in result.output
    assert target.read_bytes() == before


def _mixed_folder(root: Path) -> Path:
    """A folder as a clinic has one: a coded spreadsheet with coders' notes, a recognised
    recording, subtitles and a typed transcript."""
    inf = root / "inf"
    inf.mkdir()
    (inf / "coded_s4.csv").write_text(
        "session_id,turn,speaker,text,label,Coder notes\n"
        "s4,1,therapist,What would you like to look at today?,none,\n"
        "s4,2,client,I don't know. You pick.,withdrawal,deferring\n",
        encoding="utf-8",
    )
    (inf / "jordan_s3.vtt").write_text(
        "WEBVTT\n\n00:00:01.000 --> 00:00:03.500\n<v Therapist>How has the week been?\n\n"
        "00:00:04.000 --> 00:00:06.000\n<v Client>Long. Work was a lot.\n",
        encoding="utf-8",
    )
    (inf / "aisha_s1.srt").write_text(
        "1\n00:00:02,000 --> 00:00:04,000\nTherapist: Where shall we start?\n\n"
        "2\n00:00:05,000 --> 00:00:08,000\nClient: With my mum, I think.\n",
        encoding="utf-8",
    )
    (inf / "intake_07.txt").write_text(
        "[00:00:03] Therapist: So, we said we'd look at the thought record first.\n"
        "[00:00:09] Client: I didn't do it. Again.\n",
        encoding="utf-8",
    )
    return inf


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_a_mixed_folder_gives_one_table_with_canonical_and_extra_columns(
    runner, tmp_path, mini_model, suffix
):
    inf = _mixed_folder(tmp_path)
    out = tmp_path / f"tagged{suffix}"
    result = runner.invoke(
        cli, ["tag", str(inf), "--model", str(mini_model), "-o", str(out)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1].startswith(f"tagged 8 turns -> {out} in ")
    tagged = read_transcripts(out)
    assert list(tagged.columns) == [
        *("session_id", "turn", "speaker", "speaker_name", "text", "start", "end", "label"),
        *("Coder notes", *PRED),
    ]
    # sorted input order: aisha_s1.srt, coded_s4.csv, intake_07.txt, jordan_s3.vtt
    assert (
        tagged["session_id"].tolist()
        == ["aisha_s1"] * 2 + ["s4"] * 2 + ["intake_07"] * 2 + ["jordan_s3"] * 2
    )
    notes = tagged["Coder notes"].where(tagged["Coder notes"].notna(), "").tolist()
    assert notes == ["", "", "", "deferring", "", "", "", ""]
    assert tagged["start"].tolist()[:2] == [2.0, 5.0] and tagged["start"].iloc[2:4].isna().all()
    assert tagged["label"].where(tagged["label"].notna(), "").tolist()[2:4] == [
        "none",
        "withdrawal",
    ]
    assert tagged["speaker_name"].tolist()[:2] == ["Therapist", "Client"]


def test_the_same_table_whatever_the_order_of_inputs(runner, tmp_path, mini_model):
    inf = _mixed_folder(tmp_path)
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    for order, out in (
        (["coded_s4.csv", "jordan_s3.vtt"], first),
        (["jordan_s3.vtt", "coded_s4.csv"], second),
    ):
        args = [str(inf / name) for name in order]
        result = runner.invoke(cli, ["tag", *args, "--model", str(mini_model), "-o", str(out)])
        assert result.exit_code == 0, result.output
    a, b = pd.read_csv(first), pd.read_csv(second)
    assert list(a.columns) == list(b.columns)
    assert "Coder notes" in a.columns and "start" in a.columns
    pd.testing.assert_frame_equal(
        a.sort_values("session_id", ignore_index=True),
        b.sort_values("session_id", ignore_index=True),
    )


def test_tagging_twice_into_the_input_folder_leaves_the_earlier_output_out(
    runner, tmp_path, mini_model
):
    inf = _mixed_folder(tmp_path)
    out = inf / "tagged.csv"
    args = ["tag", str(inf), "--model", str(mini_model), "-o", str(out)]
    first = runner.invoke(cli, args, catch_exceptions=False)
    assert first.exit_code == 0 and "leaving out" not in first.stderr
    before = out.read_bytes()
    (inf / ".tagged.csv.x1y2.tmp").write_text("left by a killed run\n")
    second = runner.invoke(cli, args, catch_exceptions=False)
    assert second.exit_code == 0, second.output
    notice = f"leaving out {out}: it is this command's output from an earlier run"
    assert second.stderr.splitlines().count(notice) == 1
    assert second.stderr.splitlines()[-1].startswith(f"tagged 8 turns -> {out} in ")
    assert out.read_bytes() == before
    # the same for a quoted glob, and for scan's episodes table
    glob = runner.invoke(cli, ["tag", str(inf / "*"), "--model", str(mini_model), "-o", str(out)])
    assert glob.exit_code == 0, glob.output
    assert out.read_bytes() == before
    out.unlink()  # a tagged table repeats the sessions beside it: scan would refuse them
    episodes = inf / "episodes.csv"
    scan = ["scan", str(inf), "--model", str(mini_model), "-o", str(episodes)]
    assert runner.invoke(cli, scan).exit_code == 0
    again = runner.invoke(cli, scan, catch_exceptions=False)
    assert again.exit_code == 0, again.output
    assert f"leaving out {episodes}: it is this command's output from an earlier run" in (
        again.stderr.splitlines()
    )


def test_usage_errors_exit_2_and_io_errors_exit_1(runner, tmp_path, mini_model, mini_csv):
    for args in (
        ["scan", mini_csv, "--gold", "-o", "-", "--gap", "0"],
        ["scan", mini_csv, "--gold", "-o", "-", "--window", "-1"],
        ["evaluate", mini_csv, "--cv", "1"],
        ["train", mini_csv, "-o", str(tmp_path / "m.joblib"), "--cv", "1"],
    ):
        result = runner.invoke(cli, args)
        assert result.exit_code == 2, (args, result.output)
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    result = runner.invoke(
        cli, ["tag", mini_csv, "--model", str(mini_model), "-o", str(blocked / "out.csv")]
    )
    assert result.exit_code == 1 and result.output.startswith("Error: ")
    assert "Traceback" not in result.output


def test_agree_reports_kappa_between_two_coders(runner, tmp_path, mini_df, mini_model):
    from rupture_nlp.writers import write_table

    a = mini_df.copy()
    b = mini_df.copy()
    b.loc[b["label"] == "repair", "label"] = "none"  # coder B never codes repair
    b.loc[b["label"] == "none", "subtype"] = ""
    write_table(a, tmp_path / "a.csv")
    write_table(b, tmp_path / "b.jsonl")
    out = tmp_path / "k.json"
    result = runner.invoke(
        cli,
        ["agree", str(tmp_path / "a.csv"), str(tmp_path / "b.jsonl"), "--json", str(out)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    import json

    from sklearn.metrics import cohen_kappa_score

    data = json.loads(out.read_text())
    assert data["kappa"] == round(cohen_kappa_score(a["label"], b["label"]), 4)
    per_label = data["per_label"]
    assert per_label["repair"]["kappa"] == 0.0 and per_label["withdrawal"]["kappa"] == 1.0
    kappa_row = next(line for line in result.output.splitlines() if line.startswith("Cohen's"))
    assert kappa_row.split()[2] == f"{data['kappa']:.3f}"
    tagged = tmp_path / "t.csv"
    runner.invoke(
        cli,
        ["tag", str(tmp_path / "a.csv"), "--model", str(mini_model), "-o", str(tagged)],
        catch_exceptions=False,
    )
    model_vs_coder = runner.invoke(
        cli,
        ["agree", str(tmp_path / "a.csv"), str(tagged), "--column", "predicted_label"],
        catch_exceptions=False,
    )
    assert model_vs_coder.exit_code == 0 and "62 turns in 6 sessions" in model_vs_coder.output
    two_coders_and_model = runner.invoke(
        cli,
        ["agree", str(tmp_path / "a.csv"), str(tmp_path / "b.jsonl"), str(tagged)]
        + ["--column", "predicted_label"],
        catch_exceptions=False,
    )
    assert two_coders_and_model.exit_code == 0, two_coders_and_model.output
    assert "a.csv and t.csv: 62 turns in common" in two_coders_and_model.output
    assert "b.jsonl and t.csv: 62 turns in common" in two_coders_and_model.output
    other = tmp_path / "other.csv"
    other.write_text("session_id,turn,speaker,text,label\nzz,1,client,Hi,none\n")
    none_shared = runner.invoke(cli, ["agree", str(tmp_path / "a.csv"), str(other)])
    assert none_shared.exit_code == 1 and "share no labelled turns" in none_shared.output


def test_parallel_tagging_gives_the_same_table(runner, tmp_path, mini_model, mini_csv):
    outs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"t{jobs}.csv"
        result = runner.invoke(
            cli,
            [
                "tag",
                mini_csv,
                "--model",
                str(mini_model),
                "-o",
                str(out),
                "--jobs",
                jobs,
                "--chunk-turns",
                "10",
            ],
            catch_exceptions=False,
        )
        assert result.exit_code == 0, result.output
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]


def test_evaluate_one_session_with_a_model(runner, tmp_path, mini_df, mini_model):
    from rupture_nlp.writers import write_table

    one = tmp_path / "one.csv"
    write_table(mini_df[mini_df["session_id"] == "mini05"], one)
    result = runner.invoke(
        cli,
        ["evaluate", str(one), "--model", str(mini_model), "--min-prob", "0.3"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "on 10 turns" in result.output and "unrepaired episodes" in result.output


def test_agree_on_label_sheets_and_undefined_kappa(runner, tmp_path):
    a = tmp_path / "a.csv"
    a.write_text("session_id,turn,label,subtype\ns,1,none,\ns,2,none,\ns,3,withdrawal,\n")
    b = tmp_path / "b.jsonl"
    b.write_text(
        '{"session_id": "s", "turn": 1, "label": "none"}\n'
        '{"session_id": "s", "turn": 2}\n'
        '{"session_id": "s", "turn": 3, "label": "withdrawal", "subtype": "W2"}\n'
    )
    out = tmp_path / "k.json"
    result = runner.invoke(
        cli, ["agree", str(a), str(b), "--json", str(out)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    import json

    data = json.loads(out.read_text())  # strict JSON: no NaN
    assert data["n_turns"] == 2 and data["kappa"] == 1.0
    assert data["pairs"][0]["subtypes"] == {}  # a blank subtype is not a code
    only_none = tmp_path / "n.csv"
    only_none.write_text("session_id,turn,label\ns,1,none\ns,2,none\n")
    result = runner.invoke(
        cli, ["agree", str(only_none), str(only_none), "--json", str(out)], catch_exceptions=False
    )
    assert "Cohen's kappa                    -             -" in result.output
    assert json.loads(out.read_text())["kappa"] is None
    bad = tmp_path / "bad.csv"
    bad.write_text("session_id,turn,label\ns,1,angry\n")
    result = runner.invoke(cli, ["agree", str(a), str(bad)])
    assert result.exit_code == 1 and "unknown label 'angry'" in result.output


def test_jobs_and_spacy_processes_are_not_combined(runner, tmp_path, mini_model, mini_csv):
    result = runner.invoke(
        cli,
        [
            "tag",
            mini_csv,
            "--model",
            str(mini_model),
            "-o",
            str(tmp_path / "t.csv"),
            "--jobs",
            "2",
            "--n-process",
            "2",
        ],
    )
    assert result.exit_code == 2 and "not both" in result.output  # a usage error


def test_parallel_tagging_reads_ahead_a_bounded_number_of_chunks(mini_model, mini_csv, monkeypatch):
    from rupture_nlp import tagging

    produced = []
    real = tagging.iter_transcript_chunks

    def counting(*args, **kwargs):
        for chunk in real(*args, **kwargs):
            produced.append(len(chunk))
            yield chunk

    monkeypatch.setattr(tagging, "iter_transcript_chunks", counting)
    stream = tagging.iter_tagged([mini_csv], mini_model, chunk_turns=1, n_jobs=2)
    next(stream)
    assert len(produced) <= 4  # 2 * n_jobs in flight, whatever the workers' speed
    rest = list(stream)
    assert len(rest) + 1 == len(produced) == 6


# Run in the child process: the real CLI, with the tagging stream held after its first chunk
# has been written, so the SIGTERM always arrives mid-output, whatever the machine's speed.
_PAUSED_TAG = """
import sys, time
from rupture_nlp import entry

entry.configure()  # before tagging loads pandas and pyarrow; entry.main's own call then changes nothing
from rupture_nlp import tagging

real = tagging.iter_tagged

def paused(*args, **kwargs):
    chunks = real(*args, **kwargs)
    yield next(chunks)
    time.sleep(120)
    yield from chunks

tagging.iter_tagged = paused
entry.main(sys.argv[1:])
"""


def test_a_terminated_tag_leaves_no_temporary_file(tmp_path, mini_model, mini_csv):
    """SIGTERM while writing: the output's temporary file is removed, the target never made."""
    out = tmp_path / "out" / "tagged.csv"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _PAUSED_TAG,
            "tag",
            str(mini_csv),
            "--model",
            str(mini_model),
            "-o",
            str(out),
            "--chunk-turns",
            "10",
        ],
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and not list(out.parent.glob(".tagged.csv.*.tmp")):
        if proc.poll() is not None:
            pytest.fail(f"tag ended before it wrote: {proc.stderr.read().decode()}")
        time.sleep(0.02)
    assert list(out.parent.glob(".tagged.csv.*.tmp")), "no temporary output within 180 s"
    os.kill(proc.pid, signal.SIGTERM)
    assert proc.wait(timeout=60) == 128 + signal.SIGTERM
    assert "Traceback" not in proc.stderr.read().decode()
    assert list(out.parent.iterdir()) == []


DANA_CSV = """session_id,turn,label,subtype
lee_sam,1,none,
lee_sam,2,withdrawal,W2
lee_sam,3,none,
lee_sam,4,withdrawal,W1
lee_sam,5,none,
lee_sam,6,none,
lee_sam,7,none,
lee_sam,8,confrontation,C1
lee_sam,9,repair,R1
lee_sam,10,none,
intake_07,1,none,
intake_07,2,none,
intake_07,3,confrontation,C2
intake_07,4,none,
intake_07,5,none,
intake_07,6,none,
intake_07,7,withdrawal,W4
intake_07,8,none,
group_03,1,none,
group_03,2,withdrawal,W2
group_03,3,withdrawal,W2
group_03,4,none,
group_03,5,repair,R1
group_03,6,none,
"""
# Eli's sheet: another format, a different subtype at lee_sam 2, no repair at 9, turn 4 called
# none, and intake_07 stops at turn 6 (7-8 not coded: one blank, one row missing).
ELI_TSV = (
    "session_id\tturn\tlabel\tsubtype\n"
    "lee_sam\t1\tnone\t\nlee_sam\t2\twithdrawal\tW5\nlee_sam\t3\tnone\t\nlee_sam\t4\tnone\t\n"
    "lee_sam\t5\tnone\t\nlee_sam\t6\tnone\t\nlee_sam\t7\tnone\t\n"
    "lee_sam\t8\tconfrontation\tC1\nlee_sam\t9\tnone\t\nlee_sam\t10\tnone\t\n"
    "intake_07\t1\tnone\t\nintake_07\t2\tnone\t\nintake_07\t3\tconfrontation\tC2\n"
    "intake_07\t4\tnone\t\nintake_07\t5\tnone\t\nintake_07\t6\tnone\t\nintake_07\t7\t\t\n"
    "group_03\t1\tnone\t\ngroup_03\t2\twithdrawal\tW2\ngroup_03\t3\tnone\t\n"
    "group_03\t4\tnone\t\ngroup_03\t5\trepair\tR1\ngroup_03\t6\tnone\t\n"
)


def test_agree_two_coders_prints_every_figure(runner, tmp_path):
    (tmp_path / "dana.csv").write_text(DANA_CSV)
    (tmp_path / "eli.tsv").write_text(ELI_TSV)
    out = tmp_path / "agreement.json"
    args = ["agree", str(tmp_path / "dana.csv"), str(tmp_path / "eli.tsv"), "--json", str(out)]
    result = runner.invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "dana.csv and eli.tsv: 22 turns in 3 sessions coded by both, raw agreement 86.4%",
        "                        all labels    withdrawal confrontation        repair          none",
        "Cohen's kappa                0.716         0.621         1.000         0.645         0.680",
        "Krippendorff's alpha         0.718         0.623         1.000         0.650         0.680",
        "Gwet's AC1                   0.838         0.881         1.000         0.948         0.766",
        "per-session marker frequency ICC(2,1), 3 sessions: withdrawal 0.69, confrontation 1.00, "
        "repair 0.80",
        "confusion (rows dana.csv, columns eli.tsv):",
        "                    withdrawal confrontation        repair          none",
        "  withdrawal                 2             0             0             2",
        "  confrontation              0             2             0             0",
        "  repair                     0             0             1             1",
        "  none                       0             0             0            14",
        "same subtype where both chose the label:",
        "  withdrawal      50.0% of 2 turns, kappa 0.00",
        "  confrontation  100.0% of 2 turns, kappa 1.00",
        "  repair         100.0% of 1 turn, kappa -",
        "unrepaired episodes: 2 found by both, 0 only by dana.csv, 1 only by eli.tsv",
        "all episodes: 4 found by both, 0 only by dana.csv, 0 only by eli.tsv",
    ]
    import json

    data = json.loads(out.read_text())
    assert data["coders"] == ["dana.csv", "eli.tsv"] and data["kappa_kind"] == "Cohen"
    assert (data["n_turns"], data["agreement"], data["kappa"]) == (22, 0.8636, 0.7155)
    assert data["per_label"]["repair"] == {"kappa": 0.6452, "alpha": 0.6504, "ac1": 0.9479}
    pair = data["pairs"][0]
    unrepaired = pair["episodes"]["unrepaired"]
    assert [unrepaired[k] for k in ("both", "only_first", "only_second")] == [2, 0, 1]
    assert pair["subtypes"]["all"] == {"n_turns": 5, "agreement": 0.8, "kappa": 0.75}
    assert data["session_icc"] == pair["session_icc"] and data["icc_sessions"] == 3


def test_agree_three_coders_one_a_folder(runner, tmp_path):
    (tmp_path / "dana.csv").write_text(DANA_CSV)
    (tmp_path / "eli.tsv").write_text(ELI_TSV)
    fran = tmp_path / "fran"
    fran.mkdir()  # Fran coded two sessions, one file each; intake_07 3 is withdrawal for her
    (fran / "intake_07.csv").write_text(
        "session_id,turn,label\n"
        + "".join(f"intake_07,{t},{'withdrawal' if t in (3, 7) else 'none'}\n" for t in range(1, 9))
    )
    (fran / "group_03.jsonl").write_text(
        "".join(
            f'{{"session_id": "group_03", "turn": {t}, "label": "{lab}"}}\n'
            for t, lab in enumerate(
                ["none", "withdrawal", "withdrawal", "none", "repair", "none"], 1
            )
        )
    )
    out = tmp_path / "three.json"
    paths = [str(tmp_path / "dana.csv"), str(tmp_path / "eli.tsv"), str(fran)]
    result = runner.invoke(cli, ["agree", *paths, "--json", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:2] == [
        "3 coders: 24 turns in 3 sessions coded by at least two, raw agreement 86.1%",
        "turns coded: dana.csv 24, eli.tsv 22, fran 14",
    ]
    assert lines[2].split() == ["all", "labels", "withdrawal", "confrontation", "repair", "none"]
    assert lines[3].startswith("kappa (mean of pairs)")
    assert [line for line in lines if not line.startswith(" ") and " and " in line] == [
        "dana.csv and eli.tsv: 22 turns in common, kappa 0.716, alpha 0.718, AC1 0.838, "
        "agreement 86.4%",
        "dana.csv and fran: 14 turns in common, kappa 0.863, alpha 0.867, AC1 0.914, "
        "agreement 92.9%",
        "eli.tsv and fran: 12 turns in common, kappa 0.647, alpha 0.654, AC1 0.803, "
        "agreement 83.3%",
    ]
    import json

    data = json.loads(out.read_text())
    assert data["kappa"] == round((0.7155 + 0.8627 + 0.6471) / 3, 4)
    assert data["per_label"]["confrontation"]["kappa"] == round((1 + 0 + 0) / 3, 4)
    assert data["icc_sessions"] == 2  # lee_sam has no turn from Fran


def test_agree_needs_two_coders(runner, tmp_path):
    (tmp_path / "dana.csv").write_text(DANA_CSV)
    result = runner.invoke(cli, ["agree", str(tmp_path / "dana.csv")])
    assert result.exit_code == 2
    assert "Error: give at least two coders' files or folders" in result.output


def test_the_command_uses_the_system_allocator_for_arrow_unless_told_otherwise():
    """Set before pyarrow loads (a later setting is ignored), and a user's own choice wins;
    importing the commands as a library leaves the process's allocator alone."""
    pool = "import pyarrow; print(pyarrow.default_memory_pool().backend_name)"
    # the real route: python -m rupture_nlp, reporting the pool its run ended with
    command = (
        "import atexit, runpy, sys; atexit.register(lambda: print(__import__('pyarrow')"
        ".default_memory_pool().backend_name)); sys.argv = ['rupture', '--version']; "
        "runpy.run_module('rupture_nlp', run_name='__main__')"
    )
    library = "import rupture_nlp.cli; " + pool

    def backend(probe, **env):
        base = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
        done = subprocess.run(
            [sys.executable, "-c", probe], env={**base, **env}, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().splitlines()[-1]

    default = backend(pool)
    if default == "system":
        pytest.skip("this pyarrow build has no allocator but the system one")
    assert backend(command) == "system"
    assert backend(command, ARROW_DEFAULT_MEMORY_POOL="mimalloc") == "mimalloc"
    assert backend(library) == default
