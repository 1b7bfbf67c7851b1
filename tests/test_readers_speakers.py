"""Speaker maps: names with commas, map files, per-file entries, roles that are not roles."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rupture_nlp.errors import TranscriptError
from rupture_nlp.readers import parse_speaker_map, read_speaker_map, read_transcripts
from rupture_nlp.readers.speakers import map_for, role_of


def test_speaker_map_parsing():
    assert parse_speaker_map("A=client, Dr B = therapist") == {"A": "client", "Dr B": "therapist"}
    assert parse_speaker_map("Dr. Maya Patel, PhD=therapist;Sam=client") == {
        "Dr. Maya Patel, PhD": "therapist",
        "Sam": "client",
    }
    assert parse_speaker_map("Dr. Maya Patel, PhD, LCSW=counsellor") == {
        "Dr. Maya Patel, PhD, LCSW": "therapist"
    }
    with pytest.raises(TranscriptError, match="is not NAME=ROLE"):
        parse_speaker_map("Sam=client, Dr B therapist")
    with pytest.raises(TranscriptError, match="'Dr B therapist' is neither NAME=ROLE entries"):
        parse_speaker_map("Dr B therapist")


def test_a_role_typo_says_it_is_not_a_role():
    with pytest.raises(TranscriptError) as err:
        parse_speaker_map("Dr Lee=therapsit,Sam=client")
    assert str(err.value) == (
        "speaker map entry 'Dr Lee=therapsit': 'therapsit' is not a role (therapist, client); "
        "did you mean 'therapist'?"
    )
    with pytest.raises(TranscriptError) as err:
        parse_speaker_map("Sam=client,sam=therapist")
    assert str(err.value) == (
        "speaker map entry 'sam=therapist': 'sam' is already mapped to client; map each name once"
    )


def test_auto_is_never_a_map_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "auto").write_text("Sam=client\n")
    with pytest.raises(TranscriptError) as err:
        parse_speaker_map("auto")
    assert str(err.value) == (
        "speaker map 'auto' is neither NAME=ROLE entries (example: 'Dr Lee=therapist,Sam=client') "
        "nor a map file"
    )


def test_map_file_with_entries_per_file(files, tmp_path):
    roles = read_speaker_map(files / "roles.map")
    assert roles["Dr. Maya Patel, PhD"] == "therapist"
    assert roles["otter_export.txt"] == {"Speaker 1": "therapist", "Speaker 2": "client"}
    assert map_for(files / "otter_export.txt", roles)["Speaker 2"] == "client"
    assert "Speaker 2" not in map_for(files / "rev_inline.txt", roles)
    df = read_transcripts(
        [files / "otter_export.txt", files / "rev_paragraphs.txt", files / "whisperx_speakers.txt"],
        parse_speaker_map(str(files / "roles.map")),
    )
    assert set(df["speaker"]) == {"therapist", "client"}


def test_map_file_problems_have_lines(tmp_path):
    p = tmp_path / "roles.txt"
    p.write_text("# roles\nMaya Patel=therapsit\nJordan client\nJo=client\n", encoding="utf-8")
    with pytest.raises(TranscriptError) as err:
        read_speaker_map(p)
    assert [str(pr) for pr in err.value.problems] == [
        f"{p}:2: speaker map entry 'Maya Patel=therapsit': 'therapsit' is not a role "
        "(therapist, client); did you mean 'therapist'?",
        f"{p}:3: 'Jordan client' is not NAME=ROLE (example: 'Dr Lee=therapist')",
    ]


def test_names_match_across_unicode_forms_and_pronouns():
    nfd = unicodedata.normalize("NFD", "Óscar Ruiz")
    assert role_of(nfd, {"Óscar Ruiz": "client"}) == "client"
    assert role_of("Maya Patel (she/her)", {"Maya Patel": "therapist"}) == "therapist"
    assert role_of("Maya Patel (she/her)", {"Maya Patel (she/her)": "therapist"}) == "therapist"
    assert role_of("Maya Patel (she/her)") is None


_word = st.text(st.characters(categories=("Lu", "Ll")), min_size=1, max_size=8)
_name = st.lists(_word, min_size=1, max_size=4).map(" ".join)
_names = st.lists(
    st.tuples(_name, st.none() | st.sampled_from(["PhD", "LCSW", "MD"])).map(
        lambda t: t[0] if t[1] is None else f"{t[0]}, {t[1]}"
    ),
    min_size=1,
    max_size=5,
    unique_by=lambda n: " ".join(unicodedata.normalize("NFC", n).split()).casefold(),
)


@given(
    names=_names, roles=st.lists(st.sampled_from(["therapist", "client", "client2"]), min_size=5)
)
def test_any_names_round_trip_through_the_map_syntax(names, roles):
    mapping = dict(zip(names, roles, strict=False))
    spec = ",".join(f"{n}={r}" for n, r in mapping.items())
    assert parse_speaker_map(spec) == mapping
