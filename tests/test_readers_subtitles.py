"""WebVTT and SRT: voices, 'Name:' and '[SPEAKER_00]:' prefixes, cues without a speaker."""

from __future__ import annotations

import pandas as pd

from rupture_nlp.readers import parse_speaker_map, read_file, read_transcripts

WHISPERX = {"SPEAKER_00": "therapist", "SPEAKER_01": "client"}


def test_whisperx_speaker_prefixes_leave_no_colon_in_the_text(files):
    srt = read_transcripts(files / "whisperx_speakers.srt", WHISPERX)
    assert srt["text"].tolist() == [
        "How did the breathing exercise go this week?",
        "I tried it twice. It didn't really do anything, so I stopped.",
        "Okay. Thanks for telling me straight. What did you notice when you tried?",
    ]
    assert srt["speaker_name"].tolist() == ["SPEAKER_00", "SPEAKER_01", "SPEAKER_00"]
    assert srt[["start", "end"]].values.tolist() == [[1.04, 4.22], [4.9, 9.87], [10.5, 14.02]]
    vtt = read_transcripts(files / "whisperx_speakers.vtt", WHISPERX)
    pd.testing.assert_frame_equal(srt, vtt)


def test_a_cue_without_a_speaker_in_a_file_that_names_every_cue_is_reported(files):
    """Zoom names every cue; an unnamed one must not become part of the client's turn."""
    df, problems = read_file(
        files / "zoom_unlabelled_cue.vtt", parse_speaker_map(str(files / "roles.map"))
    )
    assert [(p.line, p.message) for p in problems] == [
        (
            16,
            "cue has no speaker while other cues name theirs; start it with '<v Name>' or "
            "'Name: ' (it is not joined to the turn before)",
        )
    ]
    assert df["speaker_name"].tolist() == [
        "Maya Patel (she/her)",
        "Alexandria Konstantinopoulou-Whitfield",
    ]
    assert not any("I can hear" in t for t in df["text"])
    assert df["text"].iloc[1] == (
        "Honestly it's worse. You said it would help and it didn't. "
        "Not angry. Just tired of trying things."
    )


def test_a_file_naming_speakers_only_when_they_change_continues_the_turn(files):
    df, problems = read_file(files / "lee_sam.srt", {"Dr Lee": "therapist", "Sam": "client"})
    assert problems == []
    assert df["text"].iloc[0].endswith("your sister's visit. How did that go in the end?")


def test_a_file_with_no_speaker_at_all_is_one_problem(tmp_path):
    p = tmp_path / "plain.srt"
    p.write_text(
        "1\n00:00:01,000 --> 00:00:02,000\nHello there.\n\n"
        "2\n00:00:02,500 --> 00:00:04,000\nHi. Good to see you.\n",
        encoding="utf-8",
    )
    df, problems = read_file(p)
    assert [(pr.line, pr.message) for pr in problems] == [
        (
            2,
            "no cue names its speaker; label them with '<v Name>' or a 'Name:' prefix "
            "(a recogniser writes them when it diarises)",
        )
    ]
    assert len(df) == 0
