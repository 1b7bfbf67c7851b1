"""Every validation rule, through the library and through ``rupture validate``."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from rupture_nlp.cli import cli
from rupture_nlp.readers import read_file

HEADER = "session_id,turn,speaker,text,label,subtype,start,end\n"

CASES = [
    ("s,1,client,,none,,,\n", "empty text"),
    (
        "s,1,client,Hi,angry,,,\n",
        "unknown label 'angry'; expected one of withdrawal, confrontation, repair, none",
    ),
    (
        "s,1,client,Hi,withdrawal,W9,,\n",
        "unknown subtype 'W9'; expected a 3RS code such as W2, C1 or R3",
    ),
    (
        "s,1,client,Hi,withdrawal,C1,,\n",
        "subtype C1 belongs to confrontation, not to label 'withdrawal'",
    ),
    ("s,three,client,Hi,none,,,\n", "turn 'three' is not an integer"),
    ("s,1.5,client,Hi,none,,,\n", "turn '1.5' is not an integer"),
    (
        "s,1,nurse,Hi,none,,,\n",
        "unknown speaker 'nurse'; expected therapist, client or client2..client9 "
        "(map the name to its role: --speaker-map 'nurse=therapist' or 'nurse=client')",
    ),
    ("s,1,client,Hi,none,,abc,\n", "start 'abc' is not a number of seconds"),
    ("s,1,client,Hi,none,,5,4\n", "end 4.0 is before start 5.0"),
]


@pytest.mark.parametrize(("row", "message"), CASES)
def test_each_rule_reports_file_line_and_reason(tmp_path, row, message):
    p = tmp_path / "c.csv"
    p.write_text(HEADER + "s,0,therapist,Hello.,none,,0,1\n" + row, encoding="utf-8")
    _, problems = read_file(p)
    assert [(pr.line, pr.message) for pr in problems] == [(3, message)]


def test_order_rules(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text(
        HEADER + "s,2,therapist,a,none,,0,1\ns,2,client,b,none,,1,2\ns,1,client,c,none,,3,4\n"
        "s,3,client,d,none,,2,3\nt,1,client,e,none,,,\ns,4,client,f,none,,5,6\n",
        encoding="utf-8",
    )
    _, problems = read_file(p)
    assert [(pr.line, pr.message) for pr in problems] == [
        (3, "turn 2 is duplicated in session 's'"),
        (4, "turn 1 comes after turn 2 in session 's'; turns must ascend"),
        (
            5,
            "start 2.000s is before the previous turn's start 3.000s in session 's': times out of order",
        ),
        (7, "session 's' continues here after other sessions; keep each session's turns together"),
    ]


def test_missing_columns(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("session,turn,text\nx,1,Hi\n", encoding="utf-8")
    _, problems = read_file(p)
    assert [str(pr) for pr in problems] == [
        f"{p}:1: missing required columns session_id, speaker (has: session, turn, text)"
    ]


def test_cue_times_out_of_order_in_vtt(tmp_path):
    p = tmp_path / "s.vtt"
    p.write_text(
        "WEBVTT\n\n00:00:05.000 --> 00:00:06.000\n<v Therapist>Hi.\n\n"
        "00:00:10.000 --> 00:00:11.000\n<v Therapist>Still me.\n\n"
        "00:00:07.000 --> 00:00:08.000\n<v Client>Hello.\n\n"
        "00:00:01.000 --> 00:00:01.500\n<v Client>Me again.\n",
        encoding="utf-8",
    )
    _, problems = read_file(p)
    assert [(pr.line, pr.message) for pr in problems] == [
        (9, "cue starts at 7.000s, before the previous cue (10.000s): cue times out of order"),
        (12, "cue starts at 1.000s, before the previous cue (10.000s): cue times out of order"),
    ]


def test_unreadable_and_wrong_field_count(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text(HEADER + "s,1,client,Hi, there,none,,,\n", encoding="utf-8")
    _, problems = read_file(p)
    assert problems[0].line == 2 and "has 9 fields but the header has 8" in problems[0].message
    q = tmp_path / "x.parquet"
    q.write_bytes(b"PAR1 not really")
    _, problems = read_file(q)
    assert problems[0].message.startswith("unreadable Parquet file")


def test_cli_validate_exit_codes(tmp_path, files, mini_csv):
    runner = CliRunner()
    clean = runner.invoke(cli, ["validate", mini_csv], catch_exceptions=False)
    assert clean.exit_code == 0, clean.output
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "s,1,client,,none,,,\ns,x,client,Hi,none,,,\n", encoding="utf-8")
    old_files = [str(files / n) for n in ("intake_07.txt", "lee_sam.srt", "lee_sam.vtt")]
    old_files.append(str(files / "table.tsv"))
    result = runner.invoke(cli, ["validate", str(bad), *old_files], catch_exceptions=False)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert f"{bad}:2: empty text" in lines
    assert f"{bad}:3: turn 'x' is not an integer" in lines
    # the VTT and SRT name people: both speakers of each file need a map (one line a file)
    assert sum("unknown speaker 'Dr Lee'" in line for line in lines) == 2
    assert runner.invoke(cli, ["validate"]).exit_code == 2
    missing = runner.invoke(cli, ["validate", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 1
    assert missing.stdout.splitlines() == [
        f"{tmp_path / 'nope.csv'}: no such file, directory or matching files"
    ]
    names = ["--speaker-map", "Dr Lee=therapist,Sam=client"]
    vtt = runner.invoke(cli, ["validate", str(files / "lee_sam.vtt"), *names])
    assert vtt.exit_code == 0, vtt.output
    assert vtt.stdout == f"{files / 'lee_sam.vtt'}: 4 turns, 1 session, no problems\n"


def test_validate_reports_empty_folder_header_only_table_and_unnamed_cue(tmp_path, files):
    """What used to pass validate and then stop tag, or mislead it, is a problem with a place."""
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(
        cli,
        [
            "validate",
            str(tmp_path / "empty"),
            str(files / "header_only.csv"),
            str(files / "zoom_unlabelled_cue.vtt"),
            "--speaker-map",
            str(files / "roles.map"),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{tmp_path / 'empty'}: folder has no transcript files (looked for .csv, .json, .jsonl, "
        ".parquet, .srt, .tsv, .txt, .vtt, .xlsx, in subfolders too)",
        f"{files / 'header_only.csv'}:1: has a header but no rows",
        f"{files / 'zoom_unlabelled_cue.vtt'}:16: cue has no speaker while other cues name "
        "theirs; start it with '<v Name>' or 'Name: ' (it is not joined to the turn before)",
        f"{files / 'header_only.csv'}: 0 turns, 0 sessions, 1 problem",
        f"{files / 'zoom_unlabelled_cue.vtt'}: 2 turns, 1 session, 1 problem",
    ]
    assert result.stderr == "2 file(s), 2 turns, 3 problem(s)\n"


def test_validate_checks_files_together_as_tag_reads_them(tmp_path, files, mini_model):
    """lee_sam.vtt and lee_sam.srt are one session id twice: tag refuses it, so validate does."""
    runner = CliRunner()
    names = ["--speaker-map", "Dr Lee=therapist,Sam=client"]
    both = [str(files / "lee_sam.srt"), str(files / "lee_sam.vtt")]
    checked = runner.invoke(cli, ["validate", *both, *names])
    out = tmp_path / "t.csv"
    tagged = runner.invoke(cli, ["tag", *both, *names, "--model", str(mini_model), "-o", str(out)])
    assert checked.exit_code == tagged.exit_code == 1
    clash = (
        f"{files / 'lee_sam.vtt'}:6: session 'lee_sam' also appears in {files / 'lee_sam.srt'}; "
        "session ids must be unique (rename one file, or give the table a session_id column)"
    )
    assert checked.stdout.splitlines()[0] == clash
    assert tagged.output.strip() == f"Error: {clash}"


def test_a_repeated_problem_is_one_line_with_a_count_and_a_summary_per_file(tmp_path):
    zoom = tmp_path / "zoom_0412.vtt"
    cues = []
    for k in range(6):
        who = "Maya Patel (she/her)" if k % 2 == 0 else "Jordan"
        cues.append(
            f"{k + 1}\n00:00:{2 * k:02d}.000 --> 00:00:{2 * k + 1:02d}.500\n<v {who}>Line {k}.\n"
        )
    zoom.write_text("WEBVTT\n\n" + "\n".join(cues), encoding="utf-8")
    table = tmp_path / "coded.csv"
    table.write_text(HEADER + "c1,1,client,Hi.,none,,,\nc1,2,client,Fine.,none,,,\n")
    runner = CliRunner()
    result = runner.invoke(cli, ["validate", str(tmp_path)])
    assert result.exit_code == 1
    hint = "expected therapist, client or client2..client9"
    assert result.stdout.splitlines() == [
        f"{zoom}: unknown speaker 'Maya Patel (she/her)'; {hint} (map the name to its role: "
        "--speaker-map 'Maya Patel (she/her)=therapist' or 'Maya Patel (she/her)=client') x3 "
        "(lines 4, 12, 20)",
        f"{zoom}: unknown speaker 'Jordan'; {hint} (map the name to its role: "
        "--speaker-map 'Jordan=therapist' or 'Jordan=client') x3 (lines 8, 16, 24)",
        f"{table}: 2 turns, 1 session, no problems",
        f"{zoom}: 6 turns, 1 session, 6 problems",
    ]
    assert result.stderr == "2 file(s), 8 turns, 6 problem(s)\n"
    every = runner.invoke(cli, ["validate", str(zoom), "--all"])
    assert [line.split(": ")[0] for line in every.stdout.splitlines()[:6]] == [
        f"{zoom}:{n}" for n in (4, 8, 12, 16, 20, 24)
    ]


def test_an_empty_folder_and_header_only_tables_are_problems(tmp_path):
    runner = CliRunner()
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(cli, ["validate", str(empty)])
    assert result.exit_code == 1 and result.stdout.startswith(
        f"{empty}: folder has no transcript files"
    )
    (empty / "header.csv").write_text(HEADER)
    result = runner.invoke(cli, ["validate", str(empty)])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "no turns found in the given paths",
        f"{empty / 'header.csv'}:1: has a header but no rows",
        f"{empty / 'header.csv'}: 0 turns, 0 sessions, 1 problem",
    ]


def test_a_problem_on_every_row_is_counted_in_full(tmp_path):
    zoom = tmp_path / "zoom_export.csv"
    rows = "".join(f"z,{k},Maya Patel (she/her),Line {k}.,none,,,\n" for k in range(1, 61))
    zoom.write_text(HEADER + rows, encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", str(zoom)])
    assert result.stdout.splitlines() == [
        f"{zoom}: unknown speaker 'Maya Patel (she/her)'; expected therapist, client or "
        "client2..client9 (map the name to its role: --speaker-map 'Maya Patel (she/her)=therapist' "
        "or 'Maya Patel (she/her)=client') x60 (lines 2, 3, 4, ...)",
        f"{zoom}: 60 turns, 1 session, 60 problems",
    ]
