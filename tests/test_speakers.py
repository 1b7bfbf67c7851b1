from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from rupture_nlp.cli import cli
from rupture_nlp.errors import TranscriptError
from rupture_nlp.readers import read_file, read_transcripts
from rupture_nlp.speakers import (
    SpeakerMap,
    SpeakerMapWarning,
    describe_speakers,
    format_speaker_map,
    infer_roles,
    load_role_model,
    read_speaker_map,
    render_diarised,
    role_accuracy,
    speaker_features,
    speaker_map_from_option,
)

ROOT = Path(__file__).resolve().parent.parent
AUTO = SpeakerMap(infer=True)


@pytest.fixture
def diarised(tmp_path) -> Path:
    """Hand-written recogniser and meeting-tool files that name speakers, not roles."""
    dest = tmp_path / "diarised"
    shutil.copytree(Path(__file__).parent / "diarised", dest)
    return dest


@pytest.fixture
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error", SpeakerMapWarning)
        yield


def roles_of(df: pd.DataFrame) -> dict[str, str]:
    return dict(zip(df["speaker_name"], df["speaker"], strict=True))


# --- features and inference -----------------------------------------------------------------


def test_features_count_questions_reflections_and_shares_per_speaker():
    df = pd.DataFrame(
        {
            "session_id": "s",
            "speaker": ["SPEAKER_01", "SPEAKER_00", "SPEAKER_01", "SPEAKER_00"],
            "text": [
                "What brings you here today?",
                "(shrugs) My sister said I should come. I don't know.",
                "So it sounds like coming was partly her idea.",
                "Yeah.",
            ],
        }
    )
    f = speaker_features(df).set_index("speaker_name")
    assert f.loc["SPEAKER_01", "n_words"] == 14 and f.loc["SPEAKER_00", "n_words"] == 10
    assert f.loc["SPEAKER_01", "word_share"] == pytest.approx(2 * 14 / 24)
    assert f.loc["SPEAKER_01", ["question", "question_start", "reflection"]].tolist() == [
        0.5,
        0.5,
        0.5,
    ]
    assert f.loc["SPEAKER_00", "backchannel_start"] == 0.5  # "(shrugs)" is not a word
    assert f.loc["SPEAKER_00", "i_rate"] == pytest.approx(3 / 10)
    assert f["speaks_first"].tolist() == [1.0, 0.0]


def test_diarised_file_where_the_client_speaks_first(diarised):
    df = read_transcripts(diarised / "diarised_late_start.txt", AUTO)
    assert roles_of(df) == {"SPEAKER_00": "client", "SPEAKER_01": "therapist"}
    assert set(df["role_source"]) == {"inferred"}
    assert (df["role_confidence"] > 0.9).all()
    assert list(df.columns[:4]) == ["session_id", "turn", "speaker", "speaker_name"]
    assert list(df.columns[-2:]) == ["role_source", "role_confidence"]


def test_meeting_names_and_a_couple_with_three_speakers(diarised):
    zoom = read_transcripts(diarised / "zoom_patel_reyes.vtt", AUTO)
    assert roles_of(zoom) == {"Maya Patel": "therapist", "Jordan Reyes": "client"}
    couple = read_transcripts(diarised / "couple_named.txt", AUTO)
    # one therapist; the client who says more is client, the other client2
    assert roles_of(couple) == {
        "Ruth Okafor": "therapist",
        "Dana Hale": "client",
        "Sam Hale": "client2",
    }


def test_roles_already_in_the_file_or_the_map_stay_and_constrain_the_rest(
    files, diarised, no_warnings
):
    df = read_transcripts(files / "intake_07.txt", AUTO)
    assert set(df["role_source"]) == {"file"} and df["role_confidence"].isna().all()
    fixed = speaker_map_from_option("auto,Jordan Reyes=client")
    zoom = read_transcripts(diarised / "zoom_patel_reyes.vtt", fixed)
    assert roles_of(zoom) == {"Maya Patel": "therapist", "Jordan Reyes": "client"}
    source = dict(zip(zoom["speaker_name"], zoom["role_source"], strict=True))
    assert source == {"Maya Patel": "inferred", "Jordan Reyes": "map"}


