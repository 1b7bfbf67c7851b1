"""WhisperX / pyannote JSON: segments, word-level speakers, one turn per run of one speaker."""

from __future__ import annotations

import json

import pytest

from rupture_nlp.errors import TranscriptError
from rupture_nlp.readers import expand_paths, parse_speaker_map, read_file, read_transcripts

ROLES = {"SPEAKER_00": "therapist", "SPEAKER_01": "client"}


def test_segments_of_one_speaker_join_and_word_speakers_split_a_segment(files):
    df = read_transcripts(files / "whisperx_intake.json", ROLES)
    assert df["speaker"].tolist() == ["therapist", "client"] * 3
    assert df["speaker_name"].tolist() == ["SPEAKER_00", "SPEAKER_01"] * 3
    assert df["text"].tolist()[:4] == [
        "Okay, we're recording now. Thanks for coming in on a Thursday. "
        "Last week you said the mornings were the hardest part.",
        "Yeah. Still are, I guess.",
        "Can you walk me through this morning?",  # 'through' has no speaker: it stays in the run
        "Mm, I'd rather not, honestly.",
    ]
    assert df[["start", "end"]].values.tolist() == [
        [2.31, 9.75],
        [10.6, 12.02],
        [12.4, 14.2],
        [15.3, 17.88],
        [18.5, 24.12],
        [25.01, 29.4],
    ]
    assert set(df["session_id"]) == {"whisperx_intake"}


def test_problems_point_at_the_segment_line(files):
    _, problems = read_file(files / "whisperx_intake.json")
    assert [p.line for p in problems] == [3, 28, 34, 34, 53, 59]
    assert problems[0].message.startswith("unknown speaker 'SPEAKER_00'")


def test_a_segment_without_any_speaker_is_reported_not_glued(tmp_path):
    p = tmp_path / "s.json"
    segments = [
        {"start": 0.5, "end": 2.0, "text": " How are you doing?", "speaker": "SPEAKER_00"},
        {"start": 2.4, "end": 3.1, "text": " Fine.", "words": [{"word": "Fine.", "start": 2.4}]},
        {"start": 3.5, "end": 5.0, "text": " Just fine?", "speaker": "SPEAKER_00"},
    ]
    p.write_text(json.dumps({"segments": segments, "language": "en"}), encoding="utf-8")
    df, problems = read_file(p, ROLES)
    assert [(pr.line, pr.message) for pr in problems] == [
        (
            1,
            "segment 2 has no speaker, nor have its words; diarise the recording "
            "(WhisperX with --diarize) or name the speaker in the file",
        )
    ]
    assert df["text"].tolist() == ["How are you doing? Just fine?"]


def test_json_that_is_not_recogniser_output(tmp_path):
    p = tmp_path / "splits.json"
    p.write_text('{"train": ["a"], "test": ["b"]}', encoding="utf-8")
    _, problems = read_file(p)
    assert [str(pr) for pr in problems] == [
        f'{p}: not recogniser output: expected {{"segments": [...]}} as WhisperX writes it '
        "(a table of turns, one JSON object a line, is .jsonl)"
    ]
    with pytest.raises(TranscriptError, match="folder has no transcript files"):
        expand_paths([tmp_path])  # a folder's metadata JSON is not taken for a transcript
    bad = tmp_path / "cut.json"
    bad.write_text('{"segments": [\n  {"start": 1.0,\n', encoding="utf-8")
    _, problems = read_file(bad)
    assert [(pr.line, pr.message[:14]) for pr in problems] == [(3, "not valid JSON")]


def test_map_file_entries_for_one_file(files):
    roles = parse_speaker_map(str(files / "roles.map"))
    df = read_transcripts([files / "whisperx_intake.json", files / "whisperx_speakers.srt"], roles)
    assert df.groupby("session_id")["speaker"].apply(list).to_dict() == {
        "whisperx_intake": ["therapist", "client"] * 3,
        "whisperx_speakers": ["therapist", "client", "therapist"],
    }
