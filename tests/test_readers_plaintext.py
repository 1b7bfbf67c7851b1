"""Plain-text transcripts and the text exports of Otter.ai, Rev and WhisperX."""

from __future__ import annotations

import numpy as np

from rupture_nlp.readers import read_file, read_transcripts

OTTER = {"Speaker 1": "therapist", "Speaker 2": "client"}


def test_otter_export_name_and_time_then_text(files):
    df = read_transcripts(files / "otter_export.txt", OTTER)
    assert df["speaker_name"].tolist() == ["Speaker 1", "Speaker 2"] * 3
    assert df["start"].tolist() == [3, 11, 19, 24, 37, 62]
    assert df["text"].iloc[3] == (
        "I just didn't see what we'd talk about. Nothing's really changed. "
        "It feels like I come here and say the same things every time."
    )
    assert df["text"].iloc[-1] == "I suppose. If you want."  # the Otter footer is not speech


def test_otter_speakers_unmapped_get_one_hint_per_turn_with_both_roles(files):
    _, problems = read_file(files / "otter_export.txt")
    assert [p.line for p in problems] == [1, 4, 7, 10, 14, 17]
    assert problems[0].message == (
        "unknown speaker 'Speaker 1'; expected therapist, client or client2..client9 "
        "(map the name to its role: --speaker-map 'Speaker 1=therapist' or 'Speaker 1=client')"
    )


def test_rev_inline_times(files):
    df = read_transcripts(files / "rev_inline.txt")
    assert df["speaker"].tolist() == ["therapist", "client", "therapist", "client", "therapist"]
    assert df["start"].tolist() == [4, 11, 16, 24, 31]
    assert df["text"].iloc[1] == "Oh. That. I was just having a bad evening, it's fine now."


def test_rev_paragraphs_with_titles_commas_and_accents(files):
    roles = {"Dr. Maya Patel, PhD": "therapist", "Óscar Ruiz": "client"}
    df = read_transcripts(files / "rev_paragraphs.txt", roles)
    assert df["speaker_name"].tolist() == ["Dr. Maya Patel, PhD", "Óscar Ruiz"] * 2
    assert df["speaker"].tolist() == ["therapist", "client"] * 2
    assert df["start"].tolist() == [2, 10, 17, 25]
    assert df["text"].iloc[2] == (
        "Okay. I hear that. It sounds like I pushed that agenda more than you wanted."
    )


def test_whisperx_text_prefixes(files):
    df = read_transcripts(
        files / "whisperx_speakers.txt", {"SPEAKER_00": "therapist", "SPEAKER_01": "client"}
    )
    assert df["speaker"].tolist() == ["therapist", "client", "therapist"]
    assert df["text"].iloc[0] == "How did the breathing exercise go this week?"
    assert np.isnan(df["start"]).all()


def test_meeting_names_in_text_lines(tmp_path):
    p = tmp_path / "zoom.txt"
    p.write_text(
        "Maya Patel (she/her): Shall we pick up where we left off?\n"
        "Alexandria Konstantinopoulou-Whitfield: If we must.\n"
        "Óscar Ruiz: Sorry, I'm the interpreter, can I just say something?\n",
        encoding="utf-8",
    )
    roles = {
        "Maya Patel": "therapist",  # matches the name with its pronouns
        "Alexandria Konstantinopoulou-Whitfield": "client",
        "óscar ruiz": "client2",  # any case
    }
    df = read_transcripts(p, roles)
    assert df["speaker"].tolist() == ["therapist", "client", "client2"]
    assert df["speaker_name"].tolist() == [
        "Maya Patel (she/her)",
        "Alexandria Konstantinopoulou-Whitfield",
        "Óscar Ruiz",
    ]


def test_a_sentence_with_a_colon_continues_the_turn(tmp_path):
    p = tmp_path / "s.txt"
    p.write_text(
        "Therapist: What did she say?\n"
        "Client: She said one thing\n"
        "I keep thinking about: that I never listen.\n"
        "Well, Okay: fine.\n",
        encoding="utf-8",
    )
    df = read_transcripts(p)
    assert df["text"].tolist() == [
        "What did she say?",
        "She said one thing I keep thinking about: that I never listen. Well, Okay: fine.",
    ]


def test_many_lines_before_the_first_speaker_are_one_problem(tmp_path):
    p = tmp_path / "s.txt"
    p.write_text("Session notes\nRecorded 3 March\n\nTherapist: Hello.\n", encoding="utf-8")
    _, problems = read_file(p)
    assert [(pr.line, pr.message) for pr in problems] == [
        (
            1,
            "text before the first speaker line (expected 'Therapist: ...') and 1 more line like it",
        )
    ]