def test_a_table_of_diarised_sessions_is_inferred_per_session(tmp_path):
    table = tmp_path / "export.csv"
    table.write_text(
        "session_id,turn,speaker,text\n"
        "week1,1,SPEAKER_00,How have things been since we last met?\n"
        "week1,2,SPEAKER_01,\"Up and down. Work's been a lot, I haven't really slept.\"\n"
        'week1,3,SPEAKER_00,"Up and down, and not much sleep. What\'s been keeping you up?"\n'
        'week1,4,SPEAKER_01,"My brain, mostly. I lie there making lists."\n'
        'week2,1,SPEAKER_00,"Sorry, I\'m a bit late, the trains were a mess."\n'
        'week2,2,SPEAKER_01,"No problem at all. Where would you like to start today?"\n'
        'week2,3,SPEAKER_00,"I guess the lists thing. I tried the notebook idea."\n'
        "week2,4,SPEAKER_01,You tried the notebook. How did it feel to write the lists down?\n"
    )
    df = read_transcripts(table, AUTO)
    got = df.drop_duplicates(["session_id", "speaker_name"])
    assert got[["session_id", "speaker_name", "speaker"]].values.tolist() == [
        ["week1", "SPEAKER_00", "therapist"],
        ["week1", "SPEAKER_01", "client"],
        ["week2", "SPEAKER_00", "client"],
        ["week2", "SPEAKER_01", "therapist"],
    ]


def test_one_speaker_is_roled_by_its_own_score():
    df = pd.DataFrame(
        {
            "session_id": "voice_memo",
            "speaker_name": "SPEAKER_00",
            "text": [
                "Um, so I said I'd record how the week went. Monday was okay I guess.",
                "Tuesday I didn't go in. I just couldn't, I stayed in bed till two.",
                "I don't know. I feel like I keep messing it up and then I hate myself for it.",
            ],
        }
    )
    df["speaker"] = df["speaker_name"]
    got = infer_roles(df)
    assert got["role"].tolist() == ["client"]
    assert got["confidence"].iloc[0] == pytest.approx(1 - got["p_therapist"].iloc[0])


def test_the_shipped_role_model_is_what_the_fit_script_makes(load_script):
    script = load_script("scripts/fit_speaker_roles.py")
    from rupture_nlp.corpus import load_corpus

    rendered = render_diarised(load_corpus(ROOT / "data", "train"), seed=script.SEED)
    assert json.dumps(script.fit(rendered), indent=1) + "\n" == (
        ROOT / "rupture_nlp" / "speaker_roles.json"
    ).read_text(encoding="utf-8")


def test_rendering_renames_speakers_and_the_mini_corpus_gets_its_roles_back(mini_df):
    rendered = render_diarised(mini_df, seed=3)
    assert set(rendered["speaker"]) == {"SPEAKER_00", "SPEAKER_01"}
    assert (rendered["true_role"] == mini_df["speaker"]).all()
    acc = role_accuracy(rendered, load_role_model())
    assert acc == {
        "sessions": 6,
        "sessions_correct": 5 / 6,
        "turns": 62,
        "turns_correct": 52 / 62,
        "mean_confidence": pytest.approx(0.9980, abs=1e-4),
    }
    # the miss: a confrontation where the client says "you always..." and asks, and the
    # therapist owns their part ("I think I did..."); the inference is then less sure
    got = infer_roles(rendered).drop_duplicates("session_id").set_index("session_id")
    assert got["map_confidence"].idxmin() == "mini05"
    assert got.loc["mini05", "map_confidence"] == pytest.approx(0.9879, abs=1e-4)
    assert (got.drop(index="mini05")["map_confidence"] > 0.999).all()


# --- warnings for maps given by hand ----------------------------------------------------------


def test_swapped_map_warns_and_the_right_map_does_not(diarised, no_warnings):
    path = diarised / "diarised_late_start.txt"
    right = {"SPEAKER_00": "client", "SPEAKER_01": "therapist"}
    df, problems = read_file(path, right)
    assert problems == [] and roles_of(df) == right
    swapped = {"SPEAKER_00": "therapist", "SPEAKER_01": "client"}
    with pytest.warns(SpeakerMapWarning) as caught:
        read_file(path, swapped)
    assert [str(w.message) for w in caught] == [
        f"{path}: the map makes 'SPEAKER_00' the therapist, but the turns say "
        f"'SPEAKER_01' (inferred with confidence 1.00); check the map "
        f"('rupture speakers {path}' shows the evidence)"
    ]


def test_everyone_a_client_warns(diarised):
    path = diarised / "zoom_patel_reyes.vtt"
    with pytest.warns(SpeakerMapWarning) as caught:
        df = read_transcripts(path, {"Maya Patel": "client", "Jordan Reyes": "client2"})
    assert str(caught[0].message) == (
        f"{path}: no therapist: 'Maya Patel', 'Jordan Reyes' are all mapped to client roles"
    )
    assert set(df["speaker"]) == {"client", "client2"}  # a warning, not an error
    with pytest.warns(SpeakerMapWarning, match="no client: 'Maya Patel', 'Jordan Reyes' are all"):
        read_transcripts(path, {"Maya Patel": "therapist", "Jordan Reyes": "therapist"})


def test_many_sessions_warn_once_per_file(tmp_path, mini_df):
    rendered = render_diarised(mini_df, seed=0)
    table = tmp_path / "diarised.csv"
    rendered.drop(columns=["true_role", "speaker_name"]).to_csv(table, index=False)
    truth = rendered.drop_duplicates(["session_id", "speaker"])
    per_session = {}
    for sid, g in truth.groupby("session_id"):
        swap = {"therapist": "client", "client": "therapist"}
        per_session[sid] = {n: swap[r] for n, r in zip(g["speaker"], g["true_role"], strict=True)}
    with pytest.warns(SpeakerMapWarning) as caught:
        read_transcripts(table, SpeakerMap(per_session=per_session))
    # mini05's swap is not contradicted confidently (see above); mini04 has 9 turns, fewer than
    # CONTRADICTION_MIN_TURNS
    assert len(caught) == 1
    assert str(caught[0].message).startswith(
        f"{table}: contradiction in 4 sessions with the given speaker map "
        "('mini01', 'mini02', 'mini03', ...); first: the map makes"
    )


# --- map files ----------------------------------------------------------------------------------


def test_map_file_with_sessions_names_with_commas_and_auto(tmp_path):
    path = tmp_path / "roles.txt"
    path.write_text(
        "# checked by R.O. on 3 March\n"
        "Dr. Maya Patel, PhD = therapist\n"
        "Óscar Ruiz (he/him)=Client\n"
        "auto\n"
        "\n"
        "[session01]\n"
        "SPEAKER_00=client\n"
        "SPEAKER_01=therapist\n",
        encoding="utf-8",
    )
    m = read_speaker_map(path)
    assert dict(m) == {"Dr. Maya Patel, PhD": "therapist", "Óscar Ruiz (he/him)": "client"}
    assert m.infer and m.per_session == {
        "session01": {"SPEAKER_00": "client", "SPEAKER_01": "therapist"}
    }
    assert speaker_map_from_option(str(path)).per_session == m.per_session
    with pytest.raises(TranscriptError) as err:
        speaker_map_from_option(str(tmp_path / "rolse.txt"))
    assert str(err.value) == (
        f"{tmp_path / 'rolse.txt'}: no such map file (or write the map inline: "
        "'Dr Lee=therapist,Sam=client', or 'auto')"
    )


def test_map_file_with_a_misspelt_role_says_where(tmp_path):
    path = tmp_path / "roles.txt"
    path.write_text("[session01]\nSPEAKER_00=client\nSPEAKER_01=therapsit\n")
    with pytest.raises(TranscriptError) as err:
        read_speaker_map(path)
    assert str(err.value) == (
        f"{path}:3: speaker map entry 'SPEAKER_01=therapsit': 'therapsit' is not a role "
        "(therapist, client); did you mean 'therapist'?"
    )
    path.write_text("SPEAKER_00 therapist\n")
    with pytest.raises(TranscriptError, match=r":1: 'SPEAKER_00 therapist' is not NAME=ROLE"):
        read_speaker_map(path)


def test_suggested_map_round_trips_per_session(diarised, tmp_path, no_warnings):
    paths = [diarised / "diarised_late_start.txt", diarised / "zoom_patel_reyes.vtt"]
    summary = describe_speakers(paths, text=False)
    out = tmp_path / "roles.txt"
    out.write_text(format_speaker_map(summary), encoding="utf-8")
    m = read_speaker_map(out)
    assert m.per_session == {
        "diarised_late_start": {"SPEAKER_00": "client", "SPEAKER_01": "therapist"},
        "zoom_patel_reyes": {"Maya Patel": "therapist", "Jordan Reyes": "client"},
    }
    df = read_transcripts(paths, m)
    assert "role_source" not in df.columns  # a checked map, nothing inferred
    assert df.groupby("speaker_name")["speaker"].first().to_dict() == {
        "Jordan Reyes": "client",
        "Maya Patel": "therapist",
        "SPEAKER_00": "client",
        "SPEAKER_01": "therapist",
    }


def test_describe_speakers_gives_counts_shares_and_first_lines(diarised):
    summary = describe_speakers(diarised / "zoom_patel_reyes.vtt", n_lines=2)
    assert summary.columns.tolist() == [
        "session_id",
        "speaker_name",
        "turns",
        "word_share",
        "question_share",
        "role",
        "confidence",
        "map_confidence",
        "role_source",
        "first_lines",
    ]
    maya = summary.iloc[0]
    assert (maya["speaker_name"], maya["turns"], maya["role"]) == ("Maya Patel", 7, "therapist")
    assert maya["question_share"] == pytest.approx(6 / 7)
    assert summary["word_share"].sum() == pytest.approx(1.0)
    assert maya["first_lines"] == [
        "Hi Jordan, can you hear me okay? The connection looked a bit shaky.",
        "Good. So last week we talked about the drinking diary. How did it go?",
    ]
    assert np.isclose(summary["map_confidence"], summary["map_confidence"].iloc[0]).all()


# --- command line -------------------------------------------------------------------------------


def test_speakers_command_shows_roles_and_hides_text_when_asked(diarised, tmp_path):
    runner = CliRunner()
    path = diarised / "diarised_late_start.txt"
    result = runner.invoke(cli, ["speakers", str(path), "--no-text"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "diarised_late_start: 2 speaker(s), map confidence 1.00",
        "  SPEAKER_00           client     (1.00 inferred)  10 turns, 40% of words, 10% questions",
        "  SPEAKER_01           therapist  (1.00 inferred)  10 turns, 60% of words, 70% questions",
    ]
    shown = runner.invoke(cli, ["speakers", str(path), "--lines", "1"], catch_exceptions=False)
    assert "      Sorry, sorry. The bus just sat there on Carlton Road for ages." in shown.stdout
    out = tmp_path / "roles.txt"
    written = runner.invoke(cli, ["speakers", str(path), "--no-text", "--write-map", str(out)])
    assert written.exit_code == 0
    assert f"wrote {out}: check it, then pass it with --speaker-map {out}" in written.stderr
    assert read_speaker_map(out).per_session == {
        "diarised_late_start": {"SPEAKER_00": "client", "SPEAKER_01": "therapist"}
    }


def test_tag_with_auto_records_inferred_roles_and_a_swapped_map_warns(
    diarised, tmp_path, mini_model
):
    runner = CliRunner()
    path = str(diarised / "diarised_late_start.txt")
    out = tmp_path / "tagged.csv"
    args = ["tag", path, "--model", str(mini_model), "-o", str(out)]
    result = runner.invoke(cli, [*args, "--speaker-map", "auto"], catch_exceptions=False)
    assert result.exit_code == 0 and "Warning" not in result.stderr
    tagged = pd.read_csv(out)
    assert tagged[["speaker_name", "speaker", "role_source"]].drop_duplicates().values.tolist() == [
        ["SPEAKER_00", "client", "inferred"],
        ["SPEAKER_01", "therapist", "inferred"],
    ]
    swapped = runner.invoke(cli, [*args, "--speaker-map", "SPEAKER_00=therapist,SPEAKER_01=client"])
    assert swapped.exit_code == 0
    assert swapped.stderr.splitlines()[0] == (
        f"Warning: {path}: the map makes 'SPEAKER_00' the therapist, but the turns say "
        f"'SPEAKER_01' (inferred with confidence 1.00); check the map "
        f"('rupture speakers {path}' shows the evidence)"
    )
    right = runner.invoke(cli, [*args, "--speaker-map", "SPEAKER_00=client,SPEAKER_01=therapist"])
    assert right.exit_code == 0 and "Warning" not in right.stderr


RECOGNISER_FILES = (  # one file per session id: validate checks files together, as tag does
    "lee_sam.srt",
    "otter_export.txt",
    "whisperx_intake.json",
    "whisperx_speakers.vtt",
)


def test_validate_accepts_a_diarised_folder_with_auto(files, diarised):
    runner = CliRunner()
    result = runner.invoke(
        cli,
        # recogniser and meeting exports (tests/files also holds broken files on purpose)
        ["validate", *(str(files / n) for n in RECOGNISER_FILES), str(diarised)]
        + ["--speaker-map", "auto"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert result.stderr.strip().endswith("0 problem(s)")
    bad = runner.invoke(cli, ["validate", str(diarised), "--speaker-map", "auto,Sam=therapsit"])
    assert bad.exit_code == 2
    assert "'therapsit' is not a role (therapist, client); did you mean 'therapist'?" in bad.stderr


def test_scan_and_evaluate_read_diarised_files_with_auto(diarised, tmp_path, mini_model, mini_df):
    runner = CliRunner()
    out = tmp_path / "episodes.csv"
    scanned = runner.invoke(
        cli,
        ["scan", str(diarised), "--model", str(mini_model), "-o", str(out)]
        + ["--speaker-map", "auto"],
        catch_exceptions=False,
    )
    assert scanned.exit_code == 0, scanned.output
    assert scanned.stderr.splitlines()[-1].startswith("3 sessions, ")
    table = tmp_path / "coded_diarised.csv"
    render_diarised(mini_df, seed=1).drop(columns=["true_role", "speaker_name"]).to_csv(
        table, index=False
    )
    args = ["evaluate", str(table), "--model", str(mini_model)]
    refused = runner.invoke(cli, args)
    assert refused.exit_code == 1 and "unknown speaker 'SPEAKER_0" in refused.output
    evaluated = runner.invoke(cli, [*args, "--speaker-map", "auto"], catch_exceptions=False)
    assert evaluated.exit_code == 0, evaluated.output
    assert "macro" in evaluated.stdout


def test_a_given_map_is_checked_once_per_session_however_many_pieces(tmp_path, mini_df):
    import rupture_nlp.speakers as speakers
    from rupture_nlp.readers import iter_transcript_chunks

    rendered = render_diarised(mini_df, seed=0)
    table = tmp_path / "diarised.csv"
    rendered.drop(columns=["true_role", "speaker_name"]).to_csv(table, index=False)
    truth = rendered.drop_duplicates(["session_id", "speaker"])
    right = {n: r for n, r in zip(truth["speaker"], truth["true_role"], strict=True)}
    asked: list[str] = []
    original = speakers.infer_roles

    def counting(df, **kw):
        asked.extend(df["session_id"].unique().tolist())
        return original(df, **kw)

    speakers.infer_roles = counting
    try:
        chunks = list(iter_transcript_chunks(table, right, chunk_turns=5))
    finally:
        speakers.infer_roles = original
    sessions = rendered["session_id"].unique().tolist()
    assert sum(len(c) for c in chunks) == len(rendered)
    assert sorted(asked) == sorted(sessions)  # pieces of 5 turns cut every session; once each
